#!/usr/bin/env bash
# End-to-end differential test of the XDP dataplane: real packets, real iptables as the
# oracle. For every seed x size x table, gen.py writes a random ruleset and a random frame
# list; two identical topologies are built,
#
#   <tag>Rg --veth-- <tag>Rd --veth-- <tag>Rb      ref: iptables-legacy-restore
#   <tag>Xg --veth-- <tag>Xd --veth-- <tag>Xb      dut: xdptables-restore (XDP)
#   (gen: injects the frames over AF_PACKET, no address; d: the system under test;
#    b: behind the dut, no address, silently eats what the dut forwards)
#
# the same ruleset is restored in both d namespaces, the same frames are sent in the same
# order from both g namespaces, and once each d has received every frame its
# `*-save -c` is compared: every rule's and policy's [packets:bytes] must be equal.
#
# Usage: e2e.sh [--self-check] [--no-forward] [--seeds "1 2"] [--sizes "5 50 500"]
#               [--tables "filter raw"] [--packets 2000] [--keep]
#   --self-check   both sides run iptables-legacy (also E2E_REF_ONLY=1): proves the
#                  harness deterministic; they must agree exactly
#   --no-forward   no forwarding in the dut, no FORWARD rules, no frames for behind
#                  (E2E_FORWARD=0)
#   --keep         keep the work directory (rulesets, frame lists, save outputs)
# Environment: PYTHON, XDPT_BINDIR (xdptables, xdptables-save, xdptables-restore; default
# build/src of this repository), E2E_SEEDS, E2E_SIZES, E2E_TABLES, E2E_PACKETS,
# E2E_FRAMES=REGEX (send only the frames whose line in the frame list matches, e.g.
# 'frag' or 'tcp.*ttl=1 ': the lines say what each frame is; to narrow a difference down),
# E2E_KERNEL_CLASSES=1 (also send the frames the XDP program leaves to the kernel:
# IP options, short transport headers, TCP fragments at offset 8, fragments for local
# addresses; see gen.py; by default they are not sent),
# E2E_IGNORE_OUTPUT=1 (OUTPUT counts only the dut's own replies, RST and ICMP errors, which
# XDP does not see: report their differences without failing).
# Exit: 0 all equal, 1 a difference or a harness failure, 77 not root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bindir=${XDPT_BINDIR:-$here/../../build/src}
ref_only=${E2E_REF_ONLY:-0}
ignore_output=${E2E_IGNORE_OUTPUT:-0}
forward=${E2E_FORWARD:-1}
seeds=${E2E_SEEDS:-"1 2"}
sizes=${E2E_SIZES:-"5 50 500"}
tables=${E2E_TABLES:-"filter raw"}
npackets=${E2E_PACKETS:-2000}
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --self-check) ref_only=1 ;;
    --no-forward) forward=0 ;;
    --seeds) seeds=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --tables) tables=$2; shift ;;
    --packets) npackets=$2; shift ;;
    --keep) keep=1 ;;
    *) echo "e2e: unknown argument $1 (see the head of $0)"; exit 1 ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || { echo "e2e: needs root (network namespaces)"; exit 77; }
command -v iptables-legacy-restore >/dev/null || { echo "e2e: iptables-legacy-restore missing"; exit 1; }
# Debian's own python3 first: it starts in a tenth of the time of a shim in PATH.
py=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
[ -n "$py" ] || { echo "e2e: python3 missing"; exit 1; }
if [ "$ref_only" != 1 ] && [ ! -x "$bindir/xdptables-restore" ]; then
  echo "e2e: $bindir/xdptables-restore missing (set XDPT_BINDIR)"; exit 1
fi
gen() { "$py" "$here/gen.py" "$@" $([ "$forward" = 1 ] || echo --no-forward); }
eval "$(gen topo)"

tag="e2e$$"
work=$(mktemp -d)
me=e2e
. "$here/netns.sh"

