#!/usr/bin/env python3
"""Traffic of the real-world ruleset differential test (tests/e2e/dumps-traffic.sh).

  traffic.py topo DUMP                 shell assignments: the topology for DUMP (eval them)
  traffic.py plan DUMP                 the actions of DUMP's plan, one a line
  traffic.py run DUMP PEER DUT BEHIND  run DUMP's plan from/to/through these namespaces;
                                       one outcome line per action on stdout
  traffic.py compare REF DUT           two `*-save -c` outputs, counter by counter (gen.py)
  traffic.py ping6 ADDR                one ICMPv6 echo request to ADDR (104 bytes, as ping -6
                                       sends), exit 0 when its reply comes within 1 s

Topology (the same for every dump; only the dut's interface names change, chosen so that
the dump's -i/-o rules see the traffic):

  peer  p0 198.18.1.1/24 --veth-- IF_A 198.18.1.2/24  dut  IF_B 198.18.2.1/24 --veth-- b0 198.18.2.2/24  behind

The peer and behind route each other's /24 through the dut (which forwards); every
neighbour is static, so no ARP happens. Every namespace listens on LISTEN_TCP and echoes on
LISTEN_UDP. One process runs a whole plan: it switches its main thread between the
namespaces (setns) to open each socket, serves every listening socket from one thread, and
runs the actions one after the other, each to its end (reply, error or timeout) before the
next. Everything is deterministic: TCP clients close with RST (SO_LINGER 0) once the server
answered (no FIN/TIME_WAIT race), connect timeouts (0.25 s) stay below the first SYN
retransmission (1 s), the namespaces run with tcp_synack_retries=0 (an unanswered SYN-ACK
is never resent), icmp_ratemask=0, IPv6 off, igmp_link_local_mcast_reports=0.
Python 3 standard library only.
"""

import ctypes
import errno
import os
import selectors
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402  (parse_save/compare of the random differential test)

PEER_IF, BEH_IF = "p0", "b0"
MACS = {"peer": "02:dd:00:00:01:01", "dut_a": "02:dd:00:00:01:02",
        "dut_b": "02:dd:00:00:02:01", "behind": "02:dd:00:00:02:02"}
ADDR = {"A": "198.18.1.1", "D_A": "198.18.1.2", "D_B": "198.18.2.1", "B": "198.18.2.2",
        "lo": "127.0.0.1", "mdns": "224.0.0.251", "hairpin": "198.19.0.1"}
HAIRPIN_NET = "198.19.0.0/16"   # the dut routes it to behind, behind to the dut: behind's
                                # packets there come back to it through FORWARD, if_b to if_b
# The same for the ip6tables dumps (their names hold "ip6tables"): 2001:db8:1::/64 and
# 2001:db8:2::/64, the mDNS group ff02::fb.
ADDR6 = {"A": "2001:db8:1::1", "D_A": "2001:db8:1::2", "D_B": "2001:db8:2::1",
         "B": "2001:db8:2::2", "lo": "::1", "mdns": "ff02::fb", "hairpin": "2001:db8:f000::1"}
HAIRPIN_NET6 = "2001:db8:f000::/36"


def is_v6(dump):
    return "ip6tables" in dump
NS_OF = {"A": "peer", "D": "dut", "B": "behind"}   # who sends
LISTEN_TCP = [22, 53, 67, 80, 137, 443, 1723, 2000, 3390, 5666, 8080]
LISTEN_UDP = [53, 67, 68, 137, 138, 500, 2000, 5353]
# closed everywhere: TCP 9, 81, 4000; UDP 9, 4500

TCP_TIMEOUT = 0.25   # below the first SYN retransmission (1 s)
REPLY_TIMEOUT = 1.0  # a connected server's answer
UDP_TIMEOUT = 0.25
RAW_WAIT = 0.1

