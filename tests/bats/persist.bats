#!/usr/bin/env bats
# Persistence on a host: what meson installs for it (the boot unit, the udev rule, the
# netfilter-persistent plugin), the unit's command lines and the plugin run in a namespace
# on a temporary rules file, and tools/alternatives.sh on a private update-alternatives
# registry (--altdir, --admindir, --log: the machine's own is never touched).

load helpers

teardown() { teardown_namespaces; }

build() { cd "$XDPT_BINDIR/.." && pwd; }
option() { meson introspect "$(build)" --buildoptions | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'; }
sbindir() { echo "$(option prefix)/$(option sbindir)"; }

RULES=$'*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:keep - [0:0]\n-A INPUT -s 198.18.0.0/15 -p udp -m udp --dport 9 -j DROP\n-A INPUT -j keep\n-A keep -d 198.18.0.7/32 -j ACCEPT\nCOMMIT'

# saved NS: what xdptables-save prints in NS, less its comment lines.
saved() { in_ns "$1" "$XDPT_BINDIR/xdptables-save" | grep -v '^#'; }

# unit_line KEY: the value of KEY= in the generated unit, the installed binary directory
# replaced by the build's.
unit_line() {
  sed -n "s/^$1=//p" "$(build)/tools/xdptables-restore.service" | sed "s|$(sbindir)/|$XDPT_BINDIR/|g"
}

@test "meson install puts the unit, the udev rule and the plugin in place, naming the installed binary" {
  local dest=$BATS_TEST_TMPDIR/dest prefix
  run meson install -C "$(build)" --no-rebuild --destdir "$dest"
  [ "$status" = 0 ] || { echo "$output"; return 1; }
  prefix=$(option prefix)
  local unit=$dest$prefix/lib/systemd/system/xdptables-restore.service
  local rule=$dest$prefix/lib/udev/rules.d/99-xdptables.rules
  local plugin=$dest$prefix/$(option datadir)/netfilter-persistent/plugins.d/16-xdptables
  grep -qx "ExecStart=$(sbindir)/xdptables-restore \${XDPT_RULES}" "$unit"
  grep -qx "Environment=XDPT_RULES=/etc/iptables/rules.v4" "$unit"
  grep -qx "Before=network-pre.target shutdown.target" "$unit"
  grep -qx "Type=oneshot" "$unit" && grep -qx "RemainAfterExit=yes" "$unit"
  local attach=$dest$prefix/lib/systemd/system/xdptables-attach@.service
  grep -qx 'ACTION=="add", SUBSYSTEM=="net", TAG+="systemd", ENV{SYSTEMD_WANTS}+="xdptables-attach@%k.service"' "$rule"
  grep -qx "ExecStart=$(sbindir)/xdptables attach" "$attach" && grep -qx "Type=oneshot" "$attach"
  [ -x "$plugin" ] && grep -q "^sbindir=\${XDPT_SBINDIR:-$(sbindir)}" "$plugin"
  ! grep -q @SBINDIR@ "$unit" "$rule" "$plugin" "$attach"
}

@test "the unit's command lines restore the rules file, and do nothing without one" {
  require_root
  new_ns ns
  local cond start
  cond=$(unit_line ExecCondition) start=$(unit_line ExecStart)
  [ -n "$cond" ] && [ -n "$start" ]
  export XDPT_RULES=$BATS_TEST_TMPDIR/rules.v4
  # No file: the condition fails (systemd skips the unit), nothing is loaded.
  run in_ns "$ns" bash -c "$cond"
  [ "$status" != 0 ]
  echo "$RULES" >"$XDPT_RULES"
  run in_ns "$ns" bash -c "$cond && $start"
  [ "$status" = 0 ]
  [ "$(saved "$ns")" = "$RULES" ]
}

@test "the netfilter-persistent plugin: start restores, save writes, flush removes" {
  require_root
  new_ns ns
  local plugin
  plugin="sh $(build)/tools/16-xdptables"
  export XDPT_RULES=$BATS_TEST_TMPDIR/rules.v4 XDPT_SBINDIR=$XDPT_BINDIR
  # No rules file: a warning, success, nothing loaded.
  run in_ns "$ns" $plugin start
  [ "$status" = 0 ] && [[ "$output" == "Warning: skipping xdptables"* ]]
  [ -z "$(lo_xdp_prog_id "$ns")" ]
  echo "$RULES" >"$XDPT_RULES"
  local a
  for a in start restart reload force-reload; do
    in_ns "$ns" "$XDPT" -F INPUT
    run in_ns "$ns" $plugin "$a"
    [ "$status" = 0 ]
    [ "$(saved "$ns")" = "$RULES" ]
  done
  in_ns "$ns" "$XDPT" -A INPUT -s 198.18.0.9 -j DROP
  run in_ns "$ns" $plugin save
  [ "$status" = 0 ]
  [ "$(grep -v '^#' "$XDPT_RULES")" = "$(saved "$ns")" ]
  grep -q '^-A INPUT -s 198.18.0.9/32 -j DROP$' "$XDPT_RULES"
  [ "$(stat -c %a "$XDPT_RULES")" = 640 ]
  # stop leaves the ruleset; flush removes xdptables from the namespace
  run in_ns "$ns" $plugin stop
  [ "$status" = 0 ] && [ -n "$(lo_xdp_prog_id "$ns")" ]
  run in_ns "$ns" $plugin flush
  [ "$status" = 0 ] && [ -z "$(lo_xdp_prog_id "$ns")" ]
  run in_ns "$ns" $plugin nosuch
  [ "$status" = 1 ] && [[ "$output" == "Usage: "* ]]
  # A restore that fails says so in the exit status.
  printf '*filter\n-A INPUT -j NOSUCH\nCOMMIT\n' >"$XDPT_RULES"
  run in_ns "$ns" $plugin start
  [ "$status" != 0 ]
}

RULES6=$'*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 2001:db8::/32 -p udp -m udp --dport 9 -j DROP\nCOMMIT'

@test "IPv6: xdp6tables-restore.service and 26-xdp6tables restore rules.v6 beside rules.v4, each family its own" {
  require_root
  new_ns ns
  local unit=$(build)/tools/xdp6tables-restore.service plugin="sh $(build)/tools/26-xdp6tables"
  grep -qx "Environment=XDPT_RULES=/etc/iptables/rules.v6" "$unit"
  grep -qx "ExecStart=$(sbindir)/xdp6tables-restore \${XDPT_RULES}" "$unit"
  grep -q "^rules=\${XDPT_RULES:-/etc/iptables/rules.v6}" "$(build)/tools/26-xdp6tables"
  local cond start
  cond=$(sed -n 's/^ExecCondition=//p' "$unit") start=$(sed -n 's/^ExecStart=//p' "$unit" | sed "s|$(sbindir)/|$XDPT_BINDIR/|g")
  export XDPT_RULES=$BATS_TEST_TMPDIR/rules.v6 XDPT_SBINDIR=$XDPT_BINDIR
  echo "$RULES6" >"$XDPT_RULES"
  # IPv4 first, through its own plugin: the IPv6 restore leaves it alone.
  echo "$RULES" >"$BATS_TEST_TMPDIR/rules.v4"
  XDPT_RULES=$BATS_TEST_TMPDIR/rules.v4 run in_ns "$ns" sh "$(build)/tools/16-xdptables" start
  [ "$status" = 0 ]
  run in_ns "$ns" bash -c "$cond && $start"
  [ "$status" = 0 ]
  [ "$(in_ns "$ns" "$XDPT_BINDIR/xdp6tables-save" | grep -v '^#')" = "$RULES6" ]
  [ "$(saved "$ns")" = "$RULES" ]
  in_ns "$ns" "$XDPT_BINDIR/xdp6tables" -A INPUT -s 2001:db8::9 -j DROP
  run in_ns "$ns" $plugin save
  [ "$status" = 0 ] && grep -q '^-A INPUT -s 2001:db8::9/128 -j DROP$' "$XDPT_RULES"
  in_ns "$ns" "$XDPT_BINDIR/xdp6tables" -F
  run in_ns "$ns" $plugin reload
  [ "$status" = 0 ] && [ "$(in_ns "$ns" "$XDPT_BINDIR/xdp6tables-save" | grep -v '^#')" = "$(grep -v '^#' "$XDPT_RULES")" ]
  [ "$(saved "$ns")" = "$RULES" ]
  # flush: xdptables leaves the namespace, both families
  run in_ns "$ns" $plugin flush
  [ "$status" = 0 ] && [ -z "$(lo_xdp_prog_id "$ns")" ]
  [ -z "$(in_ns "$ns" nft list tables)" ]
}

# alt ARGS: update-alternatives on the private registry.
alt() { update-alternatives --altdir "$A" --admindir "$D" --log "$L" "$@"; }
# state: everything the registry says about the iptables group, and where its links point.
state() {
  alt --query iptables
  local n
  for n in iptables iptables-save iptables-restore; do echo "$n -> $(readlink "$S/$n") -> $(readlink "$A/$n")"; done
}

@test "tools/alternatives.sh registers xdptables as iptables, and remove restores the group as it was" {
  require_root
  A=$BATS_TEST_TMPDIR/alternatives D=$BATS_TEST_TMPDIR/admin L=$BATS_TEST_TMPDIR/log S=$BATS_TEST_TMPDIR/sbin
  mkdir -p "$A" "$D" "$S"
  local script opts
  script=$(cd "$BATS_TEST_DIRNAME/../../tools" && pwd)/alternatives.sh
  opts=(--altdir "$A" --admindir "$D" --log "$L" --linkdir "$S" --sbindir "$XDPT_BINDIR")
  # The group as Debian's iptables package leaves it: legacy and nft, auto mode.
  local f
  for f in legacy nft; do
    alt --install "$S/iptables" iptables "/usr/sbin/iptables-$f" $([ $f = nft ] && echo 20 || echo 10) \
      --slave "$S/iptables-restore" iptables-restore "/usr/sbin/iptables-$f-restore" \
      --slave "$S/iptables-save" iptables-save "/usr/sbin/iptables-$f-save" >/dev/null
  done
  local before
  before=$(state)
  run "$script" install "${opts[@]}"
  [ "$status" = 0 ]
  [ "$(readlink -f "$S/iptables")" = "$XDPT_BINDIR/xdptables" ]
  run alt --query iptables
  [[ "$output" == *$'\nValue: '"$XDPT_BINDIR/xdptables"$'\n'* ]]
  [[ "$output" == *$'\nAlternative: '"$XDPT_BINDIR/xdptables"$'\nPriority: 30\nSlaves:\n iptables-restore '"$XDPT_BINDIR/xdptables-restore"$'\n iptables-save '"$XDPT_BINDIR/xdptables-save"* ]]
  # Through the links: iptables' text, xdptables' work.
  run "$S/iptables" -V
  [ "$status" = 0 ] && [ "$output" = "iptables v1.8.9 (legacy)" ]
  run "$S/iptables-save" -V
  [ "$output" = "iptables-save v1.8.9 (legacy)" ]
  run "$S/iptables" version
  [ "$status" = 0 ] && [[ "$output" == "xdptables "* ]]
  new_ns ns
  run in_ns "$ns" "$S/iptables" -A INPUT -s 198.18.0.4 -j DROP
  [ "$status" = 0 ]
  run in_ns "$ns" "$S/iptables" -L INPUT -n
  [ "$status" = 0 ] && [ "${lines[2]}" = "DROP       0    --  198.18.0.4           0.0.0.0/0           " ]
  [ -n "$(lo_xdp_prog_id "$ns")" ]
  printf '*filter\n-A OUTPUT -d 198.18.0.5/32 -j DROP\nCOMMIT\n' | in_ns "$ns" "$S/iptables-restore"
  [ "$(in_ns "$ns" "$XDPT" -S OUTPUT)" = $'-P OUTPUT ACCEPT\n-A OUTPUT -d 198.18.0.5/32 -j DROP' ]
  # The ip6tables group the same way, to xdp6tables.
  [ "$(readlink -f "$S/ip6tables")" = "$XDPT_BINDIR/xdp6tables" ] || [ "$(readlink -f "$S/ip6tables")" = "$XDPT_BINDIR/xdptables" ]
  [ "$(readlink "$A/ip6tables-restore")" = "$XDPT_BINDIR/xdp6tables-restore" ]
  run "$S/ip6tables" -V
  [ "$status" = 0 ] && [ "$output" = "ip6tables v1.8.9 (legacy)" ]
  run in_ns "$ns" "$S/ip6tables" -A INPUT -s 2001:db8::4 -j DROP
  [ "$status" = 0 ]
  [ "$(in_ns "$ns" "$S/ip6tables-save" | grep -c -- '-A INPUT -s 2001:db8::4/128 -j DROP')" = 1 ]
  [ "$(in_ns "$ns" "$XDPT" -S INPUT)" = '-P INPUT ACCEPT' ]
  run "$script" remove "${opts[@]}"
  [ "$status" = 0 ]
  [ "$(state)" = "$before" ]
  run alt --query ip6tables
  [ "$status" != 0 ]
  # A manual choice of another member survives install and remove.
  alt --set iptables /usr/sbin/iptables-legacy >/dev/null
  before=$(state)
  "$script" install "${opts[@]}"
  [ "$(readlink "$A/iptables")" = /usr/sbin/iptables-legacy ]
  "$script" remove "${opts[@]}"
  [ "$(state)" = "$before" ]
  run "$script" frobnicate
  [ "$status" = 2 ] && [[ "$output" == "Usage: tools/alternatives.sh install|remove"* ]]
}

@test "the attach unit's command line covers an interface that appeared after the ruleset" {
  require_root
  new_ns ns
  local start
  start=$(sed -n "s/^ExecStart=//p" "$(build)/tools/xdptables-attach@.service" | sed "s|$(sbindir)/|$XDPT_BINDIR/|g")
  [ -n "$start" ]
  printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p udp --dport 9 -j DROP\nCOMMIT\n' | in_ns "$ns" "$XDPT_BINDIR/xdptables-restore"
  local v=xba$$
  in_ns "$ns" ip link add "$v" type veth peer name "${v}p"
  [ "$(in_ns "$ns" ip -j link show "$v" | jq -r '.[0].xdp.prog.id // empty')" = "" ]
  # shellcheck disable=SC2086
  in_ns "$ns" $start
  [ "$(in_ns "$ns" ip -j link show "$v" | jq -r '.[0].xdp.prog.id')" = "$(lo_xdp_prog_id "$ns")" ]
}
