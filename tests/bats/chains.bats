#!/usr/bin/env bats
# Chain graphs deeper than nftables allows (16 levels), restore --test answering as the
# commit would, and commits killed (SIGKILL) at each of their steps.

load helpers

setup() { require_root; }
teardown() { teardown_namespaces; }

D=$BATS_TEST_DIRNAME/chains

# $x for xdptables and $l for iptables-legacy, lo up in both.
pair() {
  new_ns x
  new_ns l
  for ns in "$x" "$l"; do in_ns "$ns" ip link set lo up; done
}

# differ N KIND: gen.py's ruleset and send.py's datagrams through both; every counter
# (save -c) must be iptables-legacy's.
differ() {
  local f=$BATS_TEST_TMPDIR/r
  python3 "$D/gen.py" "$1" "$2" >"$f"
  in_ns "$x" "$XDPT_BINDIR/xdptables-restore" <"$f"
  in_ns "$l" iptables-legacy-restore <"$f"
  for ns in "$x" "$l"; do in_ns "$ns" python3 "$D/send.py" "$1" ${3:-}; done
  xs=$(in_ns "$x" "$XDPT_BINDIR/xdptables-save" -c | grep -v '^#')
  ls=$(in_ns "$l" iptables-legacy-save -c | grep -v '^#')
  [ "$xs" = "$ls" ] || { diff <(echo "$xs") <(echo "$ls") >&3; false; }
}

@test "chains nested 16, 20 and 40 deep, with RETURNs, count every rule as iptables-legacy does, in netfilter and in XDP" {
  for n in 16 20 40; do
    for kind in nested-nf nested-xdp; do
      pair
      differ "$n" "$kind"
      # The packets met the deep chains (the last one's DROP counted some).
      [[ "$xs" =~ \[[1-9][0-9]*:[0-9]+\]\ -A\ C$((n - 1))\ -p\ udp\ -m\ udp\ --dport\ $((1000 + n - 1))\ -j\ DROP ]]
      # No netfilter chain lies more than 15 below INPUT: some chains are laid out inline.
      [ "$(in_ns "$x" nft list table ip xdptables-filter | grep -c '^	chain ')" -lt $((n + 3)) ]
      if [ "$kind" = nested-nf ]; then
        # netfilter judged and counted the limited REJECTs inside inline copies.
        in_ns "$x" nft list table ip xdptables-filter | grep -q 'limit rate 1/hour burst 2 packets counter packets [1-9].* reject'
        run in_ns "$x" "$XDPT" explain
        [[ "$output" == *"netfilter  -A C3 -p udp -m udp --dport 4003 -m limit"* ]]
      fi
      teardown_namespaces
    done
  done
}

@test "21 chains each jumping twice to the next (2^21 paths) are accepted and count as iptables-legacy does" {
  pair
  differ 21 double double
  # 127.0.0.2's datagram to port 9 took both jumps of every chain: C19 on 2^19 paths.
  [ "$(sed -n 's/^\[\([0-9]*\):.*-A C19 -p udp -j C20$/\1/p' <<<"$xs")" -gt 524288 ]
  run in_ns "$x" "$XDPT" explain
  [[ "${lines[1]}" == "netfilter  :INPUT ACCEPT   # too many rules for the XDP classifier"* ]]
}

# too_deep: 18 chains whose jumps rate-limit (-m limit): their copies cannot meet the
# limit once per packet, so they cannot be laid out inline, and nftables refuses them.
too_deep() {
  python3 -c "
print('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]')
for i in range(18): print(f':C{i} - [0:0]')
print('-A INPUT -p udp -j C0')
for i in range(17): print(f'-A C{i} -m limit --limit 100/sec -j C{i + 1}')
print('COMMIT')"
}

@test "restore --test answers as the commit does for what only xdptables refuses, and changes nothing" {
  new_ns x
  in_ns "$x" "$XDPT" -A INPUT -p udp --dport 9 -j DROP
  before=$(in_ns "$x" nft list ruleset)
  local f=$BATS_TEST_TMPDIR/deep
  too_deep >"$f"
  run in_ns "$x" "$XDPT_BINDIR/xdptables-restore" --test <"$f"
  test_status=$status test_output=$output
  [ "$test_status" = 1 ]
  [ "$test_output" = "xdptables-restore: loading the netfilter rules: Too many links." ]
  [ "$(in_ns "$x" nft list ruleset)" = "$before" ]
  # The kernel's own refusal, found by its checks of a batch it then drops: hashlimit
  # names shared across tables with and without --hashlimit-rate-match.
  printf '%s\n' '*mangle' '-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name foo -j ACCEPT' COMMIT \
    '*filter' '-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name foo --hashlimit-rate-match -j ACCEPT' COMMIT >"$f.hl"
  run in_ns "$x" "$XDPT_BINDIR/xdptables-restore" -t <"$f.hl"
  [ "$status" = 1 ]
  [[ "$output" == "xdptables-restore: loading the netfilter rules: Invalid argument."* ]]
  hl_test=$output
  [ "$(in_ns "$x" "$XDPT_BINDIR/xdptables-save" | grep -c hashlimit)" = 0 ]
  # The commits themselves answer the same.
  run in_ns "$x" "$XDPT_BINDIR/xdptables-restore" <"$f"
  [ "$status" = "$test_status" ] && [ "$output" = "$test_output" ]
  run in_ns "$x" "$XDPT_BINDIR/xdptables-restore" <"$f.hl"
  [ "$status" = 1 ] && [ "$output" = "$hl_test" ]
  # What the commit accepts, --test accepts.
  python3 "$D/gen.py" 40 nested-nf | in_ns "$x" "$XDPT_BINDIR/xdptables-restore" --test
}