# ---------------------------------------------------------------------------------------
# Per-dump profiles: the dut's interface names and the traffic. Keys of a profile:
#   if_a, if_b   dut interface towards the peer / towards behind
#   tcp_in, udp_in    ports the peer connects/sends to on the dut
#   tcp_out, udp_out  ports the dut connects/sends to on the peer (OUTPUT rules)
#   tcp_fwd, udp_fwd  ports the peer connects/sends to on behind (FORWARD)
#   tcp_rev           ports behind connects to on the peer (FORWARD, the other way)
#   tcp_bd            ports behind connects to on the dut (INPUT on if_b)
#   raw_in            crafted TCP from the peer: (kind, port), kind: ack (stray ACK, no
#                     connection), synfin (INVALID), badsum (SYN with a wrong checksum)
#   raw_fwd           crafted TCP from the peer to behind (FORWARD), as raw_in
#   icmp_in           crafted ICMP types (no echo) from the peer to the dut
#   proto_in          IP protocols (no TCP/UDP/ICMP: esp, gre) from the peer to the dut
# and always: pings peer->dut, dut->peer, dut->lo, peer->behind, behind->dut; TCP and UDP
# from the dut to itself (127.0.0.1 and its own address: INPUT/OUTPUT -i/-o lo); UDP from the
# peer to 224.0.0.251:5353 (the dut joined the group on if_a); TCP, UDP and a ping from
# behind to HAIRPIN_NET (forwarded back out of if_b; behind drops it silently).

BASE = dict(
    tcp_in=[22, 53, 80, 443, 1723, 2000, 5666, 8080, 9],
    udp_in=[53, 67, 137, 500, 2000, 5353, 9, 4500],
    tcp_out=[22, 137, 1723, 2000, 9],
    udp_out=[53, 68, 137, 2000, 9],
    tcp_fwd=[22, 80, 3390, 9],
    udp_fwd=[137, 2000, 9],
    tcp_rev=[80, 2000],
    tcp_bd=[22, 2000],
    raw_in=[("ack", 22), ("ack", 4000), ("synfin", 22), ("badsum", 2000)],
    raw_fwd=[("synfin", 22)],
    icmp_in=[13, 11],
    proto_in=[50, 47],
)


def profile(dump):
    p = dict(BASE)
    if is_v6(dump):   # crafted packets (raw_*, icmp_in, proto_in) are IPv4's alone
        p.update(raw_in=[], raw_fwd=[], icmp_in=[], proto_in=[])
    p.update(PROFILES.get(dump, {}))
    return p


PROFILES = {
    # filter INPUT: conntrack RELATED,ESTABLISHED (replies to the dut's own connections,
    # the data of accepted ones), -i lo (the dut to itself), INPUT_ZONES -i enp3s0 -g
    # IN_public: icmp ACCEPT (pings), tcp 22 ctstate NEW (accepted), 224.0.0.251 udp 5353
    # NEW (the multicast datagram), the rest: INVALID DROP (SYN+FIN) and REJECT
    # icmp-host-prohibited (connects fail with EHOSTUNREACH). FORWARD: FWDI_public icmp
    # ACCEPT (forwarded pings), the rest REJECT host-prohibited. nat PREROUTING/POSTROUTING
    # zone jumps (first packet of each connection), mangle and raw jump chains (all).
    "firewalld-restore-ipt-save-completed.txt": dict(if_a="enp3s0", if_b="virbr1"),
    # INPUT DROP policy; -i lo, state RELATED,ESTABLISHED, icmp ACCEPT; OUTPUT tcp/udp
    # dport 137 REJECT icmp-port-unreachable (the dut's own connect/send to 137 fails with
    # ECONNREFUSED); FORWARD DROP policy (forwarded traffic counted there).
    "ipt-restore-iptables.dump": dict(if_a="eth0", if_b="eth1"),
    # raw: PREROUTING_ZONES -g PRE_FedoraWorkstation -> CT --helper netbios-ns (udp 137);
    # mangle POSTROUTING -o virbr0 udp 68 CHECKSUM (the dut's udp to the peer's 68);
    # filter INPUT -i virbr0 udp/tcp 53 and 67 ACCEPT, conntrack, -i lo, zones (-i wlp58s0 is
    # if_b: behind->dut), IN_FedoraWorkstation icmp, udp 137/138, tcp 22, udp/tcp 1025:65535
    # NEW, 224.0.0.251 5353, INVALID DROP, REJECT host-prohibited (tcp 80, 443); FORWARD
    # -i virbr0 / -o virbr0 REJECT port-unreachable (peer<->behind); OUTPUT -o virbr0 udp 68.
    "ipt-save-fedora27-iptables": dict(if_a="virbr0", if_b="wlp58s0",
                                       tcp_in=[22, 53, 67, 80, 443, 1723, 2000, 9],
                                       udp_in=[53, 67, 137, 138, 2000, 5353, 9]),
    # if_a is ppp0, if_b wlan0. INPUT -i wlan0 -> WLAN (mac RETURN rules, LOG with limit
    # 12/min, DROP: behind->dut); -i ppp0 icmp limit 1/sec -> in_icmp (types 8, 11 ACCEPT,
    # 13 falls to the DROP policy); -i ppp0 tcp 22 -> in_trusted (no source matches) ->
    # block -> reject_log (LOG limit 1/sec for SYNs to 22:80, REJECT tcp-reset: ECONNREFUSED;
    # udp REJECT port-unreachable); block state RELATED,ESTABLISHED (the dut's connections),
    # ! -i ppp0 NEW (OUTPUT, the dut to itself, behind->peer forwarded); -s/-d 127.0.0.1 -i/-o
    # lo; FORWARD -i ppp0 udp 137:139 / tcp 445 DROP, TCPMSS on SYN and SYN-ACK, block;
    # OUTPUT -o wlan0 -> wlanout DROP (nothing of the dut reaches behind).
    # limit budgets (burst 5, never exceeded so the rate never matters): icmp in on ppp0 =
    # ping + echo reply of the dut's ping + port-unreachable for the dut's udp 9 + 2 raw
    # ICMP = 5; SYN (+SYN-FIN) on ppp0 to 22:80 reaching reject_log: tcp_in 22, 80, synfin
    # 22, tcp_fwd 22 = 4 (no raw_fwd: it would be the 5th); packets from wlan0 into WLAN:
    # tcp_bd 22 + ping = 2. FORWARD -i eth1/eth2 and -o ppp0 --sport rules are not reached
    # (if_b is wlan0; nothing is sent from those ports), nor the 192.168.x/10.x rules.
    "ipt-save-ipt-save-filter.txt": dict(if_a="ppp0", if_b="wlan0",
                                         tcp_in=[22, 80, 443, 2000, 9],
                                         udp_in=[53, 137, 2000, 9],
                                         tcp_fwd=[22, 139, 445, 3390], raw_fwd=[],
                                         udp_fwd=[137, 445, 2000],
                                         tcp_bd=[22], raw_in=[("ack", 22), ("synfin", 22)],
                                         udp_out=[53, 2000, 9]),
    # every policy DROP, OUTPUT -j ACCEPT: everything the peer sends is dropped in INPUT or
    # FORWARD (no conntrack: the XDP prefilter decides and counts these drops), the dut's
    # own packets leave and their answers are dropped (connects time out).
    "ipt-save-policy-drop.txt": dict(if_a="eth0", if_b="eth1"),
    # raw PREROUTING/OUTPUT -j port_assignment -> tcp 1723 CT --helper pptp (peer->dut 1723,
    # dut->peer 1723); if_a bond0.208, if_b bond0.11. INPUT: INVALID -> L_DROP (SYN+FIN),
    # RELATED,ESTABLISHED -> L_ACCEPT, -i lo, SYN to multiport 22,80,443,873,1723, udp
    # multiport 500,1701,4500, icmp 8, -i bond0.208 -> L_DROP (others); L_ACCEPT/L_DROP NFLOG
    # and LOG; FORWARD: TCPMSS, -o bond0.11 -> CUST_I16_IN (SYN 3390, 21, icmp 8 accepted,
    # rest L_DROP), -i bond0.11 -> CUST_I16_OUT (SYN 80,443), FORWARD -j L_ACCEPT.
    "ipt-save-wireless.txt": dict(if_a="bond0.208", if_b="bond0.11",
                                  tcp_fwd=[22, 21, 3390, 9], tcp_rev=[80, 2000]),
    # ip6tables: INPUT DROP policy; -i lo, state RELATED,ESTABLISHED (the dut's own
    # connections), ipv6-icmp ACCEPT (pings, their errors); OUTPUT tcp/udp 137 REJECT
    # icmp6-port-unreachable; FORWARD DROP policy.
    "ipt-restore-ip6tables.dump": dict(if_a="eth0", if_b="eth1"),
    # ip6tables: raw PREROUTING icmp6 type 134 ACCEPT (none sent), zone jumps (-i wlp58s0
    # is if_a) in mangle and raw; filter INPUT conntrack RELATED,ESTABLISHED, -i lo, zones:
    # IN_FedoraWorkstation ipv6-icmp ACCEPT, udp 137/138, tcp 22, ff02::fb udp 5353 (the
    # multicast datagram), udp/tcp 1025:65535 NEW; INVALID DROP; REJECT icmp6-adm-prohibited
    # (tcp 80, 443, udp 53); FORWARD FWDI zone ipv6-icmp ACCEPT, the rest REJECT.
    "ipt-save-fedora27-ip6tables": dict(if_a="wlp58s0", if_b="eth1",
                                        udp_in=[53, 67, 137, 138, 2000, 5353, 9]),
}


