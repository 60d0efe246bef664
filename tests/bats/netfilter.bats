#!/usr/bin/env bats
# The netfilter layer across edits: a change patches xdptables' nftables table rule by
# rule, so the rules it keeps keep their kernel counters (no packet counted between two
# commands is lost) and their handles; the counters shown are iptables-legacy's for the
# same commands and the same packets.

load helpers

setup() { require_root; }
teardown() { teardown_namespaces; }

# send NS N [PORT]: N UDP datagrams to 127.0.0.1:PORT (9999), where nothing listens
# (each one also brings an ICMP port unreachable back through INPUT).
send() {
  in_ns "$1" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range($2): s.sendto(b'x' * 10, ('127.0.0.1', ${3:-9999}))"
}

# The handle of the kernel rule of xdptables' INPUT chain whose text contains $2.
handle_of() {
  in_ns "$1" nft -a list chain ip xdptables-filter INPUT 2>/dev/null | grep -F -- "$2" | sed 's/.*# handle //'
}

# $x for xdptables and $l for iptables-legacy, lo up in both.
pair() {
  new_ns x
  new_ns l
  for ns in "$x" "$l"; do in_ns "$ns" ip link set lo up; done
}

# $x alone, lo up, with its first rule: UDP to port 9999 accepted.
solo() {
  new_ns x
  in_ns "$x" ip link set lo up
  in_ns "$x" "$XDPT" -A INPUT -p udp --dport 9999 -j ACCEPT
}

# The nftables tables of NS.
tables() { in_ns "$1" nft list tables; }

# xdptables-save -c of $x, comment lines aside.
xsave() { in_ns "$x" "$XDPT_BINDIR/xdptables-save" -c | grep -v '^#'; }

# Both namespaces' save -c (comment lines aside) are the same; $xs holds xdptables'.
same_saves() {
  xs=$(xsave)
  [ "$xs" = "$(in_ns "$l" iptables-legacy-save -c | grep -v '^#')" ]
}

# The same commands and packets in both namespaces.
both() {
  in_ns "$x" "$XDPT" "$@"
  in_ns "$l" iptables-legacy "$@"
}

@test "rule edits keep the kernel's counters and handles, and count as iptables-legacy does" {
  pair
  both -A INPUT -p udp --dport 9999 -j ACCEPT
  both -A INPUT -p icmp -j ACCEPT
  send "$x" 5; send "$l" 5
  h_udp=$(handle_of "$x" "udp dport 9999")
  h_icmp=$(handle_of "$x" "ip protocol icmp")
  [ -n "$h_udp" ] && [ -n "$h_icmp" ]
  both -A INPUT -p tcp -j ACCEPT
  send "$x" 3; send "$l" 3
  both -I INPUT 1 -p sctp -j DROP
  both -D INPUT -p tcp -j ACCEPT
  send "$x" 2; send "$l" 2
  # Kept: same handles (patched, not made anew).
  [ "$(handle_of "$x" "udp dport 9999")" = "$h_udp" ]
  [ "$(handle_of "$x" "ip protocol icmp")" = "$h_icmp" ]
  run in_ns "$x" "$XDPT" -L INPUT -v -x -n
  xl=$output
  run in_ns "$l" iptables-legacy -L INPUT -v -x -n
  [ "$xl" = "$output" ]
  [[ "$xl" == *"      10      380 ACCEPT     17"* ]]
  # -Z of one rule zeroes what it shows and leaves the kernel rule counting on (same
  # handle: nothing in nftables changes); the others keep counting.
  both -Z INPUT 2
  [ "$(handle_of "$x" "udp dport 9999")" = "$h_udp" ]
  send "$x" 1; send "$l" 1
  both -R INPUT 1 -p sctp -j ACCEPT
  same_saves
  [[ "$xs" == *"[1:38] -A INPUT -p udp -m udp --dport 9999 -j ACCEPT"* ]]
  [[ "$xs" == *"[11:"*"] -A INPUT -p icmp -j ACCEPT"* ]]
}

@test "-I, -D and -R deep in a long chain read its rules only as far as they need, keep the others' handles, and count as iptables-legacy" {
  pair
  { echo '*filter'; echo ':INPUT ACCEPT [0:0]'
    for i in $(seq 300); do echo "-A INPUT -s 198.18.$((i / 250)).$((i % 250 + 1))/32 -p tcp -m tcp --dport $i -j DROP"; done
    echo '-A INPUT -p udp -m udp --dport 9999 -j ACCEPT'
    echo COMMIT; } >"$BATS_TEST_TMPDIR/long"
  in_ns "$x" "$XDPT_BINDIR/xdptables-restore" <"$BATS_TEST_TMPDIR/long"
  in_ns "$l" iptables-legacy-restore <"$BATS_TEST_TMPDIR/long"
  send "$x" 4; send "$l" 4
  both -A INPUT -p icmp -j ACCEPT
  h_udp=$(handle_of "$x" "udp dport 9999")
  h_250=$(handle_of "$x" "tcp dport 250 ")
  [ -n "$h_udp" ] && [ -n "$h_250" ]
  # Past a dump round (some 100 rules here): -D 150, -I 120, -R 200, -D by spec, -I 1.
  both -D INPUT 150
  send "$x" 1; send "$l" 1
  both -I INPUT 120 -p sctp -j DROP
  both -R INPUT 200 -s 198.18.9.9 -j DROP
  both -D INPUT -s 198.18.0.11/32 -p tcp -m tcp --dport 10 -j DROP
  both -I INPUT 1 -p sctp -j ACCEPT
  send "$x" 2; send "$l" 2
  [ "$(handle_of "$x" "udp dport 9999")" = "$h_udp" ]
  [ "$(handle_of "$x" "tcp dport 250 ")" = "$h_250" ]
  same_saves
  [[ "$xs" == *"[7:266] -A INPUT -p udp -m udp --dport 9999 -j ACCEPT"* ]]
  [ "$(grep -c -- '-A INPUT' <<<"$xs")" = 302 ]
}

