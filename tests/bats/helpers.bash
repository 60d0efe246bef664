# Shared by the bats tests: where the binaries are, namespaces that clean up after
# themselves, and the normalisation that lets xdptables' output be compared with
# iptables-legacy's.
#
# Each test that needs a namespace calls `new_ns VAR`; teardown detaches xdptables in every
# namespace made that way and deletes it. Namespace names: xb<pid>t<test number><letter>
# (XDPT_TEST_NS_PREFIX replaces xb).

bats_require_minimum_version 1.5.0
: "${XDPT_BINDIR:?XDPT_BINDIR must name the src directory of the build}"
XDPT=$XDPT_BINDIR/xdptables
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

require_root() {
  [ "$(id -u)" = 0 ] || skip "needs root (network namespaces, BPF)"
}

_namespaces=()
_ns_letter=a

# new_ns VAR: makes a fresh namespace and stores its name in VAR.
new_ns() {
  local name="${XDPT_TEST_NS_PREFIX:-xb}$$t${BATS_TEST_NUMBER}${_ns_letter}"
  _ns_letter=$(echo "$_ns_letter" | tr 'a-y' 'b-z')
  ip netns add "$name"
  _namespaces+=("$name")
  printf -v "$1" '%s' "$name"
}

# in_ns NS CMD...: runs CMD in NS (ip netns exec gives every call a fresh /sys).
in_ns() {
  local ns=$1; shift
  ip netns exec "$ns" "$@"
}

# veth NS PEER: a veth from NS (vn, 198.18.10.1/24) to PEER (vp, 198.18.10.2/24), both
# ends and PEER's lo up.
veth() {
  ip link add vn netns "$1" type veth peer name vp netns "$2"
  in_ns "$1" ip addr add 198.18.10.1/24 dev vn
  in_ns "$2" ip addr add 198.18.10.2/24 dev vp
  in_ns "$1" ip link set vn up
  in_ns "$2" ip link set vp up
  in_ns "$2" ip link set lo up
}

teardown_namespaces() {
  local ns
  for ns in "${_namespaces[@]}"; do
    ip netns exec "$ns" "$XDPT" detach >/dev/null 2>&1
    ip netns del "$ns" 2>/dev/null
  done
  _namespaces=()
}

# What xdptables prints, as iptables-legacy would print it: program names and flavour.
normalize() {
  sed -e 's/xdptables/iptables/g' -e 's/(xdp)/(legacy)/g' -e 's/iptables-legacy/iptables/g'
}

# The id of the XDP program on lo in NS, or nothing.
lo_xdp_prog_id() {
  ip -n "$1" -j link show lo | jq -r '.[0].xdp.prog.id // empty'
}

# Every map id a program uses, the inner maps of its map-in-maps included.
prog_map_ids() {
  local m
  for m in $(bpftool -j prog show id "$1" | jq -r '.map_ids[]'); do
    echo "$m"
    case "$(bpftool -j map show id "$m" | jq -r .type)" in
      array_of_maps|hash_of_maps)
        # values are the inner map ids, little-endian bytes
        bpftool -j map dump id "$m" | jq -r '.[].value | map(ltrimstr("0x")) | reverse | join("")' |
          while read -r hex; do [ -n "$hex" ] && echo $((16#$hex)); done ;;
    esac
  done
}

# wait_gone KIND ID...: succeeds once bpftool no longer finds any of the ids (the kernel
# frees programs and maps after an RCU grace period), fails after 10 s.
wait_gone() {
  local kind=$1; shift
  local id left tries=0
  while :; do
    left=()
    for id in "$@"; do bpftool "$kind" show id "$id" >/dev/null 2>&1 && left+=("$id"); done
    [ ${#left[@]} = 0 ] && return 0
    tries=$((tries + 1))
    if [ $tries -ge 100 ]; then
      echo "still present after 10 s: $kind ${left[*]}" >&2
      return 1
    fi
    sleep 0.1
  done
}
