# Sourced by the end-to-end scripts (e2e.sh, dumps-traffic.sh, ndp6.sh): the namespaces a script
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

# IPv6 on in namespace $1 (add_ns turned it off), quiet and deterministic: no duplicate
# address detection, router solicitations or router advertisements taken; MLD version 1
# (exactly two reports a group joined, where MLDv2 merges changes as they come) with its
# reports sent at once (1 ms); no ICMPv6 rate limit; then
# net.ipv6.conf.{all,default}.KEY=VALUE for every further argument.
enable_ipv6() {  # $1 = namespace, KEY=VALUE...
  local ns=$1 c k kv=()
  shift
  for c in all default; do
    for k in disable_ipv6=0 accept_dad=0 dad_transmits=0 router_solicitations=0 accept_ra=0 \
        force_mld_version=1 mldv1_unsolicited_report_interval=1 "$@"; do
      kv+=("net.ipv6.conf.$c.$k")
    done
  done
  ip netns exec "$ns" sysctl -qw "${kv[@]}" net.ipv6.icmp.ratelimit=0 \
    net.ipv6.icmp.ratemask= >/dev/null
}

# Wait (at most 3 s) until namespace $1 has sent nothing on devices $2... for 0.3 s.
quiet() {  # $1 = namespace, $2... = devices
  local ns=$1 files=() dev last now same=0 i
  shift
  for dev; do files+=("/sys/class/net/$dev/statistics/tx_packets"); done
  last=$(ip netns exec "$ns" cat "${files[@]}" | paste -sd' ')
  for i in $(seq 30); do
    sleep 0.1
    now=$(ip netns exec "$ns" cat "${files[@]}" | paste -sd' ')
    if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0 last=$now; fi
    [ "$same" -ge 3 ] && return 0
  done
  return 1
}
