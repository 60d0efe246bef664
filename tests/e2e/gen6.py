#!/usr/bin/env python3
"""Rulesets and frames of the IPv6 end-to-end differential test (tests/e2e/e2e6.sh).

  gen6.py topo                       shell assignments: the topology
  gen6.py rules SEED N               a random ip6tables-restore ruleset of N rules
  gen6.py packets SEED COUNT         COUNT random frames, one a line: hex # what it is

Topology (e2e6.sh builds it):

  gen  (AF_PACKET, no address) --veth-- din 2001:db8:1::1/64   dut   dout 2001:db8:2::1/64 --veth-- behind

The dut forwards (net.ipv6.conf.all.forwarding=1) 2001:db8:3::/64 via 2001:db8:2::2 (a
static neighbour: behind's MAC); on-link sources of the frames have static neighbours, so
no neighbour discovery of the dut's own ever runs. The frames mix what XDP decides
(TCP, UDP, ICMPv6, extension header chains, local and forwarded) with what it leaves to the
kernel (fragments, hop-by-hop, long chains, NDP, multicast, link-local, hop limit 1,
truncated headers): both sides must count the same either way.
"""
import ipaddress
import random
import struct
import sys

GEN_IF, DUT_IN, DUT_OUT, BEH_IF = "g0", "din", "dout", "b0"
GEN_MAC, DUT_IN_MAC, DUT_OUT_MAC, BEH_MAC = "02:00:5e:00:07:02", "02:00:5e:00:07:01", "02:00:5e:00:07:03", "02:00:5e:00:07:04"
DUT_ADDRS = [("2001:db8:1::1/64", DUT_IN), ("2001:db8:2::1/64", DUT_OUT), ("2001:db8:9::1/128", "lo")]
NEXTHOP, BEHIND_NET = "2001:db8:2::2", "2001:db8:3::/64"
# The dut's link-local address on din (EUI-64 of its MAC).
DUT_LL = "fe80::5eff:fe00:701"
ONLINK_SRCS = ["2001:db8:1::2", "2001:db8:1::3", "2001:db8:1::8000:0:0:4", "fe80::2"]
SRCS = ONLINK_SRCS + ["2001:db8:5::7", "2001:db8:5:0:1::9", "2001:db8:ffff::1"]
DSTS = ["2001:db8:1::1", "2001:db8:2::1", "2001:db8:9::1", "2001:db8:3::5", "2001:db8:3::6", "2001:db8:1::77", DUT_LL]
PORTS = [22, 53, 80, 443, 1000, 5000, 65535]


def topo():
    out = {"GEN_IF": GEN_IF, "DUT_IN": DUT_IN, "DUT_OUT": DUT_OUT, "BEH_IF": BEH_IF, "GEN_MAC": GEN_MAC,
           "DUT_IN_MAC": DUT_IN_MAC, "DUT_OUT_MAC": DUT_OUT_MAC, "BEH_MAC": BEH_MAC, "NEXTHOP": NEXTHOP,
           "BEHIND_NET": BEHIND_NET, "DUT_ADDRS": " ".join("%s,%s" % a for a in DUT_ADDRS),
           "GEN_NEIGHS": " ".join(ONLINK_SRCS)}
    for k, v in out.items():
        print("%s='%s'" % (k, v))


def prefix(rng, addr):
    ln = rng.choice([0, 16, 32, 48, 56, 64, 65, 96, 112, 127, 128])
    net = ipaddress.ip_network("%s/%d" % (addr, ln), strict=False)
    return str(net)


def neg(rng):
    return "! " if rng.random() < 0.2 else ""


def rule_body(rng, chain):
    parts = []
    if rng.random() < 0.4:
        parts.append("%s-s %s" % (neg(rng), prefix(rng, rng.choice(SRCS))))
    if rng.random() < 0.4:
        parts.append("%s-d %s" % (neg(rng), prefix(rng, rng.choice(DSTS))))
    if chain in ("INPUT", "FORWARD", "PREROUTING") and rng.random() < 0.2:
        parts.append("%s-i %s" % (neg(rng), rng.choice([DUT_IN, "d+", "lo"])))
    if chain == "FORWARD" and rng.random() < 0.2:
        parts.append("%s-o %s" % (neg(rng), rng.choice([DUT_OUT, DUT_IN])))
    r = rng.random()
    if r < 0.3:
        parts.append("-p tcp")
        opts = []
        if rng.random() < 0.5:
            opts.append("%s--dport %d" % (neg(rng), rng.choice(PORTS)))
        if rng.random() < 0.2:
            opts.append("--tcp-flags SYN,ACK SYN")
        if opts:
            parts.append("-m tcp " + " ".join(opts))
    elif r < 0.6:
        parts.append("-p udp")
        if rng.random() < 0.5:
            parts.append("-m udp %s--sport %d" % (neg(rng), rng.choice(PORTS)))
        if rng.random() < 0.3:
            parts.append("-m multiport --dports %d,%d" % (rng.choice(PORTS), rng.choice(PORTS)))
    elif r < 0.7:
        parts.append("%s-p ipv6-icmp" % neg(rng))
    elif r < 0.75:
        parts.append("-p 47")
    # (No -m length: the netfilter layer's translation of it reads the IPv4 total length
    # field, bytes 2-3, in IPv6 headers too; the dp tests check XDP's reading.)
    return " ".join(parts)


def rules(seed, n):
    rng = random.Random("6:%s:%d" % (seed, n))
    out = ["*raw", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    for _ in range(max(1, n // 5)):
        out.append("-A PREROUTING %s -j %s" % (rule_body(rng, "PREROUTING"), rng.choice(["DROP", "ACCEPT", "ACCEPT"])))
    out.append("COMMIT")
    out += ["*filter", ":INPUT %s [0:0]" % rng.choice(["ACCEPT", "DROP"]), ":FORWARD %s [0:0]" % rng.choice(["ACCEPT", "DROP"]),
            ":OUTPUT ACCEPT [0:0]", ":uc - [0:0]"]
    for i in range(n):
        chain = rng.choice(["INPUT", "INPUT", "FORWARD", "uc"])
        t = rng.choice(["DROP", "ACCEPT", "", "RETURN" if chain == "uc" else "uc"])
        out.append("-A %s %s%s" % (chain, rule_body(rng, chain), " -j " + t if t else ""))
    out.append("COMMIT")
    print("\n".join(l.replace("  ", " ") for l in out))


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ext(kind, nxt, body=b""):
    h = bytes([nxt, 0]) + body
    if kind == 44:
        return (h + bytes(8))[:8]
    if kind == 51:
        h += bytes((-len(h)) % 4)
        h = h if len(h) >= 12 else h + bytes(12 - len(h))
        return h[:1] + bytes([len(h) // 4 - 2]) + h[2:]
    h += bytes((-len(h)) % 8)
    return h[:1] + bytes([len(h) // 8 - 1]) + h[2:]


def frame(rng):
    """(frame bytes, description)."""
    src, dst = rng.choice(SRCS), rng.choice(DSTS)
    hl = rng.choice([64, 64, 64, 2, 1])
    what = []
    r = rng.random()
    if r < 0.35:
        proto, l4 = 6, struct.pack("!HHIIBBHHH", rng.choice(PORTS), rng.choice(PORTS), 1, 0, 5 << 4,
                                   rng.choice([0x02, 0x10, 0x12, 0x04]), 512, 0, 0) + bytes(rng.choice([0, 100]))
        what.append("tcp")
    elif r < 0.7:
        pay = bytes(rng.choice([4, 40, 400]))
        proto, l4 = 17, struct.pack("!HHHH", rng.choice(PORTS), rng.choice(PORTS), 8 + len(pay), 0) + pay
        what.append("udp")
    elif r < 0.9:
        t = rng.choice([128, 129, 1, 3, 135, 136, 133, 134, 137, 130, 143])
        proto, l4 = 58, bytes([t, rng.choice([0, 4])]) + bytes(6) + bytes(16)
        what.append("icmp6 %d" % t)
    else:
        proto, l4 = rng.choice([47, 50, 59]), bytes(8)
        what.append("proto %d" % proto)
    chain = []
    if rng.random() < 0.3:
        # (No AH: nftables' meta l4proto stops at an AH header (IP6_FH_F_AUTH) where
        # ip6tables' -p steps over it, so the netfilter layer's -p and ip6tables-legacy
        # disagree on such packets whatever XDP does; the dp tests check XDP's reading.)
        chain = [rng.choice([60, 43, 44, 0]) for _ in range(rng.choice([1, 2, 3, 4, 5]))]
        what.append("ext " + ",".join(map(str, chain)))
    payload = l4
    for i in reversed(range(len(chain))):
        nxt = chain[i + 1] if i + 1 < len(chain) else proto
        body = bytes([0, 1, 0, 0, 0, 1]) if chain[i] == 44 and rng.random() < 0.5 else bytes(rng.choice([6, 14]))
        payload = ext(chain[i], nxt, body) + payload
    first = chain[0] if chain else proto
    # (Truncated extension headers left out: ip6tables hotdrops them at a -p rule, the
    # netfilter layer's meta l4proto does not.)
    if rng.random() < 0.05 and not chain:
        payload = payload[:rng.choice([2, 6, 10])]
        what.append("cut")
    if rng.random() < 0.05:
        src = "ff02::1" if rng.random() < 0.5 else "::1"
        what.append("bad src")
    if rng.random() < 0.05:
        dst = rng.choice(["ff02::1", "ff02::1:ff00:1", "ff05::2"])
    hdr = struct.pack("!IHBB", 6 << 28, len(payload), first, hl) + ipaddress.ip_address(src).packed + \
        ipaddress.ip_address(dst).packed
    what.append("%s -> %s hl=%d len=%d" % (src, dst, hl, 40 + len(payload)))
    return mac(DUT_IN_MAC) + mac(GEN_MAC) + b"\x86\xdd" + hdr + payload, " ".join(what)


def packets(seed, count):
    rng = random.Random("6p:%s" % seed)
    for _ in range(count):
        f, what = frame(rng)
        print("%s # %s" % (f.hex(), what))


COMMANDS = {"topo": (topo, 0), "rules": (lambda seed, n: rules(seed, int(n)), 2),
            "packets": (lambda seed, n: packets(seed, int(n)), 2)}


def main(argv):
    fn, nargs = COMMANDS.get(argv[1] if len(argv) > 1 else "", (None, -1))
    if fn is None or len(argv) != 2 + nargs:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    fn(*argv[2:])
    return 0


sys.exit(main(sys.argv))
