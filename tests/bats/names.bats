#!/usr/bin/env bats
# iptables' names: the binary called as iptables, iptables-save, iptables-restore (a link,
# as Debian's alternatives make one) or through `xdptables-multi iptables ...` behaves as
# xdptables and prints, byte for byte, what iptables-legacy 1.8.9 prints under the same
# name: xtables-legacy-multi behind links of the same names is the reference.

load helpers

setup() {
  ref=$BATS_TEST_TMPDIR/ref dut=$BATS_TEST_TMPDIR/dut
  mkdir -p "$ref" "$dut"
  local n
  for n in iptables iptables-save iptables-restore; do
    ln -s "$(command -v xtables-legacy-multi)" "$ref/$n"
    ln -s "$XDPT" "$dut/$n"
  done
}
teardown() { teardown_namespaces; }

# same NS_REF NS_DUT CMDLINE: runs CMDLINE (iptables' names resolved in the ref or the dut
# directory first) in each namespace: status, stdout and stderr must be identical.
same() {
  local nr=$1 nd=$2 line=$3 r d
  r=$(ip netns exec "$nr" env PATH="$ref:/usr/sbin:/usr/bin:/sbin:/bin" bash -c "$line" 2>"$BATS_TEST_TMPDIR/re"; echo "rc=$?")
  d=$(ip netns exec "$nd" env PATH="$dut:/usr/sbin:/usr/bin:/sbin:/bin" bash -c "$line" 2>"$BATS_TEST_TMPDIR/de"; echo "rc=$?")
  r+=$'\n--- stderr\n'$(cat "$BATS_TEST_TMPDIR/re") d+=$'\n--- stderr\n'$(cat "$BATS_TEST_TMPDIR/de")
  [ "$r" = "$d" ] || { diff -u --label iptables-legacy --label xdptables <(echo "$r") <(echo "$d"); return 1; }
}

@test "called as iptables, iptables-save, iptables-restore: iptables-legacy's text, byte for byte" {
  require_root
  new_ns nr; new_ns nd
  local line
  for line in "iptables -V" "iptables --version" "iptables ! -V" "iptables -h" "iptables -A INPUT -h" \
      "iptables --foo" "iptables -A INPUT -p nosuch" "iptables -A NOSUCH -j ACCEPT" "iptables -X INPUT" \
      "iptables-save -V" "iptables-save --foo" "iptables-save -t nosuch" "iptables-save -h" \
      "iptables-restore -V" "iptables-restore -h" "iptables-restore --foo" \
      "printf '*filter\n-A INPUT -t nat\nCOMMIT\n' | iptables-restore" \
      "printf '*filter\n-A INPUT -j NOSUCH\nCOMMIT\n' | iptables-restore" \
      "iptables -A INPUT -s 198.18.0.1 -p udp --dport 9 -j DROP" "iptables -N x" "iptables -A x -j RETURN" \
      "iptables -L -n -v --line-numbers" "iptables -S" "iptables-save | grep -v '^#'" \
      "printf '*filter\n:INPUT DROP [0:0]\n-A INPUT -d 198.18.0.2/32 -j ACCEPT\nCOMMIT\n' | iptables-restore" \
      "iptables -L INPUT -n" "/usr/bin/env iptables -C INPUT -d 198.18.0.2/32 -j ACCEPT"; do
    same "$nr" "$nd" "$line"
  done
}

@test "a link named iptables changes the namespace as xdptables does" {
  require_root
  new_ns ns
  run in_ns "$ns" "$dut/iptables" -A INPUT -s 198.18.0.3 -j DROP
  [ "$status" = 0 ]
  run in_ns "$ns" "$XDPT" -S INPUT
  [ "$output" = $'-P INPUT ACCEPT\n-A INPUT -s 198.18.0.3/32 -j DROP' ]
  # the XDP program on lo is xdptables'
  [ -n "$(lo_xdp_prog_id "$ns")" ]
  run in_ns "$ns" "$dut/iptables" version
  [ "$status" = 0 ] && [[ "$output" == "xdptables "*" (iptables v1.8.9 compatible)" ]]
}

