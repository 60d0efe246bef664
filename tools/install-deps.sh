#!/bin/sh
# Installs what xdptables needs to build, test and demo, from Debian 12 packages only.
set -eu
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" != 0 ]; then echo "install-deps: run as root" >&2; exit 1; fi
pkgs="g++ meson ninja-build pkg-config \
  clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev linux-libc-dev \
  libnftnl-dev libmnl-dev libboost-dev doctest-dev bats \
  iptables nftables iproute2 netbase procps util-linux kmod gdb \
  xdp-tools tcpdump netsniff-ng python3 groff-base man-db gnuplot-nox ethtool iperf3 systemd ipset strace time"
# Nothing to do when everything is there (a second run of the demo or the tests).
# shellcheck disable=SC2086
if dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | grep -qv 'install ok installed' ||
   [ "$(dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | wc -l)" -ne "$(echo $pkgs | wc -w)" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi
