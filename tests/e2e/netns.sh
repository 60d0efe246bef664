# Sourced by the end-to-end scripts (e2e.sh, dumps-traffic.sh): the namespaces a script
# creates, remembered by name, and their removal on exit. Expects $me (the script's name in
# messages), $bindir (xdptables), $work (a temporary directory) and $keep (1: keep $work).
namespaces=()   # every namespace this script created, by name
xdp_duts=()     # those of them where xdptables-restore ran

cleanup() {
  local ns
  for ns in "${xdp_duts[@]}"; do
    ip netns exec "$ns" "$bindir/xdptables" detach >/dev/null 2>&1
  done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  namespaces=() xdp_duts=()
}
finish() {
  cleanup
  if [ "$keep" = 1 ]; then echo "$me: work directory kept: $work"; else rm -rf "$work"; fi
}
trap finish EXIT
trap 'exit 1' INT TERM HUP

add_ns() {  # $1 = name: a namespace with lo up and IPv6 off (no router solicitations, ND)
  ip netns add "$1" || return 1
  namespaces+=("$1")
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 >/dev/null
  ip -n "$1" link set lo up
}

# Sending (expects $tag, $py, $here, $work, and the topology's $GEN_IF and $DUT_IN).
rx() {  # $1 = namespace, $2 = counter -> value of the dut veth's counter
  ip netns exec "$1" cat "/sys/class/net/$DUT_IN/statistics/$2"
}

# Send the frame list from side $1's gen and wait until its dut has received them all.
send_side() {
  local g=${tag}$1g d=${tag}$1d base drop0 sent now i
  base=$(rx "$d" rx_packets) drop0=$(rx "$d" rx_dropped)
  sent=$(ip netns exec "$g" "$py" "$here/gen.py" send "$GEN_IF" "$work/frames") || return 1
  for i in $(seq 100); do
    now=$(rx "$d" rx_packets)
    [ $((now - base)) -ge "$sent" ] && break
    sleep 0.1
  done
  if [ $((now - base)) -lt "$sent" ]; then
    echo "  HARNESS side $1: dut received $((now - base)) of $sent frames"; return 1
  fi
  sleep "${E2E_SETTLE:-0.3}"   # let the last frames through the stack
  if [ "$(rx "$d" rx_dropped)" != "$drop0" ]; then
    echo "  HARNESS side $1: dut dropped $(( $(rx "$d" rx_dropped) - drop0 )) frames on receive"
    return 1
  fi
}
