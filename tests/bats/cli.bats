#!/usr/bin/env bats
# The command line: applets, help without root, the root check, exit statuses. Expected
# behaviour is iptables-legacy 1.8.9's, run beside xdptables in a namespace of its own.

load helpers

teardown() { teardown_namespaces; }

@test "the applet follows argv[0]: xdptables, xdptables-save, xdptables-restore" {
  run "$XDPT_BINDIR/xdptables" -V
  [ "$status" = 0 ] && [ "$output" = "xdptables v1.8.9 (xdp)" ]
  run "$XDPT_BINDIR/xdptables-save" -V
  [ "$status" = 0 ] && [ "$output" = "xdptables-save v1.8.9 (xdp)" ]
  run "$XDPT_BINDIR/xdptables-restore" -V
  [ "$status" = 0 ] && [ "$output" = "xdptables-restore v1.8.9 (xdp)" ]
  # Only the base name counts, wherever the link is.
  local d=$BATS_TEST_TMPDIR/bin
  mkdir -p "$d"
  ln -s "$XDPT" "$d/xdptables-restore"
  run "$d/xdptables-restore" -V
  [ "$output" = "xdptables-restore v1.8.9 (xdp)" ]
}

@test "xdptables-multi APPLET runs the applet, by full or short name" {
  local a
  for a in xdptables main; do
    run "$XDPT_BINDIR/xdptables-multi" "$a" -V
    [ "$status" = 0 ] && [ "$output" = "xdptables v1.8.9 (xdp)" ]
  done
  for a in xdptables-save save; do
    run "$XDPT_BINDIR/xdptables-multi" "$a" -V
    [ "$status" = 0 ] && [ "$output" = "xdptables-save v1.8.9 (xdp)" ]
  done
  for a in xdptables-restore restore; do
    run "$XDPT_BINDIR/xdptables-multi" "$a" -V
    [ "$status" = 0 ] && [ "$output" = "xdptables-restore v1.8.9 (xdp)" ]
  done
}

@test "xdptables-multi applets act on the namespace like the named binaries" {
  require_root
  new_ns ns
  run in_ns "$ns" "$XDPT_BINDIR/xdptables-multi" xdptables -A INPUT -s 198.18.0.1 -j ACCEPT
  [ "$status" = 0 ]
  run in_ns "$ns" "$XDPT_BINDIR/xdptables-multi" save
  [ "$status" = 0 ]
  [[ "$output" == *$'\n-A INPUT -s 198.18.0.1/32 -j ACCEPT\n'* ]]
  printf '*filter\n-A OUTPUT -d 198.18.0.2/32 -j DROP\nCOMMIT\n' >"$BATS_TEST_TMPDIR/r"
  run in_ns "$ns" "$XDPT_BINDIR/xdptables-multi" xdptables-restore "$BATS_TEST_TMPDIR/r"
  [ "$status" = 0 ]
  run in_ns "$ns" "$XDPT" -S
  [ "$output" = $'-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-A OUTPUT -d 198.18.0.2/32 -j DROP' ]
}

@test "xdptables-multi without a valid subcommand fails as xtables-legacy-multi does" {
  run --separate-stderr xtables-legacy-multi
  local ref_status=$status ref_head
  ref_head=$(head -2 <<<"$stderr")
  run --separate-stderr "$XDPT_BINDIR/xdptables-multi"
  [ "$status" = "$ref_status" ]
  [ "$(head -2 <<<"$stderr")" = "$ref_head" ]
  [[ "$stderr" == *$'\n * xdptables\n'* ]]
  run --separate-stderr "$XDPT_BINDIR/xdptables-multi" nosuchapplet -L
  [ "$status" = "$ref_status" ]
  [ "$(head -2 <<<"$stderr")" = "$ref_head" ]
  # A link under an unknown name falls back to the first argument, as in iptables.
  ln -s "$XDPT" "$BATS_TEST_TMPDIR/fw"
  run "$BATS_TEST_TMPDIR/fw" xdptables-save -V
  [ "$status" = 0 ] && [ "$output" = "xdptables-save v1.8.9 (xdp)" ]
}