@test "an append, a -Z and a policy reset change nothing in nftables but the rule appended" {
  solo
  in_ns "$x" "$XDPT" -P FORWARD DROP
  send "$x" 3
  # What a command's batch did, as nftables reports it.
  changes() {
    local out=$BATS_TEST_TMPDIR/monitor
    in_ns "$x" timeout 5 nft monitor >"$out" 2>&1 &
    local mon=$!
    sleep 0.3
    in_ns "$x" "$XDPT" "$@"
    sleep 0.3
    kill "$mon" 2>/dev/null; wait "$mon" 2>/dev/null
    grep -av '^# new generation' "$out" || true
  }
  # libiptc resets every base chain's policy counters at each commit; xdptables shows
  # them reset without updating the chains (a chain update's release makes the closing
  # of the nftables socket wait for an RCU grace period).
  # The rule, and its x_tables copy in the shadow of INPUT (compat/nft.cpp, guards).
  run changes -A INPUT -p tcp --dport 22 -j ACCEPT
  [ "${#lines[@]}" = 2 ]
  [[ "${lines[0]}" == "add rule ip xdptables-filter INPUT tcp dport 22 counter packets 0 bytes 0 accept" ]]
  [[ "${lines[1]}" == "add rule ip xdptables-filter ~xdptables-x_tables-copy-of~INPUT ip protocol tcp tcp dport 22 counter packets 0 bytes 0 accept" ]]
  run changes -Z INPUT 1
  [ -z "$output" ]
  [ "$(in_ns "$x" "$XDPT" -L INPUT 1 -v -x -n | awk '{print $1}')" = 0 ]
  send "$x" 2
  [ "$(in_ns "$x" "$XDPT" -L INPUT 1 -v -x -n | awk '{print $1}')" = 2 ]
  # A policy that changes does update its chain.
  run changes -P OUTPUT DROP
  [[ "$output" == "add chain ip xdptables-filter OUTPUT"*"policy drop; }" ]]
  in_ns "$x" "$XDPT" -P OUTPUT ACCEPT
}

@test "renaming, emptying and deleting chains with jumps counts as iptables-legacy does" {
  pair
  both -N a
  both -N b
  both -A INPUT -p udp -j a
  both -A a -p udp --dport 9999
  both -A b -g a
  send "$x" 4; send "$l" 4
  both -E a c
  send "$x" 2; send "$l" 2
  both -D INPUT 1
  both -F c
  both -F b
  both -X c
  send "$x" 1; send "$l" 1
  same_saves
  run tables "$x"
  [ "$output" = "table ip xdptables-filter" ]
  [ "$(in_ns "$x" nft list chain ip xdptables-filter c 2>&1 | grep -c 'No such file')" = 1 ]
}

@test "a restore of several tables commits each on what the one before left, as iptables-legacy does" {
  pair
  # A filter block big enough to be made anew (not patched), then nat and raw blocks:
  # each COMMIT goes on from the kernel's table as the previous one left it.
  f="$BATS_TEST_TMPDIR/multi.rules"
  {
    echo '*filter'
    for i in $(seq 1 100); do echo "-A INPUT -p udp -m udp --dport $((20000 + i)) -j DROP"; done
    echo '-A INPUT -p udp -m udp --dport 9999 -j ACCEPT'
    echo '-A INPUT -p icmp -j ACCEPT'
    echo 'COMMIT'
    echo '*nat'
    echo '-A OUTPUT -p tcp -m tcp --dport 1 -j RETURN'
    echo 'COMMIT'
    echo '*raw'
    echo '-A OUTPUT -p udp -m udp --dport 9999'
    echo 'COMMIT'
  } > "$f"
  for round in 1 2 3; do
    run in_ns "$x" "$XDPT_BINDIR/xdptables-restore" < "$f"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    in_ns "$l" iptables-legacy-restore < "$f"
    send "$x" 2; send "$l" 2
  done
  same_saves
  [[ "$xs" == *"[2:76] -A INPUT -p udp -m udp --dport 9999 -j ACCEPT"* ]]
  [[ "$xs" == *"[2:76] -A OUTPUT -p udp -m udp --dport 9999"* ]]
}

@test "a commit that fails in either layer leaves both as they were" {
  pair
  both -A INPUT -p udp --dport 9999 -j ACCEPT
  both -A INPUT -p icmp -j ACCEPT
  send "$x" 3; send "$l" 3
  saved=$(xsave)
  tables=$(in_ns "$x" nft -a list ruleset 2>/dev/null)
  # The netfilter batch refused by the kernel after the XDP generation was written, and
  # the XDP generation failing after the batch was built: a DROP that would catch the
  # next packets, in neither layer afterwards.
  run env XDPT_TEST_FAIL=netfilter ip netns exec "$x" "$XDPT" -I INPUT 1 -p udp --dport 9999 -j DROP
  [ "$status" -eq 1 ]
  [ "$output" = "xdptables: loading the netfilter rules: No chain/target/match by that name." ]
  run env XDPT_TEST_FAIL=generation ip netns exec "$x" "$XDPT" -I INPUT 1 -p udp --dport 9999 -j DROP
  [ "$status" -eq 4 ]
  [[ "$output" == *"writing the classifier"* ]]
  [ "$(xsave)" = "$saved" ]
  [ "$(in_ns "$x" nft -a list ruleset 2>/dev/null)" = "$tables" ]
  send "$x" 2; send "$l" 2
  # Then the same command goes through, and the DROP bites (in XDP).
  both -I INPUT 1 -p udp --dport 9999 -j DROP
  send "$x" 4; send "$l" 4
  same_saves
  [[ "$xs" == *"[5:190] -A INPUT -p udp -m udp --dport 9999 -j ACCEPT"* ]]
  [[ "$xs" == *"[4:152] -A INPUT -p udp -m udp --dport 9999 -j DROP"* ]]
}

@test "the security table judges after filter, as iptables-legacy's does" {
  pair
  both -A INPUT -p udp --dport 9998 -j DROP
  both -A INPUT -p udp -j ACCEPT
  both -t security -A INPUT -p udp --dport 9999 -j DROP
  both -t security -A INPUT -p udp -j ACCEPT
  send "$x" 3; send "$l" 3
  send "$x" 2 9998; send "$l" 2 9998
  same_saves
  [[ "$xs" == *"[2:76] -A INPUT -p udp -m udp --dport 9998 -j DROP"* ]]
  [[ "$xs" == *"[3:114] -A INPUT -p udp -m udp --dport 9999 -j DROP"* ]]
  run in_ns "$x" nft list tables
  [[ "$output" == *"table ip xdptables-security"* ]]
}

@test "an append trusts the kernel's rules only while nftables is unchanged since the last commit" {
  solo
  send "$x" 3
  in_ns "$x" "$XDPT" -A INPUT -p icmp -j ACCEPT
  # Appended without reading the rules back: the first one kept its kernel counter.
  run in_ns "$x" "$XDPT_BINDIR/xdptables-save" -c
  [[ "$output" == *"[3:114] -A INPUT -p udp -m udp --dport 9999 -j ACCEPT"* ]]
  # Somebody else empties xdptables' chain: the next append must see it and put the
  # whole chain back, not append to what it believes is there.
  in_ns "$x" nft flush chain ip xdptables-filter INPUT
  in_ns "$x" "$XDPT" -A INPUT -p tcp -j ACCEPT
  run in_ns "$x" nft list chain ip xdptables-filter INPUT
  [ "$(grep -c 'counter packets' <<<"$output")" = 3 ]
  [[ "$output" == *"udp dport 9999"* ]] && [[ "$output" == *"ip protocol icmp"* ]] && [[ "$output" == *"ip protocol tcp"* ]]
  # What the flushed rule had counted went with it; it counts again from there.
  send "$x" 2
  run in_ns "$x" "$XDPT" -L INPUT -v -x -n
  [[ "$output" == *"       2       76 ACCEPT     17"* ]]
}

