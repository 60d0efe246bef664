#!/usr/bin/env bash
# iptables 1.8.9's own shell cases (../shared/iptables-1.8.9-tests/shell/testcases) run
# against xdptables the way their run-tests.sh runs them: each in a network namespace of
# its own (unshare -n), with $XT_MULTI naming the multi-call binary, which a case calls
# as `$XT_MULTI iptables ...`, `$XT_MULTI iptables-restore ...`, `$XT_MULTI iptables-xml`.
# The exit status a case must end with is the number after its last '_'.
# XT_MULTI here is a script that execs xdptables-multi with the applet's xdptables name:
# an exec keeps the process, so a case that straces $XT_MULTI (without -f) sees
# xdptables' own system calls.
# Usage: shell.sh BINDIR CASE...   (CASE relative to testcases/, e.g. ipt-save/0007-overhead_0)
set -u
bindir=$(cd "$1" && pwd); shift
shared=${VECTORS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/iptables-1.8.9-tests}
cases_dir="$shared/shell/testcases"
[ -d "$cases_dir" ] || { echo "shell: iptables' shell cases not found ($cases_dir): ../shared is absent"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "shell: needs root (network namespaces)"; exit 77; }
# ipt-save/0007-overhead counts system calls, and passes without looking when strace is
# missing.
command -v strace >/dev/null || { echo "shell: strace missing (tools/install-deps.sh installs it)"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/xt-multi" <<EOT
#!/bin/sh
applet=\$1
shift
case \$applet in
    iptables|iptables-*) applet=xd\${applet#i} ;;
esac
exec "$bindir/xdptables-multi" "\$applet" "\$@"
EOT
chmod +x "$work/xt-multi"

pass=0 fail=0 missing=0
for c in "$@"; do
    f="$cases_dir/$c"
    if [ ! -f "$f" ]; then
        echo "MISSING $c (not in $cases_dir)"
        missing=$((missing + 1))
        continue
    fi
    want=${c##*_}
    out=$(cd "$work" && XT_MULTI="$work/xt-multi" unshare -n bash "$f" 2>&1)
    got=$?
    if [ "$got" = "$want" ]; then
        echo "PASS $c"
        pass=$((pass + 1))
    else
        echo "FAIL $c: exit $got, expected $want"
        printf '%s\n' "$out" | tail -30
        fail=$((fail + 1))
    fi
done
echo "shell: $pass passed, $fail failed, $missing missing"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
