#!/usr/bin/env bash
# Differential traffic test on real-world rulesets: every dump of iptables 1.8.9's test
# suite ($VECTORS/dumps) is restored for real into a namespace run by iptables-legacy and
# into one run by xdptables (the ip6tables dumps: ip6tables-legacy and xdp6tables, over
# IPv6), in two identical topologies (traffic.py topo):
#
#   <tag>-R-peer --veth-- <tag>-R-dut --veth-- <tag>-R-behind     ref: iptables-legacy-restore
#   <tag>-X-peer --veth-- <tag>-X-dut --veth-- <tag>-X-behind     dut: xdptables-restore
#
# (the dut's veths are named as the dump's -i/-o rules name interfaces: enp3s0, virbr0,
# wlp58s0, ppp0, wlan0, bond0.208, bond0.11, ...). Then, per dump:
#   1. `*-save` and `*-save -c` right after the restore must be equal (the dump saves back
#      unchanged; comment lines aside);
#   2. traffic.py runs the dump's plan on each side in turn, the same actions in the same
#      order: real TCP connections peer->dut (accepted, dropped, REJECTed: the client sees
#      connected / refused / host-unreach / timeout), UDP and pings, a stray ACK, SYN+FIN
#      (conntrack INVALID) and a bad checksum crafted by the peer, multicast to
#      224.0.0.251:5353, the dut's own TCP/UDP/pings to the peer and to itself (OUTPUT, -o
#      lo), forwarded peer<->behind connections, behind->dut, behind's packets routed back
#      to it through the dut (FORWARD in and out of one interface); every outcome line must be
#      equal on both sides (the plans and the rules each exercises: traffic.py PROFILES);
#   3. `*-save -c` after the traffic: every rule's and policy's [packets:bytes] must be equal.
# A dump the binary under test refuses (its restore --test fails: an extension it does not
# have yet) is skipped, saying so; exit 77 when every dump was skipped. The ip6tables
# dumps' traffic is the same without the crafted IPv4 packets (raw_*, icmp_in, proto_in);
# pings are ICMPv6 echo requests and the multicast goes to [ff02::fb]:5353.
#
# Usage: dumps-traffic.sh [--self-check] [--keep] [DUMP...]
#   --self-check  both sides run iptables-legacy (also DT_REF_ONLY=1): proves the harness
#                 deterministic; they must agree exactly
#   --keep        keep the work directory (save outputs, outcomes)
#   DUMP          file names under $VECTORS/dumps (default: every one)
# Environment: PYTHON, VECTORS (default ../shared/iptables-1.8.9-tests beside the
# repository), XDPT_BINDIR (default build/src of this repository).
# Exit: 0 all equal, 1 a difference or a harness failure, 77 not root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bindir=${XDPT_BINDIR:-$here/../../build/src}
vectors=${VECTORS:-$here/../../../shared/iptables-1.8.9-tests}
ref_only=${DT_REF_ONLY:-0}
keep=0
dumps=()
while [ $# -gt 0 ]; do
  case $1 in
    --self-check) ref_only=1 ;;
    --keep) keep=1 ;;
    -*) echo "dumps-traffic: unknown argument $1 (see the head of $0)"; exit 1 ;;
    *) dumps+=("$1") ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || { echo "dumps-traffic: needs root (network namespaces)"; exit 77; }
command -v iptables-legacy-restore >/dev/null ||
  { echo "dumps-traffic: iptables-legacy-restore missing"; exit 1; }
py=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
[ -n "$py" ] || { echo "dumps-traffic: python3 missing"; exit 1; }
if [ "$ref_only" != 1 ] && [ ! -x "$bindir/xdptables-restore" ]; then
  echo "dumps-traffic: $bindir/xdptables-restore missing (set XDPT_BINDIR)"; exit 1
