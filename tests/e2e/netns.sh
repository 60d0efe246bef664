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
