#!/bin/sh
# Registers xdptables as an alternative for Debian's `iptables` group, the way the iptables
# package registers iptables-legacy and iptables-nft: master /usr/sbin/iptables, slaves
# iptables-restore and iptables-save. The binary answers to those names by argv[0] and
# prints what iptables-legacy 1.8.9 prints (`iptables -V`: iptables v1.8.9 (legacy)).
#
# Usage: tools/alternatives.sh install|remove [options]
#   --sbindir DIR     where xdptables, xdptables-save, xdptables-restore are
#                     (default: the directory of `xdptables` in PATH)
#   --priority N      install: the priority (default 30; iptables-nft has 20, -legacy 10:
#                     in auto mode xdptables is then chosen)
#   --linkdir DIR     where the iptables links are (default /usr/sbin)
#   --altdir DIR, --admindir DIR, --log FILE   passed to update-alternatives (a private
#                     registry, for tests)
#
# remove unregisters xdptables only: in auto mode the group goes back to its best other
# member, a manual choice of another member is left as it was.
set -eu
usage() { sed -n '7,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
action=$1; shift
case "$action" in install|remove) ;; *) usage ;; esac
sbindir= priority=30 linkdir=/usr/sbin
ua_opts=
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --sbindir) sbindir=$2 ;;
    --priority) priority=$2 ;;
    --linkdir) linkdir=$2 ;;
    --altdir|--admindir|--log) ua_opts="$ua_opts $1 $2" ;;
    *) usage ;;
  esac
  shift 2
done
if [ -z "$sbindir" ]; then
  bin=$(command -v xdptables) || { echo "alternatives.sh: xdptables not in PATH (give --sbindir)" >&2; exit 1; }
  sbindir=$(dirname "$bin")
fi
command -v update-alternatives >/dev/null || { echo "alternatives.sh: update-alternatives missing" >&2; exit 1; }
# shellcheck disable=SC2086 # ua_opts is a list of options
case "$action" in
  install)
    for a in xdptables xdptables-save xdptables-restore xdp6tables xdp6tables-save xdp6tables-restore; do
      [ -x "$sbindir/$a" ] || { echo "alternatives.sh: $sbindir/$a missing" >&2; exit 1; }
    done
    # The ip6tables group the same way: called as ip6tables, the binary is ip6tables.
    for x in "" 6; do
      update-alternatives $ua_opts --install "$linkdir/ip${x}tables" "ip${x}tables" "$sbindir/xdp${x}tables" "$priority" \
        --slave "$linkdir/ip${x}tables-restore" "ip${x}tables-restore" "$sbindir/xdp${x}tables-restore" \
        --slave "$linkdir/ip${x}tables-save" "ip${x}tables-save" "$sbindir/xdp${x}tables-save"
    done
    ;;
  remove)
    update-alternatives $ua_opts --remove iptables "$sbindir/xdptables"
    update-alternatives $ua_opts --remove ip6tables "$sbindir/xdp6tables"
    ;;
esac