@test "a commit that races another nftables user is built again on what the kernel then holds" {
  solo
  send "$x" 2
  # XDPT_TEST_FAIL=race: another batch goes in between this commit's reading of nftables
  # and its batch; the kernel refuses the batch (its generation moved on), and the
  # commit is made again.
  XDPT_TEST_FAIL=race in_ns "$x" "$XDPT" -A INPUT -p icmp -j ACCEPT
  XDPT_TEST_FAIL=race in_ns "$x" "$XDPT" -I INPUT 1 -p tcp -j ACCEPT
  in_ns "$x" "$XDPT" -A INPUT -p sctp -j ACCEPT
  send "$x" 1
  run in_ns "$x" nft list chain ip xdptables-filter INPUT
  [ "$(grep -c 'counter packets' <<<"$output")" = 4 ]
  run in_ns "$x" "$XDPT_BINDIR/xdptables-save" -c
  [[ "$output" == *$'[0:0] -A INPUT -p tcp -j ACCEPT\n[3:114] -A INPUT -p udp -m udp --dport 9999 -j ACCEPT\n[1:66] -A INPUT -p icmp -j ACCEPT\n[0:0] -A INPUT -p sctp -j ACCEPT'* ]]
}

# udp_ask NS PORT [BIND_ADDR [BIND_PORT]] [DEST]: one datagram from a fresh socket to
# DEST:PORT (127.0.0.1); prints the reply and where it came from, or "no reply".
udp_ask() {
  in_ns "$1" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
if '${3:-}': s.bind(('${3:-}', int('${4:-0}')))
s.sendto(b'ping', ('${5:-127.0.0.1}', $2))
try:
    data, peer = s.recvfrom(100)
    print(data.decode(), 'from %s:%d' % peer)
except OSError:
    print('no reply')"
}

# udp_echo NS ADDR N PORT...: in the background, answers N datagrams on ADDR:PORT...
# (then exits, or after 10 s), each with "seen SRC:SPORT at PORT" as it saw them; its
# pid in $echo_pid.
udp_echo() {
  local ns=$1 addr=$2 n=$3; shift 3
  in_ns "$ns" python3 -c "
import socket, select, time
socks = []
for p in '$*'.split():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('$addr', int(p)))
    socks.append(s)
left, end = $n, time.time() + 10
while left > 0 and time.time() < end:
    for s in select.select(socks, [], [], 0.2)[0]:
        data, peer = s.recvfrom(100)
        s.sendto(('seen %s:%d at %d' % (peer + (s.getsockname()[1],))).encode(), peer)
        left -= 1" >/dev/null 2>&1 &
  echo_pid=$!
}

@test "nat OUTPUT DNAT and REDIRECT bring local datagrams to the listening port, counted as iptables-legacy does" {
  pair
  both -t nat -A OUTPUT -p udp -d 127.0.0.1 --dport 9001 -j REDIRECT --to-ports 7777
  both -t nat -A OUTPUT -p udp -d 127.0.0.1 --dport 9002 -j DNAT --to-destination 127.0.0.1:7777
  # A shifted range: 9003 is 2 past the base 9001, so it goes to 7770 + 2 (without the
  # base, 9003 modulo the 10 ports would make it 7773).
  both -t nat -A OUTPUT -p udp -d 127.0.0.1 --dport 9003 -j DNAT --to-destination :7770-7779/9001
  for ns in "$x" "$l"; do
    udp_echo "$ns" 127.0.0.1 3 7777 7772 7773
    sleep 0.3
    # Each answer comes back from the port asked: conntrack undoes the translation.
    run udp_ask "$ns" 9001
    [[ "$output" == "seen 127.0.0.1:"*" at 7777 from 127.0.0.1:9001" ]]
    run udp_ask "$ns" 9002
    [[ "$output" == "seen 127.0.0.1:"*" at 7777 from 127.0.0.1:9002" ]]
    run udp_ask "$ns" 9003
    [[ "$output" == "seen 127.0.0.1:"*" at 7772 from 127.0.0.1:9003" ]]
    run udp_ask "$ns" 9004
    [ "$output" = "no reply" ]
    wait "$echo_pid"
  done
  same_saves
  [[ "$xs" == *"[1:32] -A OUTPUT -d 127.0.0.1/32 -p udp -m udp --dport 9001 -j REDIRECT --to-ports 7777"* ]]
  [[ "$xs" == *"[1:32] -A OUTPUT -d 127.0.0.1/32 -p udp -m udp --dport 9003 -j DNAT --to-destination :7770-7779/9001"* ]]
  run in_ns "$x" nft list tables
  [[ "$output" == *"table ip nat"* ]]
}

# $x and $l each with a peer namespace ($px, $pl) behind a veth: 198.18.10.1/24 (and
# 198.18.10.9) on this side, 198.18.10.2/24 on the peer's.
peers() {
  pair
  new_ns px
  new_ns pl
  veth "$x" "$px"
  veth "$l" "$pl"
  in_ns "$x" ip addr add 198.18.10.9/32 dev vn
  in_ns "$l" ip addr add 198.18.10.9/32 dev vn
}