@test "--help works for an unprivileged user and matches iptables-legacy's" {
  require_root  # to switch to nobody
  run "${NOBODY[@]}" iptables-legacy -h
  local ref=$output ref_status=$status
  run "${NOBODY[@]}" "$XDPT" -h
  [ "$status" = "$ref_status" ]
  # Byte for byte, then xdptables' subcommands (under iptables' names: iptables' alone,
  # names.bats).
  local ours
  ours=$(normalize <<<"$output")
  [ "${ours:0:${#ref}}" = "$ref" ]
  [[ "$output" == *$'\n\nxdptables subcommands (see xdptables(8)):\n  xdptables attach '* ]]
  local s
  for s in attach detach explain migrate socket-accel status version help; do
    [[ "$output" == *$'\n  xdptables '"$s"* ]]
  done
  run "${NOBODY[@]}" "$XDPT" --help
  [ "$status" = 0 ] && [[ "$output" == "xdptables v1.8.9 (xdp)"* ]]
  run "${NOBODY[@]}" iptables-legacy-restore -h
  ref=$output ref_status=$status
  run "${NOBODY[@]}" "$XDPT_BINDIR/xdptables-restore" -h
  [ "$status" = "$ref_status" ] && [ "$(normalize <<<"$output")" = "$ref" ]
  run "${NOBODY[@]}" "$XDPT" -V
  [ "$status" = 0 ] && [ "$output" = "xdptables v1.8.9 (xdp)" ]
}

@test "unprivileged, -m/-j say which revision they assume, as iptables-legacy does" {
  require_root  # to switch to nobody
  # Without a raw socket iptables cannot ask the kernel for revisions: it says so on
  # stderr for each extension it loads whose preferred revision is not 0.
  local a
  for a in "-m conntrack -m state -j DNAT --help" "-j NOTRACK --help" "-m mark -m mark --help" \
           "-p tcp -m multiport --bogus" "-j SNAT --help" "-j TEE --help"; do
    # shellcheck disable=SC2086 # $a is a command line
    run --separate-stderr "${NOBODY[@]}" iptables-legacy $a
    local ref_status=$status ref_err=$stderr
    [[ "$ref_err" == *"Could not determine"* || "$a" == *SNAT* ]]
    # shellcheck disable=SC2086
    run --separate-stderr "${NOBODY[@]}" "$XDPT" $a
    [ "$status" = "$ref_status" ]
    [ "$(normalize <<<"$stderr")" = "$ref_err" ]
  done
}