def plan(dump):
    """[(action, src, dst, port)]; src/dst are keys of ADDR (src also of NS_OF)."""
    p, a = profile(dump), []
    a += [("tcp", "A", "D_A", x) for x in p["tcp_in"]]
    a += [("udp", "A", "D_A", x) for x in p["udp_in"]]
    a += [("ping", "A", "D_A", 0)]
    a += [("raw-" + k, "A", "D_A", x) for k, x in p["raw_in"]]
    a += [("icmp", "A", "D_A", t) for t in p["icmp_in"]]
    a += [("proto", "A", "D_A", x) for x in p["proto_in"]]
    a += [("mcast", "A", "mdns", 5353)]
    a += [("tcp", "D", "A", x) for x in p["tcp_out"]]
    a += [("udp", "D", "A", x) for x in p["udp_out"]]
    a += [("ping", "D", "A", 0)]
    a += [("tcp", "D", "lo", 2000), ("udp", "D", "lo", 2000), ("ping", "D", "lo", 0),
          ("tcp", "D", "D_A", 2000)]
    a += [("tcp", "A", "B", x) for x in p["tcp_fwd"]]
    a += [("udp", "A", "B", x) for x in p["udp_fwd"]]
    a += [("ping", "A", "B", 0)]
    a += [("raw-" + k, "A", "B", x) for k, x in p["raw_fwd"]]
    a += [("tcp", "B", "A", x) for x in p["tcp_rev"]]
    a += [("tcp", "B", "D_B", x) for x in p["tcp_bd"]]
    a += [("ping", "B", "D_B", 0)]
    a += [("tcp", "B", "hairpin", 22), ("udp", "B", "hairpin", 2000),
          ("ping", "B", "hairpin", 0)]
    return a


def addrs(dump):
    return ADDR6 if is_v6(dump) else ADDR


