#!/usr/bin/env bash
# End-to-end differential test of the XDP dataplane: real packets, real iptables as the
# oracle. For every seed x size x table, gen.py (gen6.py for IPv6: ip6tables rulesets,
# IPv6 frames with extension headers, fragments and malformed ones) writes a random ruleset
# and a random frame list; two identical topologies are built,
#
#   <tag>Rg --veth-- <tag>Rd --veth-- <tag>Rb      ref: iptables-legacy-restore
#   <tag>Xg --veth-- <tag>Xd --veth-- <tag>Xb      dut: xdptables-restore (XDP)
#   (IPv6: ip6tables-legacy-restore and xdp6tables-restore; only the dut runs IPv6)
#   (gen: injects the frames over AF_PACKET, no address; d: the system under test;
#    b: behind the dut, no address, silently eats what the dut forwards)
#
# the same ruleset is restored in both d namespaces, the same frames are sent in the same
# order from both g namespaces, and once each d has received every frame its
# `*-save -c` is compared: every rule's and policy's [packets:bytes] must be equal.
#
# Usage: e2e.sh [--family 4|6] [--self-check] [--no-forward] [--seeds "1 2"]
#               [--sizes "5 50 500"] [--tables "filter raw"] [--packets 2000] [--keep]
#               [--same-ns] [--commands [--steps 100]]
#   --family 6     ip6tables (also E2E_FAMILY=6); the extensions the rulesets may use beyond
#                  the basic ones (icmp6, REJECT) are those the dut's restore accepts
#                  (probed: the test covers them by itself once they exist)
#   --self-check   both sides run iptables-legacy (also E2E_REF_ONLY=1): proves the
#                  harness deterministic; they must agree exactly
#   --no-forward   no forwarding in the dut, no FORWARD rules, no frames for behind
#                  (E2E_FORWARD=0)
#   --keep         keep the work directory (rulesets, frame lists, save outputs)
#   --same-ns      one topology for all the runs: each ruleset is restored over the one
#                  before, in the same namespaces (E2E_SAME_NS=1), as a host reloads it
#   --commands     after the restore, a random sequence of single commands (gen.py
#                  commands: -A, -I, -D by number and by spec, -R, -Z of the table, a chain
#                  and a rule, -N, -E, -X, -P, -F, jumps and gotos to user chains), each its
#                  own process on both sides, with bursts of frames (slices of the frame
#                  list) between them; every command's exit status and stderr (the program
#                  name aside) must be the same on both sides, and after every burst every
#                  counter (E2E_COMMANDS=1); --steps: the sequence's length (E2E_STEPS)
# Environment: PYTHON, XDPT_BINDIR (xdptables, xdptables-save, xdptables-restore; default
# build/src of this repository), E2E_SEEDS, E2E_SIZES, E2E_TABLES, E2E_PACKETS,
# E2E_RULES=FILE (restore FILE instead of the random ruleset, with the frames of the run;
# with E2E_FRAMES, to minimise a difference),
# E2E_FRAMES=REGEX (send only the frames whose line in the frame list matches, e.g.
# 'frag' or 'tcp.*ttl=1 ': the lines say what each frame is; to narrow a difference down),
# E2E_KERNEL_CLASSES=1 (also send the frames the XDP program leaves to the kernel:
# IP options, short transport headers, TCP fragments at offset 8, fragments for local
# addresses; see gen.py; by default they are not sent),
# E2E_V6_ALL=1 (IPv6: also send the frames that ip6tables and nftables see differently,
# known differences: gen6.py marks them [badchain] and [ah]; by default they are not sent),
# E2E_IGNORE_OUTPUT=1 (OUTPUT counts only the dut's own replies, RST and ICMP errors, which
# XDP does not see: report their differences without failing).
# Exit: 0 all equal, 1 a difference or a harness failure, 77 not root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
family=${E2E_FAMILY:-4}
bindir=${XDPT_BINDIR:-$here/../../build/src}
ref_only=${E2E_REF_ONLY:-0}
ignore_output=${E2E_IGNORE_OUTPUT:-0}
forward=${E2E_FORWARD:-1}
seeds=${E2E_SEEDS:-"1 2"}
sizes=${E2E_SIZES:-"5 50 500"}
tables=${E2E_TABLES:-"filter raw"}
npackets=${E2E_PACKETS:-2000}
keep=0
same_ns=${E2E_SAME_NS:-0}
commands=${E2E_COMMANDS:-0}
steps=${E2E_STEPS:-100}
built=0
while [ $# -gt 0 ]; do
  case $1 in
    --family) family=$2; shift ;;
    --self-check) ref_only=1 ;;
    --no-forward) forward=0 ;;
    --seeds) seeds=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --tables) tables=$2; shift ;;
    --packets) npackets=$2; shift ;;
    --keep) keep=1 ;;
    --same-ns) same_ns=1 ;;
    --commands) commands=1 ;;
    --steps) steps=$2; shift ;;
    *) echo "e2e: unknown argument $1 (see the head of $0)"; exit 1 ;;
  esac
  shift
done

# The family's commands (legacy: the reference; ours: in $bindir) and generator.
case $family in
  4) legacy=iptables-legacy ours=xdptables genpy=gen.py ;;
  6) legacy=ip6tables-legacy ours=xdp6tables genpy=gen6.py ;;
  *) echo "e2e: --family is 4 or 6"; exit 1 ;;
esac
[ "$commands" != 1 ] || [ "$family" = 4 ] || { echo "e2e: --commands is IPv4 only"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "e2e: needs root (network namespaces)"; exit 77; }
command -v $legacy-restore >/dev/null || { echo "e2e: $legacy-restore missing"; exit 1; }
# Debian's own python3 first: it starts in a tenth of the time of a shim in PATH.
py=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
[ -n "$py" ] || { echo "e2e: python3 missing"; exit 1; }
if [ "$ref_only" != 1 ] && [ ! -x "$bindir/$ours-restore" ]; then
  echo "e2e: $bindir/$ours-restore missing (set XDPT_BINDIR)"; exit 1
fi
caps=()   # gen6.py --caps LIST, once probed
gen() { "$py" "$here/$genpy" "${caps[@]}" "$@" $([ "$forward" = 1 ] || echo --no-forward); }
eval "$(gen topo)"

tag="${E2E_NS_PREFIX:-e2e${family/4/}_}$$"   # e2e_PID (IPv4), e2e6_PID (IPv6)
work=$(mktemp -d)
me=e2e
. "$here/netns.sh"

# One gen -> dut [-> behind] chain; $1 = side letter. Prints nothing, fails loudly.
build_side() {
  local g=${tag}$1g d=${tag}$1d b=${tag}$1b a dev
  add_ns "$g" && add_ns "$d" || return 1
  # Fragments that never complete are never given up: a reassembly timeout (30 s) sends
  # an ICMP time exceeded through OUTPUT whenever it falls, in whichever run is under way
  # then (--same-ns), at other moments on the two sides.
  ip netns exec "$d" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.default.send_redirects=0 net.ipv4.icmp_ratemask=0 \
    net.ipv4.ipfrag_time=86400 net.ipv6.ip6frag_time=86400 \
    net.ipv4.ip_forward="$forward" >/dev/null || return 1
  [ "$family" = 4 ] || dut_ipv6 "$d" || return 1
  ip -n "$g" link add "$GEN_IF" address "$GEN_MAC" type veth \
    peer name "$DUT_IN" address "$DUT_IN_MAC" netns "$d" || return 1
  add_ns "$b" || return 1
  ip -n "$d" link add "$DUT_OUT" address "$DUT_OUT_MAC" type veth \
    peer name "$BEH_IF" address "$BEH_MAC" netns "$b" || return 1
  ip -n "$b" link set "$BEH_IF" up
  for a in $DUT_ADDRS; do
    ip -n "$d" addr add "${a%,*}" dev "${a#*,}" $([ "$family" = 6 ] && echo nodad) || return 1
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

# IPv6 in the dut alone (add_ns turns it off; netns.sh's enable_ipv6), without a link-local
# address or redirects; MLD's unsolicited reports (for the solicited-node groups of its
# addresses) are sent at once, before the ruleset is restored (quiet_side waits for them).
dut_ipv6() {  # $1 = namespace
  enable_ipv6 "$1" "forwarding=$forward" addr_gen_mode=1 accept_redirects=0
}

quiet_side() {  # $1 = side letter: its dut has sent nothing on its veths for 0.3 s
  quiet "${tag}$1d" "$DUT_IN" "$DUT_OUT" || { echo "  HARNESS side $1: the dut still sends on its own"; return 1; }
}

rx() {  # $1 = namespace, $2 = counter -> value of the dut veth's counter
  ip netns exec "$1" cat "/sys/class/net/$DUT_IN/statistics/$2"
}

# Send the frame list ($2, default the run's) from side $1's gen and wait until its dut has
# received them all.
send_side() {
  local g=${tag}$1g d=${tag}$1d base drop0 sent now i
  base=$(rx "$d" rx_packets) drop0=$(rx "$d" rx_dropped)
  sent=$(ip netns exec "$g" "$py" "$here/gen.py" send "$GEN_IF" "${2:-$work/frames}") || return 1
  for i in $(seq 100); do
    now=$(rx "$d" rx_packets)
    [ $((now - base)) -ge "$sent" ] && break
    sleep 0.1
  done
  if [ $((now - base)) -lt "$sent" ]; then
    echo "  HARNESS side $1: dut received $((now - base)) of $sent frames"; return 1
  fi
  sleep 0.3   # let the last frames through the stack
  if [ "$(rx "$d" rx_dropped)" != "$drop0" ]; then
    echo "  HARNESS side $1: dut dropped $(( $(rx "$d" rx_dropped) - drop0 )) frames on receive"
    return 1
  fi
}

# $1 = side letter, $2 = flavour (legacy|xdptables), $3 = what (restore: stdin|save)
sut() {
  local d=${tag}$1d
  case $2:$3 in
    legacy:restore) ip netns exec "$d" $legacy-restore -w 10 ;;
    legacy:save) ip netns exec "$d" $legacy-save -c ;;
    xdptables:restore) xdp_duts+=("$d"); ip netns exec "$d" "$bindir/$ours-restore" ;;
    xdptables:save) ip netns exec "$d" "$bindir/$ours-save" -c ;;
  esac
}

# $1 = side letter, $2 = flavour, $3... = one command's arguments: run it (at most 20 s).
sut_cmd() {
  local d=${tag}$1d f=$2
  shift 2
  case $f in
    legacy) timeout 20 ip netns exec "$d" $legacy -w 10 "$@" ;;
    xdptables) timeout 20 ip netns exec "$d" "$bindir/$ours" -w 10 "$@" ;;
  esac
}

# Both sides' `*-save -c`, compared by gen.py ($1: the rule count, -1 unchecked); 2: a save
# failed.
save_compare() {
  sut R legacy save >"$work/ref.save" && sut X "$dutflavour" save >"$work/dut.save" ||
    { echo "  HARNESS save failed"; return 2; }
  "$py" "$here/gen.py" compare "$work/ref.save" "$work/dut.save" "$1" \
    $([ "$ignore_output" = 1 ] && echo --ignore-output)
}

# run_commands' history so far, and how to run the same again (a shorter sequence is the
# first steps of a longer one).
show_history() {
  echo "  the commands so far, after \`$genpy rules $seed $n $table\`'s restore (frames: lines"
  echo "  of \`$genpy packets $seed:$n:$table $npackets\`); the same again (XDPT_BINDIR=$bindir):"
  echo "  E2E_KERNEL_CLASSES=${E2E_KERNEL_CLASSES:-0} $0 --commands --seeds $seed --sizes $n --tables $table --steps $step --packets $npackets"
  sed 's/^/    /' "$hist"
}

# --commands: gen.py's command sequence for seed $1, size $2, table $3 over the ruleset
# both sides hold; stops at the first difference, saying where and after what.
run_commands() {
  local seed=$1 n=$2 table=$3 kind line args step=0 sends=0 drift=0 rr rx first count
  local hist=$work/history
  gen commands "$seed" "$n" "$table" "$steps" "$(grep -c . "$work/frames")" >"$work/commands" ||
    return 1
  : >"$hist"
  while IFS=$'\t' read -r kind line <&3; do
    if [ "$kind" = send ]; then
      read -r first count <<<"$line"
      sed -n "$((first + 1)),$((first + count))p" "$work/frames" >"$work/slice"
      echo "send frames $((first + 1))-$((first + count))" >>"$hist"
      sends=$((sends + 1))
      send_side R "$work/slice" && send_side X "$work/slice" || return 1
      save_compare -1 >"$work/cmp"; rr=$?
      [ "$rr" != 2 ] || { cat "$work/cmp"; return 1; }
      if [ "$rr" != 0 ]; then
        echo "  DIFF seed=$seed n=$n table=$table: counters after step $step (send $sends)"
        cat "$work/cmp"
        show_history; return 1
      fi
      continue
    fi
    step=$((step + 1))
    eval "args=($line)"
    sut_cmd R legacy "${args[@]}" </dev/null >/dev/null 2>"$work/ref.err"; rr=$?
    sut_cmd X "$dutflavour" "${args[@]}" </dev/null >/dev/null 2>"$work/dut.err"; rx=$?
    echo "$step: $line   # rc $rr" >>"$hist"
    if [ "$rr" != 0 ] && [ "$rr" != 1 ] && [ "$rr" != 2 ]; then
      echo "  HARNESS step $step: $legacy exited $rr: $line"; return 1
    fi
    if [ $((rr == 0)) != $([ "$kind" = ok ] && echo 1 || echo 0) ]; then
      drift=$((drift + 1))   # the model mispredicted: harmless, both sides get the same
      [ "$drift" -gt 3 ] || echo "  note: step $step: $legacy exited $rr, gen.py said $kind: $line"
    fi
    local norm='s/(xdp(6)?tables|ip(6)?tables-legacy|ip(6)?tables)( v[0-9.]+)?( \((legacy|xdp)\))?/PROG/g'
    if [ "$rr" != "$rx" ] ||
        ! cmp -s <(sed -E "$norm" "$work/ref.err") <(sed -E "$norm" "$work/dut.err"); then
      echo "  DIFF seed=$seed n=$n table=$table step $step: $line"
      echo "    $legacy: exit $rr: $(head -3 "$work/ref.err")"
      echo "    $ours: exit $rx: $(head -3 "$work/dut.err")"
      show_history; return 1
    fi
  done 3<"$work/commands"
  echo "  $step commands, $sends bursts compared; $(grep -c 'rc [^0]' "$hist") refused alike; model drift $drift"
}

