#!/usr/bin/env bash
# iptables 1.8.9's own shell cases (../shared/iptables-1.8.9-tests/shell/testcases) run
# against xdptables the way their run-tests.sh runs them: each in a network namespace of
# its own (unshare -n), with $XT_MULTI naming the multi-call binary, which a case calls
# as `$XT_MULTI iptables ...`, `$XT_MULTI iptables-restore ...`, `$XT_MULTI iptables-xml`.
# The exit status a case must end with is the number after its last '_'.
#
# The cases are found here, not listed by hand: every file of testcases/ named *_N. Each
# is first run with iptables-legacy's multi binary (run-tests.sh --legacy --host); a case
# legacy fails on this kernel is skipped, saying so, and one in `excluded` below is skipped
# with its reason. The others must pass against xdptables, printing what they printed with
# iptables-legacy.
# XT_MULTI is xdptables-multi itself, which a case calls by iptables' applet names
# (`$XT_MULTI iptables-save`): under them xdptables answers as iptables 1.8.9, messages and
# help included (iptables/0008-unprivileged greps for "iptables -h"). A case that straces
# $XT_MULTI sees xdptables' own system calls.
# Usage: shell.sh BINDIR [CASE...]   (CASE relative to testcases/, e.g. ipt-save/0007-overhead_0;
# without one, every case)
set -u
bindir=$(cd "$1" && pwd); shift
shared=${VECTORS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/iptables-1.8.9-tests}
cases_dir="$shared/shell/testcases"
[ -d "$cases_dir" ] || { echo "shell: iptables' shell cases not found ($cases_dir): ../shared is absent"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "shell: needs root (network namespaces)"; exit 77; }
# ipt-save/0007-overhead and ipt-restore/0017-pointless-compat-checks count system calls,
# and pass without looking when strace is missing.
command -v strace >/dev/null || { echo "shell: strace missing (tools/install-deps.sh installs it)"; exit 77; }
legacy=$(PATH=$PATH:/usr/sbin:/sbin command -v xtables-legacy-multi) ||
    { echo "shell: xtables-legacy-multi missing, the oracle that says which cases pass here (tools/install-deps.sh installs iptables)"; exit 77; }
# iptables/0008-unprivileged runs $XT_MULTI as nobody (so BINDIR must be open to others).
command -v runuser >/dev/null || { echo "shell: runuser missing (util-linux)"; exit 77; }

# Cases not run against xdptables, and why. Each reason is printed when the case is skipped.
declare -A excluded=(
    # iptables-nft only: each exits 0 at once unless $XT_MULTI is xtables-nft-multi (they
    # check nf_tables' own chains, policies and expressions), so it could not fail here.
    [chain/0004extra-base_0]="iptables-nft only: base chains nft made beside iptables-nft's"
    [nft-only/0001compat_0]="iptables-nft only: nft chains iptables-nft did not make"
    [nft-only/0002invflags_0]="iptables-nft only: inverted flags in nft expressions, ebtables"
    [nft-only/0003delete-with-comment_0]="iptables-nft only: comments in nft rules"
    [nft-only/0006-policy-override_0]="iptables-nft only: nft base chain policies"
    [nft-only/0007-mid-restore-flush_0]="iptables-nft only: nft flush ruleset during a restore"
    [nft-only/0008-basechain-policy_0]="iptables-nft only: nft base chain policies"
    [nft-only/0009-needless-bitwise_0]="iptables-nft only: nft bytecode (nft list)"
    [nft-only/0010-native-delinearize_0]="iptables-nft only: rules nft wrote, read by iptables-nft-save"
)
# Cases whose IPv6 half is run by iptables-legacy (`$XT_MULTI ip6tables*` going to it), so
# that their IPv4 half is checked against xdptables; reported as such. None today: every
# case runs whole through xdptables.
declare -A ipv6_by_legacy=()

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
multi="$bindir/xdptables-multi"
# For ipv6_by_legacy; an exec keeps the process (a case that straces $XT_MULTI sees the
# program it runs).
mixed="$work/xt-multi-ip6-legacy"
cat >"$mixed" <<EOT
#!/bin/sh
case \$1 in
    ip6tables*) exec "$legacy" "\$@" ;;
    *) exec "$multi" "\$@" ;;
esac
EOT
chmod 755 "$work" "$mixed"

# run_case MULTI FILE: the case's exit status; its output in $work/out, with what differs
# between runs by design made alike: $XT_MULTI's path, mktemp's names, and bash's traces
# (set -x: the order in which a pipeline's commands are traced varies).
# run-tests.sh executes a case (its #! line may carry -e); one not marked executable
# (ipt-save/0003save-restore_0 in 1.8.9, which run-tests.sh therefore never ran) goes
# through bash.
run_case() {
    local status
    if [ -x "$2" ]; then
        (cd "$work" && XT_MULTI=$1 unshare -n "$2") >"$work/raw" 2>&1
    else
        (cd "$work" && XT_MULTI=$1 unshare -n bash "$2") >"$work/raw" 2>&1
    fi
    status=$?
    sed -e "s|$1|XT_MULTI|g" -e "s|/tmp/tmp\\.[A-Za-z0-9]*|TMP|g" -e "/^++* /d" "$work/raw" >"$work/out"
    return $status
}

if [ $# = 0 ]; then
    mapfile -t cases < <(cd "$cases_dir" && find . -type f -regex '.*_[0-9]+' | sed 's|^\./||' | sort)
else
    cases=("$@")
fi

pass=0 half=0 fail=0 skip=0 excl=0
for c in "${cases[@]}"; do
    f="$cases_dir/$c"
    if [ ! -f "$f" ]; then
        echo "FAIL $c: not in $cases_dir"
        fail=$((fail + 1))
        continue
    fi
    if [ -n "${excluded[$c]:-}" ]; then
        echo "EXCLUDED $c: ${excluded[$c]}"
        excl=$((excl + 1))
        continue
    fi
    want=${c##*_}
    run_case "$legacy" "$f"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "SKIP $c: iptables-legacy fails it on this kernel (exit $got, expected $want)"
        skip=$((skip + 1))
        continue
    fi
    mv "$work/out" "$work/legacy.out"
    how=
    if [ -n "${ipv6_by_legacy[$c]:-}" ]; then
        run_case "$mixed" "$f"
        how=" (IPv4 half; iptables-legacy ran the IPv6 half: ${ipv6_by_legacy[$c]})"
    else
        run_case "$multi" "$f"
    fi
    got=$?
    # Beyond the exit status the case checks, what it printed (messages of commands it
    # expects to fail, warnings) must be what it printed with iptables-legacy.
    if [ "$got" != "$want" ]; then
        echo "FAIL $c$how: exit $got, expected $want"
        tail -30 "$work/out"
        fail=$((fail + 1))
    elif ! cmp -s "$work/legacy.out" "$work/out"; then
        echo "FAIL $c$how: exit $got as expected, but its output differs from iptables-legacy's (-legacy +xdptables):"
        diff "$work/legacy.out" "$work/out" | head -30
        fail=$((fail + 1))
    elif [ -n "$how" ]; then
        echo "PASS $c$how"
        half=$((half + 1))
    else
        echo "PASS $c"
        pass=$((pass + 1))
    fi
done
echo "shell: ${#cases[@]} cases: $pass passed, $half passed their IPv4 half, $fail failed, $excl excluded, $skip failed by iptables-legacy here"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
