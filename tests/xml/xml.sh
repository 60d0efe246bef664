#!/usr/bin/env bash
# iptables-xml: xdptables' applet against the iptables-xml of iptables 1.8.9 (Debian's
# package), byte for byte (stdout, stderr, exit status), with every option combination,
# over iptables' own dumps (../shared), the inputs here, and inputs made on the fly that
# reach iptables' limits.
# Usage: xml.sh BINDIR
set -u
multi="$1/xdptables-multi"
here=$(cd "$(dirname "$0")" && pwd)
command -v iptables-xml >/dev/null || { echo "xml: iptables-xml (Debian's iptables package) missing"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import sys
d = sys.argv[1]
def w(name, text):
    open(f"{d}/{name}", "w").write(text)
w("args-254.save", "*filter\n-A INPUT " + "-v " * 252 + "\nCOMMIT\n")
w("args-255.save", "*filter\n-A INPUT " + "-v " * 253 + "\nCOMMIT\n")
w("args-255-last.save", "*filter\n-A I " + "-v " * 252 + "-v")
w("param-1023.save", "*filter\n-A INPUT -m comment --comment " + "x" * 1023 + "\nCOMMIT\n")
w("param-1024.save", "*filter\n-A INPUT -m comment --comment " + "x" * 1024 + "\nCOMMIT\n")
w("long-line.save", "*filter\n-A INPUT -m comment --comment " + "x" * 1000 + " " + "-j A " * 2500 + "\nCOMMIT\n")
w("chains-10240.save", "*filter\n" + "".join(":c%d - [0:0]\n" % i for i in range(10240)) + "COMMIT\n")
w("chains-10241.save", "*filter\n" + "".join(":c%d - [0:0]\n" % i for i in range(10241)) + "COMMIT\n")
PY

inputs=("$here"/inputs/*.save "$work"/*.save)
[ -d "${VECTORS:-}" ] && inputs+=("$VECTORS"/dumps/* "$VECTORS"/shell/testcases/ipt-save/dumps/*)
pass=0 fail=0
compare() {  # $1 = description, then the arguments; stdin is the input
    local what=$1; shift
    iptables-xml "$@" <"$work/in" >"$work/r.out" 2>"$work/r.err"; local rr=$?
    "$multi" iptables-xml "$@" <"$work/in" >"$work/d.out" 2>"$work/d.err"; local rd=$?
    if [ $rr = $rd ] && cmp -s "$work/r.out" "$work/d.out" && cmp -s "$work/r.err" "$work/d.err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $what: exit $rr (iptables-xml) vs $rd"
        diff -u "$work/r.out" "$work/d.out" | head -20
        diff -u "$work/r.err" "$work/d.err" | head -10
    fi
}
for f in "${inputs[@]}"; do
    cp "$f" "$work/in"
    for opts in "" "-c" "-v" "-c -v" "--combine --verbose"; do
        # shellcheck disable=SC2086
        compare "$(basename "$f") [$opts]" $opts
    done
done
: >"$work/in"
compare "-h" -h
compare "--help" --help
compare "unknown option" -q -c
compare "two files" a b
compare "missing file" "$work/nonexistent"
cp "$here/inputs/mixed.save" "$work/file.save"
compare "file argument" -c "$work/file.save"
echo "xml: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
