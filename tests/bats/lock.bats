#!/usr/bin/env bats
# Writers serialise on a per-namespace lock (flock on the namespace's nsfs inode, where
# iptables-legacy uses /run/xtables.lock): no lost update, and -w behaves as in
# iptables-legacy 1.8.9 when another process holds the lock.

load helpers

setup() { require_root; }
teardown() {
  [ -n "${holder:-}" ] && wait "$holder"
  teardown_namespaces
}

# hold_lock NS SECONDS: another process holds xdptables' lock of NS for SECONDS, in the
# background ($holder); returns once the lock is held.
hold_lock() {
  local ns=$1 secs=$2 ready=$BATS_TEST_TMPDIR/held
  rm -f "$ready"
  ip netns exec "$ns" flock /proc/self/ns/net sh -c "touch '$ready'; sleep $secs" 3>&- &
  holder=$!
  local i
  for i in $(seq 100); do [ -e "$ready" ] && return 0; sleep 0.05; done
  echo "lock holder did not start" >&2
  return 1
}

@test "2 x 50 concurrent writers with -w lose no rule" {
  new_ns ns
  in_ns "$ns" "$XDPT" -N w
  local w
  for w in 1 2; do
    (
      for i in $(seq 50); do
        in_ns "$ns" "$XDPT" -w -A w -s "198.18.$w.$i" -j ACCEPT || echo "writer $w rule $i failed"
      done
    ) >"$BATS_TEST_TMPDIR/writer$w" 2>&1 3>&- &
  done
  wait
  [ ! -s "$BATS_TEST_TMPDIR/writer1" ] && [ ! -s "$BATS_TEST_TMPDIR/writer2" ]
  run in_ns "$ns" "$XDPT" -S w
  [ "$status" = 0 ]
  [ "$(grep -c '^-A w ' <<<"$output")" = 100 ]
  # every rule once, each writer's rules in its own order
  [ "$(grep -c '^-A w -s 198\.18\.[12]\.[0-9]*/32 -j ACCEPT$' <<<"$output" | sort -u)" = 100 ]
  for w in 1 2; do
    [ "$(grep -o "198\.18\.$w\.[0-9]*" <<<"$output" | tr '\n' ' ')" = "$(seq -f "198.18.$w.%g" 50 | tr '\n' ' ')" ]
  done
}

@test "100 writers at once, without -w, lose no rule (iptables 1.8.9 waits by default)" {
  new_ns ns
  local i
  for i in $(seq 100); do
    in_ns "$ns" "$XDPT" -A INPUT -s "198.18.3.$i" -j DROP 3>&- &
  done
  wait
  run in_ns "$ns" "$XDPT" -S INPUT
  [ "$(grep -c '^-A INPUT -s 198\.18\.3\.' <<<"$output")" = 100 ]
  [ "$(grep -o '198\.18\.3\.[0-9]*' <<<"$output" | sort -u | wc -l)" = 100 ]
}

# The lock's path is each program's own; the rest must be the same, byte for byte.
mask_lock_path() { sed "s|^Can't lock [^:]*:|Can't lock LOCK:|" "$1"; }

@test "-w 1 while another holds the lock: exit 4 and the message of iptables-legacy" {
  new_ns ref
  new_ns dut
  local d=$BATS_TEST_TMPDIR
  # iptables-legacy's lock is /run/xtables.lock: held here on a /run of this namespace's
  # own, so that no other iptables user on the machine waits.
  ip netns exec "$ref" sh -c '
    mount -t tmpfs xbrun /run || exit 99
    flock /run/xtables.lock sleep 3 &
    while flock -n /run/xtables.lock true; do sleep 0.05; done
    iptables-legacy -w 1 -A INPUT -s 198.18.0.1 -j ACCEPT >"$1/ref.out" 2>"$1/ref.err"
    echo $? >"$1/ref.rc"
    iptables-legacy-restore -w 1 <"$1/r" >"$1/refr.out" 2>"$1/refr.err"
    echo $? >"$1/refr.rc"
    wait' sh "$d" 3>&- < /dev/null &
  printf '*filter\n-A INPUT -s 198.18.0.2 -j DROP\nCOMMIT\n' >"$d/r"
  wait $!
  [ "$(cat "$d/ref.rc")" = 4 ] && [ "$(cat "$d/refr.rc")" = 4 ]
  hold_lock "$dut" 8
  local t0=$SECONDS
  in_ns "$dut" "$XDPT" -w 1 -A INPUT -s 198.18.0.1 -j ACCEPT >"$d/dut.out" 2>"$d/dut.err" || echo $? >"$d/dut.rc"
  in_ns "$dut" "$XDPT_BINDIR/xdptables-restore" -w 1 <"$d/r" >"$d/dutr.out" 2>"$d/dutr.err" || echo $? >"$d/dutr.rc"
  [ $((SECONDS - t0)) -le 6 ]
  [ "$(cat "$d/dut.rc")" = 4 ] && [ "$(cat "$d/dutr.rc")" = 4 ]
  [ ! -s "$d/dut.out" ] && [ ! -s "$d/dutr.out" ]
  diff <(mask_lock_path "$d/ref.err") <(mask_lock_path "$d/dut.err")
  diff <(mask_lock_path "$d/refr.err") <(mask_lock_path "$d/dutr.err")
  [ "$(cat "$d/dut.err")" = $'Can\'t lock /proc/self/ns/net: Resource temporarily unavailable\nAnother app is currently holding the xtables lock. Stopped waiting after 1s.' ]
  # nothing was added
  wait "$holder"; holder=
  run in_ns "$dut" "$XDPT" -S INPUT
  [ "$output" = "-P INPUT ACCEPT" ]
}