# One gen -> dut [-> behind] chain; $1 = side letter. Prints nothing, fails loudly.
build_side() {
  local g=${tag}$1g d=${tag}$1d b=${tag}$1b a dev
  add_ns "$g" && add_ns "$d" || return 1
  ip netns exec "$d" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.default.send_redirects=0 net.ipv4.icmp_ratemask=0 \
    net.ipv4.ip_forward="$forward" >/dev/null || return 1
  ip -n "$g" link add "$GEN_IF" address "$GEN_MAC" type veth \
    peer name "$DUT_IN" address "$DUT_IN_MAC" netns "$d" || return 1
  add_ns "$b" || return 1
  ip -n "$d" link add "$DUT_OUT" address "$DUT_OUT_MAC" type veth \
    peer name "$BEH_IF" address "$BEH_MAC" netns "$b" || return 1
  ip -n "$b" link set "$BEH_IF" up
  for a in $DUT_ADDRS; do
    ip -n "$d" addr add "${a%,*}" dev "${a#*,}" || return 1
  done
  for dev in "$DUT_IN" "$DUT_OUT"; do
    ip netns exec "$d" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0" >/dev/null
    ip -n "$d" link set "$dev" up || return 1
  done
  ip -n "$g" link set "$GEN_IF" up || return 1
  for a in $GEN_NEIGHS; do
    ip -n "$d" neigh replace "$a" lladdr "$GEN_MAC" dev "$DUT_IN" nud permanent || return 1
  done
  if [ "$forward" = 1 ]; then
    ip -n "$d" neigh replace "$NEXTHOP" lladdr "$BEH_MAC" dev "$DUT_OUT" nud permanent &&
      ip -n "$d" route add "$BEHIND_NET" via "$NEXTHOP" dev "$DUT_OUT" || return 1
  fi
}

# $1 = side letter, $2 = flavour (legacy|xdptables), $3 = what (restore|save)
sut() {
  local d=${tag}$1d
  case $2:$3 in
    legacy:restore) ip netns exec "$d" iptables-legacy-restore -w 10 <"$work/rules" ;;
    legacy:save) ip netns exec "$d" iptables-legacy-save -c ;;
    xdptables:restore) xdp_duts+=("$d"); ip netns exec "$d" "$bindir/xdptables-restore" <"$work/rules" ;;
    xdptables:save) ip netns exec "$d" "$bindir/xdptables-save" -c ;;
  esac
}

run_one() {  # $1 = seed, $2 = rule count, $3 = table -> 0 equal, 1 not
  local seed=$1 n=$2 table=$3 dutflavour=xdptables side rc=0
  [ "$ref_only" = 1 ] && dutflavour=legacy
  gen rules "$seed" "$n" "$table" >"$work/rules" &&
    gen packets "$seed:$n:$table" "$npackets" >"$work/frames" || return 1
  if [ -n "${E2E_FRAMES:-}" ]; then
    grep -E -- "$E2E_FRAMES" "$work/frames" >"$work/frames.sel"
    mv "$work/frames.sel" "$work/frames"
    echo "  $(grep -c . "$work/frames") frames match E2E_FRAMES"
  fi
  build_side R && build_side X || { echo "  HARNESS topology setup failed"; return 1; }
  sut R legacy restore || { echo "  HARNESS iptables-legacy-restore failed"; return 1; }
  if ! sut X "$dutflavour" restore; then
    echo "  DIFF $dutflavour-restore failed on the ruleset (kept as $work/rules.fail)"
    cp "$work/rules" "$work/rules.fail"; return 1
  fi
  send_side R && send_side X || return 1
  sut R legacy save >"$work/ref.save" && sut X "$dutflavour" save >"$work/dut.save" ||
    { echo "  HARNESS save failed"; return 1; }
  "$py" "$here/gen.py" compare "$work/ref.save" "$work/dut.save" "$n" \
    $([ "$ignore_output" = 1 ] && echo --ignore-output) || rc=1
  if [ "$rc" != 0 ] && [ "$keep" = 1 ]; then
    side="$work/fail-$seed-$n-$table"; mkdir -p "$side"
    cp "$work/rules" "$work/frames" "$work/ref.save" "$work/dut.save" "$side/"
  fi
  return $rc
}

mode="iptables-legacy vs xdptables"
[ "$ref_only" = 1 ] && mode="self-check: iptables-legacy vs iptables-legacy"
echo "e2e: $mode; seeds [$seeds] sizes [$sizes] tables [$tables]; $npackets frames a run; forward=$forward"
pass=0 fail=0 start=$SECONDS
for seed in $seeds; do
  for n in $sizes; do
    for table in $tables; do
      echo "run seed=$seed n=$n table=$table"
      if run_one "$seed" "$n" "$table"; then
        pass=$((pass + 1)); echo "  ok"
      else
        fail=$((fail + 1)); echo "  FAIL seed=$seed n=$n table=$table"
      fi
      cleanup
    done
  done
done
echo "e2e: $pass passed, $fail failed in $((SECONDS - start)) s"
[ "$fail" = 0 ]