# stopped PID: waits (10 s at most) until PID has stopped itself.
stopped() {
  local i
  for i in $(seq 100); do
    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ] && return 0
    sleep 0.1
  done
  return 1
}

# received NS PORT: how many of 3 datagrams to 127.0.0.1:PORT a socket there receives.
received() {
  in_ns "$1" python3 -c "
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(('127.0.0.1', $2)); r.settimeout(0.3)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3): s.sendto(b'x', ('127.0.0.1', $2))
n = 0
try:
    while True: r.recv(10); n += 1
except socket.timeout: pass
print(n)"
}

@test "a restore killed at any step of its commit leaves the old or the new ruleset whole in both layers, and nothing behind" {
  new_ns x
  in_ns "$x" ip link set lo up
  for step in prepared written sent flipped published; do
    in_ns "$x" "$XDPT" -F INPUT
    in_ns "$x" "$XDPT" -Z
    in_ns "$x" "$XDPT" -A INPUT -p udp --dport 9 -j DROP
    # ip netns exec execs the command: $! is xdptables-restore's pid.
    XDPT_TEST_PAUSE=$step ip netns exec "$x" "$XDPT_BINDIR/xdptables-restore" \
      <<<$'*filter\n-A INPUT -p udp --dport 10 -j DROP\nCOMMIT' &
    pid=$!
    stopped "$pid" || { kill -9 "$pid"; false; }
    kill -9 "$pid"
    wait "$pid" || true
    # The next command works (the lock went with the process), and answers for both
    # layers with one ruleset: the old one before the stored ruleset's flip, the new one
    # after it.
    if [ "$step" = published ]; then dropped=10 kept=9; else dropped=9 kept=10; fi
    run in_ns "$x" "$XDPT" -S INPUT
    [ "$status" = 0 ]
    [ "$output" = $'-P INPUT ACCEPT\n-A INPUT -p udp -m udp --dport '"$dropped"' -j DROP' ]
    run in_ns "$x" nft list chain ip xdptables-filter INPUT
    [ "$(grep -c 'counter' <<<"$output")" = 1 ]
    [[ "$output" == *"udp dport $dropped counter"* ]]
    # Verdicts (XDP's and netfilter's) and counts on real datagrams.
    [ "$(received "$x" "$dropped")" = 0 ]
    [ "$(received "$x" "$kept")" = 3 ]
    run in_ns "$x" "$XDPT" -L INPUT -v -x -n
    [[ "${lines[2]}" == "       3       87 DROP "* ]]
    # Nothing left behind: xdptables' table alone.
    run in_ns "$x" nft list tables
    [ "$output" = "table ip xdptables-filter" ]
  done
}

# The loop check walks a chain up to its first rule without any condition whose verdict
# is ACCEPT, DROP, RETURN or QUEUE (x_tables' mark_source_chains): a loop behind such a
# rule, in a base chain or in a user chain, is taken; behind any rule with a condition
# (a match, an address given inverted, an interface, a protocol, a fragment test) or
# another target, it is refused.
@test "a jump loop behind an unconditional verdict is taken, behind any other rule refused, as by iptables-legacy" {
  pair
  for stop in "-j ACCEPT" "-j DROP" "-j RETURN" "-j QUEUE" "-p all -j ACCEPT" "-s 0.0.0.0/0 -j ACCEPT" \
      "-d 0/0 -j DROP" "-m comment --comment x -j ACCEPT" "! -s 0.0.0.0/0 -j ACCEPT" "-i + -j ACCEPT" \
      "-p tcp -j ACCEPT" "-f -j DROP" "-j NFQUEUE" "-j LOG"; do
    for at in INPUT c; do
      for ns in "$x" "$l"; do
        [ "$ns" = "$x" ] && cmd=$XDPT || cmd=iptables-legacy
        in_ns "$ns" $cmd -F; in_ns "$ns" $cmd -X
        for c in a b c; do in_ns "$ns" $cmd -N $c; done
        [ "$at" = INPUT ] || in_ns "$ns" $cmd -A INPUT -j c
        eval "in_ns \"\$ns\" \$cmd -A $at $stop"
        in_ns "$ns" $cmd -A $at -j a
        in_ns "$ns" $cmd -A a -j b
        out=$(in_ns "$ns" $cmd -A b -j a 2>&1) && rc=0 || rc=$?
        out=${out/xdptables:/iptables:}
        [ "$ns" = "$x" ] && { xo="$rc $out"; xs=$(in_ns "$ns" $cmd -S); } || { lo="$rc $out"; ls=$(in_ns "$ns" $cmd -S); }
      done
      [ "$xo" = "$lo" ] && [ "$xs" = "$ls" ] || { echo "$stop in $at: xdptables: $xo; iptables-legacy: $lo" >&3; false; }
    done
  done
  # Both answers came up.
  [ "$xo" = "1 iptables: Too many levels of symbolic links." ]
  in_ns "$x" $XDPT -F INPUT && in_ns "$x" $XDPT -A INPUT -j DROP
  in_ns "$x" $XDPT -A INPUT -j a
  in_ns "$x" $XDPT -A b -j a
}