run_one() {  # $1 = seed, $2 = rule count, $3 = table -> 0 equal, 1 not
  local seed=$1 n=$2 table=$3 dutflavour=xdptables side rc=0 nrules=$2
  [ "$ref_only" = 1 ] && dutflavour=legacy
  if [ -n "${E2E_RULES:-}" ]; then
    cp "$E2E_RULES" "$work/rules" && nrules=$(grep -c '^-A' "$work/rules")
  else
    gen rules "$seed" "$n" "$table" >"$work/rules"
  fi &&
    gen packets "$seed:$n:$table" "$npackets" >"$work/frames" || return 1
  if [ "$family" = 6 ] && [ "${E2E_V6_ALL:-0}" != 1 ]; then
    grep -v -E -- ' \[(badchain|ah)\]' "$work/frames" >"$work/frames.sel"
    mv "$work/frames.sel" "$work/frames"
  fi
  if [ -n "${E2E_FRAMES:-}" ]; then
    grep -E -- "$E2E_FRAMES" "$work/frames" >"$work/frames.sel"
    mv "$work/frames.sel" "$work/frames"
    echo "  $(grep -c . "$work/frames") frames match E2E_FRAMES"
  fi
  if [ "$same_ns" != 1 ] || [ "$built" = 0 ]; then
    build_side R && build_side X || { echo "  HARNESS topology setup failed"; return 1; }
    built=1
    if [ "$family" = 6 ]; then
      # xdptables' first restore attaches XDP, on which the kernel sends MLD reports again
      # (NETDEV_CHANGE): an empty table first on both sides, then wait for quiet.
      printf '*%s\nCOMMIT\n' "$table" >"$work/empty"
      sut R legacy restore <"$work/empty" && sut X "$dutflavour" restore <"$work/empty" &&
        quiet_side R && quiet_side X || { echo "  HARNESS empty ruleset or quiet failed"; return 1; }
    fi
  fi
  sut R legacy restore <"$work/rules" || { echo "  HARNESS $legacy-restore failed"; return 1; }
  if ! sut X "$dutflavour" restore <"$work/rules"; then
    echo "  DIFF $dutflavour-restore failed on the ruleset (kept as $work/rules.fail)"
    cp "$work/rules" "$work/rules.fail"; return 1
  fi
  if [ "$family" = 6 ]; then
    # A ruleset too big for the program it has makes xdptables load a bigger one and attach
    # it anew, on which the kernel sends MLD reports again (NETDEV_CHANGE, as at the first
    # attach): wait for them, then both sides count from zero, before any frame is sent.
    quiet_side R && quiet_side X || { echo "  HARNESS quiet after the restore failed"; return 1; }
    local t
    for t in filter raw; do
      ip netns exec "${tag}Rd" $legacy -t "$t" -Z && ip netns exec "${tag}Xd" "$bindir/$ours" -t "$t" -Z ||
        { echo "  HARNESS -Z failed"; return 1; }
    done
  fi
  if [ "$commands" = 1 ]; then
    run_commands "$seed" "$n" "$table" || rc=1
  else
    send_side R && send_side X || return 1
    save_compare "$([ "$same_ns" = 1 ] && echo -1 || echo "$nrules")" || rc=1
  fi
  if [ "$rc" != 0 ] && [ "$keep" = 1 ]; then
    side="$work/fail-$seed-$n-$table"; mkdir -p "$side"
    cp "$work/rules" "$work/frames" "$work/ref.save" "$work/dut.save" "$side/"
    [ "$commands" != 1 ] || cp "$work/commands" "$work/history" "$side/"
  fi
  return $rc
}

# IPv6: the extensions beyond the basic ones that the dut's restore takes (icmp6, REJECT).
if [ "$family" = 6 ]; then
  flavour=xdptables have=()
  [ "$ref_only" = 1 ] && flavour=legacy
  add_ns "${tag}Pd" || exit 1
  while read -r cap rule; do
    printf '*filter\n-A INPUT %s\nCOMMIT\n' "$rule" >"$work/rules"
    sut P "$flavour" restore <"$work/rules" >/dev/null 2>&1 && have+=("$cap")
  done <<'CAPS'
icmp6 -p ipv6-icmp -m icmp6 --icmpv6-type echo-request
reject -j REJECT --reject-with icmp6-adm-prohibited
CAPS
  cleanup
  caps=(--caps "$(IFS=,; echo "${have[*]}")")
  echo "e2e: the dut's ip6tables takes the extensions [${have[*]}]"
fi

mode="$legacy vs $ours"
[ "$ref_only" = 1 ] && mode="self-check: $legacy vs $legacy"
[ "$commands" != 1 ] || mode="$mode, $steps single commands a run"
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
      [ "$same_ns" = 1 ] || cleanup
    done
  done
done
[ "$same_ns" != 1 ] || cleanup
echo "e2e: $pass passed, $fail failed in $((SECONDS - start)) s"
[ "$fail" = 0 ]
