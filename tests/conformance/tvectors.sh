#!/usr/bin/env bash
# Runs iptables 1.8.9's own extension test vectors (.t files) through a binary the way
# iptables-test.py does: append each OK rule to every listed chain, find it in the save
# output, delete it with -D and the same arguments; FAIL rules must be refused; NOMATCH
# rules must be accepted but saved differently. LEGACY/NFT variants are read for the
# legacy flavour. A FAIL rule that is accepted passes only when iptables-legacy accepts it
# too on this kernel (a refusal that the kernel of the vectors made and this one no longer
# makes, as xt_recent's --hitcount ceiling): it is reported as a NOTE.
# As iptables-test.py 1.8.9 does, libip6t_*.t files run with ip6tables (xdp6tables),
# the others (libipt_*, libxt_*) with iptables.
# Usage: tvectors.sh (xdptables|legacy) BIN_DIR FILE.t...
set -u
flavour=$1 bindir=$2; shift 2
[ "$(id -u)" = 0 ] || { echo "tvectors: needs root"; exit 77; }
for f in "$@"; do
  [ -f "$f" ] || {
    echo "tvectors: skipped: the iptables 1.8.9 conformance data is missing ($f; it lives beside the repository, ../shared/iptables-1.8.9-tests)"
    exit 77
  }
done
# The commands of family $1 (4 or 6): ipt, save, ref (iptables-legacy of the family).
use_family() {
  local six=""; [ "$1" = 6 ] && six=6
  ref=ip${six}tables-legacy
  if [ "$flavour" = legacy ]; then ipt=ip${six}tables-legacy; save=ip${six}tables-legacy-save
  else ipt="$bindir/xdp${six}tables"; save="$bindir/xdp${six}tables-save"; fi
}
use_family 4
if [ -z "${XTV_NS:-}" ]; then
  ns="xtv$$"
  ip netns add "$ns" || exit 1
  refns="xtvr$$"
  ip netns add "$refns" || { ip netns del "$ns"; exit 1; }
  trap '[ "$flavour" = legacy ] || ip netns exec "$ns" "$bindir/xdptables" detach; ip netns del "$ns"; ip netns del "$refns"' EXIT
  # The vectors run in one shell inside the namespace (this script again), each command
  # a process of its own there, as from an admin's shell: not an ip netns exec each.
  ip netns exec "$ns" env XTV_NS="$ns" XTV_REFNS="$refns" bash "$0" "$flavour" "$bindir" "$@"
  exit $?
fi
ns=$XTV_NS refns=$XTV_REFNS
X() { "$@"; }
# Whether iptables-legacy on this kernel accepts the rule (in a namespace of its own).
legacy_accepts() {
  local t=$1 c=$2; shift 2
  ip netns exec "$refns" $ref -t "$t" -A "$c" "$@" >/dev/null 2>&1 || return 1
  ip netns exec "$refns" $ref -t "$t" -F "$c" >/dev/null 2>&1
}

pass=0 failn=0
report_fail() { failn=$((failn + 1)); echo "FAIL $1: $2"; }
for f in "$@"; do
  chains="INPUT,FORWARD,OUTPUT" table=filter
  name=$(basename "$f")
  case $name in libip6t_*) use_family 6 ;; *) use_family 4 ;; esac
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      ""|\#*|@*|%*) continue ;;
      :*) chains=${line#:}; continue ;;
      \**) table=${line#\*}; continue ;;
    esac
    IFS=';' read -r args expected result variant alt <<<"$line"
    if [ -n "${variant:-}" ] && [ "$variant" = NFT ]; then
      # The line holds for nft; legacy gets ALT, or the inverse.
      if [ -n "${alt:-}" ]; then result=$alt
      elif [ "$result" = OK ]; then result=FAIL
      else result=OK; fi
    fi
    [ "$expected" = "=" ] && expected=$args
    IFS=',' read -ra chain_list <<<"$chains"
    for chain in "${chain_list[@]}"; do
      eval "set -- $args"
      X $ipt -t "$table" -A "$chain" "$@" >/dev/null 2>&1
      rc=$?
      if [ "$result" = FAIL ]; then
        if [ $rc -eq 0 ] && legacy_accepts "$table" "$chain" "$@"; then
          echo "NOTE $name: -t $table -A $chain $args: accepted, as iptables-legacy accepts it on this kernel"
          X $ipt -t "$table" -F "$chain" >/dev/null 2>&1
          pass=$((pass + 1))
        elif [ $rc -eq 0 ]; then
          report_fail "$name" "-t $table -A $chain $args: accepted, expected refusal"
          X $ipt -t "$table" -D "$chain" "$@" >/dev/null 2>&1
        else pass=$((pass + 1)); fi
        continue
      fi
      if [ $rc -ne 0 ]; then
        report_fail "$name" "-t $table -A $chain $args: refused ($rc), expected $result"
        continue
      fi
      found=0
      X $save -t "$table" | grep -qxF -- "-A $chain $expected" && found=1
      if [ "$result" = OK ] && [ $found = 0 ]; then
        report_fail "$name" "-t $table -A $chain $args: saved as '$(X $save -t "$table" | grep -- "^-A $chain" | tail -1)', expected '-A $chain $expected'"
      elif [ "$result" = NOMATCH ] && [ $found = 1 ]; then
        report_fail "$name" "-t $table -A $chain $args: saved as given, expected a different form"
      elif ! X $ipt -t "$table" -D "$chain" "$@" >/dev/null 2>&1; then
        report_fail "$name" "-t $table -D $chain $args: delete failed"
      else
        pass=$((pass + 1))
      fi
      X $ipt -t "$table" -F "$chain" >/dev/null 2>&1
    done
  done <"$f"
done
echo "tvectors ($flavour): $pass passed, $failn failed"
[ "$failn" = 0 ]
