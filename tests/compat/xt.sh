#!/usr/bin/env bash
# compat-xt: proves the x_tables blobs of the netfilter layer (compat/nft.cpp, each
# extension's to_xt) right by having iptables-nft 1.8.9 decode them. Every OK rule of
# the given .t vectors is appended, in its table and chain, with XDPT_NFT_LAYOUT=
# iptables-nft (xdptables then names its nftables tables as iptables-nft does); the
# rule line iptables-nft-save prints must equal the one xdptables-save prints (less the
# policy rule iptables-nft-save shows at the end of a builtin chain). The same
# rules are then loaded in the real layout (the kernel must accept every blob), and
# after `xdptables detach` no table may be left.
# Matches with a native nftables form (ext/nftexpr.hpp) load in it where iptables-nft
# 1.8.9 decodes that form (mark, ttl, limit): its decoder checks the expressions too.
# Those it cannot decode (ct state, ct mark, ip length) load as x_tables blobs in the
# iptables-nft layout (XDPT_NFT_XT), so their blobs are still proved; the native forms of
# those are checked against nft in tests/bats/netfilter.bats.
# libip6t_*.t vectors are run through xdp6tables and decoded by ip6tables-nft-save (each
# batch holds rules of one family), the others through xdptables and iptables-nft-save.
# XT_BATCH: rules per namespace (80); XT_JOBS: namespaces at work at once (3).
# Usage: xt.sh BIN_DIR FILE.t...
set -u
bindir=$1; shift
[ "$(id -u)" = 0 ] || { echo "compat-xt: needs root"; exit 77; }
for f in "$@"; do
  [ -f "$f" ] || {
    echo "compat-xt: skipped: the iptables 1.8.9 conformance data is missing ($f; it lives beside the repository, ../shared/iptables-1.8.9-tests)"
    exit 77
  }
done
command -v iptables-nft-save >/dev/null || { echo "compat-xt: iptables-nft-save not found"; exit 77; }
command -v nft >/dev/null || { echo "compat-xt: nft not found"; exit 77; }
xdpt="$bindir/xdptables"
# The commands of family $1 (4 or 6): xcmd, xsave, xrestore, nsave_cmd (iptables-nft-save), nfam.
use_family() {
  local six=""; [ "$1" = 6 ] && six=6
  xcmd="$bindir/xdp${six}tables" xsave="$bindir/xdp${six}tables-save" xrestore="$bindir/xdp${six}tables-restore"
  nsave_cmd=ip${six}tables-nft-save nfam=ip${six}
}
batch=${XT_BATCH:-80}

# The OK rules, as parallel arrays: table, chain, arguments, source.
tables=() chains=() rules=() origin=() fams=()
for f in "$@"; do
  chain_set="INPUT,FORWARD,OUTPUT" table=filter fam=4
  case $(basename "$f") in libip6t_*) fam=6 ;; esac
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      ""|\#*|@*|%*) continue ;;
      :*) chain_set=${line#:}; continue ;;
      \**) table=${line#\*}; continue ;;
    esac
    IFS=';' read -r args _ result variant alt <<<"$line"
    # As tests/conformance/tvectors.sh: an NFT line holds for nft, legacy gets ALT or the
    # inverse; xdptables is the legacy flavour.
    if [ "${variant:-}" = NFT ]; then
      if [ -n "${alt:-}" ]; then result=$alt
      elif [ "$result" = OK ]; then result=FAIL
      else result=OK; fi
    fi
    [ "$result" = OK ] || continue
    IFS=',' read -ra chain_list <<<"$chain_set"
    for c in "${chain_list[@]}"; do
      tables+=("$table") chains+=("$c") rules+=("$args") origin+=("$(basename "$f")") fams+=("$fam")
    done
  done <"$f"
done
total=${#rules[@]}
[ "$total" -gt 0 ] || { echo "compat-xt: no rules read"; exit 1; }

builtin_chains() {
  case $1 in
    filter) echo "INPUT FORWARD OUTPUT" ;;
    nat) echo "PREROUTING INPUT OUTPUT POSTROUTING" ;;
    mangle) echo "PREROUTING INPUT FORWARD OUTPUT POSTROUTING" ;;
    raw) echo "PREROUTING OUTPUT" ;;
  esac
}

# Each batch runs in its own namespaces, in a background job writing its report to
# $work/START: FAIL lines, then "counts SAME LOADED FAILURES".
work=$(mktemp -d)
jobs_max=${XT_JOBS:-3}
cleanup() {
  wait
  # Namespaces of this run a killed batch left behind.
  for n in $(ip netns list | awk -v p="xtc$$-" 'index($1, p) == 1 { print $1 }'); do
    ip netns exec "$n" "$xdpt" detach >/dev/null 2>&1
    ip netns del "$n"
  done
  rm -rf "$work"
}
trap cleanup EXIT

# The "-A CHAIN ..." lines of chain $2 in save output $1, one per line.
chain_lines() { awk -v c="$2" '$1 == "-A" && $2 == c' <<<"$1"; }

