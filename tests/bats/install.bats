#!/usr/bin/env bats
# `meson install --destdir`: the binary, its four applet links and the three man pages.

load helpers

@test "meson install --destdir installs xdptables, the four links and the man pages" {
  local build dest opts prefix sbindir mandir
  build=$(cd "$XDPT_BINDIR/.." && pwd)
  dest=$BATS_TEST_TMPDIR/dest
  run meson install -C "$build" --no-rebuild --destdir "$dest"
  [ "$status" = 0 ] || { echo "$output"; return 1; }
  opts=$(meson introspect "$build" --buildoptions)
  prefix=$(jq -r '.[] | select(.name == "prefix") | .value' <<<"$opts")
  sbindir=$(jq -r '.[] | select(.name == "sbindir") | .value' <<<"$opts")
  mandir=$(jq -r '.[] | select(.name == "mandir") | .value' <<<"$opts")
  local bin=$dest$prefix/$sbindir man=$dest$prefix/$mandir/man8
  [ -f "$bin/xdptables" ] && [ -x "$bin/xdptables" ] && [ ! -L "$bin/xdptables" ]
  local a
  for a in xdptables-save xdptables-restore xdptables-multi xdptables-xml; do
    [ -L "$bin/$a" ]
    [ "$(readlink "$bin/$a")" = xdptables ]
  done
  # xdptables-xml converts as Debian's iptables-xml (1.8.9) does.
  local in='*filter\n:INPUT DROP [1:2]\n:X - [0:0]\n-A INPUT -p tcp --dport 22 -j X\n-A X -j ACCEPT\nCOMMIT\n'
  if command -v iptables-xml >/dev/null; then
    [ "$(printf "$in" | "$bin/xdptables-xml" -c)" = "$(printf "$in" | iptables-xml -c)" ]
  fi
  run "$bin/xdptables-save" -V
  [ "$output" = "xdptables-save v1.8.9 (xdp)" ]
  run "$bin/xdptables-restore" -V
  [ "$output" = "xdptables-restore v1.8.9 (xdp)" ]
  run "$bin/xdptables-multi" xdptables -V
  [ "$output" = "xdptables v1.8.9 (xdp)" ]
  for a in xdptables xdptables-save xdptables-restore; do
    [ -s "$man/$a.8" ]
    # a man page of section 8 that names its program
    grep -q '^\.TH' "$man/$a.8"
    run man -l -P cat "$man/$a.8"
    [ "$status" = 0 ]
    [[ "$output" == *"$a"* ]]
  done
}