@test "xdptables-restore reads -w's argument as iptables-legacy-restore does" {
  new_ns ref
  new_ns dut
  local d=$BATS_TEST_TMPDIR
  printf '*filter\n-A INPUT -s 198.18.0.2/32 -j DROP\nCOMMIT\n' >"$d/r"
  local args rc
  # "-w 1" as the last argument is the time, not a file; "-w FILE" is a time that is not
  # numeric; --wait=N takes what sscanf("%i") takes.
  for args in "-w 1" "-w $d/r" "-w" "-w 2 $d/r" "--wait=" "--wait=0x3" "--wait=x"; do
    rc=0
    ip netns exec "$ref" iptables-legacy-restore $args <"$d/r" >"$d/ref.out" 2>"$d/ref.err" || rc=$?
    echo "rc=$rc" >>"$d/ref.out"
    rc=0
    in_ns "$dut" "$XDPT_BINDIR/xdptables-restore" $args <"$d/r" >"$d/dut.out" 2>"$d/dut.err" || rc=$?
    echo "rc=$rc" >>"$d/dut.out"
    diff "$d/ref.out" "$d/dut.out" || { echo "args: $args"; return 1; }
    diff "$d/ref.err" <(normalize <"$d/dut.err") || { echo "args: $args"; return 1; }
  done
  run in_ns "$dut" "$XDPT" -S INPUT
  [ "$output" = $'-P INPUT ACCEPT\n-A INPUT -s 198.18.0.2/32 -j DROP' ]
}

@test "a writer waits for the lock: with -w 5, without -w, and with -w 0 (no limit, as iptables-legacy)" {
  new_ns ns
  hold_lock "$ns" 2
  local t0=$SECONDS
  run in_ns "$ns" "$XDPT" -w 5 -A INPUT -s 198.18.0.1 -j ACCEPT
  [ "$status" = 0 ]
  [ $((SECONDS - t0)) -ge 1 ]
  wait "$holder"; holder=
  hold_lock "$ns" 2
  t0=$SECONDS
  run in_ns "$ns" "$XDPT" -A INPUT -s 198.18.0.2 -j ACCEPT
  [ "$status" = 0 ]
  [ $((SECONDS - t0)) -ge 1 ]
  wait "$holder"; holder=
  hold_lock "$ns" 2
  t0=$SECONDS
  run in_ns "$ns" "$XDPT" -w 0 -A INPUT -s 198.18.0.3 -j ACCEPT
  [ "$status" = 0 ]
  [ $((SECONDS - t0)) -ge 1 ]
  run in_ns "$ns" "$XDPT" -S INPUT
  [ "$output" = $'-P INPUT ACCEPT\n-A INPUT -s 198.18.0.1/32 -j ACCEPT\n-A INPUT -s 198.18.0.2/32 -j ACCEPT\n-A INPUT -s 198.18.0.3/32 -j ACCEPT' ]
}

@test "the lock is per namespace: a held lock in one does not stop another" {
  new_ns a
  new_ns b
  hold_lock "$a" 3
  run in_ns "$b" "$XDPT" -w 1 -A INPUT -s 198.18.0.1 -j ACCEPT
  [ "$status" = 0 ]
}

@test "xdptables-save holds the lock while it reads, not while a slow reader takes its output (iptables-legacy-save takes none)" {
  new_ns ns
  # 3,000 rules: more output than a pipe holds, so the save blocks writing it.
  { echo '*filter'; echo ':INPUT ACCEPT [0:0]'
    for i in $(seq 3000); do echo "-A INPUT -s 198.18.$((i / 250)).$((i % 250 + 1))/32 -m comment --comment r$i -j DROP"; done
    echo COMMIT; } | in_ns "$ns" "$XDPT_BINDIR/xdptables-restore"
  (in_ns "$ns" "$XDPT_BINDIR/xdptables-save" | { sleep 4; wc -l >"$BATS_TEST_TMPDIR/lines"; }) &
  holder=$!
  sleep 1
  run in_ns "$ns" "$XDPT" -w 1 -A INPUT -j ACCEPT
  [ "$status" = 0 ]
  wait "$holder"; holder=
  [ "$(cat "$BATS_TEST_TMPDIR/lines")" -ge 3003 ]
}
