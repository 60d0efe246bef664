#!/usr/bin/env bash
# End-to-end differential test of the XDP dataplane on IPv6: real frames, ip6tables-legacy
# as the oracle (as e2e.sh for IPv4). For every seed x size, gen6.py writes a random
# ruleset (raw PREROUTING, filter INPUT, FORWARD, a user chain) and a random frame list;
# two identical topologies are built,
#
#   <tag>Rg --veth-- <tag>Rd --veth-- <tag>Rb      ref: ip6tables-legacy-restore
#   <tag>Xg --veth-- <tag>Xd --veth-- <tag>Xb      dut: ip6tables-restore (xdptables, XDP)
#
# the same frames are sent from both g namespaces, and once each d has received every
# frame its `ip6tables*-save -c` is compared, every rule and policy of raw and filter
# (OUTPUT aside: the dut's own replies and neighbour discovery, which XDP never sees).
#
# Usage: e2e6.sh [--seeds "1 2"] [--sizes "5 50 500"] [--packets 1500] [--keep]
# Environment: XDPT_BINDIR (default build/src of this repository), PYTHON.
# Exit: 0 all equal, 1 a difference or a harness failure, 77 not root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bindir=${XDPT_BINDIR:-$here/../../build/src}
seeds=${E2E_SEEDS:-"1 2"}
sizes=${E2E_SIZES:-"5 50 500"}
npackets=${E2E_PACKETS:-1500}
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --seeds) seeds=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --packets) npackets=$2; shift ;;
    --keep) keep=1 ;;
    *) echo "e2e6: unknown argument $1 (see the head of $0)"; exit 1 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "e2e6: needs root (network namespaces)"; exit 77; }
command -v ip6tables-legacy-restore >/dev/null || { echo "e2e6: ip6tables-legacy-restore missing"; exit 77; }
py=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
gen6() { "$py" "$here/gen6.py" "$@"; }
eval "$(gen6 topo)"

tag="xdp6_e$$"
work=$(mktemp -d)
me=e2e6
. "$here/netns.sh"

v6on() {  # $1 = namespace, $2 = device: IPv6 on, no DAD, no solicitations, no redirects
  ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=0" "net.ipv6.conf.$2.accept_dad=0" \
    "net.ipv6.conf.$2.router_solicitations=0" "net.ipv6.conf.$2.accept_redirects=0" \
    "net.ipv6.conf.$2.accept_ra=0" >/dev/null
}

build_side() {  # $1 = side letter
  local g=${tag}$1g d=${tag}$1d b=${tag}$1b a dev
  add_ns "$g" && add_ns "$d" && add_ns "$b" || return 1
  ip -n "$g" link add "$GEN_IF" address "$GEN_MAC" type veth \
    peer name "$DUT_IN" address "$DUT_IN_MAC" netns "$d" || return 1
  ip -n "$d" link add "$DUT_OUT" address "$DUT_OUT_MAC" type veth \
    peer name "$BEH_IF" address "$BEH_MAC" netns "$b" || return 1
  for dev in lo "$DUT_IN" "$DUT_OUT"; do v6on "$d" "$dev" || return 1; done
  ip netns exec "$d" sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0 >/dev/null || return 1
  for a in $DUT_ADDRS; do
    ip -n "$d" -6 addr add "${a%,*}" dev "${a#*,}" nodad || return 1
  done
  for dev in "$DUT_IN" "$DUT_OUT"; do ip -n "$d" link set "$dev" up || return 1; done
  ip -n "$b" link set "$BEH_IF" up && ip -n "$g" link set "$GEN_IF" up || return 1
  for a in $GEN_NEIGHS; do
    ip -n "$d" -6 neigh replace "$a" lladdr "$GEN_MAC" dev "$DUT_IN" nud permanent || return 1
  done
  ip -n "$d" -6 neigh replace "$NEXTHOP" lladdr "$BEH_MAC" dev "$DUT_OUT" nud permanent &&
    ip -n "$d" -6 route add "$BEHIND_NET" via "$NEXTHOP" dev "$DUT_OUT" || return 1
}

run_one() {  # $1 = seed, $2 = rule count
  local seed=$1 n=$2 rc=0 rules
  gen6 rules "$seed" "$n" >"$work/rules" && gen6 packets "$seed:$n" "$npackets" >"$work/frames" || return 1
  rules=$(grep -c '^-A ' "$work/rules")
  build_side R && build_side X || { echo "  HARNESS topology setup failed"; return 1; }
  ip netns exec "${tag}Rd" ip6tables-legacy-restore -w 10 <"$work/rules" ||
    { echo "  HARNESS ip6tables-legacy-restore failed"; return 1; }
  xdp_duts+=("${tag}Xd")
  ip netns exec "${tag}Xd" "$bindir/ip6tables-restore" <"$work/rules" ||
    { echo "  DIFF ip6tables-restore failed"; cp "$work/rules" "$work/rules.fail"; return 1; }
  if [ "${E2E_STEP:-0}" = 1 ]; then  # frame by frame: the first frame after which they differ
    local all="$work/frames.all" i=0 line
    cp "$work/frames" "$all"
    while IFS= read -r line; do
      i=$((i + 1))
      printf '%s\n' "$line" >"$work/frames"
      send_side R && send_side X || return 1
      ip netns exec "${tag}Rd" ip6tables-legacy-save -c | grep -v -e '^#' -e OUTPUT >"$work/r1"
      ip netns exec "${tag}Xd" "$bindir/ip6tables-save" -c | grep -v -e '^#' -e OUTPUT >"$work/x1"
      if ! cmp -s "$work/r1" "$work/x1"; then
        echo "  frame $i differs: $line"; diff "$work/r1" "$work/x1" | head -20; return 1
      fi
    done <"$all"
    cp "$all" "$work/frames"
  fi
  send_side R && send_side X || return 1
  ip netns exec "${tag}Rd" ip6tables-legacy-save -c >"$work/ref.save" &&
    ip netns exec "${tag}Xd" "$bindir/ip6tables-save" -c >"$work/dut.save" || { echo "  HARNESS save failed"; return 1; }
  "$py" "$here/gen.py" compare "$work/ref.save" "$work/dut.save" "$rules" --ignore-output || rc=1
  echo "  xdp: $(ip netns exec "${tag}Xd" "$bindir/xdptables" status 2>/dev/null | grep -iE 'drop|kernel|accept' | tr -s ' \n' ' ')"
  if [ "$rc" != 0 ] && [ "$keep" = 1 ]; then
    mkdir -p "$work/fail-$seed-$n" && cp "$work/rules" "$work/frames" "$work"/*.save "$work/fail-$seed-$n/"
  fi
  return $rc
}

echo "e2e6: ip6tables-legacy vs xdptables; seeds [$seeds] sizes [$sizes]; $npackets frames a run"
pass=0 fail=0 start=$SECONDS
for seed in $seeds; do
  for n in $sizes; do
    echo "run seed=$seed n=$n"
    if run_one "$seed" "$n"; then pass=$((pass + 1)); echo "  ok"; else fail=$((fail + 1)); echo "  FAIL seed=$seed n=$n"; fi
    cleanup
  done
done
echo "e2e6: $pass passed, $fail failed in $((SECONDS - start)) s"
[ "$fail" = 0 ]