@test "-i + and -o + are the same as no interface for -D and -C, as libiptc compares names under their masks" {
  pair
  for ns in "$x" "$l"; do
    [ "$ns" = "$x" ] && cmd=$XDPT || cmd=iptables-legacy
    for r in "INPUT -p udp" "INPUT -p tcp" "INPUT -i + -p udp" "INPUT ! -i + -p icmp" \
             "FORWARD -p tcp" "FORWARD -p udp" "FORWARD -o + -p tcp" "FORWARD -i eth+ -p tcp"; do
      eval "in_ns \"\$ns\" \$cmd -A $r"
    done
    run_all=""
    for args in "-D INPUT -i + -p udp" "-C INPUT -p udp" "-D INPUT -p icmp" "-C INPUT ! -i + -p icmp" \
                "-D FORWARD -o + -p tcp" "-C FORWARD -i eth -p tcp" "-C FORWARD -i eth+ -p tcp" "-C FORWARD -i + -p tcp"; do
      out=$(eval "in_ns \"\$ns\" \$cmd $args" 2>&1) && rc=0 || rc=$?
      run_all+="$args: $rc ${out#*: }; "
    done
    # (-S shows no "-i +": which of the two went shows in the order of what is left.)
    run_all+="$(in_ns "$ns" $cmd -S)"
    [ "$ns" = "$x" ] && xo=$run_all || lo=$run_all
  done
  [ "$xo" = "$lo" ] || { echo "xdptables: $xo" >&3; echo "iptables-legacy: $lo" >&3; false; }
  # The first of each pair went: what is left of it comes after the rule between them
  # (and "! -i +" shows as nothing either).
  [[ "$xo" == *"$(printf -- '-A INPUT -p tcp\n-A INPUT -p udp\n-A INPUT -p icmp')"* ]]
  [[ "$xo" == *"$(printf -- '-A FORWARD -p udp\n-A FORWARD -p tcp\n-A FORWARD -i eth+ -p tcp')"* ]]
}

@test "ip6tables' -p all is kept: another rule than one without -p for -D and -C, and a condition for the loop check, as in ip6tables-legacy" {
  pair
  for ns in "$x" "$l"; do
    [ "$ns" = "$x" ] && cmd=$XDPT_BINDIR/xdp6tables || cmd=ip6tables-legacy
    in_ns "$ns" $cmd -A INPUT -p all -j ACCEPT
    # Each answer: exit status and message (the program's name aside), in a new process
    # every time, so the stored ruleset keeps what -p all made.
    run_all=""
    for args in "-D INPUT -j ACCEPT" "-C INPUT -j ACCEPT" "-C INPUT -p 0 -j ACCEPT" "-C INPUT -p ALL -j ACCEPT"; do
      out=$(eval "in_ns \"\$ns\" \$cmd $args" 2>&1) && rc=0 || rc=$?
      run_all+="$args: $rc ${out#*: }; "
    done
    for c in a b; do in_ns "$ns" $cmd -N $c; done
    in_ns "$ns" $cmd -A INPUT -j a
    in_ns "$ns" $cmd -A a -j b
    out=$(in_ns "$ns" $cmd -A b -j a 2>&1) && rc=0 || rc=$?
    run_all+="loop: $rc ${out#*: }; "
    # -p all shows nowhere: -S, save.
    run_all+="$(in_ns "$ns" $cmd -S) $(in_ns "$ns" ${cmd}-save | grep -v '^#')"
    [ "$ns" = "$x" ] && xo=$run_all || lo=$run_all
  done
  [ "$xo" = "$lo" ] || { echo "xdp6tables: $xo" >&3; echo "ip6tables-legacy: $lo" >&3; false; }
  [[ "$xo" == *"-D INPUT -j ACCEPT: 1 Bad rule"* ]]
  [[ "$xo" == *"loop: 1 Too many levels of symbolic links."* ]]
  # Deleted as it was given, the rule is gone.
  in_ns "$x" "$XDPT_BINDIR/xdp6tables" -D INPUT -p all -j ACCEPT
  [ "$(in_ns "$x" "$XDPT_BINDIR/xdp6tables" -S INPUT)" = "$(printf -- '-P INPUT ACCEPT\n-A INPUT -j a')" ]
}
