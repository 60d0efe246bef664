#!/usr/bin/env python3
"""IPv6 vocabulary of the end-to-end differential test (tests/e2e/e2e.sh --family 6).

The commands of gen.py (topo, rules, packets, send, compare), for ip6tables: the same
topology with addresses of 2001:db8::/32, random ip6tables rulesets (gen.py's rule
skeleton: chains, verdicts, user chains with -j/-g/RETURN, policies; matches of IPv6) and
random IPv6 frames: TCP, UDP, ICMPv6 and other protocols, with and without extension
headers (hop-by-hop, destination options, routing, fragment, AH), fragments, and malformed
ones (extension headers cut short or longer than the packet, a hop-by-hop header not
first, a payload length of zero, short transport headers, bad checksums).

  gen6.py [--caps icmp6,reject] COMMAND ...   as gen.py; --caps: extensions the binary
                                              under test has (e2e.sh probes them), which
                                              the rulesets may then use

Python 3 standard library only.
"""

import functools
import ipaddress
import os
import random
import struct
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402
from gen import neg, mac, csum, packed, DUT_IN, DUT_OUT, DUT_LOC  # noqa: E402

DUT_ADDRS = [("2001:db8:1::2/64", DUT_IN), ("2001:db8:1::3/64", DUT_IN),
             ("2001:db8:2::1/64", DUT_LOC), ("2001:db8:3::1/64", DUT_OUT)]
NEXTHOP = "2001:db8:3::2"          # permanent neighbour = BEH_MAC (behind has no address)
BEHIND_NET = "2001:db8:f000::/36"
LOCAL_DSTS = [a.split("/")[0] for a, _ in DUT_ADDRS]
FWD_DSTS = ["2001:db8:f000::1", "2001:db8:f000::2", "2001:db8:f000::9",
            "2001:db8:f000::8000", "2001:db8:f005::5", "2001:db8:f005:1::77",
            "2001:db8:ffff:ffff::1"]
ALL_NODES, ALL_NODES_MAC = "ff02::1", "33:33:00:00:00:01"
ONLINK = "2001:db8:1:"   # the prefix of DUT_IN's /64; its sources are static neighbours
SRCS = (["2001:db8:1::%x" % i for i in (1, 0xa, 0xb, 0xc, 0x14, 0x64, 0x81, 0xc8, 0xfe)]
        + ["2001:db8:1:0:8000::1", "2001:db8:1::ffff:1", "2001:db8::5", "2001:db8::4d",
           "2001:db8:9::9", "2001:db8:8000::1", "2001:db8:ffff:fffe::1", "2001:db8:c8::11",
           "2001:db8:f000::50", "2001:db8:f064::1", "2001:db8:f064::2", "2001:db8:fff0::1"])
HOP_LIMITS = [1, 2, 63, 64, 65, 128, 254, 255]
PLENS = [0, 16, 32, 33, 40, 48, 56, 63, 64, 64, 65, 96, 112, 120, 127, 128, 128, 128]
# Protocols beyond TCP/UDP/ICMPv6: GRE, ESP, AH, SCTP, no next header, UDP-lite, unknown.
OTHER_PROTOS = [47, 50, 51, 132, 59, 136, 253]
ICMP6_NAMES = ["destination-unreachable", "no-route", "communication-prohibited",
               "address-unreachable", "port-unreachable", "packet-too-big", "time-exceeded",
               "parameter-problem", "unknown-header-type", "echo-request", "echo-reply",
               "neighbour-solicitation", "router-advertisement", "redirect"]
REJECTS = ["icmp6-port-unreachable", "icmp6-adm-prohibited", "icmp6-no-route",
           "icmp6-addr-unreachable"]


def topo():
    out = {"GEN_IF": gen.GEN_IF, "DUT_IN": DUT_IN, "DUT_OUT": DUT_OUT, "DUT_LOC": DUT_LOC,
           "BEH_IF": gen.BEH_IF, "DUT_IN_MAC": gen.DUT_IN_MAC, "DUT_OUT_MAC": gen.DUT_OUT_MAC,
           "BEH_MAC": gen.BEH_MAC, "GEN_MAC": gen.GEN_MACS[0], "NEXTHOP": NEXTHOP,
           "BEHIND_NET": BEHIND_NET,
           "DUT_ADDRS": " ".join("%s,%s" % (a, d) for a, d in DUT_ADDRS),
           # the dut's replies to on-link sources must not wait for neighbour discovery
           "GEN_NEIGHS": " ".join(a for a in SRCS if a.startswith(ONLINK))}
    for k, v in out.items():
        print("%s='%s'" % (k, v))


