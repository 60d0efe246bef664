#!/bin/sh
# Installs what xdptables needs to build, test and demo, from Debian 12 packages only.
set -eu
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" != 0 ]; then echo "install-deps: run as root" >&2; exit 1; fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  g++ meson ninja-build pkg-config \
  clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev linux-libc-dev \
  libnftnl-dev libmnl-dev libboost-dev doctest-dev bats \
  iptables nftables iproute2 netbase procps util-linux kmod \
  xdp-tools tcpdump netsniff-ng python3 groff-base man-db >/dev/null