run_batch() {
  local start=$1 end=$2 ns i t c k key out nsave xs saved real last
  local failn=0 same=0 loaded=0
  use_family "${fams[start]}"
  fail() { failn=$((failn + 1)); printf 'FAIL %s\n' "$@"; }
  new_ns() {
    ns="xtc$$-$1"
    ip netns add "$ns" || { fail "cannot create namespace $ns"; return 1; }
  }
  end_ns() {
    ip netns exec "$ns" "$xdpt" detach >/dev/null 2>&1 || fail "$ns: xdptables detach failed"
    local left
    left=$(ip netns exec "$ns" nft list tables 2>&1)
    [ -z "$left" ] || fail "$ns: tables left after detach: $left"
    ip netns del "$ns"
  }

  # 1. iptables-nft layout: each rule line as iptables-nft decodes it.
  new_ns "$start" || { echo "counts 0 0 $failn"; return; }
  declare -A accepted=()   # "table chain" -> indices of the rules loaded, in order
  declare -A used=()       # tables of the batch
  for ((i = start; i < end; i++)); do
    eval "set -- ${rules[i]}"
    used[${tables[i]}]=1
    if out=$(XDPT_NFT_LAYOUT=iptables-nft XDPT_NFT_XT=conntrack,state,connmark,length ip netns exec "$ns" "$xcmd" -t "${tables[i]}" -A "${chains[i]}" "$@" 2>&1); then
      accepted["${tables[i]} ${chains[i]}"]+="$i "
    else
      fail "${origin[i]}: -t ${tables[i]} -A ${chains[i]} ${rules[i]}: refused: $out"
    fi
  done
  for t in "${!used[@]}"; do
    nsave=$(ip netns exec "$ns" $nsave_cmd -t "$t" 2>&1)
    xs=$(ip netns exec "$ns" "$xsave" -t "$t" 2>&1)
    for key in "${!accepted[@]}"; do
      [ "${key% *}" = "$t" ] || continue
      c=${key#* }
      mapfile -t nl < <(chain_lines "$nsave" "$c")
      mapfile -t xl < <(chain_lines "$xs" "$c")
      read -ra idx <<<"${accepted[$key]}"
      if [[ " $(builtin_chains "$t") " == *" $c "* ]] && [ ${#nl[@]} -eq $(( ${#idx[@]} + 1 )) ]; then
        # A builtin chain's policy as its last rule (compat/nft.cpp may also make it the
        # nftables chain policy, then there is no such line).
        last=$(( ${#nl[@]} - 1 ))
        if [[ "${nl[last]}" =~ ^-A\ $c\ -j\ (ACCEPT|DROP)$ ]]; then
          unset 'nl[last]'
        else
          fail "-t $t $c: one line too many at the end of iptables-nft-save's chain: ${nl[last]}"
        fi
      fi
      if [ ${#nl[@]} -ne ${#idx[@]} ] || [ ${#xl[@]} -ne ${#idx[@]} ]; then
        fail "-t $t $c: ${#idx[@]} rules loaded, iptables-nft-save shows ${#nl[@]}, xdptables-save ${#xl[@]}" \
             "  iptables-nft-save: $(grep -v '^#' <<<"$nsave" | head -5)"
        continue
      fi
      for ((k = 0; k < ${#idx[@]}; k++)); do
        i=${idx[k]}
        if [ "${nl[k]}" = "${xl[k]}" ]; then
          same=$((same + 1))
        else
          fail "${origin[i]}: -t $t -A $c ${rules[i]}" "  iptables-nft-save: ${nl[k]}" "  xdptables-save:    ${xl[k]}"
        fi
      done
    done
  done

  # 2. The real layout: the kernel takes every blob. The batch, saved, is restored in
  # one go (the same rules, each through its extension's to_xt); when that is refused,
  # each rule is appended on its own in a fresh namespace to name the refused ones.
  saved=$(ip netns exec "$ns" "$xsave" 2>&1)
  end_ns
  new_ns "$start-real" || { echo "counts $same 0 $failn"; return; }
  if out=$(ip netns exec "$ns" "$xrestore" <<<"$saved" 2>&1); then
    loaded=$((end - start))
    real=$(ip netns exec "$ns" nft list tables 2>&1)
    for t in "${!used[@]}"; do
      [[ "$real" == *"table $nfam xdptables-$t"* || "$real" == *"table $nfam $t"* ]] ||
        fail "$ns: real layout: no table for $t: $real"
    done
  else
    echo "compat-xt: the real layout refused the batch ($out); appending rule by rule"
    end_ns
    new_ns "$start-real1" || { echo "counts $same 0 $failn"; return; }
    for ((i = start; i < end; i++)); do
      eval "set -- ${rules[i]}"
      if out=$(ip netns exec "$ns" "$xcmd" -t "${tables[i]}" -A "${chains[i]}" "$@" 2>&1); then
        loaded=$((loaded + 1))
      else
        fail "${origin[i]}: (real layout) -t ${tables[i]} -A ${chains[i]} ${rules[i]}: refused: $out"
      fi
    done
  fi
  end_ns
  echo "counts $same $loaded $failn"
}

# Batches of at most $batch rules, each of one family.
starts=()
for ((start = 0; start < total; start = end)); do
  for ((end = start + 1; end < total && end < start + batch && fams[end] == fams[start]; end++)); do :; done
  starts+=("$start")
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
  run_batch "$start" "$end" >"$work/$start" 2>&1 &
done
wait

failn=0 same=0 loaded=0
for start in "${starts[@]}"; do
  grep -v '^counts ' "$work/$start"
  read -r _ s l f < <(grep '^counts ' "$work/$start" || echo "counts 0 0 1")
  same=$((same + s)) loaded=$((loaded + l)) failn=$((failn + f))
done
echo "compat-xt: $total rules; $same decoded identically by iptables-nft-save, $loaded loaded in the real layout; $failn failures"
[ "$failn" = 0 ]
