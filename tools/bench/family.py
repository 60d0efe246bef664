#!/usr/bin/env python3
"""IPv6 against IPv4: the classifier's cost (BPF_PROG_TEST_RUN, ns per packet) on the same
ruleset shapes in both families, in one namespace and one program (both rulesets loaded
side by side), at 10 / 1,000 / 10,000 rules, with the class cache missed (XDPT_NO_CACHE=1:
every packet walks) and hit.

    python3 tools/bench/family.py --bin build/src --testrun PATH [--repeat N] [--sizes 10,1000]

The testrun tool is tools/bench/testrun.c (`cc -O2 -o testrun tools/bench/testrun.c -lbpf`).
The namespace is xdp6_bench (veth xdp6b0/xdp6b1), removed at the end.

Shape "wildcard" (shapes.py's): a third source blocklist entries (/32, /128), a third
source prefix (/24, /64) with a TCP port, a third UDP port accepts, then the rule that
drops the flood (its source, UDP, its port): every rule wildcards a field the flood has,
the walk visits every word. Shape "worst" (bench.py's): every rule a distinct source and
port, the flood's rule last.
"""
import argparse
import json
import statistics
import struct
import subprocess
import sys

NS = "xdp6_bench"
DUT, PEER = "xdp6b0", "xdp6b1"
DUT_MAC, PEER_MAC = "02:00:5e:00:06:01", "02:00:5e:00:06:02"
V4 = {"dut": "198.18.0.2", "gen": "198.18.0.1"}
V6 = {"dut": "2001:db8::2", "gen": "2001:db8::1"}
FLOOD_DPORT = 9


def sh(cmd, ns=None, input=None, env=None, check=True):
    full = (["ip", "netns", "exec", ns] if ns else []) + cmd
    if env:
        full = ["env"] + [f"{k}={v}" for k, v in env.items()] + full
    r = subprocess.run(full, input=input, capture_output=True, text=True, timeout=900)
    if check and r.returncode:
        sys.exit(f"failed: {' '.join(full)}: {r.stderr}")
    return r.stdout


def header():
    return ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]


def wildcard(n, v6):
    out = header()
    for i in range(n):
        k = i % 3
        a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
        if k == 0:
            src = f"2001:db8:a:{a:x}:{b:x}:{c:x}::1/128" if v6 else f"10.{a}.{b}.{c}/32"
            out.append(f"-A INPUT -s {src} -j DROP")
        elif k == 1:
            src = f"2001:db8:b:{(16 + a % 16):x}{b:02x}::/64" if v6 else f"172.{16 + a % 16}.{b}.0/24"
            out.append(f"-A INPUT -s {src} -p tcp -m tcp --dport {1 + i % 60000} -j DROP")
        else:
            out.append(f"-A INPUT -p udp -m udp --dport {10 + i % 60000} -j ACCEPT")
    return out


def worst(n, v6):
    out = header()
    for i in range(n):
        a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
        src = f"2001:db8:c:{a:x}:{b:x}:{c:x}::1/128" if v6 else f"10.{a}.{b}.{c}/32"
        out.append(f"-A INPUT -s {src} -p udp -m udp --dport {100 + i % 60000} -j DROP")
    return out


def ruleset(shape, n, v6):
    gen = (V6 if v6 else V4)["gen"]
    lines = {"wildcard": wildcard, "worst": worst}[shape](n, v6)
    lines.append(f"-A INPUT -s {gen}/{128 if v6 else 32} -p udp -m udp --dport {FLOOD_DPORT} -j DROP")
    return "\n".join(lines + ["COMMIT", ""])


def mac(m):
    return bytes(int(x, 16) for x in m.split(":"))


