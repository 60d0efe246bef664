#!/usr/bin/env bats
# Where the ruleset lives: in the namespace's kernel objects (the XDP program on lo and its
# maps), so it outlives each command, dies with the namespace, and is per namespace.

load helpers

setup() { require_root; }
teardown() { teardown_namespaces; }

policies=$'-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT'

@test "the ruleset persists across separate ip netns exec calls" {
  new_ns ns
  in_ns "$ns" "$XDPT" -N c1
  in_ns "$ns" "$XDPT" -A INPUT -s 198.18.0.1 -j c1
  in_ns "$ns" "$XDPT" -A c1 -p tcp --dport 22 -j ACCEPT
  in_ns "$ns" "$XDPT" -P FORWARD DROP
  in_ns "$ns" "$XDPT" -t nat -A POSTROUTING -d 198.18.0.2 -j ACCEPT
  run in_ns "$ns" "$XDPT" -S
  [ "$status" = 0 ]
  [ "$output" = $'-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n-N c1\n-A INPUT -s 198.18.0.1/32 -j c1\n-A c1 -p tcp -m tcp --dport 22 -j ACCEPT' ]
  run in_ns "$ns" "$XDPT" -t nat -S POSTROUTING
  [ "$output" = $'-P POSTROUTING ACCEPT\n-A POSTROUTING -d 198.18.0.2/32 -j ACCEPT' ]
  # A later call changes what an earlier one stored.
  in_ns "$ns" "$XDPT" -D INPUT 1
  run in_ns "$ns" "$XDPT" -S INPUT
  [ "$output" = "-P INPUT ACCEPT" ]
  run in_ns "$ns" "$XDPT_BINDIR/xdptables-save" -t filter
  [[ "$output" == *$'\n:FORWARD DROP [0:0]\n'* ]]
  [[ "$output" == *$'\n-A c1 -p tcp -m tcp --dport 22 -j ACCEPT\n'* ]]
}

@test "the ruleset and its BPF objects are gone when the namespace is deleted and made again" {
  new_ns ns
  in_ns "$ns" "$XDPT" -A INPUT -s 198.18.0.1 -j DROP
  local prog maps
  prog=$(lo_xdp_prog_id "$ns")
  [ -n "$prog" ]
  maps=$(prog_map_ids "$prog")
  [ -n "$maps" ]
  ip netns del "$ns"
  wait_gone prog "$prog"
  wait_gone map $maps
  ip netns add "$ns"
  [ -z "$(lo_xdp_prog_id "$ns")" ]
  run in_ns "$ns" "$XDPT" -S
  [ "$status" = 0 ] && [ "$output" = "$policies" ]
  run in_ns "$ns" "$XDPT_BINDIR/xdptables-save"
  [ "$status" = 0 ] && [[ "$output" != *198.18.0.1* ]]
}

@test "two namespaces are independent" {
  new_ns a
  new_ns b
  in_ns "$a" "$XDPT" -A INPUT -s 198.18.1.1 -j ACCEPT
  in_ns "$b" "$XDPT" -A INPUT -s 198.18.2.1 -j DROP
  in_ns "$b" "$XDPT" -N only_b
  run in_ns "$a" "$XDPT" -S
  [ "$output" = "$policies"$'\n-A INPUT -s 198.18.1.1/32 -j ACCEPT' ]
  run in_ns "$b" "$XDPT" -S
  [ "$output" = "$policies"$'\n-N only_b\n-A INPUT -s 198.18.2.1/32 -j DROP' ]
  in_ns "$a" "$XDPT" -F
  in_ns "$a" "$XDPT" -P INPUT DROP
  run in_ns "$b" "$XDPT" -S INPUT
  [ "$output" = $'-P INPUT ACCEPT\n-A INPUT -s 198.18.2.1/32 -j DROP' ]
  [ "$(lo_xdp_prog_id "$a")" != "$(lo_xdp_prog_id "$b")" ]
  # Detaching one leaves the other alone.
  in_ns "$a" "$XDPT" detach
  run in_ns "$b" "$XDPT" -S INPUT
  [ "$output" = $'-P INPUT ACCEPT\n-A INPUT -s 198.18.2.1/32 -j DROP' ]
}

@test "detach removes every program and map xdptables made in the namespace" {
  new_ns ns
  in_ns "$ns" "$XDPT" -N c1
  in_ns "$ns" "$XDPT" -A INPUT -p tcp --dport 80 -j c1
  in_ns "$ns" "$XDPT" -A c1 -s 198.18.0.0/24 -j DROP
  printf '*filter\n-A OUTPUT -d 198.18.0.3/32 -j ACCEPT\nCOMMIT\n' | in_ns "$ns" "$XDPT_BINDIR/xdptables-restore" -n
  local prog maps
  prog=$(lo_xdp_prog_id "$ns")
  [ -n "$prog" ]
  # bpftool inside the namespace sees it as xdptables' program on lo.
  run in_ns "$ns" bpftool -j net show
  [ "$(jq -r '.[0].xdp[] | select(.devname == "lo") | .id' <<<"$output")" = "$prog" ]
  run bpftool -j prog show id "$prog"
  [ "$(jq -r .name <<<"$output")" = xdpt_main ]
  maps=$(prog_map_ids "$prog")
  [ -n "$maps" ]
  run in_ns "$ns" "$XDPT" detach
  [ "$status" = 0 ] && [ -z "$output" ]
  [ -z "$(lo_xdp_prog_id "$ns")" ]
  run in_ns "$ns" bpftool -j net show
  [ "$(jq -r '.[0].xdp | length' <<<"$output")" = 0 ]
  wait_gone prog "$prog"
  wait_gone map $maps
  # The namespace is as if xdptables never ran: an empty ruleset, and detach again is fine.
  run in_ns "$ns" "$XDPT" -S
  [ "$output" = "$policies" ]
  run in_ns "$ns" "$XDPT" detach
  [ "$status" = 0 ]
  run in_ns "$ns" "$XDPT" detach extra
  [ "$status" = 2 ]
}

# The XDP program on interface $2 of namespace $1, or nothing.
if_xdp_prog_id() {
  ip -n "$1" -j link show "$2" | jq -r '.[0].xdp.prog.id // empty'
}

# N rules that no test packet matches: sources in 198.19.0.0/16.
filler() {
  local i
  printf '*filter\n'
  for ((i = 0; i < $1; i++)); do printf -- '-A INPUT -s 198.19.%d.%d/32 -p udp -m udp --dport %d -j DROP\n' $((i >> 8)) $((i & 255)) $((1024 + i)); done
  printf 'COMMIT\n'
}

