#!/usr/bin/env python3
"""The benchmark suite of xdptables (issue 5): drop rate over veth, classifier cost by
BPF_PROG_TEST_RUN, control plane timings, BPF map memory; every system in the same run
on the same machine, medians of several runs, ratios against the targets.

Run through tools/bench/run (which builds first). Everything it creates is named
xbench-* (network namespaces) and removed at the end; it touches nothing else.
"""
import argparse
import datetime
import ipaddress
import json
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build-bench")
# XDPT_BENCH_BIN: another build's src/ directory measured instead (an earlier commit's,
# for a before/after in the same conditions).
XDPT_BIN = os.environ.get("XDPT_BENCH_BIN") or os.path.join(BUILD, "out", "src")
TESTRUN = os.path.join(BUILD, "bench", "testrun")
FLOOR_OBJ = os.path.join(BUILD, "bench", "floor.bpf.o")
ROUTE_OBJ = os.path.join(BUILD, "bench", "route.bpf.o")

NS_GEN = "xbench-gen"
NS_CP = "xbench-cp"
DUT_IF = "xbd"
DUT_ADDR = "198.18.0.2"
GEN_ADDR = "198.18.0.1"
FLOOD_DPORT = 9
# The systems of the drop-rate test, each with a DUT namespace of its own behind a veth
# from the generator namespace.
SYSTEMS = ["floor", "legacy", "nft", "xdptables"]
RESTORE = {
    "legacy": ["iptables-legacy-restore", "-w", "5"],
    "nft": ["iptables-nft-restore", "-w", "5"],
    "xdptables": [os.path.join(XDPT_BIN, "xdptables-restore"), "-w", "5"],
}
CLI = {
    "legacy": ["iptables-legacy", "-w", "5"],
    "nft": ["iptables-nft", "-w", "5"],
    "xdptables": [os.path.join(XDPT_BIN, "xdptables"), "-w", "5"],
}
LABEL = {"floor": "XDP_DROP floor", "legacy": "iptables-legacy", "nft": "iptables-nft", "xdptables": "xdptables"}


class Family:
    """What an IPv4 and an IPv6 run of the drop-rate benchmark differ in: the addresses
    (generator, DUT, their prefix), the namespaces' prefix (both families can run side by
    side), the netfilter tools and xdptables' name for the family."""

    def __init__(self, v, prefix, gen, dut, plen, restore, cli, label):
        self.v, self.prefix, self.gen, self.dut, self.plen = v, prefix, gen, dut, plen
        self.host = 32 if v == 4 else 128  # a host's prefix length
        self.restore, self.cli, self.label = restore, cli, label

    def ns(self, system):
        """The namespace of a system (or "gen": the generator's)."""
        return f"{self.prefix}-{system}"


V4 = Family(4, "xbench", GEN_ADDR, DUT_ADDR, 24, RESTORE, CLI, LABEL)
V6 = Family(6, "xbench6", "2001:db8::1", "2001:db8::2", 64, {
    "legacy": ["ip6tables-legacy-restore", "-w", "5"],
    "nft": ["ip6tables-nft-restore", "-w", "5"],
    "xdptables": [os.path.join(XDPT_BIN, "xdp6tables-restore"), "-w", "5"],
}, {
    "legacy": ["ip6tables-legacy", "-w", "5"],
    "nft": ["ip6tables-nft", "-w", "5"],
    "xdptables": [os.path.join(XDPT_BIN, "xdp6tables"), "-w", "5"],
}, {"floor": "XDP_DROP floor", "legacy": "ip6tables-legacy", "nft": "ip6tables-nft", "xdptables": "xdp6tables"})
FAMILIES = {4: V4, 6: V6}

created = []  # namespaces this run made, removed at exit


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(cmd, ns=None, input=None, check=True, timeout=600):
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[:500]}")
    return r.stdout


def timed(cmd, ns, stdin_file=None):
    """Wall time of one command run inside `ns`, taken inside the namespace (so the cost
    of entering it is not counted), in seconds."""
    script = 's=$(date +%s%N); "$@" <"$XB_IN" >/dev/null || exit 3; e=$(date +%s%N); echo $((e - s))'
    env = dict(os.environ, XB_IN=stdin_file or "/dev/null")
    r = subprocess.run(["ip", "netns", "exec", ns, "bash", "-c", script, "timed"] + cmd,
                       capture_output=True, text=True, env=env, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} in {ns}: {r.stderr.strip()[:500]}")
    return int(r.stdout.strip()) / 1e9


# ---------------------------------------------------------------- namespaces

def ns_exists(name):
    return name in sh(["ip", "netns", "list"]).split()


def ns_delete(name):
    if not ns_exists(name):
        return
    # xdptables' state vanishes with the namespace; detach first all the same, so that
    # nothing of it outlives a namespace kept open by someone else.
    if os.path.exists(os.path.join(XDPT_BIN, "xdptables")):
        sh([os.path.join(XDPT_BIN, "xdptables"), "detach"], ns=name, check=False)
    sh(["ip", "netns", "del", name], check=False)


def ns_create(name, ipv6=False):
    """A fresh namespace, IPv6 off unless asked for (then without duplicate address
    detection: addresses are usable at once, and nothing is sent for them)."""
    ns_delete(name)
    sh(["ip", "netns", "add", name])
    created.append(name)
    sh(["ip", "link", "set", "lo", "up"], ns=name)
    if ipv6:
        for conf in ("all", "default"):
            sh(["sysctl", "-qw", f"net.ipv6.conf.{conf}.accept_dad=0"], ns=name)
        return
    sh(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], ns=name)
    sh(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"], ns=name)


def cleanup():
    for name in reversed(created):
        ns_delete(name)
    created.clear()


def link_json(ns, dev, stats=False):
    cmd = ["ip", "-n", ns, "-j", "-d"] + (["-s"] if stats else []) + ["link", "show", "dev", dev]
    return json.loads(sh(cmd))[0]


def rx_packets(ns):
    return link_json(ns, DUT_IF, stats=True)["stats64"]["rx"]["packets"]


def ip_in_receives(ns, fam=V4):
    """IP packets the kernel's stack received in `ns` (what XDP did not drop)."""
    if fam.v == 6:
        return int(next(l.split()[1] for l in sh(["cat", "/proc/net/snmp6"], ns=ns).splitlines()
                        if l.startswith("Ip6InReceives ")))
    lines = [l.split() for l in sh(["cat", "/proc/net/snmp"], ns=ns).splitlines() if l.startswith("Ip:")]
    return int(lines[1][lines[0].index("InReceives")])


def setup_dut(system, fam=V4):
    """DUT namespace xbench-<system>: veth xbd 198.18.0.2/24, its peer xbg-<system> in
    the generator namespace (IPv6: xbench6-<system>, 2001:db8::2/64; the generator's
    namespace keeps IPv6 off, it only sends trafgen's frames). Returns the DUT's MAC."""
    ns = fam.ns(system)
    ns_create(ns, ipv6=fam.v == 6)
    # Reverse path filtering off (the default of a new namespace unless the host's
    # defaults say otherwise): with it on, routing may drop a packet before INPUT, so
    # xdptables leaves INPUT to the kernel and the flood would not be judged in XDP.
    for conf in ("all", "default"):
        sh(["sysctl", "-qw", f"net.ipv4.conf.{conf}.rp_filter=0"], ns=ns)
    gen_if = f"xbg-{system}"[:15]
    ns_gen = fam.ns("gen")
    sh(["ip", "link", "add", gen_if, "netns", ns_gen, "type", "veth", "peer", "name", DUT_IF, "netns", ns])
    sh(["ip", "addr", "add", f"{fam.dut}/{fam.plen}", "dev", DUT_IF] + (["nodad"] if fam.v == 6 else []), ns=ns)
    sh(["ip", "link", "set", DUT_IF, "up"], ns=ns)
    sh(["ip", "link", "set", gen_if, "up"], ns=ns_gen)
    # The generator's address is a permanent neighbour: the DUT never asks for it (no
    # ARP, no neighbour discovery).
    gen_mac = link_json(ns_gen, gen_if)["address"]
    sh(["ip", "neigh", "replace", fam.gen, "lladdr", gen_mac, "dev", DUT_IF, "nud", "permanent"], ns=ns)
    if system == "floor":
        sh(["ip", "link", "set", "dev", DUT_IF, "xdpdrv", "obj", FLOOR_OBJ, "sec", "xdp"], ns=ns)
    elif system == "floorgen":  # the same program in generic mode, xdptables' mode on a veth
        sh(["ip", "link", "set", "dev", DUT_IF, "xdpgeneric", "obj", FLOOR_OBJ, "sec", "xdp"], ns=ns)
    return link_json(ns, DUT_IF)["address"], gen_mac


def xdp_mode(ns):
    x = link_json(ns, DUT_IF).get("xdp")
    if not x:
        return "none"
    return {1: "native", 2: "generic", 3: "offload"}.get(x.get("mode"), str(x.get("mode")))


# ---------------------------------------------------------------- rulesets

def worst_case(n, fam=V4):
    """N rules the flood does not match (distinct /32 sources in 198.19.0.0/16, IPv6:
    /128 in 2001:db8:c::/48; UDP, distinct ports), then the rule that drops it: the worst
    case of a linear chain."""
    out = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for i in range(n):
        out.append(f"-A INPUT -s {worst_src(i, fam)}/{fam.host} -p udp -m udp --dport {worst_port(i)} -j DROP")
    out.append(f"-A INPUT -s {fam.gen}/{fam.host} -p udp -m udp --dport {FLOOD_DPORT} -j DROP")
    out += ["COMMIT", ""]
    return "\n".join(out)


def worst_src(i, fam=V4):
    if fam.v == 6:
        return f"2001:db8:c:{(i >> 16) & 255:x}:{(i >> 8) & 255:x}:{i & 255:x}::1"
    return f"198.19.{(i >> 8) & 255}.{i & 255}"


def block_src(i, fam=V4):
    """The i-th source of a blocklist (shapes.py): 10.0.0.0/8, IPv6 2001:db8:a::/48."""
    a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
    return f"2001:db8:a:{a:x}:{b:x}:{c:x}::1" if fam.v == 6 else f"10.{a}.{b}.{c}"


def worst_port(i):
    return 1024 + i % 60000


def random_prefix(r, fam=V4):
    """A random prefix in 198.18.0.0/15 of length 15 to 32; IPv6 the same draw 32 bits
    longer, in 2001:db8::/47: its /64 what IPv4's /32 is (the generator and the DUT are
    both in 2001:db8::/64 as in 198.18.0.0/24)."""
    length = r.choice([15, 16, 20, 24, 24, 28, 32, 32])
    if fam.v == 6:
        length += 32
        addr = (0x20010DB8 << 96) + (r.randrange(1 << 17) << 64)
        addr &= ((1 << 128) - 1) << (128 - length)
        return f"{ipaddress.IPv6Address(addr)}/{length}"
    addr = (198 << 24 | 18 << 16) + r.randrange(1 << 17)
    addr &= (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
    return f"{addr >> 24}.{addr >> 16 & 255}.{addr >> 8 & 255}.{addr & 255}/{length}"


# IPv4's ICMP types of random_rules and their ICMPv6 counterparts (echo reply,
# destination unreachable, echo request, time exceeded).
ICMP6_TYPE = {0: 129, 3: 1, 8: 128, 11: 3}


def random_rules(n, seed=5, fam=V4):
    """N random filter INPUT/FORWARD rules over addresses, protocols, ports, ICMP types,
    TTL-free: what a real firewall holds, for the memory curve. IPv6: the same draws."""
    r = random.Random(seed * 1000003 + n)
    out = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for _ in range(n):
        rule = ["-A", r.choice(["INPUT", "INPUT", "FORWARD"])]
        if r.random() < 0.7:
            rule += ["-s", random_prefix(r, fam)]
        if r.random() < 0.5:
            rule += ["-d", random_prefix(r, fam)]
        proto = r.choice(["tcp", "udp", "icmp", None])
        if proto in ("tcp", "udp"):
            rule += ["-p", proto, "-m", proto]
            if r.random() < 0.3:
                rule += ["--sport", str(r.randrange(1, 65536))]
            lo = r.randrange(1, 65536)
            if r.random() < 0.3:
                rule += ["--dport", f"{lo}:{min(65535, lo + r.randrange(1, 2000))}"]
            else:
                rule += ["--dport", str(lo)]
        elif proto == "icmp":
            t = r.choice([0, 3, 8, 11])
            rule += ["-p", "icmp", "-m", "icmp", "--icmp-type", str(t)] if fam.v == 4 else \
                ["-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", str(ICMP6_TYPE[t])]
        rule += ["-j", r.choice(["ACCEPT", "DROP"])]
        out.append(" ".join(rule))
    out += ["COMMIT", ""]
    return "\n".join(out)


def write_rules(workdir, name, text):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# ---------------------------------------------------------------- frames

def csum(b):
    """The Internet checksum of b."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4_csum(src, dst, proto, seg):
    """The TCP/UDP checksum of seg over the pseudo-header of either family (IPv6's form:
    its sum is IPv4's for the same length)."""
    a = ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed
    return csum(a + struct.pack("!IxxxB", len(seg), proto) + bytes(seg))


def ip_frame(dst_mac, src_mac, src, dst, proto, seg, frag=0):
    """Ethernet + IP (the family of src: IPv6 if it has a ':') + seg, padded to 60 bytes.
    IPv4: id 0, frag (flags and offset) as given, TTL 64, right header checksum; IPv6: hop
    limit 64, no extension header."""
    mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
    s, d = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if len(s) == 16:
        out = mac(dst_mac) + mac(src_mac) + b"\x86\xdd" + struct.pack("!IHBB", 6 << 28, len(seg), proto, 64) + s + d
    else:
        hdr = bytearray(struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(seg), 0, frag, 64, proto, 0) + s + d)
        hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
        out = mac(dst_mac) + mac(src_mac) + b"\x08\x00" + bytes(hdr)
    out += bytes(seg)
    return out + bytes(max(0, 60 - len(out)))


def frame(dst_mac, src_mac, src, dst, sport, dport, payload=None):
    """Ethernet + IP + UDP, the smallest frame: IPv4 with 18 bytes of payload (60 bytes,
    64 on the wire), right IP checksum, no UDP checksum (zero); IPv6 (src with a ':')
    with none (62 bytes), the UDP checksum over the pseudo-header (IPv6 requires it)."""
    v6 = ":" in src
    payload = (0 if v6 else 18) if payload is None else payload
    udp = bytearray(struct.pack("!HHHH", sport, dport, 8 + payload, 0) + bytes(payload))
    if v6:
        udp[6:8] = struct.pack("!H", l4_csum(src, dst, 17, udp) or 0xFFFF)
    return ip_frame(dst_mac, src_mac, src, dst, 17, udp)


def trafgen_conf(data):
    """The flood frame as a trafgen packet (IPv4's: 60 bytes, 64 on the wire with the FCS)."""
    return "{ " + ", ".join(f"0x{b:02x}" for b in data) + " }\n"


def mix_frames(n, dut_mac, gen_mac, count, seed=7):
    """Random packets against the worst-case ruleset: half hit a random rule among the N
    (its source and port), half match none (random source in 198.18.0.0/15, random port)
    and end at the policy."""
    r = random.Random(seed)
    out = []
    for k in range(count):
        if k % 2 == 0 and n:
            i = r.randrange(n)
            out.append(frame(dut_mac, gen_mac, worst_src(i), DUT_ADDR, r.randrange(1024, 65536), worst_port(i)))
        else:
            a = (198 << 24 | 18 << 16) + r.randrange(3, 1 << 17)
            src = f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"
            out.append(frame(dut_mac, gen_mac, src, DUT_ADDR, r.randrange(1024, 65536), r.randrange(10, 1024)))
    return out


# ---------------------------------------------------------------- measurements

def med(xs):
    return statistics.median(xs) if xs else None


def paired(xs, ys):
    """The median of the ratios x_i / y_i of runs taken together."""
    return med([x / y for x, y in zip(xs, ys) if y])


def flood_once(system, conf, warm, window, fam=V4):
    """One drop-rate run: trafgen floods the DUT of `system` for warm + window seconds;
    the rate is the DUT's received packets over the window (every one of which the DUT
    drops: checked against the rule's counter by verify_drops)."""
    ns = fam.ns(system)
    gen_if = f"xbg-{system}"[:15]
    limit = int(warm + window + 10)
    # Bounded in count (20 M frames) and time (timeout); stopped after the window.
    p = subprocess.Popen(["timeout", str(limit), "ip", "netns", "exec", fam.ns("gen"), "trafgen", "--dev", gen_if,
                          "--conf", conf, "--cpus", "1", "--num", "20000000", "--no-sock-mem", "--notouch-irq", "--no-cpu-stats"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(warm)
        if p.poll() is not None:
            raise RuntimeError(f"trafgen stopped: {p.stderr.read()[:500]}")
        c0, t0 = rx_packets(ns), time.monotonic()
        time.sleep(window)
        c1, t1 = rx_packets(ns), time.monotonic()
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return (c1 - c0) / (t1 - t0)


def rule_packets(system, n):
    """Packets counted by the flood rule (rule n+1 of INPUT)."""
    if system == "floor":
        return None
    out = sh(CLI[system] + ["-L", "INPUT", str(n + 1), "-v", "-x", "-n"], ns=f"xbench-{system}")
    return int(out.split()[0])


def testrun(ns, frames, repeat, obj=None, cold=False):
    """[(xdp action, ns per run)] of BPF_PROG_TEST_RUN on each frame in `ns`; cold: the
    median of `repeat` single runs, the caches flushed before each (testrun.c --cold)."""
    cmd = [TESTRUN, "--ifname", DUT_IF, "--cold" if cold else "--repeat", str(repeat)] + \
        (["--obj", obj] if obj else ["--anchor"])
    out = sh(cmd, ns=ns, input="".join(f.hex() + "\n" for f in frames), timeout=900)
    return [tuple(int(x) for x in line.split()) for line in out.splitlines()]


def bpftool_json(*args):
    return json.loads(sh(["bpftool", "-j"] + list(args)))


def xdpt_memory(ns):
    """Bytes of BPF map memory (bytes_memlock) held by the xdptables program of `ns`: its
    own maps and the inner maps of both generations."""
    lo = link_json(ns, "lo")
    prog_id = lo["xdp"]["prog"]["id"]
    prog = bpftool_json("prog", "show", "id", str(prog_id))
    total = 0
    for mid in prog.get("map_ids", []):
        m = bpftool_json("map", "show", "id", str(mid))
        total += int(m.get("bytes_memlock", 0))
        if m.get("type") in ("array_of_maps", "hash_of_maps"):
            for entry in bpftool_json("map", "dump", "id", str(mid)):
                inner = entry.get("value")
                if isinstance(inner, dict):
                    inner = inner.get("id", inner.get("inner_map_id"))
                if isinstance(inner, list):  # raw bytes
                    inner = int.from_bytes(bytes(int(b, 16) for b in inner), "little")
                if inner:
                    total += int(bpftool_json("map", "show", "id", str(inner)).get("bytes_memlock", 0))
    return total


# ---------------------------------------------------------------- the parts

def part_dataplane(cfg, workdir, res):
    """Parts 1 (drop rate), 2 (test-run cost) and 4 (memory, worst case): the four DUTs
    are set up once, each N loaded into all of them, and the runs interleaved across the
    systems so that a slow spell of the machine hits all of them alike."""
    ns_create(NS_GEN)
    macs = {s: setup_dut(s) for s in SYSTEMS}
    res["xdp_mode"] = {}
    for n in cfg.ns:
        log(f"== N = {n}")
        rules = write_rules(workdir, f"worst-{n}.rules", worst_case(n))
        rx_at_load, stack_at_load = {}, {}
        for s in SYSTEMS:
            if s != "floor":
                t = timed(RESTORE[s], f"xbench-{s}", rules)
                log(f"   {LABEL[s]}: loaded {n + 1} rules in {t:.2f} s")
            rx_at_load[s] = rx_packets(f"xbench-{s}")
            stack_at_load[s] = ip_in_receives(f"xbench-{s}")
        res["xdp_mode"] = {s: xdp_mode(f"xbench-{s}") for s in SYSTEMS}
        confs = {}
        for s in SYSTEMS:
            dut_mac, gen_mac = macs[s]
            confs[s] = write_rules(workdir, f"flood-{s}.cfg",
                                   trafgen_conf(frame(dut_mac, gen_mac, GEN_ADDR, DUT_ADDR, 1000, FLOOD_DPORT)))
        rates = {s: [] for s in SYSTEMS}
        for run in range(cfg.flood_runs):
            for s in SYSTEMS:
                rates[s].append(flood_once(s, confs[s], cfg.warm, cfg.window))
            log("   run %d: %s" % (run + 1, ", ".join(f"{LABEL[s]} {rates[s][-1] / 1e3:.0f} kpps" for s in SYSTEMS)))
        # Every packet the DUT received was dropped by the flood rule.
        # And the XDP systems dropped them before the stack: its IP counter stood still.
        verify, stack = {}, {}
        for s in SYSTEMS:
            got = rule_packets(s, n)
            rx = rx_packets(f"xbench-{s}") - rx_at_load[s]
            verify[s] = None if got is None else round(got / rx, 4) if rx else 0.0
            stack[s] = round((ip_in_receives(f"xbench-{s}") - stack_at_load[s]) / rx, 4) if rx else 0.0
        res["droprate"][n] = {s: {"runs": rates[s], "median": med(rates[s]), "rule_share": verify[s],
                                  "stack_share": stack[s]} for s in SYSTEMS}
        # Ratios of runs taken back to back (the machine is shared: its speed drifts
        # between runs more than between two systems of one run), then their median.
        res["droprate"][n]["ratio"] = {s: paired(rates["xdptables"], rates[s]) for s in SYSTEMS}

        # Part 2: the program on a frame that matches the last rule, and on a random mix.
        dut_mac, gen_mac = macs["xdptables"]
        last = frame(dut_mac, gen_mac, GEN_ADDR, DUT_ADDR, 1000, FLOOD_DPORT)
        mix = mix_frames(n, dut_mac, gen_mac, cfg.mix)
        # Where the time goes: a frame that leaves at the IP checksum (the program's
        # prologue: generation, config and interface lookups), and the flood frame sent
        # to the broadcast address (the whole classification without the route lookup).
        bad = bytearray(last)
        bad[24] ^= 0xFF
        bcast = frame("ff:ff:ff:ff:ff:ff", gen_mac, GEN_ADDR, "255.255.255.255", 1000, FLOOD_DPORT)
        tr = {"floor": [], "route": [], "last": [], "mix": [], "prologue": [], "noroute": []}
        actions = {}
        for _ in range(cfg.runs):
            f = testrun("xbench-floor", [last], cfg.repeat, obj=FLOOR_OBJ)
            tr["floor"].append(f[0][1])
            # The route floor, in the DUT's namespace (its routes and sysctls).
            tr["route"].append(testrun("xbench-xdptables", [last], cfg.repeat, obj=ROUTE_OBJ)[0][1])
            a = testrun("xbench-xdptables", [last], cfg.repeat)
            tr["last"].append(a[0][1])
            actions["last"] = a[0][0]
            b = testrun("xbench-xdptables", [bytes(bad), bcast], cfg.repeat)
            tr["prologue"].append(b[0][1])
            tr["noroute"].append(b[1][1])
            actions["prologue"], actions["noroute"] = b[0][0], b[1][0]
            m = testrun("xbench-xdptables", mix, max(1, cfg.repeat // 4))
            tr["mix"].append(statistics.mean(x[1] for x in m))
            actions["mix_drop_share"] = sum(1 for x in m if x[0] == 1) / len(m)
        res["testrun"][n] = {k: {"runs": v, "median": med(v)} for k, v in tr.items()}
        res["testrun"][n]["ratio_floor"] = paired(tr["last"], tr["floor"])
        res["testrun"][n]["actions"] = actions
        log("   test-run: floor %d ns, xdptables last rule %d ns (action %d), mix %d ns" %
            (med(tr["floor"]), med(tr["last"]), actions["last"], med(tr["mix"])))

        # Part 4: memory of the worst-case ruleset.
        res["memory"].setdefault(n, {})["worst"] = xdpt_memory("xbench-xdptables")
    for s in SYSTEMS:
        ns_delete(f"xbench-{s}")
    ns_delete(NS_GEN)


def fresh_cp_ns():
    ns_create(NS_CP)
    # One veth pair besides lo: xdptables attaches to it, as on a real host.
    sh(["ip", "link", "add", "xbc0", "type", "veth", "peer", "name", "xbc1"], ns=NS_CP)
    sh(["ip", "link", "set", "xbc0", "up"], ns=NS_CP)
    sh(["ip", "link", "set", "xbc1", "up"], ns=NS_CP)
    sh(["ip", "addr", "add", "198.18.9.1/24", "dev", "xbc0"], ns=NS_CP)


def part_control(cfg, workdir, res):
    """Part 3 (restore of N rules; -A, -I 1, -D at the middle N) and part 4 for random
    rules, each measurement in a fresh namespace."""
    empty = write_rules(workdir, "empty.rules", "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
                        ":OUTPUT ACCEPT [0:0]\nCOMMIT\n")
    for n in cfg.cp_ns:
        rules = write_rules(workdir, f"worst-cp-{n}.rules", worst_case(n))
        # Into a fresh namespace (xdptables' first command there loads and verifies its
        # program), and into one that already holds an empty ruleset (the program loaded).
        row, warm = {}, {}
        for s in ["legacy", "nft", "xdptables"]:
            row[s], warm[s] = [], []
            for _ in range(cfg.runs):
                fresh_cp_ns()
                row[s].append(timed(RESTORE[s], NS_CP, rules))
                ns_delete(NS_CP)
                fresh_cp_ns()
                timed(RESTORE[s], NS_CP, empty)
                warm[s].append(timed(RESTORE[s], NS_CP, rules))
                ns_delete(NS_CP)
        res["restore"][n] = {s: {"runs": v, "median": med(v)} for s, v in row.items()}
        res["restore_loaded"][n] = {s: {"runs": v, "median": med(v)} for s, v in warm.items()}
        log(f"== restore {n + 1} rules: " + ", ".join(f"{LABEL[s]} {med(v) * 1e3:.0f} ms" for s, v in row.items())
            + "; program loaded: " + ", ".join(f"{LABEL[s]} {med(v) * 1e3:.0f} ms" for s, v in warm.items()))

        rnd = write_rules(workdir, f"random-{n}.rules", random_rules(n))
        fresh_cp_ns()
        timed(RESTORE["xdptables"], NS_CP, rnd)
        res["memory"].setdefault(n, {})["random"] = xdpt_memory(NS_CP)
        ns_delete(NS_CP)

    n = cfg.ops_n
    rules = write_rules(workdir, f"worst-ops-{n}.rules", worst_case(n))
    spec_a = ["-s", "198.19.255.201/32", "-p", "udp", "-m", "udp", "--dport", "7", "-j", "DROP"]
    spec_i = ["-s", "198.19.255.202/32", "-p", "udp", "-m", "udp", "--dport", "7", "-j", "DROP"]
    for s in ["legacy", "nft", "xdptables"]:
        fresh_cp_ns()
        timed(RESTORE[s], NS_CP, rules)
        ops = {"A": [], "I": [], "D": []}
        for _ in range(cfg.ops_runs):
            ops["A"].append(timed(CLI[s] + ["-A", "INPUT"] + spec_a, NS_CP))
            ops["D"].append(timed(CLI[s] + ["-D", "INPUT"] + spec_a, NS_CP))
            ops["I"].append(timed(CLI[s] + ["-I", "INPUT", "1"] + spec_i, NS_CP))
            ops["D"].append(timed(CLI[s] + ["-D", "INPUT"] + spec_i, NS_CP))
        ns_delete(NS_CP)
        res["ops"][s] = {k: {"runs": v, "median": med(v)} for k, v in ops.items()}
        log(f"== {LABEL[s]} at {n + 1} rules: " + ", ".join(f"-{k} {med(v) * 1e3:.1f} ms" for k, v in ops.items()))


# ---------------------------------------------------------------- report

def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(x, spec=".2f"):
    return "n/a" if x is None else format(x, spec)


def targets(cfg, res):
    """[(target, figure, met)] for every target of the issue that this run measured."""
    out = []
    dr, tr = res["droprate"], res["testrun"]
    big = [n for n in cfg.ns if n >= 10000]
    for n in big:
        f, l = dr[n]["ratio"]["floor"], dr[n]["ratio"]["legacy"]
        out.append((f"drop rate at {n} rules >= 0.8x floor", f"{fmt(f)}x", f >= 0.8))
        if n == 10000:
            out.append((f"drop rate at {n} rules >= 30x iptables-legacy", f"{fmt(l, '.1f')}x", l >= 30))
    if 10000 in tr:
        r = tr[10000]["ratio_floor"]
        rf = ratio(tr[10000]["route"]["median"], tr[10000]["floor"]["median"])
        out.append(("test-run at 10000 rules <= 3x floor program",
                    f"{fmt(r)}x (the route floor alone: {fmt(rf)}x)", r <= 3))
    if 50000 in tr and 1000 in tr:
        r = ratio(tr[50000]["last"]["median"], tr[1000]["last"]["median"])
        out.append(("test-run at 50000 rules <= 1.2x the 1000-rule cost", f"{fmt(r)}x", r <= 1.2))
    for key, what in (("restore", "fresh namespace"), ("restore_loaded", "program loaded")):
        if 10000 in res[key]:
            x, l = (res[key][10000][s]["median"] for s in ("xdptables", "legacy"))
            out.append((f"xdptables-restore of 10000 rules <= iptables-legacy-restore ({what})",
                        f"{x:.3f} s vs {l:.3f} s ({ratio(x, l):.2f}x)", x <= l))
    if cfg.ops_n == 10000:
        for op in ("A", "D"):
            x = res["ops"]["xdptables"][op]["median"]
            out.append((f"one -{op} at 10000 rules <= 5 ms", f"{x * 1e3:.1f} ms", x <= 0.005))
    if 10000 in res["memory"] and "random" in res["memory"][10000]:
        m = res["memory"][10000]["random"]
        out.append(("map memory at 10000 random rules <= 64 MiB", f"{m / 2**20:.1f} MiB", m <= 64 * 2**20))
    return out


def report(cfg, res):
    L = []
    m = res["machine"]
    L.append(f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['mem']}, Linux {m['kernel']}; {m['date']}; "
             f"commit {m['commit']}; load average {m['load_before']} before, {m['load_after']} after; "
             f"{cfg.flood_runs} runs of {cfg.window:g} s per drop rate, {cfg.runs} runs per other figure "
             f"(medians){' [QUICK]' if cfg.quick else ''}.")
    L.append(f"XDP attach mode on the DUT veth: " + ", ".join(f"{LABEL[s]} {v}" for s, v in res["xdp_mode"].items()
                                                              if s in ("floor", "xdptables")))
    L.append("")
    L.append("Drop rate (kpps, 64-byte UDP over veth, the dropping rule after N others; medians of the runs, "
             "ratios: median of the ratios of runs taken back to back)")
    L.append("")
    L.append("| N | floor | iptables-legacy | iptables-nft | xdptables | xdpt/floor | xdpt/legacy | xdpt/nft |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in cfg.ns:
        d = {s: res["droprate"][n][s]["median"] for s in SYSTEMS}
        q = res["droprate"][n]["ratio"]
        L.append(f"| {n} | " + " | ".join(f"{d[s] / 1e3:.0f}" for s in SYSTEMS) +
                 f" | {fmt(q['floor'])} | {fmt(q['legacy'], '.1f')} | {fmt(q['nft'], '.1f')} |")
    shares = [res["droprate"][n][s]["rule_share"] for n in cfg.ns for s in SYSTEMS if s != "floor"]
    L.append("")
    L.append(f"Check: the flood rule counted {min(shares):.4f} to {max(shares):.4f} of the packets each DUT "
             "received (1 = every received packet was dropped by that rule); the kernel's IP stack saw "
             + ", ".join(f"{max(res['droprate'][n][s]['stack_share'] for n in cfg.ns):.4f}" + f" ({LABEL[s]})"
                         for s in SYSTEMS) + " of them at most (0: dropped in XDP).")
    L.append("")
    L.append(f"Classifier cost (BPF_PROG_TEST_RUN, ns per packet, repeat {cfg.repeat}; mix: {cfg.mix} random "
             f"packets, half hitting a random rule, repeat {max(1, cfg.repeat // 4)} each)")
    L.append("")
    L.append("| N | floor | route floor | xdptables last rule | xdptables mix | last/floor | last/last@1k "
             "| prologue only | no route lookup |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base = res["testrun"].get(1000, {}).get("last", {}).get("median")
    for n in cfg.ns:
        t = res["testrun"][n]
        f, l, x = t["floor"]["median"], t["last"]["median"], t["mix"]["median"]
        L.append(f"| {n} | {f} | {t['route']['median']} | {l} | {x:.0f} | {fmt(t['ratio_floor'])} "
                 f"| {fmt(ratio(l, base))} | {t['prologue']['median']} | {t['noroute']['median']} |")
    L.append("")
    L.append("Route floor (tools/bench/route.bpf.c): header checks and the bpf_fib_lookup that decides INPUT "
             "or FORWARD, then a drop, no rule looked at: what judging exactly as netfilter costs before any "
             "classification. Prologue only: a frame with a bad IP checksum, which the program passes after "
             "its generation, config and interface lookups. No route lookup: the flood frame sent to "
             "255.255.255.255, classified the same way without bpf_fib_lookup.")
    L.append("")
    for key, what in (("restore", "into a fresh namespace (xdptables loads its program)"),
                      ("restore_loaded", "into a namespace holding an empty ruleset (program loaded)")):
        L.append(f"Control plane: restore of N+1 rules {what}, seconds")
        L.append("")
        L.append("| N | iptables-legacy-restore | iptables-nft-restore | xdptables-restore | xdpt/legacy | xdpt/nft |")
        L.append("|---:|---:|---:|---:|---:|---:|")
        for n in cfg.cp_ns:
            r = {s: res[key][n][s]["median"] for s in ("legacy", "nft", "xdptables")}
            L.append(f"| {n} | {r['legacy']:.3f} | {r['nft']:.3f} | {r['xdptables']:.3f} | "
                     f"{ratio(r['xdptables'], r['legacy']):.2f} | {ratio(r['xdptables'], r['nft']):.2f} |")
        L.append("")
    L.append(f"One command at {cfg.ops_n + 1} rules (ms)")
    L.append("")
    L.append("| command | iptables-legacy | iptables-nft | xdptables | xdpt/legacy | xdpt/nft |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for op, name in (("A", "-A INPUT"), ("I", "-I INPUT 1"), ("D", "-D INPUT (spec)")):
        o = {s: res["ops"][s][op]["median"] for s in ("legacy", "nft", "xdptables")}
        L.append(f"| {name} | {o['legacy'] * 1e3:.1f} | {o['nft'] * 1e3:.1f} | {o['xdptables'] * 1e3:.1f} | "
                 f"{ratio(o['xdptables'], o['legacy']):.1f} | {ratio(o['xdptables'], o['nft']):.1f} |")
    L.append("")
    L.append("BPF map memory of xdptables (MiB, bytes_memlock of its maps and both generations' inner maps)")
    L.append("")
    L.append("| N | worst-case ruleset | random rules |")
    L.append("|---:|---:|---:|")
    for n in sorted(res["memory"]):
        mm = res["memory"][n]
        f = lambda k: f"{mm[k] / 2**20:.1f}" if k in mm else "-"
        L.append(f"| {n} | {f('worst')} | {f('random')} |")
    L.append("")
    L.append("Targets")
    L.append("")
    L.append("| target | measured | |")
    L.append("|---|---|---|")
    for name, fig, ok in targets(cfg, res):
        L.append(f"| {name} | {fig} | {'met' if ok else 'NOT met'} |")
    return "\n".join(L) + "\n"


def write_outputs(cfg, res, outdir):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(outdir, "droprate.csv"), "w") as f:
        f.write("n,floor_pps,legacy_pps,nft_pps,xdptables_pps,xdpt_testrun_ns,xdpt_mix_ns,floor_testrun_ns\n")
        for n in cfg.ns:
            d, t = res["droprate"][n], res["testrun"][n]
            f.write(f"{n},{d['floor']['median']:.0f},{d['legacy']['median']:.0f},{d['nft']['median']:.0f},"
                    f"{d['xdptables']['median']:.0f},{t['last']['median']},{t['mix']['median']:.1f},"
                    f"{t['floor']['median']}\n")
    with open(os.path.join(outdir, "control.csv"), "w") as f:
        f.write("n,legacy_s,nft_s,xdptables_s,memory_worst_bytes,memory_random_bytes\n")
        for n in sorted(set(cfg.cp_ns) | set(res["memory"])):
            r = res["restore"].get(n)
            mm = res["memory"].get(n, {})
            cells = [f"{r[s]['median']:.4f}" if r else "" for s in ("legacy", "nft", "xdptables")]
            f.write(f"{n}," + ",".join(cells) + f",{mm.get('worst', '')},{mm.get('random', '')}\n")
    text = report(cfg, res)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(text)
    m = res["machine"]
    label = f"{m['cpu']}, {m['cpus']} CPUs, Linux {m['kernel']}, {m['date']}, commit {m['commit']}"
    sh(["gnuplot", "-e", f"outdir='{outdir}'; machine='{label}'", os.path.join(HERE, "plot.gp")])
    return text


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in sh(["lscpu"]).splitlines() if l.startswith("Model name")), "?")
    mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    commit = open(os.path.join(BUILD, "snapshot.rev")).read().strip()[:12]
    return {"cpu": cpu, "cpus": os.cpu_count(), "mem": f"{mem_kb / 2**20:.0f} GiB", "kernel": os.uname().release,
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "commit": commit,
            "load_before": open("/proc/loadavg").read().split()[0], "iptables": sh(["iptables-legacy", "-V"]).strip()}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small N, one run, short windows (development)")
    ap.add_argument("--out", help="results directory (default tools/bench/results, quick: results/quick)")
    ap.add_argument("--runs", type=int, dest="runs_arg", help="runs per figure (default 3, quick 1)")
    ap.add_argument("--only", choices=["dataplane", "control"], help="one half of the suite")
    cfg = ap.parse_args()
    if cfg.quick:
        cfg.ns, cfg.cp_ns, cfg.ops_n = [10, 1000], [1000], 1000
        cfg.runs, cfg.ops_runs, cfg.warm, cfg.window, cfg.repeat, cfg.mix = 1, 2, 0.5, 1.0, 200000, 8
    else:
        cfg.ns, cfg.cp_ns, cfg.ops_n = [10, 100, 1000, 10000, 50000], [1000, 10000, 50000], 10000
        cfg.runs, cfg.ops_runs, cfg.warm, cfg.window, cfg.repeat, cfg.mix = 3, 3, 1.0, 2.0, 1000000, 16
    cfg.runs = max(1, cfg.runs_arg or cfg.runs)
    # The drop rate is the noisiest figure on a shared machine: more, shorter runs.
    cfg.flood_runs = cfg.runs if cfg.quick else max(cfg.runs, 5)
    outdir = cfg.out or os.path.join(HERE, "results", "quick" if cfg.quick else "")
    if os.geteuid() != 0:
        sys.exit("bench: run as root")
    if open("/proc/sys/kernel/bpf_stats_enabled").read().strip() != "0":
        sys.exit("bench: kernel.bpf_stats_enabled is not 0; refusing to measure (every program run would be timed)")

    res = {"machine": machine(), "droprate": {}, "testrun": {}, "restore": {}, "restore_loaded": {}, "ops": {},
           "memory": {},
           "xdp_mode": {}, "config": {k: v for k, v in vars(cfg).items()}}
    workdir = os.path.join(BUILD, "bench", "work")
    os.makedirs(workdir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        if cfg.only != "control":
            part_dataplane(cfg, workdir, res)
        if cfg.only != "dataplane":
            part_control(cfg, workdir, res)
    finally:
        cleanup()
    res["machine"]["load_after"] = open("/proc/loadavg").read().split()[0]
    if cfg.only:
        json.dump(res, sys.stdout, indent=1, default=str)
        return
    print(write_outputs(cfg, res, outdir))


if __name__ == "__main__":
    main()