def frame(v6):
    udp = struct.pack("!HHHH", 1000, FLOOD_DPORT, 8 + 18, 0) + bytes(18)
    if v6:
        import ipaddress
        ip = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + \
            ipaddress.ip_address(V6["gen"]).packed + ipaddress.ip_address(V6["dut"]).packed
        return mac(DUT_MAC) + mac(PEER_MAC) + b"\x86\xdd" + ip + udp
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                               bytes(int(x) for x in V4["gen"].split(".")),
                               bytes(int(x) for x in V4["dut"].split("."))))
    s = sum(struct.unpack("!10H", bytes(ip)))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    ip[10:12] = struct.pack("!H", ~s & 0xFFFF)
    return mac(DUT_MAC) + mac(PEER_MAC) + b"\x08\x00" + bytes(ip) + udp


def setup():
    sh(["ip", "netns", "add", NS])
    for c in [["ip", "link", "set", "lo", "up"],
              ["ip", "link", "add", DUT, "address", DUT_MAC, "type", "veth", "peer", "name", PEER, "address", PEER_MAC],
              ["sysctl", "-qw", f"net.ipv6.conf.{DUT}.accept_dad=0"],
              ["ip", "addr", "add", V4["dut"] + "/24", "dev", DUT],
              ["ip", "-6", "addr", "add", V6["dut"] + "/64", "dev", DUT, "nodad"],
              ["ip", "link", "set", DUT, "up"], ["ip", "link", "set", PEER, "up"]]:
        sh(c, ns=NS)


def teardown():
    sh([f"{args.bin}/xdptables", "detach"], ns=NS, check=False)
    sh(["ip", "netns", "del", NS], check=False)


def run(frames, repeat):
    out = sh([args.testrun, "--anchor", "--ifname", DUT, "--repeat", str(repeat)], ns=NS,
             input="".join(f.hex() + "\n" for f in frames))
    return [tuple(int(x) for x in line.split()) for line in out.splitlines()]


def measure(shape, n, nocache):
    env = {"XDPT_NO_CACHE": "1"} if nocache else None
    sh([f"{args.bin}/xdptables", "detach"], ns=NS, check=False)
    sh([f"{args.bin}/xdptables-restore"], ns=NS, input=ruleset(shape, n, False), env=env)
    if not args.v4_only:
        sh([f"{args.bin}/ip6tables-restore"], ns=NS, input=ruleset(shape, n, True), env=env)
    f4, f6 = frame(False), frame(True)
    t4, t6 = [], []
    for _ in range(args.runs):  # interleaved: the machine's noise falls on both
        if args.v4_only:  # (a build without IPv6 in XDP: IPv4 alone)
            (a4, n4), = run([f4], args.repeat)
            a6, n6 = 1, 0
        else:
            (a4, n4), (a6, n6) = run([f4, f6], args.repeat)
        if a4 != 1 or a6 != 1:
            sys.exit(f"{shape}/{n}: the flood was not dropped (IPv4 action {a4}, IPv6 {a6})")
        t4.append(n4)
        t6.append(n6)
    return statistics.median(t4), statistics.median(t6)


ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("--testrun", required=True)
ap.add_argument("--repeat", type=int, default=20000)
ap.add_argument("--runs", type=int, default=7)
ap.add_argument("--sizes", default="10,1000,10000")
ap.add_argument("--shapes", default="wildcard,worst")
ap.add_argument("--v4-only", action="store_true")
args = ap.parse_args()
if open("/proc/sys/kernel/bpf_stats_enabled").read().strip() != "0":
    sys.exit("kernel.bpf_stats_enabled is on: the figures would hold its cost")
setup()
results = []
try:
    for shape in args.shapes.split(","):
        for n in [int(x) for x in args.sizes.split(",")]:
            for nocache in (True, False):
                t4, t6 = measure(shape, n, nocache)
                r = {"shape": shape, "rules": n, "cache": "miss" if nocache else "hit", "ipv4_ns": t4, "ipv6_ns": t6,
                     "ratio": round(t6 / t4, 3) if t4 else None}
                results.append(r)
                print(f"{shape:9} {n:6} cache {r['cache']:4}  IPv4 {t4:6} ns  IPv6 {t6:6} ns  ratio {r['ratio']}",
                      flush=True)
finally:
    teardown()
print(json.dumps(results))
