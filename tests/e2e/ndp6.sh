#!/usr/bin/env bash
# Neighbour discovery under ip6tables, differential: for each scenario below (DROP policies
# on INPUT and OUTPUT with rules that let ICMPv6 or parts of it through, or not), two fresh
# namespace pairs
#
#   <tag>Ra v0 2001:db8:10::1/64 --veth-- v1 2001:db8:10::2/64 <tag>Rb   ip6tables-legacy
#   <tag>Xa v0 2001:db8:10::1/64 --veth-- v1 2001:db8:10::2/64 <tag>Xb   xdp6tables
#
# (no static neighbours: every address is resolved by neighbour discovery), the scenario's
# ruleset restored in b, then a pings b (an ICMPv6 echo request over the veth, traffic.py
# ping6), b pings a; after each ping the neighbour tables of both ends are read. Every
# ping's outcome, both neighbour tables and every counter of b's ruleset
# (ip6tables-save -c) must be the same under ip6tables-legacy and xdp6tables.
#
# Usage: ndp6.sh [--self-check] [--keep] [SCENARIO...]
#   --self-check  both sides run ip6tables-legacy (also NDP_REF_ONLY=1)
# Environment: PYTHON, XDPT_BINDIR (default build/src of this repository).
# Exit: 0 all equal, 1 a difference or a harness failure, 77 not root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bindir=${XDPT_BINDIR:-$here/../../build/src}
ref_only=${NDP_REF_ONLY:-0}
keep=0
only=()
while [ $# -gt 0 ]; do
  case $1 in
    --self-check) ref_only=1 ;;
    --keep) keep=1 ;;
    -*) echo "ndp6: unknown argument $1 (see the head of $0)"; exit 1 ;;
    *) only+=("$1") ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "ndp6: needs root (network namespaces)"; exit 77; }
command -v ip6tables-legacy-restore >/dev/null || { echo "ndp6: ip6tables-legacy-restore missing"; exit 1; }
py=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
if [ "$ref_only" != 1 ] && [ ! -x "$bindir/xdp6tables-restore" ]; then
  echo "ndp6: $bindir/xdp6tables-restore missing (set XDPT_BINDIR)"; exit 1
fi

tag="${E2E_NS_PREFIX:-e2e6_}ndp$$"
work=$(mktemp -d)
me=ndp6
. "$here/netns.sh"

A=2001:db8:10::1 B=2001:db8:10::2
MAC_A=02:e2:e6:00:00:01 MAC_B=02:e2:e6:00:00:02
# The scenarios: name, then the filter table's lines (| separates them); "raw:" before a
# line puts it in the raw table. "icmp6" scenarios run once the dut's ip6tables has icmp6.
# Neighbour solicitations and advertisements are 72 bytes here (40 + 24 + an 8-byte
# link-layer address option), the pings 104.
scenarios() {
  cat <<'EOF'
drop-all :INPUT DROP|:OUTPUT DROP
accept-icmp6 :INPUT DROP|:OUTPUT DROP|-A INPUT -p ipv6-icmp -j ACCEPT|-A OUTPUT -p ipv6-icmp -j ACCEPT
input-only :INPUT DROP|:OUTPUT DROP|-A INPUT -p ipv6-icmp -j ACCEPT
output-only :INPUT DROP|:OUTPUT DROP|-A OUTPUT -p ipv6-icmp -j ACCEPT
nd-by-length :INPUT DROP|:OUTPUT DROP|-A INPUT -p ipv6-icmp -m length --length 72 -j ACCEPT|-A OUTPUT -p ipv6-icmp -m length --length 72 -j ACCEPT|-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
by-address :INPUT DROP|:OUTPUT DROP|-A INPUT -s 2001:db8:10::/64 -j ACCEPT|-A INPUT -s fe80::/10 -p ipv6-icmp -j ACCEPT|-A OUTPUT -d 2001:db8:10::1/128 -j ACCEPT|-A OUTPUT -d ff02::/16 -p ipv6-icmp -j ACCEPT|-A OUTPUT -d fe80::/10 -j ACCEPT
chains :INPUT DROP|:OUTPUT DROP|:nd -|-A INPUT -p ipv6-icmp -j nd|-A OUTPUT -p ipv6-icmp -g nd|-A nd -s 2001:db8:10::99/128 -j RETURN|-A nd -m length --length 104 -j RETURN|-A nd -j ACCEPT
raw-drop raw:-A PREROUTING -p ipv6-icmp -j DROP
accept-policies :INPUT ACCEPT|:OUTPUT ACCEPT|-A INPUT -p ipv6-icmp|-A OUTPUT -p ipv6-icmp
icmp6-nd-only :INPUT DROP|:OUTPUT DROP|-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-solicitation -j ACCEPT|-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type neighbour-advertisement -j ACCEPT|-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT|-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT
icmp6-echo-only :INPUT DROP|:OUTPUT DROP|-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type echo-request -j ACCEPT|-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type echo-reply -j ACCEPT|-A OUTPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type neighbour-advertisement -j ACCEPT
EOF
}

ruleset() {  # $1 = the scenario's lines -> ip6tables-restore input
  local line filter=() raw=()
  IFS='|' read -ra lines <<<"$1"
  for line in "${lines[@]}"; do
    case $line in raw:*) raw+=("${line#raw:}") ;; *) filter+=("$line") ;; esac
  done
  printf '*raw\n'; printf '%s\n' "${raw[@]}" COMMIT
  printf '*filter\n'; printf '%s\n' "${filter[@]}" COMMIT
}