# ---------------------------------------------------------------------------------------
# Rules.

def prefix(rng, addr):
    plen = rng.choice(PLENS)
    n = int.from_bytes(packed(addr), "big") & (((1 << 128) - 1) << (128 - plen))
    return "%s/%d" % (ipaddress.IPv6Address(n), plen)


def icmp6_match(rng):
    r = rng.random()
    if r < 0.5:
        t = rng.choice(ICMP6_NAMES)
    elif r < 0.8:
        t = "%d/%d" % rng.choice(gen.ICMP6_TYPES)
    else:
        t = str(rng.choice(gen.ICMP6_TYPES)[0])
    return "-m icmp6 %s--icmpv6-type %s" % (neg(rng), t)


def generic_match(rng, idx):
    r = rng.random()
    if r < 0.35:
        if rng.random() < 0.4:
            spec = str(rng.choice([40, 48, 60, 61, 68, 80, 100, 576, 1280, 1500]))
        else:
            a, b = sorted([rng.randint(40, 1500), rng.randint(40, 1500)])
            spec = "%d:%d" % (a, b)
        return "-m length %s--length %s" % (neg(rng), spec)
    if r < 0.6:
        return gen.mac_match(rng)
    if r < 0.75:
        return gen.state_match(rng)
    return gen.comment_match(rng, idx)


def rule_body(rng, idx, output=False, caps=()):
    parts, proto = gen.base_part(rng, output, prefix, SRCS, LOCAL_DSTS + FWD_DSTS, "ipv6-icmp",
                                 OTHER_PROTOS, ["tcp", "udp", "ipv6-icmp", "47", "ah", "esp"])
    gen.add_matches(rng, idx, parts, proto, output, "ipv6-icmp",
                    icmp6_match if "icmp6" in caps else None, generic_match)
    return " ".join(parts)


def rules(seed, n, table, forward, caps=()):
    gen.rules(seed, n, table, forward, functools.partial(rule_body, caps=caps),
              REJECTS if "reject" in caps else [])


# ---------------------------------------------------------------------------------------
# Packets.

HBH, ROUTING, FRAGMENT, DSTOPTS, AH, NONE = 0, 43, 44, 60, 51, 59


def ip6_header(rng, nh, src, dst, hlim, plen):
    tc_flow = (rng.choice([0, 0, 0, 0x04, 0xb8]) << 20) | (rng.getrandbits(20) if rng.random() < 0.3 else 0)
    return struct.pack("!IHBB16s16s", (6 << 28) | tc_flow, plen, nh, hlim, packed(src), packed(dst))


