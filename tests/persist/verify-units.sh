#!/usr/bin/env bash
# systemd-analyze verify on the systemd units meson generates (tools/systemd), with the
# binary's installed directory replaced by the build's (verify checks that ExecStart's
# program exists). Any complaint fails the test, warnings included (verify exits 0 on a
# setting it ignores).
# Usage: verify-units.sh BUILD_SBIN_DIR INSTALLED_SBIN_DIR UNIT...
set -u
bindir=$1 sbindir=$2; shift 2
command -v systemd-analyze >/dev/null || { echo "verify-units: skipped: systemd-analyze missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
for unit in "$@"; do
  copy=$tmp/$(basename "$unit")
  sed "s|$sbindir/|$bindir/|g" "$unit" >"$copy"
  if out=$(systemd-analyze verify --man=no "$copy" 2>&1) && [ -z "$out" ]; then
    echo "ok $(basename "$unit")"
  else
    echo "FAIL $(basename "$unit"):"; echo "$out"; rc=1
  fi
done
exit $rc