# One pair; $1 = side letter.
build_side() {
  local a=${tag}$1a b=${tag}$1b ns
  add_ns "$a" && add_ns "$b" || return 1
  enable_ipv6 "$a" forwarding=0 && enable_ipv6 "$b" forwarding=0 || return 1
  ip -n "$a" link add v0 address $MAC_A type veth peer name v1 address $MAC_B netns "$b" || return 1
  # resolution gives up after 3 solicitations 100 ms apart
  for ns in "$a:v0" "$b:v1"; do
    ip netns exec "${ns%:*}" sysctl -qw "net.ipv6.neigh.${ns#*:}.retrans_time_ms=100" \
      "net.ipv6.neigh.${ns#*:}.mcast_solicit=3" "net.ipv6.neigh.${ns#*:}.ucast_solicit=3" >/dev/null || return 1
  done
  ip -n "$a" addr add $A/64 dev v0 nodad && ip -n "$b" addr add $B/64 dev v1 nodad &&
    ip -n "$a" link set v0 up && ip -n "$b" link set v1 up
}

sut() {  # $1 = side letter, $2 = flavour, $3 = restore (stdin) | save
  local b=${tag}$1b
  case $2:$3 in
    legacy:restore) ip netns exec "$b" ip6tables-legacy-restore -w 10 ;;
    legacy:save) ip netns exec "$b" ip6tables-legacy-save -c ;;
    xdptables:restore) xdp_duts+=("$b"); ip netns exec "$b" "$bindir/xdp6tables-restore" ;;
    xdptables:save) ip netns exec "$b" "$bindir/xdp6tables-save" -c ;;
  esac
}

neighbours() {  # $1 = namespace, $2 = device: its neighbour table, one line an entry
  ip -n "$1" -6 neigh show dev "$2" | sed 's/ *$//' | sort
}

# The outcomes on side $1: each ping and the neighbour tables after it.
exchange() {
  local a=${tag}$1a b=${tag}$1b
  ping_one "$a" $B "a -> b"; neighbours "$a" v0 | sed 's/^/  a: /'; neighbours "$b" v1 | sed 's/^/  b: /'
  ping_one "$b" $A "b -> a"; neighbours "$a" v0 | sed 's/^/  a: /'; neighbours "$b" v1 | sed 's/^/  b: /'
}
ping_one() {  # $1 = namespace, $2 = address, $3 = label
  if ip netns exec "$1" "$py" "$here/traffic.py" ping6 "$2" 2>/dev/null; then echo "$3: ping ok"
  else echo "$3: ping failed"; fi
  sleep 0.4   # resolution's retries end (3 x 100 ms): INCOMPLETE becomes FAILED
}

run_one() {  # $1 = name, $2 = lines -> 0 equal, 1 not
  local flavour=xdptables side rc=0
  [ "$ref_only" = 1 ] && flavour=legacy
  ruleset "$2" >"$work/rules"
  build_side R && build_side X || { echo "  HARNESS topology setup failed"; return 1; }
  # xdptables' first restore attaches XDP, on which the kernel sends MLD reports again:
  # an empty ruleset first on both sides, then wait until nobody sends.
  printf '*filter\nCOMMIT\n' | sut R legacy restore && printf '*filter\nCOMMIT\n' | sut X "$flavour" restore &&
    quiet "${tag}Ra" v0 && quiet "${tag}Rb" v1 && quiet "${tag}Xa" v0 && quiet "${tag}Xb" v1 ||
    { echo "  HARNESS empty ruleset or quiet failed"; return 1; }
  sut R legacy restore <"$work/rules" || { echo "  HARNESS ip6tables-legacy-restore failed"; return 1; }
  sut X "$flavour" restore <"$work/rules" || { echo "  DIFF $flavour-restore failed"; return 1; }
  exchange R >"$work/out.R" & exchange X >"$work/out.X"; wait
  if ! diff -u --label "ip6tables-legacy" --label "$flavour" "$work/out.R" "$work/out.X" >"$work/diff"; then
    echo "  DIFF outcomes:"; sed 's/^/    /' "$work/diff"; rc=1
  fi
  sed 's/^/    /' "$work/out.R"
  sut R legacy save >"$work/ref.save" && sut X "$flavour" save >"$work/dut.save" ||
    { echo "  HARNESS save failed"; return 1; }
  "$py" "$here/traffic.py" compare "$work/ref.save" "$work/dut.save" || rc=1
  if [ "$keep" = 1 ]; then mkdir -p "$work/$1" && cp "$work"/out.* "$work"/*.save "$work/rules" "$work/$1/"; fi
  return $rc
}

# Whether the dut's ip6tables takes icmp6 (the icmp6 scenarios run only then).
probe=${tag}P
add_ns "${probe}b" || exit 1
printf '*filter\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135\nCOMMIT\n' >"$work/probe"
have_icmp6=0
sut P "$([ "$ref_only" = 1 ] && echo legacy || echo xdptables)" restore <"$work/probe" >/dev/null 2>&1 && have_icmp6=1
cleanup

mode="ip6tables-legacy vs xdp6tables"
[ "$ref_only" = 1 ] && mode="self-check: ip6tables-legacy vs ip6tables-legacy"
echo "ndp6: $mode"
pass=0 fail=0 skip=0 start=$SECONDS
while read -r name lines; do
  if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" $name "* ]]; then continue; fi
  if [[ $name == icmp6-* ]] && [ "$have_icmp6" = 0 ]; then
    echo "skip $name (the dut's ip6tables has no icmp6 match)"; skip=$((skip + 1)); continue
  fi
  echo "scenario $name"
  if run_one "$name" "$lines"; then pass=$((pass + 1)); echo "  ok"
  else fail=$((fail + 1)); echo "  FAIL $name"; fi
  cleanup
done < <(scenarios)
echo "ndp6: $pass passed, $fail failed, $skip skipped in $((SECONDS - start)) s"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