@test "xdptables-multi dispatches iptables' names as xtables-legacy-multi does" {
  require_root
  new_ns nr; new_ns nd
  local m=$XDPT_BINDIR/xdptables-multi a
  for a in "iptables -L" "main4 -S" "iptables-save -V" "save4 -V" "iptables-restore -V" "restore4 --foo" \
           "iptables -A INPUT -j DROP" "iptables -S" \
           "ip6tables -L" "main6 -S" "ip6tables-save -V" "save6 -V" "ip6tables-restore -V" "restore6 --foo" \
           "ip6tables -A INPUT -j DROP" "ip6tables -S" "ip6tables -A INPUT -p tcp -f"; do
    run ip netns exec "$nr" xtables-legacy-multi $a
    local rs=$status ro=$output
    run ip netns exec "$nd" "$m" $a
    [ "$status" = "$rs" ] && [ "$output" = "$ro" ]
  done
  # Names that are not ours (iptables-legacy, ip6tables-legacy) and paths as the applet name fail
  # as an unknown applet does in xtables-legacy-multi: "ERROR: No valid subcommand given.", 1.
  run --separate-stderr xtables-legacy-multi nosuch
  local ref_status=$status ref_head
  ref_head=$(head -2 <<<"$stderr")
  for a in iptables-legacy iptables-legacy-save ip6tables-legacy /usr/sbin/iptables nosuch; do
    run --separate-stderr "$m" "$a" -V
    [ "$status" = "$ref_status" ] && [ "$(head -2 <<<"$stderr")" = "$ref_head" ]
    [[ "$stderr" == *$'\n * iptables\n * main4\n * iptables-save\n'* ]]
    [[ "$stderr" == *$'\n * ip6tables\n * main6\n * ip6tables-save\n'* ]]
  done
}

@test "argv[0] counts by its base name: a path in front of iptables changes nothing" {
  run "$dut/iptables" -V
  [ "$status" = 0 ] && [ "$output" = "iptables v1.8.9 (legacy)" ]
  run "$ref/iptables" -V
  [ "$output" = "iptables v1.8.9 (legacy)" ]
  # getopt names argv[0] as given, as in iptables-save
  run "$dut/iptables-save" --nosuch
  [ "$status" = 1 ] && [[ "$output" == "$dut/iptables-save: unrecognized option '--nosuch'"* ]]
  run "$ref/iptables-save" --nosuch
  [[ "$output" == "$ref/iptables-save: unrecognized option '--nosuch'"* ]]
  # xdptables' own names keep xdptables' text
  run "$XDPT" -V
  [ "$output" = "xdptables v1.8.9 (xdp)" ]
}

@test "xdptables version and xdptables help" {
  run "$XDPT" version
  [ "$status" = 0 ]
  local v
  v=$(meson introspect "$XDPT_BINDIR/.." --projectinfo | jq -r .version)
  [ "$output" = "xdptables $v (iptables v1.8.9 compatible)" ]
  run "$XDPT" help
  [ "$status" = 0 ]
  # iptables' help first, unchanged, then every subcommand
  local h
  h=$("$XDPT" -h)
  [ "${output:0:${#h}}" = "$h" ]
  local s
  for s in attach detach explain migrate socket-accel status version help; do
    [[ "$output" == *$'\n  xdptables '"$s "* ]]
  done
  run --separate-stderr "$XDPT" version x
  [ "$status" = 2 ]
  [ "$stderr" = $'xdptables v1.8.9 (xdp): version takes no arguments\nTry `xdptables -h\' or \'xdptables --help\' for more information.' ]
  # iptables-legacy has no such subcommand: called as iptables, xdptables still does
  run "$dut/iptables" help
  [ "$status" = 0 ] && [[ "$output" == "iptables v1.8.9 (legacy)"* ]] && [[ "$output" == *$'\n  iptables status '* ]]
}