def topo(dump):
    p, a, v6 = profile(dump), addrs(dump), is_v6(dump)
    net = (lambda x: x.rsplit(":", 1)[0] + ":/64") if v6 else (lambda x: x.rsplit(".", 1)[0] + ".0/24")
    out = {"IF_A": p["if_a"], "IF_B": p["if_b"], "PEER_IF": PEER_IF, "BEH_IF": BEH_IF,
           "MAC_PEER": MACS["peer"], "MAC_DUT_A": MACS["dut_a"], "MAC_DUT_B": MACS["dut_b"],
           "MAC_BEH": MACS["behind"], "ADDR_PEER": a["A"], "ADDR_DUT_A": a["D_A"],
           "ADDR_DUT_B": a["D_B"], "ADDR_BEH": a["B"], "PLEN": 64 if v6 else 24,
           "NET_PEER": net(a["A"]), "NET_BEH": net(a["B"]), "FAMILY": 6 if v6 else 4,
           "HAIRPIN_NET": HAIRPIN_NET6 if v6 else HAIRPIN_NET}
    for k, v in out.items():
        print("%s='%s'" % (k, v))


# ---------------------------------------------------------------------------------------
# Namespaces and servers.

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def enter(ns):
    """Move the calling thread into network namespace ns (sockets opened now live there)."""
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (ns, os.strerror(e)))
    finally:
        os.close(fd)


class Servers:
    """Every listening socket of every namespace, served by one thread: TCP answers each
    chunk with as many b"y", UDP echoes b"y" to the sender."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()

    def listen(self, dut_if=None, mcast=False, v6=False):
        fam, any_ = (socket.AF_INET6, "::") if v6 else (socket.AF_INET, "0.0.0.0")
        for port in LISTEN_TCP:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((any_, port))
            s.listen(64)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, "listen")
        for port in LISTEN_UDP:
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((any_, port))
            if mcast and port == 5353 and v6:
                mreq = socket.inet_pton(socket.AF_INET6, ADDR6["mdns"]) + struct.pack(
                    "=I", socket.if_nametoindex(dut_if))
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
            elif mcast and port == 5353:
                mreq = struct.pack("=4s4si", socket.inet_aton(ADDR["mdns"]),
                                   socket.inet_aton("0.0.0.0"), socket.if_nametoindex(dut_if))
                s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ, "udp")

    def start(self):
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            for key, _ in self.sel.select(0.2):
                s, kind = key.fileobj, key.data
                try:
                    if kind == "listen":
                        c, _ = s.accept()
                        c.setblocking(False)
                        self.sel.register(c, selectors.EVENT_READ, "conn")
                    elif kind == "udp":
                        _, peer = s.recvfrom(2048)
                        s.sendto(b"y", peer)
                    else:
                        data = s.recv(2048)
                        if not data:
                            raise ConnectionResetError
                        s.send(b"y" * len(data))
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    if kind == "conn":
                        # the client reset (or closed): nothing is left to send
                        self.sel.unregister(s)
                        s.close()


# ---------------------------------------------------------------------------------------
# Actions. Each returns a short outcome word; the caller prints "action -> outcome".

def err_word(e):
    return {errno.ECONNREFUSED: "refused", errno.EHOSTUNREACH: "host-unreach",
            errno.ENETUNREACH: "net-unreach", errno.EPERM: "eperm",
            errno.ETIMEDOUT: "timeout", errno.ECONNRESET: "reset"}.get(
                e, errno.errorcode.get(e, str(e)))


def ask(s, timeout, ok, silent):
    """Send one byte on the connected socket s and wait for the server's b"y": ok, silent
    (nothing in time), bad-reply or the error."""
    s.settimeout(timeout)
    try:
        s.send(b"x")
        data = s.recv(16)
    except socket.timeout:
        return silent
    except OSError as e:
        return err_word(e.errno)
    return ok if data == b"y" else "bad-reply"


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp_connect(dst, port):
    s = socket.socket(family_of(dst), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.setblocking(False)
    try:
        rc = s.connect_ex((dst, port))
        if rc not in (0, errno.EINPROGRESS):
            return err_word(rc)
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_WRITE)
        if not sel.select(TCP_TIMEOUT):
            return "timeout"
        rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if rc:
            return err_word(rc)
        s.setblocking(True)
        out = ask(s, REPLY_TIMEOUT, "connected", "noreply")
        return out if out == "connected" else "connected-" + out
    finally:
        s.close()   # SO_LINGER 0: RST, or nothing at all from SYN_SENT


def udp_send(dst, port):
    s = socket.socket(family_of(dst), socket.SOCK_DGRAM)
    try:
        s.connect((dst, port))
        return ask(s, UDP_TIMEOUT, "reply", "timeout")
    finally:
        s.close()


def mcast_send(dst, port, src):
    """The peer (src) to 224.0.0.251:5353 or [ff02::fb]:5353 out of its veth; the dut
    answers by unicast."""
    s = socket.socket(family_of(dst), socket.SOCK_DGRAM)
    try:
        if family_of(dst) == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(PEER_IF))
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
        else:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        s.settimeout(UDP_TIMEOUT)
        s.bind((src, 0))
        try:
            s.sendto(b"m", (dst, port))
            data, src = s.recvfrom(16)
        except socket.timeout:
            return "timeout"
        except OSError as e:
            return err_word(e.errno)
        return "reply-from-" + src[0] if data == b"y" else "bad-reply"
    finally:
        s.close()


def icmp_msg(typ, ident, seq):
    body = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + b"xdd-ping" + (
        b"\0" * 12 if typ == 13 else b"")
    return body[:2] + struct.pack("!H", gen.csum(body)) + body[4:]


def received(s, wait):
    """The IP packets raw socket s receives in the next wait seconds: (packet, header length)."""
    end = time.monotonic() + wait
    while (left := end - time.monotonic()) > 0:
        s.settimeout(left)
        try:
            pkt = s.recv(2048)
        except socket.timeout:
            return
        yield pkt, (pkt[0] & 15) * 4


def icmp_exchange(dst, typ, ident):
    """Send ICMP type typ (8 echo, 13 timestamp, 11 time-exceeded, ...) to dst; what came
    back: reply, an ICMP error type/code quoting it, eperm (OUTPUT dropped), or timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        try:
            s.sendto(icmp_msg(typ, ident, 1), (dst, 0))
        except OSError as e:
            return err_word(e.errno)
        want = {8: 0, 13: 14}.get(typ)
        for pkt, ihl in received(s, UDP_TIMEOUT if want is not None else RAW_WAIT):
            t, c = pkt[ihl], pkt[ihl + 1]
            if t == want and struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0] == ident:
                return "reply"
            if t in (3, 4, 5, 11, 12) and len(pkt) >= ihl + 8 + 28:
                inner = pkt[ihl + 8:]
                iihl = (inner[0] & 15) * 4
                if inner[9] == 1 and struct.unpack("!H", inner[iihl + 4:iihl + 6])[0] == ident:
                    return "icmp-%d/%d" % (t, c)
        return "timeout" if want is not None else "none"
    finally:
        s.close()