@test "an unprivileged command fails as iptables-legacy's does (at the lock file, else at the table), and changes nothing" {
  require_root
  new_ns ns
  # The lock file /run/xtables.lock (root's, 0600) cannot be opened: exit 4. One the user
  # may create (XTABLES_LOCKFILE): the table cannot be initialised, exit 3.
  local lockdir e a
  lockdir=$(mktemp -d /tmp/xdpt-lock.XXXXXX) && chmod 777 "$lockdir"
  for e in "" "XTABLES_LOCKFILE=$lockdir/xtables.lock"; do
    for a in "-A INPUT -s 198.18.0.1 -j ACCEPT" "-t nat -L" "-S"; do
      # shellcheck disable=SC2086 # $e and $a are words
      run --separate-stderr in_ns "$ns" env $e "${NOBODY[@]}" iptables-legacy $a
      local ref_status=$status ref_err=$stderr
      # shellcheck disable=SC2086
      run --separate-stderr in_ns "$ns" env $e "${NOBODY[@]}" "$XDPT" $a
      [ "$status" = "$ref_status" ] && [ "$(normalize <<<"$stderr")" = "$ref_err" ]
      [ "$status" = "$([ -n "$e" ] && echo 3 || echo 4)" ]
    done
  done
  run --separate-stderr in_ns "$ns" env "XTABLES_LOCKFILE=$lockdir/xtables.lock" "${NOBODY[@]}" "$XDPT_BINDIR/ip6tables" -L
  [ "$status" = 3 ] && [ "${lines[0]:-$stderr}" != "" ]
  [[ "$stderr" == "ip6tables v1.8.9 (legacy): can't initialize ip6tables table \`filter': Permission denied (you must be root)"* ]]
  run --separate-stderr in_ns "$ns" "${NOBODY[@]}" "$XDPT_BINDIR/xdptables-restore" < <(printf '*filter\nCOMMIT\n')
  [ "$status" = 4 ]
  [ "$stderr" = "Fatal: can't open lock file /run/xtables.lock: Permission denied" ]
  # restore: at its first table line; without one it needs nothing (a comment alone
  # succeeds, a rule before any table fails as it would for root)
  local inp
  for e in "" "XTABLES_LOCKFILE=$lockdir/xtables.lock"; do
    for inp in '' '# c\n\n' '*filter\nCOMMIT\n' '\n*raw\nCOMMIT\n' '-A INPUT -j DROP\n' '  *filter\n'; do
      # shellcheck disable=SC2086
      run --separate-stderr in_ns "$ns" env $e "${NOBODY[@]}" iptables-legacy-restore < <(printf -- "$inp")
      local ref_status=$status ref_err=$stderr
      # shellcheck disable=SC2086
      run --separate-stderr in_ns "$ns" env $e "${NOBODY[@]}" "$XDPT_BINDIR/iptables-restore" < <(printf -- "$inp")
      [ "$status" = "$ref_status" ] && [ "$stderr" = "$ref_err" ]
    done
  done
  rm -rf "$lockdir"
  # Nothing was attached or stored.
  [ -z "$(lo_xdp_prog_id "$ns")" ]
}

# Runs the same command line through iptables-legacy (namespace $ref) and xdptables
# (namespace $dut); requires the same status and, after normalisation, the same output.
same_as_legacy() {
  local want=$1; shift
  run --separate-stderr in_ns "$ref" iptables-legacy "$@"
  local ref_status=$status ref_out=$output ref_err=$stderr
  [ "$ref_status" = "$want" ] || { echo "iptables-legacy $*: exit $ref_status, expected $want"; return 1; }
  run --separate-stderr in_ns "$dut" "$XDPT" "$@"
  if [ "$status" != "$ref_status" ] || [ "$(normalize <<<"$output")" != "$ref_out" ] ||
     [ "$(normalize <<<"$stderr")" != "$ref_err" ]; then
    printf 'xdptables %s\n  exit %s, legacy %s\n  stderr: %s\n  legacy: %s\n' "$*" "$status" \
      "$ref_status" "$stderr" "$ref_err"
    return 1
  fi
}

@test "exit statuses 1, 2, 3 and their messages for representative errors match iptables-legacy" {
  require_root
  new_ns ref
  new_ns dut
  same_as_legacy 0 -N c1
  same_as_legacy 0 -A INPUT -s 198.18.0.1 -j c1
  # 1: the kernel (libiptc) refuses
  same_as_legacy 1 -A NOPE -j ACCEPT
  same_as_legacy 1 -D INPUT 5
  same_as_legacy 1 -N c1
  same_as_legacy 1 -X c1
  same_as_legacy 1 -X INPUT
  same_as_legacy 1 -P INPUT BOGUS
  same_as_legacy 1 -C INPUT -s 198.18.0.9 -j ACCEPT
  # 2: the command line is wrong
  same_as_legacy 2 --bogus
  same_as_legacy 2 -A INPUT -s 198.18.0.999 -j ACCEPT
  same_as_legacy 2 -A INPUT -p tcp --dport 99999 -j ACCEPT
  same_as_legacy 2 -A INPUT -j NOPE
  same_as_legacy 2 -L -Z -F
  same_as_legacy 2 -A INPUT -j ACCEPT extra
  # 3: no such table
  same_as_legacy 3 -t nosuch -L
  # and what worked is still there
  same_as_legacy 0 -S
}