def ext_header(rng, kind, nh):
    """One extension header of kind, next header nh, well formed; and its name."""
    if kind in (HBH, DSTOPTS):
        opts = rng.choice([b"\x01\x04\0\0\0\0",              # PadN
                           b"\0" * 6,                        # Pad1 x 6
                           b"\x1e\x04abcd",                  # unknown option, skip it
                           b"\x05\x02\0\0\x01\0",            # router alert (+ Pad1 x 2)
                           b"\x01\x0c" + bytes(12)])         # PadN: 16 bytes in all
        return bytes([nh, (2 + len(opts)) // 8 - 1]) + opts, "hbh" if kind == HBH else "dst"
    if kind == ROUTING:
        rtype = rng.choice([0, 2, 2, 4, 253])
        body = struct.pack("!BBBBI", nh, 2, rtype, 0, 0) + packed("2001:db8:77::1")
        return body, "rt%d" % rtype
    if kind == FRAGMENT:   # an atomic fragment (offset 0, no more fragments)
        return struct.pack("!BBHI", nh, 0, 0, rng.getrandbits(32)), "frag0"
    # AH with 12 bytes of ICV
    return struct.pack("!BBHII", nh, 4, 0, 0x100 + rng.getrandbits(8), 1) + bytes(12), "ah"


def chain_of(rng, kinds, l4proto):
    """The extension headers kinds, in order, before l4proto: ([bytes], [name])."""
    hs = [ext_header(rng, kind, nh) for kind, nh in zip(kinds, kinds[1:] + [l4proto])]
    return [h for h, _ in hs], [n for _, n in hs]


EXT_HDRS = (HBH, ROUTING, FRAGMENT, AH, NONE, DSTOPTS)   # the kernel's ipv6_ext_hdr()


def find_hdr(ip):
    """ip6tables' view of an IPv6 packet (ipv6_find_hdr(skb, &off, -1, &frag, NULL) on what
    ip6_rcv_core keeps of it): (upper-layer protocol or None where ip6_packet_match
    hot-drops the packet at a rule with -p, whether an AH header was passed on the way)."""
    ip = ip[:40 + struct.unpack("!H", ip[4:6])[0]]
    nh, at, ah = ip[6], 40, False
    while nh in EXT_HDRS and nh != NONE:
        if at + 2 > len(ip):
            return None, ah
        if nh == FRAGMENT:
            if at + 4 > len(ip):
                return None, ah
            if struct.unpack("!H", ip[at + 2:at + 4])[0] & ~7:
                return (ip[at] if ip[at] not in EXT_HDRS or ip[at] == NONE else None), ah
            size = 8
        elif nh == AH:
            ah, size = True, (ip[at + 1] + 2) << 2
        else:
            size = (ip[at + 1] + 1) << 3
        nh, at = ip[at], at + size
    return nh, ah


def packets(seed, count, forward):
    rng = random.Random("%s:packets6" % seed)
    dsts = LOCAL_DSTS + (FWD_DSTS if forward else [])
    out = []

    def emit(nh, src, dst, hlim, body, what, plen=None, dmac=gen.DUT_IN_MAC, pad=b""):
        smac = rng.choice(gen.GEN_MACS) if rng.random() < 0.85 else gen.GEN_MACS[0]
        ip = ip6_header(rng, nh, src, dst, hlim, len(body) if plen is None else plen) + body
        frame = mac(dmac) + mac(smac) + b"\x86\xdd" + ip + pad
        # Where ip6tables and nftables see another protocol (e2e.sh leaves these out unless
        # E2E_V6_ALL=1): an extension header chain that ends early or breaks ([badchain]:
        # ip6tables drops the packet at the first rule with -p, -p all included; nftables
        # has no l4proto and goes on), an AH header on the way ([ah]: ip6tables looks
        # past it, nftables' l4proto is AH).
        proto6, ah = find_hdr(ip)
        what += (" [badchain]" if proto6 is None else "") + (" [ah]" if ah else "")
        out.append("%s # %s %s" % (frame.hex(), smac, what))

    while len(out) < count:
        src, dst, dmac = rng.choice(SRCS), rng.choice(dsts), gen.DUT_IN_MAC
        if rng.random() < 0.03:
            dst, dmac = ALL_NODES, ALL_NODES_MAC
        r = rng.random()
        proto = 6 if r < 0.36 else 17 if r < 0.6 else 58 if r < 0.82 else rng.choice(OTHER_PROTOS)
        hlim = rng.choice(HOP_LIMITS) if rng.random() < 0.7 else rng.randint(0, 255)
        paylen = rng.choice([0, 0, 1, 8, 20, 100, 500, 1000]) if rng.random() < 0.5 \
            else rng.randint(0, 1200)
        if proto in (6, 17, 58):
            seg, what = gen.l4_segment(rng, proto, src, dst, paylen)
        else:
            seg, what = bytes(rng.getrandbits(8) for _ in range(min(paylen, 64))), "proto %d" % proto
        what = "%s %s>%s hl=%d" % (what, src, dst, hlim)
        # extension headers: none mostly; else one to three, hop-by-hop first if at all
        kinds = []
        if rng.random() < 0.3:
            if rng.random() < 0.4:
                kinds.append(HBH)
            kinds += rng.sample([DSTOPTS, ROUTING, FRAGMENT, DSTOPTS, AH], rng.randint(0, 2))
            kinds = kinds or [DSTOPTS]
        kind = rng.random()
        if kind < 0.08 and len(seg) >= 16:
            # a real fragment: the first (offset 0, more fragments), sometimes the last too
            ident = rng.getrandbits(32)
            hbh = rng.random() < 0.3   # a hop-by-hop header before the fragment header
            pre = ext_header(rng, HBH, FRAGMENT)[0] if hbh else b""
            cut = max(8, (rng.randint(8, len(seg) - 8) // 8) * 8)
            frag = lambda off, more: struct.pack("!BBHI", proto, 0, off | more, ident)
            what += " hbh" if hbh else ""
            emit(HBH if hbh else FRAGMENT, src, dst, hlim, pre + frag(0, 1) + seg[:cut],
                 what + " frag first cut=%d" % cut, dmac=dmac)
            if rng.random() < 0.4:
                emit(HBH if hbh else FRAGMENT, src, dst, hlim, pre + frag(cut, 0) + seg[cut:],
                     what + " frag last", dmac=dmac)
            continue
        if kind < 0.12:
            # a fragment other than the first, alone
            off = rng.choice([8, 16, 512, 1232]) if rng.random() < 0.6 else rng.randint(1, 8000) * 8
            more = 1 if rng.random() < 0.5 else 0
            body = bytes(rng.getrandbits(8) for _ in range(rng.choice([8, 16, 64, 400])))
            emit(FRAGMENT, src, dst, hlim,
                 struct.pack("!BBHI", proto, 0, off | more, rng.getrandbits(32)) + body,
                 "%s>%s proto %d frag off=%d%s" % (src, dst, proto, off, " mf" if more else ""),
                 dmac=dmac)
            continue
        hdrs, names = chain_of(rng, kinds, proto)
        ext = b"".join(hdrs)
        if names:
            what += " ext=" + ",".join(names)
        first = kinds[0] if kinds else proto
        body = ext + seg
        if kind < 0.14 and ext:
            # the last extension header cut short, or claiming more than the packet holds
            if rng.random() < 0.5 or kinds[-1] == FRAGMENT:
                body = ext[:len(ext) - rng.randint(1, 7)]
                emit(first, src, dst, hlim, body, what + " MALFORMED ext-cut", dmac=dmac)
            else:   # the last header's length byte (in 8 / 4 bytes, AH) made too large
                last = bytearray(hdrs[-1])
                last[1] = rng.choice([5, 40, 255])
                emit(first, src, dst, hlim, b"".join(hdrs[:-1]) + bytes(last) + seg[:8],
                     what + " MALFORMED ext-len", dmac=dmac)
            continue
        if kind < 0.15:
            # hop-by-hop after another header (the kernel answers parameter problem)
            h2, _ = ext_header(rng, DSTOPTS, HBH)
            h1, _ = ext_header(rng, HBH, proto)
            emit(DSTOPTS, src, dst, hlim, h2 + h1 + seg, what + " MALFORMED hbh-late", dmac=dmac)
            continue
        if kind < 0.16:
            # payload length 0 (not a jumbogram): the packet is its header alone
            emit(first, src, dst, hlim, body, what + " MALFORMED plen0", plen=0, dmac=dmac)
            continue
        if kind < 0.185 and proto in (6, 17, 58):
            body = ext + seg[:rng.randint(0, 7 if proto != 6 else 19)]
            emit(first, src, dst, hlim, body, what + " short-l4", dmac=dmac)
        elif kind < 0.2 and proto in (6, 17, 58):
            csum_at = len(ext) + {6: 16, 17: 6, 58: 2}[proto]
            b = bytearray(body)
            if len(b) >= csum_at + 2:
                b[csum_at] ^= 0x5a
            emit(first, src, dst, hlim, bytes(b), what + " BAD-CSUM", dmac=dmac)
        elif kind < 0.21:
            emit(first, src, dst, hlim, body, what + " TRUNCATED",
                 plen=len(body) + rng.randint(1, 200), dmac=dmac)
        elif kind < 0.22:
            emit(first, src, dst, hlim, body, what + " OTHERHOST", dmac=gen.FOREIGN_MAC)
        elif kind < 0.245:
            emit(first, src, dst, hlim, body, what + " padded", dmac=dmac,
                 pad=bytes(rng.randint(1, 40)))
        else:
            emit(first, src, dst, hlim, body, what, dmac=dmac)
    print("\n".join(out[:count]))


def main(argv):
    caps = ()
    if len(argv) > 2 and argv[1] == "--caps":
        caps = tuple(c for c in argv[2].split(",") if c)
        argv = argv[:1] + argv[3:]
    return gen.main(argv, topo=topo, rules=functools.partial(rules, caps=caps),
                    packets=packets)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
