#!/usr/bin/env python3
"""The peer's side of the stateful differential test (tests/bats/netfilter.bats): the same
deterministic traffic towards a DUT at 198.18.10.1 (2001:db8:10::1 with -6), whatever
judges it there.

  ctpeer.py [-6] server     (in the DUT) serve TCP 8000: answer a line, wait for the end
  ctpeer.py [-6] probe      (in the DUT) a datagram to a closed port of the peer
  ctpeer.py [-6] client     (in the peer) the traffic below, bounded in count and time

With -6 the same traffic goes over IPv6 between 2001:db8:10::1 and 2001:db8:10::2: raw TCP
segments carry the checksum over the IPv6 pseudo-header, the error for the probe is an
ICMPv6 port unreachable.
"""
import socket
import struct
import sys
import time

V6 = sys.argv[1:2] == ["-6"]
if V6:
    del sys.argv[1]
FAMILY = socket.AF_INET6 if V6 else socket.AF_INET
DUT, PEER = ("2001:db8:10::1", "2001:db8:10::2") if V6 else ("198.18.10.1", "198.18.10.2")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def raw_tcp(sport, dport, flags, seq=1000, ack=0):
    """A TCP segment with a right checksum, sent through a raw socket."""
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 512, 0, 0)
    src, dst = socket.inet_pton(FAMILY, PEER), socket.inet_pton(FAMILY, DUT)
    if V6:  # RFC 8200 8.1: addresses, upper-layer length (32 bits), zeros, next header
        pseudo = src + dst + struct.pack("!I3xB", len(hdr), 6)
    else:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(hdr))
    hdr = hdr[:16] + struct.pack("!H", csum(pseudo + hdr)) + hdr[18:]
    # An IPv6 raw socket would fill in the checksum itself only with IPV6_CHECKSUM set;
    # left unset, the kernel sends the segment as given.
    s = socket.socket(FAMILY, socket.SOCK_RAW, socket.IPPROTO_TCP)
    s.sendto(hdr, (DUT, 0))
    s.close()


def server():
    """Answers each connection's first line, then waits for the client to end it."""
    ls = socket.socket(FAMILY)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((DUT, 8000))
    ls.listen(16)
    ls.settimeout(20)
    try:
        while True:
            c, _ = ls.accept()
            c.settimeout(5)
            c.sendall(b"answer " + c.recv(100))
            try:
                while c.recv(100):
                    pass
            except OSError:
                pass
            c.close()
    except socket.timeout:
        pass


def reset(s):
    """Ends the connection with a RST (no FIN exchange, whose timing varies)."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def connect(sport, dport, timeout=3.0):
    s = socket.socket(FAMILY)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((PEER, sport))
    s.settimeout(timeout)
    s.connect((DUT, dport))
    return s


def client():
    # Connections accepted by the per-port rule, data both ways, then reset.
    for i in range(6):
        s = connect(41000 + i, 8000)
        s.sendall(b"hello %d\n" % i)
        assert s.recv(100).startswith(b"answer")
        time.sleep(0.05)
        reset(s)
    # A SYN flood at a port the ruleset does not open: one SYN each, never answered.
    for i in range(20):
        s = socket.socket(FAMILY)
        s.setblocking(False)
        s.bind((PEER, 42000 + i))
        try:
            s.connect((DUT, 8001))
        except BlockingIOError:
            pass
        s.close()  # before the first retransmission
    # A UDP flood from the peer (NEW, dropped) and datagrams to the open port.
    u = socket.socket(FAMILY, socket.SOCK_DGRAM)
    u.bind((PEER, 43000))
    for _ in range(200):
        u.sendto(b"x" * 18, (DUT, 9))
    for _ in range(5):
        u.sendto(b"y" * 18, (DUT, 7000))
    # Segments conntrack finds invalid, or picks up mid-stream.
    raw_tcp(44000, 8000, 0x03)  # SYN|FIN
    raw_tcp(44001, 8000, 0x10)  # a stray ACK
    raw_tcp(44002, 8001, 0x10)
    raw_tcp(44003, 8000, 0x04)  # RST
    time.sleep(0.5)


def dut_probe():
    """From the DUT: a datagram to a closed port of the peer, whose ICMP (ICMPv6) error
    comes back RELATED."""
    u = socket.socket(FAMILY, socket.SOCK_DGRAM)
    u.bind((DUT, 45000))
    for _ in range(3):
        u.sendto(b"z", (PEER, 7777))
        time.sleep(0.05)


{"server": server, "client": client, "probe": dut_probe}[sys.argv[1]]()
