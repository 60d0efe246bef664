#!/bin/sh
# The main job in two throwaway network namespaces: a generator floods UDP at a host
# whose xdptables ruleset drops it in XDP; the rule's counters move, the host's
# sockets never see the flood, and its other traffic still flows. Installs and builds
# first. Run as root from the repository: sudo tools/demo.sh
set -eu
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh >/dev/null
bin=$PWD/build/src
gen=xdemo-gen-$$ dut=xdemo-dut-$$
cleanup() {
  ip netns exec "$dut" "$bin/xdptables" detach 2>/dev/null || true
  ip netns del "$gen" 2>/dev/null || true
  ip netns del "$dut" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$gen"
ip netns add "$dut"
ip -n "$gen" link add veth0 type veth peer name veth1 netns "$dut"
ip -n "$gen" addr add 198.18.0.1/24 dev veth0
ip -n "$dut" addr add 198.18.0.2/24 dev veth1
for ns in "$gen" "$dut"; do ip -n "$ns" link set lo up; done
ip -n "$gen" link set veth0 up
ip -n "$dut" link set veth1 up
X() { ip netns exec "$dut" "$@"; }
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "# the host's ruleset, typed as for iptables"
set -x
X "$bin/xdptables" -A INPUT -i lo -j ACCEPT
X "$bin/xdptables" -A INPUT -p udp --dport 9 -s 198.18.0.1 -j DROP
X "$bin/xdptables" -A INPUT -p udp --dport 7 -j ACCEPT
X "$bin/xdptables" -P INPUT DROP
set +x
say "# the program runs at the driver of every interface"
X ip -d link show veth1 | grep -o 'prog/xdp[a-z]* id [0-9]*' || true

# A UDP sink on port 9 and an echo-ish receiver on port 7 in the host.
X python3 - <<'PY' &
import socket, time
s9 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s9.bind(("198.18.0.2", 9))
s7 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s7.bind(("198.18.0.2", 7))
s9.settimeout(0.2); s7.settimeout(0.2)
got9 = got7 = 0
end = time.time() + 8
while time.time() < end:
    for s in (s9, s7):
        try:
            s.recv(2048)
            if s is s9: got9 += 1
            else: got7 += 1
        except socket.timeout:
            pass
open("/tmp/xdemo-sink-result", "w").write(f"{got9} {got7}\n")
PY
sink=$!
sleep 0.5

say "# flood: 200000 UDP packets to port 9, then 10 to port 7 (bounded: at most 5 s)"
ip netns exec "$gen" python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"x" * 18
n, t0 = 0, time.time()
while n < 200000 and time.time() - t0 < 5:
    try:
        s.sendto(payload, ("198.18.0.2", 9)); n += 1
    except BlockingIOError:
        pass
dt = time.time() - t0
for i in range(10):
    s.sendto(b"hello", ("198.18.0.2", 7))
print(f"sent {n} packets in {dt:.2f} s ({n / dt / 1000:.0f} kpps)")
PY
sleep 0.5
say "# the counters, as iptables -L -v would show them"
X "$bin/xdptables" -L INPUT -v -n -x
say "# and as iptables-save -c"
X "$bin/xdptables-save" -c
wait "$sink" || true
read -r got9 got7 </tmp/xdemo-sink-result
rm -f /tmp/xdemo-sink-result
say "# the host's sockets received: port 9 (dropped in XDP): $got9, port 7 (accepted): $got7"
say "# detach: no program or map is left behind"
X "$bin/xdptables" detach
X ip -d link show veth1 | grep -c 'prog/xdp' || true