@test "a ruleset that outgrows its program's arrays moves to a new program on every interface, and no count is lost" {
  new_ns x
  new_ns g
  ip link add xbv$$ netns "$x" type veth peer name xbp$$ netns "$g"
  in_ns "$x" ip addr add 198.18.7.2/24 dev xbv$$
  in_ns "$g" ip addr add 198.18.7.1/24 dev xbp$$
  for ns in "$x" "$g"; do in_ns "$ns" ip link set lo up; done
  in_ns "$x" ip link set xbv$$ up
  in_ns "$g" ip link set xbp$$ up
  in_ns "$x" "$XDPT" -A INPUT -s 198.18.7.1 -p udp --dport 9 -j DROP
  local p1 p2 p3
  p1=$(lo_xdp_prog_id "$x")
  [ -n "$p1" ] && [ "$(if_xdp_prog_id "$x" xbv$$)" = "$p1" ]
  flood() {
    in_ns "$g" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range($1): s.sendto(b'x' * 10, ('198.18.7.2', 9))"
  }
  drops() { in_ns "$x" "$XDPT" -L INPUT 1 -v -x -n | awk '{print $1}'; }
  flood 20
  [ "$(drops)" = 20 ]
  # 3000 more rules do not fit the first program's arrays: a new program, sized for
  # them, takes lo and the veth; the first rule keeps its count.
  filler 3000 | in_ns "$x" "$XDPT_BINDIR/xdptables-restore" -n
  p2=$(lo_xdp_prog_id "$x")
  [ -n "$p2" ] && [ "$p2" != "$p1" ]
  [ "$(if_xdp_prog_id "$x" xbv$$)" = "$p2" ]
  wait_gone prog "$p1"
  [ "$(drops)" = 20 ]
  # The new program judges in XDP: the stack never sees the packets.
  local before after
  before=$(in_ns "$x" awk '/^Ip:/ && n++ {print $4}' /proc/net/snmp)
  flood 30
  after=$(in_ns "$x" awk '/^Ip:/ && n++ {print $4}' /proc/net/snmp)
  [ "$(drops)" = 50 ]
  [ "$after" = "$before" ]
  # One more rule of the same shape fits: the program stays.
  in_ns "$x" "$XDPT" -A INPUT -s 198.18.8.1 -p udp --dport 7000 -j DROP
  [ "$(lo_xdp_prog_id "$x")" = "$p2" ]
  # Back to a few rules: a smaller program gives the memory back.
  in_ns "$x" "$XDPT" -F INPUT
  in_ns "$x" "$XDPT" -A INPUT -s 198.18.7.1 -p udp --dport 9 -j DROP
  p3=$(lo_xdp_prog_id "$x")
  [ -n "$p3" ] && [ "$p3" != "$p2" ]
  [ "$(if_xdp_prog_id "$x" xbv$$)" = "$p3" ]
  flood 5
  [ "$(drops)" = 5 ]
}

@test "interfaces with small and large ifindexes are both judged in XDP" {
  new_ns x
  new_ns g
  # ifindex 7 sits in the program's interface array, 3000 only in its hash map.
  ip link add xbs$$ index 7 netns "$x" type veth peer name xbt$$ netns "$g"
  ip link add xbl$$ index 3000 netns "$x" type veth peer name xbm$$ netns "$g"
  in_ns "$x" ip addr add 198.18.7.2/24 dev xbs$$
  in_ns "$x" ip addr add 198.18.8.2/24 dev xbl$$
  in_ns "$g" ip addr add 198.18.7.1/24 dev xbt$$
  in_ns "$g" ip addr add 198.18.8.1/24 dev xbm$$
  for l in lo xbs$$ xbl$$; do in_ns "$x" ip link set "$l" up; done
  for l in lo xbt$$ xbm$$; do in_ns "$g" ip link set "$l" up; done
  [ "$(in_ns "$x" cat /sys/class/net/xbl$$/ifindex)" = 3000 ]
  in_ns "$x" "$XDPT" -A INPUT -i xbs$$ -p udp --dport 9 -j DROP
  in_ns "$x" "$XDPT" -A INPUT -i xbl$$ -p udp --dport 9 -j DROP
  [ -n "$(if_xdp_prog_id "$x" xbs$$)" ] && [ -n "$(if_xdp_prog_id "$x" xbl$$)" ]
  local before after
  before=$(in_ns "$x" awk '/^Ip:/ && n++ {print $4}' /proc/net/snmp)
  in_ns "$g" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(4): s.sendto(b'x' * 10, ('198.18.7.2', 9))
for _ in range(6): s.sendto(b'x' * 10, ('198.18.8.2', 9))"
  after=$(in_ns "$x" awk '/^Ip:/ && n++ {print $4}' /proc/net/snmp)
  # Both dropped by XDP (the stack saw none of them), each counted by its own rule.
  [ "$after" = "$before" ]
  run in_ns "$x" "$XDPT" -L INPUT -v -x -n
  [[ "$output" == *"       4      152 DROP       17   --  xbs$$"* ]]
  [[ "$output" == *"       6      228 DROP       17   --  xbl$$"* ]]
}
