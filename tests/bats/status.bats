#!/usr/bin/env bats
# `xdptables status`: the attachments, the generation, the XDP verdict statistics and the
# map memory it reports are checked against what the kernel says (ip link, bpftool) and
# against packets sent over a veth.

load helpers

teardown() { teardown_namespaces; }

# stat NAME: the count status prints for verdict NAME in $x.
stat() { in_ns "$x" "$XDPT" status | awk -v n="$1" '$1 == n {print $2}'; }
# total: the sum of every verdict count in $x.
total() {
  in_ns "$x" "$XDPT" status | awk '/^XDP verdicts/ {on = 1; next} on && /^  / {t += $2; next} {on = 0} END {print t}'
}

@test "status: no xdptables state in the namespace is said, and is not an error" {
  require_root
  new_ns x
  run --separate-stderr in_ns "$x" "$XDPT" status
  [ "$status" = 0 ] && [ -z "$stderr" ]
  [ "${lines[0]}" = "xdptables: no state in this network namespace (no xdptables program on lo)" ]
  [ "${lines[1]}" = "interfaces:" ]
  [[ "${lines[2]}" =~ ^\ \ lo\ +not\ attached$ ]]
  [[ "${lines[3]}" == "socket-accel: "*" (host-wide)" ]]
  run --separate-stderr in_ns "$x" "$XDPT" status x
  [ "$status" = 2 ] && [[ "$stderr" == "xdptables v1.8.9 (xdp): status takes no arguments"* ]]
  run "${NOBODY[@]}" "$XDPT" status
  [ "$status" = 4 ]
}

@test "status: attachments, generation, drops counted in XDP, map memory as the kernel reports it" {
  require_root
  new_ns x
  new_ns g
  local v=xbs$$ p=xbq$$
  ip link add "$v" netns "$x" type veth peer name "$p" netns "$g"
  in_ns "$x" ip addr add 198.18.7.2/24 dev "$v"
  in_ns "$g" ip addr add 198.18.7.1/24 dev "$p"
  for ns in "$x" "$g"; do in_ns "$ns" ip link set lo up; done
  in_ns "$x" ip link set "$v" up
  in_ns "$g" ip link set "$p" up
  printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 198.18.7.1/32 -p udp -m udp --dport 9 -j DROP\nCOMMIT\n' |
    in_ns "$x" "$XDPT_BINDIR/xdptables-restore"
  local id
  id=$(lo_xdp_prog_id "$x")
  [ -n "$id" ]
  run in_ns "$x" "$XDPT" status
  [ "$status" = 0 ]
  [[ "${lines[0]}" =~ ^program:\ id\ $id\ \(xdpt_main\),\ active\ generation\ ([0-9]+)\ of\ 2,\ IPv6\ ([0-9]+)\ of\ 2$ ]]
  local gen=${BASH_REMATCH[1]} gen6=${BASH_REMATCH[2]}
  # lo and the veth in generic mode (as ip link shows them): on a veth, native mode would
  # take TSO away from the peer; it keeps it.
  local re=$'\n'"  lo +generic prog $id"$'\n'
  [[ "$output" =~ $re ]]
  [ "$(ip -n "$x" -j link show "$v" | jq -r '.[0].xdp.mode')" = 2 ]  # XDP_ATTACHED_SKB
  re=$'\n'"  $v +generic prog $id"$'\n'
  [[ "$output" =~ $re ]]
  [[ "$(in_ns "$g" ethtool -k "$p")" == *$'\ntcp-segmentation-offload: on'* ]]
  # Map memory: the sum of bytes_memlock over the program's maps and their inner maps.
  local m sum=0 n=0
  for m in $(prog_map_ids "$id"); do
    sum=$((sum + $(bpftool -j map show id "$m" | jq .bytes_memlock))) n=$((n + 1))
  done
  [[ "$output" == *$'\n'"map memory: $sum bytes ("*" MiB) in $n maps"$'\n'* ]]
  # Packets dropped in XDP are counted; the one to port 10 is not a drop, but has some
  # verdict: every frame the program sees is counted once.
  local d0 t0
  d0=$(stat drop) t0=$(total)
  in_ns "$g" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(25): s.sendto(b'x' * 10, ('198.18.7.2', 9))
s.sendto(b'x' * 10, ('198.18.7.2', 10))"
  [ "$(stat drop)" = $((d0 + 25)) ]
  [ "$(in_ns "$x" "$XDPT" -L INPUT 1 -v -x -n | awk '{print $1}')" = 25 ]
  [ "$(total)" -ge $((t0 + 26)) ]
  # A commit flips the generation.
  in_ns "$x" "$XDPT" -A INPUT -s 198.18.7.9 -j DROP
  run in_ns "$x" "$XDPT" status
  [[ "${lines[0]}" == "program: id $id (xdpt_main), active generation $(((gen + 1) % 2)) of 2, IPv6 $gen6 of 2" ]]
  # An IPv6 commit flips IPv6's alone.
  in_ns "$x" "$XDPT_BINDIR/xdp6tables" -A INPUT -s 2001:db8::9 -j DROP
  run in_ns "$x" "$XDPT" status
  [[ "${lines[0]}" == "program: id $id (xdpt_main), active generation $(((gen + 1) % 2)) of 2, IPv6 $(((gen6 + 1) % 2)) of 2" ]]
  # Forced native, as ip link shows it (and the peer loses TSO, which is why it is not
  # the default on a veth).
  in_ns "$x" "$XDPT" detach
  printf '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n' | in_ns "$x" env XDPT_XDP_MODE=native "$XDPT_BINDIR/xdptables-restore"
  id=$(lo_xdp_prog_id "$x")
  run in_ns "$x" "$XDPT" status
  re=$'\n'"  $v +native prog $id"$'\n'
  [[ "$output" =~ $re ]]
  [ "$(ip -n "$x" -j link show "$v" | jq -r '.[0].xdp.mode')" = 1 ]  # XDP_ATTACHED_DRV
  [[ "$(in_ns "$g" ethtool -k "$p")" == *$'\ntcp-segmentation-offload: off'* ]]
  # Called as iptables, the same report.
  ln -s "$XDPT" "$BATS_TEST_TMPDIR/iptables"
  run in_ns "$x" "$BATS_TEST_TMPDIR/iptables" status
  [ "$status" = 0 ] && [[ "${lines[0]}" == "program: id $id "* ]]
}