def echo6(dst, ident, wait=UDP_TIMEOUT):
    """An ICMPv6 echo request to dst: reply, an ICMPv6 error type/code quoting it, eperm
    (OUTPUT dropped), or timeout."""
    with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6) as s:
        try:   # the kernel fills in the checksum of an ICMPv6 raw socket
            s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, 1) + b"xdd-ping6" * 6 + b"xx", (dst, 0))
        except OSError as e:
            return err_word(e.errno)
        for pkt, _ in received(s, wait):   # (an ICMPv6 socket reads no IP header)
            if pkt[0] == 129 and struct.unpack("!H", pkt[4:6])[0] == ident:
                return "reply"
            # an error quoting our request: its IPv6 header (40), then the echo's id
            if pkt[0] < 128 and len(pkt) >= 8 + 40 + 6 and pkt[8 + 6] == 58 and \
                    struct.unpack("!H", pkt[8 + 40 + 4:8 + 40 + 6])[0] == ident:
                return "icmp6-%d/%d" % (pkt[0], pkt[1])
        return "timeout"


def raw_tcp(kind, src, dst, port, sport):
    """A crafted TCP segment from src to dst; what dst answered (TCP flags) in RAW_WAIT."""
    flags = {"ack": 0x10, "synfin": 0x03, "badsum": 0x02}[kind]
    seg = struct.pack("!HHIIBBHHH", sport, port, 1000, 2000 if flags & 0x10 else 0,
                      5 << 4, flags, 64240, 0, 0)
    pseudo = struct.pack("!4s4sBBH", socket.inet_aton(src), socket.inet_aton(dst), 0, 6,
                         len(seg))
    c = gen.csum(pseudo + seg) ^ (0x5555 if kind == "badsum" else 0)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    try:
        send_ip(src, dst, 6, seg)
        seen = []
        for pkt, ihl in received(rx, RAW_WAIT):
            sp, dp = struct.unpack("!HH", pkt[ihl:ihl + 4])
            if sp == port and dp == sport:
                f = pkt[ihl + 13]
                seen.append("+".join(n for b, n in ((2, "SYN"), (4, "RST"), (16, "ACK"),
                                                   (1, "FIN")) if f & b))
        return ",".join(seen) or "none"
    finally:
        rx.close()