fi
[ -d "$vectors/dumps" ] || {
  echo "dumps-traffic: skipped: the iptables 1.8.9 conformance data is missing ($vectors/dumps; it lives beside the repository, ../shared/iptables-1.8.9-tests, or set VECTORS)"
  exit 77
}
if [ ${#dumps[@]} = 0 ]; then
  for f in "$vectors"/dumps/*; do dumps+=("$(basename "$f")"); done
fi
traffic() { "$py" "$here/traffic.py" "$@"; }

tag="${E2E_NS_PREFIX:-xdd-}$$"
work=$(mktemp -d)
me=dumps-traffic
. "$here/netns.sh"

# Every namespace: no ICMP rate limit, an unanswered SYN-ACK never resent, no IGMP reports
# for 224.0.0.251, no reverse path filter.
add_quiet_ns() {  # $1 = name
  add_ns "$1" && ip netns exec "$1" sysctl -qw net.ipv4.icmp_ratemask=0 \
    net.ipv4.tcp_synack_retries=0 net.ipv4.igmp_link_local_mcast_reports=0 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
}

# One peer -> dut -> behind chain; $1 = side letter. Topology variables from traffic.py topo.
build_side() {
  local p=$tag-$1-peer d=$tag-$1-dut b=$tag-$1-behind nodad=
  add_quiet_ns "$p" && add_quiet_ns "$d" && add_quiet_ns "$b" || return 1
  if [ "$FAMILY" = 6 ]; then
    enable_ipv6 "$p" addr_gen_mode=1 && enable_ipv6 "$b" addr_gen_mode=1 &&
      enable_ipv6 "$d" addr_gen_mode=1 forwarding=1 accept_redirects=0 || return 1
    nodad=nodad
  fi
  ip netns exec "$d" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.default.send_redirects=0 >/dev/null || return 1
  ip -n "$p" link add "$PEER_IF" address "$MAC_PEER" type veth \
    peer name "$IF_A" address "$MAC_DUT_A" netns "$d" || return 1
  ip -n "$b" link add "$BEH_IF" address "$MAC_BEH" type veth \
    peer name "$IF_B" address "$MAC_DUT_B" netns "$d" || return 1
  ip -n "$p" addr add "$ADDR_PEER/$PLEN" dev "$PEER_IF" $nodad &&
    ip -n "$d" addr add "$ADDR_DUT_A/$PLEN" dev "$IF_A" $nodad &&
    ip -n "$d" addr add "$ADDR_DUT_B/$PLEN" dev "$IF_B" $nodad &&
    ip -n "$b" addr add "$ADDR_BEH/$PLEN" dev "$BEH_IF" $nodad || return 1
  ip -n "$p" link set "$PEER_IF" up && ip -n "$b" link set "$BEH_IF" up &&
    ip -n "$d" link set "$IF_A" up && ip -n "$d" link set "$IF_B" up || return 1
  # static neighbours: no ARP at all
  ip -n "$p" neigh replace "$ADDR_DUT_A" lladdr "$MAC_DUT_A" dev "$PEER_IF" nud permanent &&
    ip -n "$d" neigh replace "$ADDR_PEER" lladdr "$MAC_PEER" dev "$IF_A" nud permanent &&
    ip -n "$d" neigh replace "$ADDR_BEH" lladdr "$MAC_BEH" dev "$IF_B" nud permanent &&
    ip -n "$b" neigh replace "$ADDR_DUT_B" lladdr "$MAC_DUT_B" dev "$BEH_IF" nud permanent ||
    return 1
  ip -n "$p" route add "$NET_BEH" via "$ADDR_DUT_A" dev "$PEER_IF" &&
    ip -n "$b" route add "$NET_PEER" via "$ADDR_DUT_B" dev "$BEH_IF" &&
    ip -n "$b" route add "$HAIRPIN_NET" via "$ADDR_DUT_B" dev "$BEH_IF" &&
    ip -n "$d" route add "$HAIRPIN_NET" via "$ADDR_BEH" dev "$IF_B"
}

# The commands of the dump's family: legacy (the reference) and ours (in $bindir).
commands() {  # $1 = dump file name
  if [[ $1 == *ip6tables* ]]; then legacy=ip6tables-legacy ours=xdp6tables
  else legacy=iptables-legacy ours=xdptables; fi
}

# $1 = side letter, $2 = flavour (legacy|xdptables), $3 = what (restore: stdin|save|save-c)
sut() {
  local d=$tag-$1-dut
  case $2:$3 in
    legacy:restore) ip netns exec "$d" $legacy-restore -w 10 ;;
    legacy:save) ip netns exec "$d" $legacy-save ;;
    legacy:save-c) ip netns exec "$d" $legacy-save -c ;;
    xdptables:restore) xdp_duts+=("$d"); ip netns exec "$d" "$bindir/$ours-restore" ;;
    xdptables:save) ip netns exec "$d" "$bindir/$ours-save" ;;
    xdptables:save-c) ip netns exec "$d" "$bindir/$ours-save" -c ;;
  esac
}

nocomments() { grep -v '^#' "$1"; }

run_one() {  # $1 = dump file name -> 0 equal, 1 not
  local name=$1 flavour=xdptables rc=0 what side
  [ "$ref_only" = 1 ] && flavour=legacy
  cp "$vectors/dumps/$name" "$work/rules"
  eval "$(traffic topo "$name")" || return 1
  build_side R && build_side X || { echo "  HARNESS topology setup failed"; return 1; }
  if [ "$FAMILY" = 6 ]; then
    # xdptables' first restore attaches XDP, on which the kernel sends MLD reports again:
    # an empty ruleset first on both sides, then wait until the duts send nothing.
    printf '*filter\nCOMMIT\n' | sut R legacy restore && printf '*filter\nCOMMIT\n' | sut X "$flavour" restore &&
      quiet "$tag-R-dut" "$IF_A" "$IF_B" && quiet "$tag-X-dut" "$IF_A" "$IF_B" ||
      { echo "  HARNESS empty ruleset or quiet failed"; return 1; }
  fi
  sut R legacy restore <"$work/rules" 2>"$work/ref.err" ||
    { echo "  HARNESS $legacy-restore failed: $(cat "$work/ref.err")"; return 1; }
  if ! sut X "$flavour" restore <"$work/rules" 2>"$work/dut.err"; then
    echo "  DIFF $flavour-restore failed: $(grep -v 'warning: stored' "$work/dut.err")"
    return 1
  fi
  # 1. saved back unchanged
  for what in save save-c; do
    sut R legacy "$what" >"$work/ref.$what" && sut X "$flavour" "$what" >"$work/dut.$what" ||
      { echo "  HARNESS $what failed"; return 1; }
    if ! diff -u --label "$legacy-$what" --label "$flavour-$what" \
        <(nocomments "$work/ref.$what") <(nocomments "$work/dut.$what") >"$work/diff"; then
      echo "  DIFF $what right after restore:"; sed 's/^/    /' "$work/diff"; rc=1
    fi
  done
  # 2. the same traffic on both sides, both at once (each side's plan runs in order)
  local pids=()
  for side in R X; do
    traffic run "$name" "$tag-$side-peer" "$tag-$side-dut" "$tag-$side-behind" \
      >"$work/out.$side" 2>"$work/out.$side.err" &
    pids+=($!)
  done
  for side in R X; do
    wait "${pids[0]}" ||
      { echo "  HARNESS traffic side $side failed:"; sed 's/^/    /' "$work/out.$side.err"; rc=2; }
    pids=("${pids[@]:1}")
  done
  [ "$rc" = 2 ] && return 1
  if ! diff -u --label "outcomes $legacy" --label "outcomes $flavour" \
      "$work/out.R" "$work/out.X" >"$work/diff"; then
    echo "  DIFF client outcomes:"; sed 's/^/    /' "$work/diff"; rc=1
  fi
  echo "  $(wc -l <"$work/out.R") actions; outcomes: $(awk '{print $NF}' "$work/out.R" |
    sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//')"
  # 3. every counter
  sut R legacy save-c >"$work/ref.after" && sut X "$flavour" save-c >"$work/dut.after" ||
    { echo "  HARNESS save -c failed"; return 1; }
  traffic compare "$work/ref.after" "$work/dut.after" || rc=1
  if [ "$keep" = 1 ]; then
    mkdir -p "$work/$name" && cp "$work"/ref.* "$work"/dut.* "$work"/out.* "$work/$name/"
  fi
  return $rc
}

mode="iptables-legacy vs xdptables"
[ "$ref_only" = 1 ] && mode="self-check: iptables-legacy vs iptables-legacy"
echo "dumps-traffic: $mode"
pass=0 fail=0 skip=0 failed=() start=$SECONDS
# Whether the binary under test takes dump $1 at all (else: an extension it lacks).
takes() {
  local ns=$tag-T-dut err rc
  add_ns "$ns" || return 1
  err=$(ip netns exec "$ns" "$bindir/$ours-restore" --test <"$vectors/dumps/$1" 2>&1 >/dev/null)
  rc=$?
  cleanup
  [ "$rc" = 0 ] || echo "$ours-restore --test refuses it: $(echo "$err" | head -1)"
  return $rc
}

for name in "${dumps[@]}"; do
  commands "$name"
  if [ "$ref_only" != 1 ] && ! why=$(takes "$name"); then
    echo "skip $name ($why)"; skip=$((skip + 1)); continue
  fi
  echo "dump $name"
  t0=$SECONDS
  if run_one "$name"; then
    pass=$((pass + 1)); echo "  ok ($((SECONDS - t0)) s)"
  else
    fail=$((fail + 1)) failed+=("$name"); echo "  FAIL $name ($((SECONDS - t0)) s)"
  fi
  cleanup
done
echo "dumps-traffic: $pass passed, $fail failed, $skip skipped in $((SECONDS - start)) s${failed[*]:+; failed: ${failed[*]}}"
[ "$fail" = 0 ] || exit 1
[ "$pass" -gt 0 ] || exit 77