@test "nat POSTROUTING SNAT and MASQUERADE change the source the peer sees, counted as iptables-legacy does" {
  peers
  both -t nat -A POSTROUTING -o vn -p udp --dport 6000 -j SNAT --to-source 198.18.10.9
  both -t nat -A POSTROUTING -o vn -p udp --dport 6001 -j MASQUERADE
  both -t nat -A POSTROUTING -o vn -p udp --dport 6002 -j MASQUERADE --to-ports 50000-50010
  both -t nat -A POSTROUTING -o vn -p udp --dport 6003 -j SNAT --to-source 198.18.10.9:40000-40000
  for a in "$x:$px" "$l:$pl"; do
    p=${a#*:} ns=${a%%:*}
    udp_echo "$p" 198.18.10.2 5 6000 6001 6002 6003 6004
    sleep 0.3
    run udp_ask "$ns" 6000 198.18.10.1 30000 198.18.10.2
    [ "$output" = "seen 198.18.10.9:30000 at 6000 from 198.18.10.2:6000" ]
    run udp_ask "$ns" 6001 198.18.10.9 30000 198.18.10.2
    [ "$output" = "seen 198.18.10.1:30000 at 6001 from 198.18.10.2:6001" ]
    run udp_ask "$ns" 6002 198.18.10.1 30000 198.18.10.2
    [[ "$output" == "seen 198.18.10.1:500"[01]?" at 6002 from 198.18.10.2:6002" ]]
    run udp_ask "$ns" 6003 198.18.10.1 30000 198.18.10.2
    [ "$output" = "seen 198.18.10.9:40000 at 6003 from 198.18.10.2:6003" ]
    # No rule: the source as bound.
    run udp_ask "$ns" 6004 198.18.10.1 30000 198.18.10.2
    [ "$output" = "seen 198.18.10.1:30000 at 6004 from 198.18.10.2:6004" ]
    wait "$echo_pid"
  done
  same_saves
  [[ "$xs" == *"[1:32] -A POSTROUTING -o vn -p udp -m udp --dport 6000 -j SNAT --to-source 198.18.10.9"* ]]
  [[ "$xs" == *"[1:32] -A POSTROUTING -o vn -p udp -m udp --dport 6002 -j MASQUERADE --to-ports 50000-50010"* ]]
}

@test "a nat table is the nftables table nat while it has nat targets, and keeps its counts across the change" {
  pair
  both -t nat -A OUTPUT -p udp -j ACCEPT
  # The datagrams make new connections; without a nat target (conntrack not in use)
  # nat sees none of them, as with iptables-legacy.
  send "$x" 1; send "$l" 1
  run tables "$x"
  [ "$output" = "table ip xdptables-nat" ]
  both -t nat -I OUTPUT -p udp --dport 5 -j DNAT --to-destination 127.0.0.1:6
  run tables "$x"
  [ "$output" = "table ip nat" ]
  send "$x" 1; send "$l" 1
  both -t nat -A OUTPUT -p tcp -j ACCEPT
  send "$x" 1; send "$l" 1
  same_saves
  [[ "$xs" == *"[2:76] -A OUTPUT -p udp -j ACCEPT"* ]]
  both -t nat -D OUTPUT 1
  run tables "$x"
  [ "$output" = "table ip xdptables-nat" ]
  same_saves
  [[ "$xs" == *"[2:76] -A OUTPUT -p udp -j ACCEPT"* ]]
}

@test "an append that makes a table anew reads the kernel's counts first, as iptables-legacy keeps them" {
  pair
  both -t raw -A OUTPUT -p udp -j ACCEPT
  send "$x" 3; send "$l" 3
  # CT takes the table to the nftables table raw: made anew, its counts from the ruleset.
  both -t raw -A OUTPUT -p tcp -j CT --notrack
  run in_ns "$x" nft list tables
  [[ "$output" == *"table ip raw"* ]]
  # Many rules at once (one per address) make it anew too.
  both -A OUTPUT -p udp -j ACCEPT
  send "$x" 2; send "$l" 2
  both -A OUTPUT -s "$(echo 198.18.1.{1..9} | tr ' ' ,)" -d "$(echo 198.18.2.{1..8} | tr ' ' ,)" -j DROP
  same_saves
  [[ "$xs" == *"[5:190] -A OUTPUT -p udp -j ACCEPT"* ]]
  [[ "$xs" == *"[2:76] -A OUTPUT -p udp -j ACCEPT"* ]]
}

@test "a table made anew by a command that did not read the counts keeps them, set by -Z or counted" {
  pair
  both -t raw -N c
  both -t raw -A OUTPUT -m comment --comment "counted"
  both -t raw -A OUTPUT -p udp -j ACCEPT
  send "$x" 4; send "$l" 4
  both -t raw -Z OUTPUT 2
  send "$x" 2; send "$l" 2
  # Appends trust the kernel's rules without reading them back (nftables unchanged).
  both -t raw -A PREROUTING -s 198.18.0.1
  both -t raw -A c -s 198.18.0.2
  run in_ns "$x" nft list table ip xdptables-raw
  [[ "$output" != *"x_tables-copy-of"* ]]
  # The first port match gives the table shadow copies: made anew, its counts with it:
  # the first rule's 12 packets (the datagrams and their ICMP errors), the second's 2
  # since its -Z.
  both -t raw -A c -p udp --dport 443 -j ACCEPT
  run in_ns "$x" nft list table ip xdptables-raw
  [[ "$output" == *"x_tables-copy-of"* ]]
  same_saves
  [[ "$xs" == *"[12:624] -A OUTPUT -m comment --comment counted"* ]]
  [[ "$xs" == *"[2:76] -A OUTPUT -p udp -j ACCEPT"* ]]
  # And again, from the guarded table: so much at once that it is made anew.
  send "$x" 1; send "$l" 1
  both -t raw -A c -s "$(echo 198.18.1.{1..9} | tr ' ' ,)" -d "$(echo 198.18.2.{1..8} | tr ' ' ,)" -j DROP
  same_saves
  [[ "$xs" == *"[14:728] -A OUTPUT -m comment --comment counted"* ]]
  [[ "$xs" == *"[3:114] -A OUTPUT -p udp -j ACCEPT"* ]]
}

@test "rules behind an unconditional verdict are dead as in x_tables: loops and hooks unchecked there, laid out again when they come alive" {
  pair
  both -N a
  both -N b
  both -A INPUT -j RETURN
  both -A INPUT -j a
  both -A a -p udp -j ACCEPT
  # A loop and a target outside its hooks, reached only through dead rules: taken.
  both -A b -j a
  both -A a -j b
  both -A a -m owner --uid-owner 0
  send "$x" 3; send "$l" 3
  same_saves
  [[ "$xs" == *"[6:312] -A INPUT -j RETURN"* ]]
  run in_ns "$x" nft list chain ip xdptables-filter INPUT
  [[ "$output" != *"jump a"* ]]
  # The verdict goes: the loop comes alive, and both refuse it.
  run in_ns "$x" "$XDPT" -D INPUT 1
  [ "$status" = 1 ] && [ "$output" = "xdptables: Too many levels of symbolic links." ]
  run in_ns "$l" iptables-legacy -D INPUT 1
  [ "$status" = 1 ] && [ "$output" = "iptables: Too many levels of symbolic links." ]
  both -D a 2
  both -D a 2
  both -D INPUT 1
  run in_ns "$x" nft list chain ip xdptables-filter INPUT
  [[ "$output" == *"jump a"* ]]
  send "$x" 2; send "$l" 2
  same_saves
  [[ "$xs" == *"[2:76] -A a -p udp -j ACCEPT"* ]]
  # Dead again behind an ACCEPT inserted before it, and alive again.
  both -I INPUT -j ACCEPT
  send "$x" 1; send "$l" 1
  both -R INPUT 1 -p tcp -j ACCEPT
  send "$x" 1; send "$l" 1
  same_saves
  [[ "$xs" == *"[3:114] -A a -p udp -j ACCEPT"* ]]
  # A dead conntrack match still turns conntrack on, as x_tables instantiates it: the
  # datagrams are tracked in both.
  both -A OUTPUT -j ACCEPT
  both -A OUTPUT -m conntrack --ctstate NEW -m owner --uid-owner 0
  send "$x" 1; send "$l" 1
  for ns in "$x" "$l"; do
    run in_ns "$ns" grep -c 'dport=9999' /proc/net/nf_conntrack
    [ "$output" -ge 1 ]
  done
  same_saves
  # A nat target out of its hooks behind an ACCEPT (nat counts conntrack's first packets:
  # a namespace of its own, no traffic).
  new_ns n
  in_ns "$n" "$XDPT" -t nat -A PREROUTING -j ACCEPT
  in_ns "$n" "$XDPT" -t nat -A PREROUTING -j MASQUERADE
  run in_ns "$n" "$XDPT" -t nat -D PREROUTING 1
  [ "$status" = 1 ] && [[ "$output" == "xdptables: Invalid argument."* ]]
  run in_ns "$n" "$XDPT" -t nat -S PREROUTING
  [ "$output" = "$(printf -- '-P PREROUTING ACCEPT\n-A PREROUTING -j ACCEPT\n-A PREROUTING -j MASQUERADE')" ]
}

# peer_send NS ADDR N: N UDP datagrams from NS to ADDR:7000 (broadcast allowed).
peer_send() {
  in_ns "$1" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
for _ in range($3): s.sendto(b'x' * 10, ('$2', 7000))"
}

@test "addrtype and pkttype rules judge real unicast and broadcast datagrams as iptables-legacy does" {
  peers
  both -A INPUT -p udp -m addrtype --dst-type BROADCAST --limit-iface-in
  both -A INPUT -p udp -m pkttype --pkt-type broadcast -j DROP
  both -A INPUT -p udp -m addrtype --dst-type LOCAL -j ACCEPT
  both -A INPUT -p udp -m pkttype ! --pkt-type unicast
  both -A INPUT -p udp -j DROP
  for p in "$px" "$pl"; do
    peer_send "$p" 198.18.10.1 3
    peer_send "$p" 198.18.10.255 2
  done
  same_saves
  [[ "$xs" == *"[2:76] -A INPUT -p udp -m addrtype --dst-type BROADCAST --limit-iface-in"* ]]
  [[ "$xs" == *"[2:76] -A INPUT -p udp -m pkttype --pkt-type broadcast -j DROP"* ]]
  [[ "$xs" == *"[3:114] -A INPUT -p udp -m addrtype --dst-type LOCAL -j ACCEPT"* ]]
  [[ "$xs" == *"[0:0] -A INPUT -p udp -m pkttype ! --pkt-type unicast"* ]]
}

# The conntrack table of NS without timeouts and ids: proto, state, tuples, flags.
ct_entries() {
  in_ns "$1" cat /proc/net/nf_conntrack | awk '{ $1=$2=""; $5=""; print }' |
    sed -e 's/ id=[0-9]*//' -e 's/ use=[0-9]*//' -e 's/ zone=[0-9]*//' | sort
}

@test "a stateful ruleset judges real connections, floods, invalid segments and ICMP errors as iptables-legacy does, conntrack holding the same connections" {
  peers
  both -P INPUT DROP
  both -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  both -A INPUT -p tcp --dport 8000 -m conntrack --ctstate NEW -j ACCEPT
  both -A INPUT -p udp --dport 7000 -m state --state NEW -j ACCEPT
  both -A INPUT -m conntrack --ctstate INVALID -j DROP
  both -A INPUT -p udp -s 198.18.10.0/24 --dport 9 -j DROP
  local lib=$BATS_TEST_DIRNAME/lib/ctpeer.py
  # Full checksums on the wire, as from a real NIC (veth otherwise leaves them partial,
  # and XDP, unable to check them, leaves such packets to conntrack).
  in_ns "$px" ethtool -K vp tx off >/dev/null
  in_ns "$pl" ethtool -K vp tx off >/dev/null
  for pair_ in "$x:$px" "$l:$pl"; do
    dut=${pair_%%:*} peer=${pair_#*:}
    timeout 30 ip netns exec "$dut" python3 "$lib" server &
    srv=$!
    sleep 0.3
    timeout 30 ip netns exec "$peer" python3 "$lib" client
    timeout 10 ip netns exec "$dut" python3 "$lib" probe
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
  done
  same_saves
  [[ "$xs" == *"[200:9200] -A INPUT -s 198.18.10.0/24 -p udp -m udp --dport 9 -j DROP"* ]]
  [[ "$xs" == *":INPUT DROP [21:"* ]]  # the SYN flood (20) and the stray ACK to 8001
  [ "$(ct_entries "$x")" = "$(ct_entries "$l")" ]
  # The UDP and SYN floods never reached xdptables' IP stack: XDP dropped them.
  local in_x in_l
  in_x=$(in_ns "$x" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp)
  in_l=$(in_ns "$l" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp)
  [ $((in_l - in_x)) -ge 220 ]
  run in_ns "$x" "$XDPT" explain
  [[ "$output" == *"xdp        -A INPUT -s 198.18.10.0/24 -p udp -m udp --dport 9 -j DROP   # for NEW packets (no conntrack entry); the others in netfilter"* ]]
}

# IPv6: xdp6tables-save -c of $x, comment lines aside.
xsave6() { in_ns "$x" "$XDPT_BINDIR/xdp6tables-save" -c | grep -v '^#'; }

# IPv6: both namespaces' save -c (comment lines aside) are the same; $xs holds
# xdp6tables'.
same_saves6() {
  xs=$(xsave6)
  [ "$xs" = "$(in_ns "$l" ip6tables-legacy-save -c | grep -v '^#')" ]
}

# IPv6: the same commands and packets in both namespaces.
both6() {
  in_ns "$x" "$XDPT_BINDIR/xdp6tables" "$@"
  in_ns "$l" ip6tables-legacy "$@"
}

# snmp6 NS FIELD: the value of FIELD in NS's /proc/net/snmp6.
snmp6() {
  in_ns "$1" awk -v f="$2" '$1 == f { print $2 }' /proc/net/snmp6
}

# IPv6 twin of peers: $x and $l, each with a peer ($px, $pl) over a veth, vn
# 2001:db8:10::1/64 in the DUT, vp 2001:db8:10::2/64 in the peer, made but left down
# (links6_up brings them up). No link-local addresses (addrgenmode none) and nodad: no
# duplicate address detection, no router solicitation, no MLD report but those for the
# solicited-node group of the one address.
peers6() {
  pair
  new_ns px
  new_ns pl
  local d p
  for d in "$x:$px" "$l:$pl"; do
    p=${d#*:} d=${d%%:*}
    ip link add vn netns "$d" type veth peer name vp netns "$p"
    ip -n "$d" link set vn addrgenmode none
    ip -n "$p" link set vp addrgenmode none
    in_ns "$d" ip addr add 2001:db8:10::1/64 dev vn nodad
    in_ns "$p" ip addr add 2001:db8:10::2/64 dev vp nodad
  done
}

# links6_up: the veths of peers6 up, with static neighbours both ways (no neighbour
# discovery, which the DROP policy would judge), then waits (5 s at most) until each DUT
# has sent the 2 unsolicited MLD reports (robustness 2) that joining the solicited-node
# group on link up brings: they go through OUTPUT, on both sides alike once both are done.
links6_up() {
  local d p tries
  for d in "$x:$px" "$l:$pl"; do
    p=${d#*:} d=${d%%:*}
    ip -n "$d" link set vn up
    ip -n "$p" link set vp up
    ip -n "$p" link set lo up
    ip -n "$d" neigh replace 2001:db8:10::2 dev vn nud permanent \
      lladdr "$(ip -n "$p" -j link show vp | jq -r '.[0].address')"
    ip -n "$p" neigh replace 2001:db8:10::1 dev vp nud permanent \
      lladdr "$(ip -n "$d" -j link show vn | jq -r '.[0].address')"
  done
  for d in "$x" "$l"; do
    for ((tries = 0; tries < 50; tries++)); do
      [ "$(snmp6 "$d" Icmp6OutMLDv2Reports)" -ge 2 ] && break
      sleep 0.1
    done
    [ "$(snmp6 "$d" Icmp6OutMLDv2Reports)" = 2 ]
  done
}

@test "IPv6: a stateful ruleset judges real connections, floods, invalid segments and ICMPv6 errors as ip6tables-legacy does, conntrack holding the same connections" {
  peers6
  # The rules before the links come up: xdp6tables attaches its program to vn through
  # RTM_SETLINK, which on an up link makes IPv6 send its MLD reports again (NETDEV_CHANGE,
  # "resend MLD reports"), 2 packets through OUTPUT that ip6tables-legacy would not see.
  both6 -P INPUT DROP
  both6 -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  both6 -A INPUT -p tcp --dport 8000 -m conntrack --ctstate NEW -j ACCEPT
  both6 -A INPUT -p udp --dport 7000 -m state --state NEW -j ACCEPT
  both6 -A INPUT -m conntrack --ctstate INVALID -j DROP
  both6 -A INPUT -p udp -s 2001:db8:10::/64 --dport 9 -j DROP
  # Closed and unreplied entries outlive the test on both sides (10 s and 30 s otherwise).
  for ns in "$x" "$l"; do
    in_ns "$ns" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_close=600 \
      net.netfilter.nf_conntrack_udp_timeout=600
  done
  local lib=$BATS_TEST_DIRNAME/lib/ctpeer.py
  # Full checksums on the wire, as from a real NIC (veth otherwise leaves them partial,
  # and XDP, unable to check them, leaves such packets to conntrack).
  in_ns "$px" ethtool -K vp tx off >/dev/null
  in_ns "$pl" ethtool -K vp tx off >/dev/null
  links6_up
  for pair_ in "$x:$px" "$l:$pl"; do
    dut=${pair_%%:*} peer=${pair_#*:}
    timeout 30 ip netns exec "$dut" python3 "$lib" -6 server &
    srv=$!
    sleep 0.3
    timeout 30 ip netns exec "$peer" python3 "$lib" -6 client
    timeout 10 ip netns exec "$dut" python3 "$lib" -6 probe
    kill "$srv" 2>/dev/null || true
    wait "$srv" 2>/dev/null || true
  done
  same_saves6
  # 200 datagrams of 18 bytes: 40 (IPv6) + 8 (UDP) + 18 = 66 bytes each.
  [[ "$xs" == *"[200:13200] -A INPUT -s 2001:db8:10::/64 -p udp -m udp --dport 9 -j DROP"* ]]
  [[ "$xs" == *":INPUT DROP [21:"* ]]  # the SYN flood (20) and the stray ACK to 8001
  # The raw segments reached conntrack with right checksums: SYN|FIN and RST invalid
  # (60 bytes each), the stray ACK to 8000 picked up as NEW beside the 6 SYNs (80 bytes).
  [[ "$xs" == *"[2:120] -A INPUT -m conntrack --ctstate INVALID -j DROP"* ]]
  [[ "$xs" == *"[7:540] -A INPUT -p tcp -m tcp --dport 8000 -m conntrack --ctstate NEW -j ACCEPT"* ]]
  # The ICMPv6 port unreachables for the probe came in RELATED, on both sides.
  [ "$(snmp6 "$x" Icmp6InDestUnreachs)" = 3 ] && [ "$(snmp6 "$l" Icmp6InDestUnreachs)" = 3 ]
  local ct_x
  ct_x=$(ct_entries "$x")
  [ "$(grep -Ec '^ *tcp 6 +CLOSE .*sport=4100[0-5] dport=8000 .*\[ASSURED\]' <<<"$ct_x")" = 6 ]
  [ "$ct_x" = "$(ct_entries "$l")" ]
  # The UDP and SYN floods never reached xdp6tables' IPv6 stack: XDP dropped them.
  local in_x in_l
  in_x=$(snmp6 "$x" Ip6InReceives)
  in_l=$(snmp6 "$l" Ip6InReceives)
  [ $((in_l - in_x)) -ge 220 ]
  run in_ns "$x" "$XDPT_BINDIR/xdp6tables" explain
  [[ "$output" == *"xdp        -A INPUT -s 2001:db8:10::/64 -p udp -m udp --dport 9 -j DROP   # for NEW packets (no conntrack entry) without extension headers; the others in netfilter"* ]]
}

@test "a ruleset too large for the XDP classifier is accepted and judged by netfilter alone, counted as iptables-legacy does" {
  pair
  local f=$BATS_TEST_TMPDIR/big.rules
  python3 -c "
print('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]')
for i in range(66000): print(f'-A INPUT -s 10.{(i>>16)&255}.{(i>>8)&255}.{i&255}/32 -p udp -m udp --dport {1+i%60000} -j DROP')
print('-A INPUT -s 127.0.0.1/32 -p udp -m udp --dport 9999 -j DROP\nCOMMIT')" >"$f"
  # --test answers what the commit does: XDP's limits refuse nothing.
  in_ns "$x" "$XDPT_BINDIR/xdptables-restore" --test <"$f"
  in_ns "$x" "$XDPT_BINDIR/xdptables-restore" <"$f"
  in_ns "$l" iptables-legacy-restore <"$f"
  send "$x" 7; send "$l" 7
  same_saves
  [[ "$xs" == *"[7:266] -A INPUT -s 127.0.0.1/32 -p udp -m udp --dport 9999 -j DROP"* ]]
  run in_ns "$x" "$XDPT" explain
  [[ "${lines[1]}" == "netfilter  :INPUT ACCEPT   # too many rules for the XDP classifier"* ]]
  # It shrinks back under the limit: XDP judges again.
  both -D INPUT 1
  both -F INPUT
  both -A INPUT -s 127.0.0.1/32 -p udp -m udp --dport 9999 -j DROP
  run in_ns "$x" "$XDPT" explain
  [[ "${lines[2]}" == "xdp        -A INPUT -s 127.0.0.1/32 -p udp -m udp --dport 9999 -j DROP" ]]
}

# spoof NS SRC N: N TCP SYNs from SRC to 198.18.10.1:80, sent raw (IP_HDRINCL) from NS.
spoof() {
  in_ns "$1" python3 -c "
import socket, struct
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst = socket.inet_aton('$2'), socket.inet_aton('198.18.10.1')
tcp = struct.pack('!HHIIBBHHH', 80, 80, 1, 0, 5 << 4, 2, 512, 0, 0)
tcp = tcp[:16] + struct.pack('!H', csum(src + dst + struct.pack('!BBH', 0, 6, 20) + tcp)) + tcp[18:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 1, 0, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for _ in range($3): s.sendto(ip + tcp, ('198.18.10.1', 0))"
}

@test "spoofed local sources from outside (LAND, the host's other address, a subnet broadcast) are the kernel's to drop before INPUT, as with iptables-legacy" {
  peers
  both -A INPUT -p tcp -s 198.18.10.1 -j DROP
  both -A INPUT -p tcp -s 198.18.10.9 -j DROP
  both -A INPUT -p tcp -s 198.18.10.255 -j DROP
  both -A INPUT -p tcp -j DROP
  for p in "$px" "$pl"; do
    spoof "$p" 198.18.10.1 3
    spoof "$p" 198.18.10.9 2
    spoof "$p" 198.18.10.255 2
    spoof "$p" 198.18.10.2 4
  done
  same_saves
  [[ "$xs" == *"[0:0] -A INPUT -s 198.18.10.1/32 -p tcp -j DROP"* ]]
  [[ "$xs" == *"[4:160] -A INPUT -p tcp -j DROP"* ]]
}

# frames NS DUT SRC:DST...: one TCP SYN per pair to port 80, sent over AF_PACKET from the
# peer NS straight to the MAC of DUT's vn (so any source and destination reach it).
frames() {
  local mac
  mac=$(in_ns "$2" cat /sys/class/net/vn/address)
  in_ns "$1" python3 -c "
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('vp', 0))
dmac = bytes.fromhex('$mac'.replace(':', ''))
smac = bytes.fromhex(open('/sys/class/net/vp/address').read().strip().replace(':', ''))
for pair in sys.argv[1:]:
    a, b = (socket.inet_aton(x) for x in pair.split(':'))
    tcp = struct.pack('!HHIIBBHHH', 4000, 80, 1, 0, 5 << 4, 2, 512, 0, 0)
    tcp = tcp[:16] + struct.pack('!H', csum(a + b + struct.pack('!BBH', 0, 6, 20) + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 40, 1, 0, 64, 6, 0, a, b)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    s.send(dmac + smac + b'\x08\x00' + ip + tcp)" "${@:3}"
}

@test "martian sources and destinations from outside, with route_localnet and accept_local off and on, count as iptables-legacy counts them" {
  peers
  local m=(127.0.0.1:198.18.10.1 198.18.10.2:127.0.0.1 0.0.0.5:198.18.10.1 198.18.10.2:0.0.0.7
           224.0.0.5:198.18.10.1 255.255.255.255:198.18.10.1 240.0.0.1:198.18.10.1 198.18.10.1:198.18.10.1
           198.18.10.9:198.18.10.1 198.18.10.2:198.18.10.255 198.18.10.2:255.255.255.255 198.18.10.2:198.18.10.1)
  local a
  for a in "${m[@]}"; do
    both -t raw -A PREROUTING -s "${a%%:*}" -d "${a#*:}"
    both -A INPUT -s "${a%%:*}" -d "${a#*:}" -p tcp
    both -A FORWARD -s "${a%%:*}" -d "${a#*:}" -p tcp
  done
  both -A INPUT -p tcp -j DROP
  local setting ns
  for setting in "" route_localnet accept_local "route_localnet accept_local"; do
    for ns in "$x" "$l"; do
      for k in route_localnet accept_local; do
        local v=0
        [[ " $setting " == *" $k "* ]] && v=1
        in_ns "$ns" sysctl -qw "net.ipv4.conf.all.$k=$v" "net.ipv4.conf.vn.$k=$v"
      done
    done
    # a change of sysctls is seen by the next command (the program's local checks)
    both -Z PREROUTING -t raw
    frames "$px" "$x" "${m[@]}"; frames "$pl" "$l" "${m[@]}"
    sleep 0.3
    same_saves || { echo "with [$setting]:"; diff <(in_ns "$l" iptables-legacy-save -c | grep -v '^#') <(echo "$xs"); return 1; }
  done
  # Every frame reached raw PREROUTING (zeroed each round); the plain one INPUT each time,
  # a multicast source never.
  [[ "$xs" == *"[1:40] -A PREROUTING -s 198.18.10.1/32 -d 198.18.10.1/32"* ]]
  [[ "$xs" == *"[0:0] -A INPUT -s 224.0.0.5/32 -d 198.18.10.1/32 -p tcp"* ]]
  [[ "$xs" == *"[4:160] -A INPUT -s 198.18.10.2/32 -d 198.18.10.1/32 -p tcp"* ]]
}

@test "commits during a flood (new generations, a new program) misjudge no packet and lose no count" {
  peers
  both -A INPUT -p udp -s 198.18.10.2 --dport 9 -j DROP
  both -A INPUT -p udp -j ACCEPT
  for p in "$x:$px" "$l:$pl"; do
    dut=${p%%:*} peer=${p#*:}
    # 30,000 datagrams, bounded in time, while the ruleset changes under them.
    timeout 60 ip netns exec "$peer" python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(30000):
    s.sendto(b'f' * 18, ('198.18.10.1', 9))
    if i % 200 == 199: time.sleep(0.002)  # within the receiver's backlog" &
    flood=$!
    for i in $(seq 1 12); do
      if [ "$dut" = "$x" ]; then tool=$XDPT; else tool=iptables-legacy; fi
      in_ns "$dut" "$tool" -I INPUT 2 -p tcp --dport $((1000 + i)) -j DROP
      [ $((i % 4)) = 0 ] && in_ns "$dut" "$tool" -D INPUT 2
    done
    # Enough rules at once for a new program with bigger arrays (a program holds 1,024
    # rules at least), mid-flood.
    if [ "$dut" = "$x" ]; then
      prog_before=$(lo_xdp_prog_id "$dut")
      for i in $(seq 1 1500); do echo "-A INPUT -p tcp --dport $((2000 + i)) -j DROP"; done |
        sed '1i *filter' | sed '$a COMMIT' | in_ns "$dut" "$XDPT_BINDIR/xdptables-restore" --noflush
      [ "$(lo_xdp_prog_id "$dut")" != "$prog_before" ]
    else
      for i in $(seq 1 1500); do echo "-A INPUT -p tcp --dport $((2000 + i)) -j DROP"; done |
        sed '1i *filter' | sed '$a COMMIT' | in_ns "$dut" iptables-legacy-restore --noflush
    fi
    wait "$flood"
  done
  same_saves
  [[ "$xs" == *"[30000:1380000] -A INPUT -s 198.18.10.2/32 -p udp -m udp --dport 9 -j DROP"* ]]
}

# The rule lines of chain INPUT of nftables table $2 in namespace $1, without counts.
nft_rules() {
  in_ns "$1" nft list chain ip "$2" INPUT |
    sed -n -e 's/counter packets [0-9]* bytes [0-9]*/counter/' -e '/^\t\t[a-z].*\(accept\|drop\)$/p'
}

@test "matches with a native nftables form load as the nftables rule iptables-translate gives, the others as x_tables matches" {
  command -v iptables-translate >/dev/null || skip "iptables-translate not found"
  new_ns x
  # What iptables-translate writes, parsed by nft into a table of its own and listed:
  # nft's canonical text of the native form. xdptables' rules must list the same.
  local rules=(
    "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    "-m conntrack ! --ctstate NEW,INVALID,UNTRACKED -j DROP"
    "-m state --state NEW -j ACCEPT"
    "-m state ! --state ESTABLISHED,UNTRACKED -j DROP"
    "-m mark --mark 0x1/0xff -j ACCEPT"
    "-m mark ! --mark 0x2a -j DROP"
    "-m connmark --mark 0x3/0xf -j ACCEPT"
    "-m ttl --ttl-eq 64 -j ACCEPT"
    "-m ttl ! --ttl-eq 64 -j ACCEPT"
    "-m ttl --ttl-lt 5 -j DROP"
    "-m ttl --ttl-gt 200 -j DROP"
    "-m limit --limit 7/sec --limit-burst 3 -j ACCEPT"
    "-m limit --limit 2/min -j ACCEPT"
    "-s 198.18.0.0/15 -m state --state NEW -m mark --mark 0x1 -j ACCEPT"
  )
  in_ns "$x" nft add table ip oracle
  in_ns "$x" nft add chain ip oracle INPUT
  local r t
  for r in "${rules[@]}"; do
    in_ns "$x" "$XDPT" -A INPUT $r
    t=$(iptables-translate -A INPUT $r)
    t=${t#nft \'add rule ip filter INPUT }
    in_ns "$x" nft add rule ip oracle INPUT "${t%\'}"
  done
  run nft_rules "$x" oracle
  want=$output
  [ "$(echo "$want" | wc -l)" = ${#rules[@]} ]
  run nft_rules "$x" xdptables-filter
  [ "$output" = "$want" ]
  # The IP header's total length, as xt_length reads it (iptables-translate's meta
  # length is the skb's).
  in_ns "$x" "$XDPT" -F INPUT
  in_ns "$x" "$XDPT" -A INPUT -m length --length 100:200 -j ACCEPT
  in_ns "$x" "$XDPT" -A INPUT -m length ! --length 28 -j DROP
  run nft_rules "$x" xdptables-filter
  [ "$output" = $'\t\tip length 100-200 counter accept\n\t\tip length != 28 counter drop' ]
  # Options without a native form keep the x_tables match (nft shows its translation
  # beside the blob's protocol test or not at all; the kernel runs xt_conntrack).
  in_ns "$x" "$XDPT" -F INPUT
  in_ns "$x" "$XDPT" -A INPUT -m conntrack --ctstate NEW --ctproto tcp -j ACCEPT
  in_ns "$x" "$XDPT" -A INPUT -m conntrack --ctstate SNAT -j ACCEPT
  in_ns "$x" "$XDPT" -A INPUT -m length --length 5:3 -j ACCEPT
  run in_ns "$x" nft --debug=netlink list chain ip xdptables-filter INPUT
  [ "$(grep -c 'match name conntrack rev 3' <<<"$output")" = 2 ]
  [ "$(grep -c 'match name length rev 0' <<<"$output")" = 1 ]
  [ "$(grep -c 'ct load state' <<<"$output")" = 0 ]
}

@test "native matches judge real datagrams with the counts of iptables-legacy: marks set in raw, TTLs, lengths, states" {
  new_ns x
  new_ns px
  new_ns l
  new_ns pl
  veth "$x" "$px"
  veth "$l" "$pl"
  local rules="*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 7001 -j MARK --set-xmark 0x5/0xffffffff
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m mark --mark 0x5 -j ACCEPT
-A INPUT -m mark ! --mark 0x1/0x1 -m ttl --ttl-lt 10 -j DROP
-A INPUT -m length --length 0:40 -j ACCEPT
-A INPUT -m length ! --length 0:100 -m state --state NEW -j DROP
-A INPUT -m conntrack --ctstate NEW -m limit --limit 1/hour --limit-burst 4 -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -m connmark ! --mark 0x7 -j DROP
COMMIT"
  in_ns "$x" "$XDPT-restore" <<<"$rules"
  in_ns "$l" iptables-legacy-restore <<<"$rules"
  local peer dst
  for pair_ in "$x:$px" "$l:$pl"; do
    peer=${pair_#*:}
    in_ns "$peer" python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port, ttl, size in [(7001, 64, 10), (7002, 5, 10), (7002, 64, 4), (7003, 64, 200), (7004, 64, 50),
                        (7004, 64, 60), (7005, 3, 300), (7006, 64, 80)]:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    for _ in range(3):
        s.sendto(b"x" * size, ("198.18.10.1", port))
PY
  done
  # ICMP errors about datagrams the namespace sent: RELATED.
  for pair_ in "$x" "$l"; do
    in_ns "$pair_" python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b"x", ("198.18.10.2", 9)) for _ in range(2)]'
  done
  sleep 0.3
  run in_ns "$l" iptables-legacy-save -c -t filter
  want=$(grep '^\[' <<<"$output")
  run in_ns "$x" "$XDPT-save" -c -t filter
  got=$(grep '^\[' <<<"$output")
  [ "$got" = "$want" ]
  # Every rule saw packets: the test means something.
  echo "$want"
  [ "$(grep -c '^\[0:0\]' <<<"$want")" = 0 ]
}