def send_ip(src, dst, proto, payload):
    """One IP packet built here (IP_HDRINCL), id 0x4242, DF."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x4242, 0x4000, 64, proto,
                     0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", gen.csum(ip)) + ip[12:]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as tx:
        tx.sendto(ip + payload, (dst, 0))


def raw_proto(src, dst, proto):
    """An IP packet of protocol proto (8 bytes of payload); the ICMP error it drew, or none."""
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as rx:
        send_ip(src, dst, proto, b"xdd-prot")
        for pkt, ihl in received(rx, RAW_WAIT):
            inner = pkt[ihl + 8:]
            if len(inner) >= 20 and inner[9] == proto and inner[16:20] == socket.inet_aton(dst):
                return "icmp-%d/%d" % (pkt[ihl], pkt[ihl + 1])
        return "none"


def run(dump, peer, dut, behind):
    ns = {"peer": peer, "dut": dut, "behind": behind}
    p, addr, v6 = profile(dump), addrs(dump), is_v6(dump)
    servers = Servers()
    for role in ("peer", "behind", "dut"):
        enter(ns[role])
        servers.listen(p["if_a"], mcast=(role == "dut"), v6=v6)
    servers.start()
    ident, sport = 0x4400, 40000
    for act, src, dst, port in plan(dump):
        enter(ns[NS_OF[src]])
        daddr = addr[dst]
        ident += 1
        sport += 1
        if act == "tcp":
            out = tcp_connect(daddr, port)
        elif act == "udp":
            out = udp_send(daddr, port)
        elif act == "mcast":
            out = mcast_send(daddr, port, addr[src])
        elif act == "ping":
            out = echo6(daddr, ident) if v6 else icmp_exchange(daddr, 8, ident)
        elif act == "icmp":
            out = icmp_exchange(daddr, port, ident)
        elif act == "proto":
            out = raw_proto(addr[src], daddr, port)
        else:
            out = raw_tcp(act[4:], addr[src], daddr, port, sport)
        print("%-6s %s -> %s:%d  %s" % (act, src, dst, port, out), flush=True)
    time.sleep(0.3)   # the last RST or reply through every hook before anyone saves
    return 0


def compare(ref, dut):
    n = sum(1 for k, _, _ in gen.parse_save(ref) if k[2])
    return gen.compare(ref, dut, n, False)


def ping6(dst):
    """ping -6 -c 1 -W 1 (iputils' ping need not be there)."""
    return 0 if echo6(dst, os.getpid() & 0xffff, 1.0) == "reply" else 1


def print_plan(dump):
    for x in plan(dump):
        print("%-6s %s -> %s:%d" % x)


COMMANDS = {"topo": (topo, 1), "plan": (print_plan, 1), "run": (run, 4),
            "compare": (compare, 2), "ping6": (ping6, 1)}


def main(argv):
    fn, nargs = COMMANDS.get(argv[1] if len(argv) > 1 else "", (None, 0))
    if fn is None or len(argv) != 2 + nargs:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return fn(*argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
