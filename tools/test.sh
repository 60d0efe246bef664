#!/bin/sh
# Installs the dependencies, builds, and runs every test (unit, command line, iptables'
# own vectors, the differential tests against iptables-legacy, the dataplane tests).
# Run as root from the repository: sudo tools/test.sh
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
meson test -C build --print-errorlogs --num-processes 1 "$@"
