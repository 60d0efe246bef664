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
  # -Z of one rule zeroes it in the kernel too; the others keep counting.
  both -Z INPUT 2
  send "$x" 1; send "$l" 1
  both -R INPUT 1 -p sctp -j ACCEPT
  same_saves
  [[ "$xs" == *"[1:38] -A INPUT -p udp -m udp --dport 9999 -j ACCEPT"* ]]
  [[ "$xs" == *"[11:"*"] -A INPUT -p icmp -j ACCEPT"* ]]
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
  run in_ns "$x" nft list tables
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
