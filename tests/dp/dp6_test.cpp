// The dataplane on crafted IPv6 packets (see dp_test.cpp): rulesets loaded with the real
// ip6tables-restore, frames run through the real XDP program, verdicts and counters
// checked against what ip6tables (1.8.9, legacy) and the kernel's ip6_rcv would do.
#include <doctest/doctest.h>

#include <cstdlib>
#include <netinet/in.h>
#include <unistd.h>

#include "harness.hpp"
#include "xdpt_shared.h"

using namespace dpt;

namespace {

Ip6 udp6(uint16_t dport, const char* src = "2001:db8::2") {
    return Ip6{.src = src, .proto = IPPROTO_UDP, .l4 = udp(1000, dport)};
}
Ip6 tcp6(uint16_t dport, uint8_t flags = ACK) { return Ip6{.proto = IPPROTO_TCP, .l4 = tcp(1000, dport, flags)}; }
Ip6 icmp6(uint8_t type, uint8_t code) { return Ip6{.proto = IPPROTO_ICMPV6, .l4 = icmp(type, code)}; }
Ip6 with_ext(Ip6 ip, std::vector<Ext> ext) {
    ip.ext = std::move(ext);
    return ip;
}

// From the neighbour behind veth2 to veth2's address.
Ip6 from_veth2(Ip6 ip) {
    ip.src = "2001:db8:1::2", ip.dst = "2001:db8:1::1";
    return ip;
}

}  // namespace

TEST_CASE("IPv6 addresses: prefixes of many lengths, and !") {
    load6(filter(R"(-A INPUT -s ::/0
-A INPUT -s 2001:db8::/32
-A INPUT -s 2001:db8::/48
-A INPUT -s 2001:db8::/64
-A INPUT -s 2001:db8::/96
-A INPUT -s 2001:db8::/127
-A INPUT -s 2001:db8::2/128
-A INPUT ! -s 2001:db8::2/128
-A INPUT -s 2001:db8:0:0:8000::/65
-A INPUT -d 2001:db8::1
-A INPUT ! -d 2001:db8::/64
-A INPUT -s 2001:db8:1::2 -d 2001:db8:1::1 -j DROP)"));
    EXPECT(send6(udp6(7)), PASS, "INPUT#1 INPUT#2 INPUT#3 INPUT#4 INPUT#5 INPUT#7 INPUT#10 INPUT:P");
    EXPECT(send6(udp6(7, "2001:db8::8000:0:0:3")), PASS, "INPUT#1 INPUT#2 INPUT#3 INPUT#4 INPUT#8 INPUT#9 INPUT#10 INPUT:P");
    EXPECT(send6(udp6(7, "2001:db8::1:0:0")), PASS, "INPUT#1 INPUT#2 INPUT#3 INPUT#4 INPUT#8 INPUT#10 INPUT:P");
    EXPECT(send6(from_veth2(udp6(7)), veth2()), DROP, "INPUT#1 INPUT#2 INPUT#8 INPUT#11 INPUT#12");
}

TEST_CASE("IPv6 prefixes: every length from /0 to /128 on one address") {
    // Rule k (1-based) is -s <a>/<k-1>: the address a matches all of them; the address
    // whose bit b (from the top) differs from a's matches exactly the rules of lengths up
    // to b.
    std::string rules;
    for (int len = 0; len <= 128; ++len) rules += "-A INPUT -s 2001:db8::2/" + std::to_string(len) + "\n";
    load6(filter(rules + "-A INPUT -j DROP"));
    std::string all;
    for (int k = 1; k <= 129; ++k) all += "INPUT#" + std::to_string(k) + " ";
    EXPECT(send6(udp6(7)), DROP, all + "INPUT#130");
    for (int bit : {32, 47, 63, 64, 100, 126, 127}) {
        CAPTURE(bit);
        in6_addr a{};
        inet_pton(AF_INET6, "2001:db8::2", &a);
        a.s6_addr[bit / 8] ^= uint8_t(0x80 >> (bit % 8));
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a, text, sizeof text);
        std::string want;
        for (int k = 1; k <= bit + 1; ++k) want += "INPUT#" + std::to_string(k) + " ";
        EXPECT(send6(udp6(7, text)), DROP, want + "INPUT#130");
    }
}

TEST_CASE("IPv6 protocols: the upper layer after the extension headers, ports, ICMPv6") {
    load6(filter(R"(-A INPUT -p tcp
-A INPUT -p udp
-A INPUT -p ipv6-icmp
-A INPUT -p 47
-A INPUT ! -p tcp
-A INPUT -p all
-A INPUT -p tcp --dport 22 -j DROP
-A INPUT -p udp --sport 1000 --dport 53 -j DROP
-A INPUT -p ipv6-icmp -j DROP)"));
    EXPECT(send6(tcp6(80)), PASS, "INPUT#1 INPUT#6 INPUT:P");
    EXPECT(send6(tcp6(22)), DROP, "INPUT#1 INPUT#6 INPUT#7");
    EXPECT(send6(with_ext(tcp6(22), {{DSTOPTS}, {ROUTING, Bytes(14, 0)}, {AH, Bytes(10, 0)}})), DROP,
           "INPUT#1 INPUT#6 INPUT#7");
    EXPECT(send6(with_ext(udp6(53), {{DSTOPTS, Bytes(30, 1)}})), DROP, "INPUT#2 INPUT#5 INPUT#6 INPUT#8");
    EXPECT(send6(with_ext(udp6(54), {{DSTOPTS}, {DSTOPTS}, {ROUTING}, {DSTOPTS}})), PASS,
           "INPUT#2 INPUT#5 INPUT#6 INPUT:P");
    EXPECT(send6(icmp6(128, 0)), DROP, "INPUT#3 INPUT#5 INPUT#6 INPUT#9");
    // An ICMPv6 error (destination unreachable), no conntrack: a packet like any other.
    EXPECT(send6(icmp6(1, 4)), DROP, "INPUT#3 INPUT#5 INPUT#6 INPUT#9");
    EXPECT(send6(Ip6{.proto = 47, .l4 = Bytes(8, 0)}), PASS, "INPUT#4 INPUT#5 INPUT#6 INPUT:P");
    // No next header: ipv6_find_hdr gives 59.
    EXPECT(send6(with_ext(Ip6{.proto = NONE, .l4 = {}}, {{DSTOPTS}})), PASS, "INPUT#5 INPUT#6 INPUT:P");
}

TEST_CASE("IPv6: what the kernel decides goes up untouched and uncounted") {
    load6(raw("-A PREROUTING") + filter("-A INPUT\n-A INPUT -j DROP"));
    const uint64_t kernel0 = stat_sum(XDPT_S_KERNEL), bad0 = stat_sum(XDPT_S_BAD_IP);
    // Any fragment header, first fragment or not.
    EXPECT(send6(with_ext(udp6(7), {{FRAGMENT, {0, 0, 0, 0, 0, 1}}})), PASS, "");
    EXPECT(send6(with_ext(udp6(7), {{FRAGMENT, {0, 1, 0, 0, 0, 1}}})), PASS, "");
    EXPECT(send6(with_ext(udp6(7), {{DSTOPTS}, {FRAGMENT}})), PASS, "");
    // Hop-by-hop options: first (ip6_rcv parses them) or later.
    EXPECT(send6(with_ext(udp6(7), {{HOP}})), PASS, "");
    EXPECT(send6(with_ext(udp6(7), {{DSTOPTS}, {HOP}})), PASS, "");
    // A chain longer than the walk's four headers.
    EXPECT(send6(with_ext(udp6(7), {{DSTOPTS}, {DSTOPTS}, {DSTOPTS}, {DSTOPTS}, {DSTOPTS}})), PASS, "");
    // Truncated: an extension header past the payload, a TCP header cut short.
    {
        Ip6 t = with_ext(udp6(7), {{DSTOPTS, Bytes(20, 0)}});
        t.l4 = {};
        t.plen_extra = -8;
        EXPECT(send6(t), PASS, "");
        Ip6 c = tcp6(80);
        c.l4.resize(12);
        EXPECT(send6(c), PASS, "");
        Ip6 u = udp6(7);
        u.l4.resize(6);
        EXPECT(send6(u), PASS, "");
    }
    // A jumbogram's payload length (0), one longer than the frame, version 4.
    EXPECT(send6(Ip6{.plen_zero = true}), PASS, "");
    EXPECT(send6(Ip6{.plen_extra = 8}), PASS, "");
    EXPECT(send6(Ip6{.version = 4}), PASS, "");
    EXPECT(send6(Ip6{.cut = 14 + 30}), PASS, "");
    // ip6_rcv's drops: multicast source, loopback off lo; multicast destinations.
    EXPECT(send6(udp6(7, "ff02::1")), PASS, "");
    EXPECT(send6(udp6(7, "::1")), PASS, "");
    EXPECT(send6(Ip6{.dst = "ff02::1"}), PASS, "");
    EXPECT(send6(Ip6{.dst = "ff05::2"}), PASS, "");
    // Unspecified, IPv4-mapped and -compatible addresses.
    EXPECT(send6(udp6(7, "::")), PASS, "");
    EXPECT(send6(udp6(7, "::ffff:198.18.0.2")), PASS, "");
    EXPECT(send6(Ip6{.dst = "::ffff:198.18.0.1"}), PASS, "");
    // Neighbour discovery: router and neighbour solicitations and advertisements,
    // redirects.
    for (uint8_t type = 133; type <= 137; ++type) {
        CAPTURE(int(type));
        EXPECT(send6(icmp6(type, 0)), PASS, "");
        Ip6 ll = icmp6(type, 0);
        ll.src = "fe80::2", ll.dst = "fe80::1";
        EXPECT(send6(ll), PASS, "");
    }
    // A frame for another host's MAC (never reaches the kernel's IPv6); a unicast packet
    // in a multicast frame.
    {
        Frame f = frame6(udp6(7), Mac{0x02, 0, 0x5e, 0, 0, 0x99}, veth0().peer_mac);
        EXPECT(send_frame(f, veth0()), PASS, "");
        f = frame6(udp6(7), Mac{0x33, 0x33, 0, 0, 0, 1}, veth0().peer_mac);
        EXPECT(send_frame(f, veth0()), PASS, "");
    }
    CHECK(stat_sum(XDPT_S_KERNEL) > kernel0);
    CHECK(stat_sum(XDPT_S_BAD_IP) > bad0);
    // And what is decided: the same packet, whole.
    EXPECT(send6(udp6(7)), DROP, "INPUT#1 INPUT#2 raw:PREROUTING#1 raw:PREROUTING:P");
}

TEST_CASE("IPv6: raw PREROUTING decides link-local traffic, filter leaves it to the kernel") {
    load6(raw("-A PREROUTING -s fe80::/10 -p udp --dport 9 -j DROP\n-A PREROUTING -p tcp --dport 23 -j DROP") +
          filter("-A INPUT -p tcp --dport 24 -j DROP\n-A INPUT -j ACCEPT"));
    EXPECT(send6(tcp6(23)), DROP, "raw:PREROUTING#2");
    EXPECT(send6(tcp6(24)), DROP, "INPUT#1 raw:PREROUTING:P");
    EXPECT(send6(tcp6(25)), PASS, "INPUT#2 raw:PREROUTING:P");
    Ip6 ll = udp6(9, "fe80::2");
    ll.dst = "fe80::1";
    EXPECT(send6(ll), DROP, "raw:PREROUTING#1");
    ll.l4 = udp(1000, 10);
    EXPECT(send6(ll), PASS, "raw:PREROUTING:P");  // filter INPUT: the kernel's
    // To an address not of this host, forwarding off: dropped by ip6_forward, after raw.
    EXPECT(send6(Ip6{.dst = "2001:db8:1::2", .proto = IPPROTO_TCP, .l4 = tcp(1, 24)}), PASS, "raw:PREROUTING:P");
}

TEST_CASE("IPv6 user chains, RETURN, -g and policies") {
    load6(filter(R"(-A INPUT -p tcp -j web
-A INPUT -p udp -j ret
-A INPUT -s 2001:db8::/64 -p udp -j ACCEPT
-A INPUT -p ipv6-icmp -g ret
-A INPUT -p ipv6-icmp -j ACCEPT
-A web -p tcp --dport 80 -j ACCEPT
-A web -p tcp --dport 81 -j RETURN
-A web -j DROP
-A ret -p udp --sport 1000 -j RETURN
-A ret -p ipv6-icmp -j RETURN
-A ret -j DROP)",
                 "DROP", "ACCEPT", {"web", "ret"}));
    EXPECT(send6(tcp6(80)), PASS, "INPUT#1 web#1");
    EXPECT(send6(tcp6(81)), DROP, "INPUT#1 INPUT:P web#2");
    EXPECT(send6(tcp6(82)), DROP, "INPUT#1 web#3");
    EXPECT(send6(udp6(7)), PASS, "INPUT#2 INPUT#3 ret#1");
    EXPECT(send6(Ip6{.l4 = udp(1001, 7)}), DROP, "INPUT#2 ret#3");
    // -g: the RETURN of the chain gone to ends INPUT (its policy).
    EXPECT(send6(icmp6(128, 0)), DROP, "INPUT#4 INPUT:P ret#2");
}

TEST_CASE("IPv6 FORWARD: -o, hop limit, forwarding off") {
    {
        Forwarding on(true, 6);
        load6(filter(R"(-A INPUT
-A FORWARD -o veth2
-A FORWARD -i veth0 -o veth2 -p udp -j DROP
-A FORWARD -m length --length 0:100
-A FORWARD ! -o veth2 -j DROP)"));
        Ip6 u{.dst = "2001:db8:1::2"};
        EXPECT(send6(u), DROP, "FORWARD#1 FORWARD#2");
        Ip6 t{.dst = "2001:db8:1::2", .proto = IPPROTO_TCP, .l4 = tcp(1, 2)};
        EXPECT(send6(t), PASS, "FORWARD#1 FORWARD#3 FORWARD:P");
        t.l4 = tcp(1, 2, ACK, 100);
        EXPECT(send6(t), PASS, "FORWARD#1 FORWARD:P");
        // Back out of veth0: ip6_forward sends a redirect and forwards it.
        EXPECT(send6(Ip6{.dst = "2001:db8::3"}), DROP, "FORWARD#3 FORWARD#4");
        // Hop limit 1: ip6_forward drops it before FORWARD.
        u.hop_limit = 1;
        EXPECT(send6(u), PASS, "");
        // Local delivery still INPUT.
        EXPECT(send6(udp6(7)), PASS, "INPUT#1 INPUT:P");
    }
    load6(filter("-A INPUT\n-A FORWARD -j DROP"));
    EXPECT(send6(Ip6{.dst = "2001:db8:1::2"}), PASS, "");
    EXPECT(send6(udp6(7)), PASS, "INPUT#1 INPUT:P");
}

TEST_CASE("IPv6 and IPv4: separate rulesets, separate generations, counters kept across each other's commits") {
    load(filter("-A INPUT -p udp --dport 7 -j DROP"));
    EXPECT(send(Ip{.l4 = udp(1000, 7)}), DROP, "INPUT#1");
    load6(filter("-A INPUT -p udp --dport 7 -j DROP\n-A INPUT -p udp --dport 8 -j DROP"), true);
    EXPECT(send6(udp6(7)), DROP, "INPUT#1");
    EXPECT(send6(udp6(8)), DROP, "INPUT#2");
    // An IPv6 commit leaves IPv4's generation and counters alone.
    CHECK(run("ip6tables", {"-I", "INPUT", "-p", "tcp", "-j", "ACCEPT"}).rc == 0);
    counters_of(4);
    {
        const Snapshot s = snapshot();
        CHECK(s.rules.at("filter/INPUT").at(0) == Ctr{2, 2 * 40});
    }
    EXPECT(send(Ip{.l4 = udp(1000, 7)}), DROP, "INPUT#1");
    counters_of(6);
    {
        const Snapshot s = snapshot();
        CHECK(s.rules.at("filter/INPUT").at(1) == Ctr{2, 2 * 60});
        CHECK(s.rules.at("filter/INPUT").at(2) == Ctr{2, 2 * 60});
    }
    EXPECT(send6(udp6(7)), DROP, "INPUT#2");
    EXPECT(send6(tcp6(7)), PASS, "INPUT#1");
    // An IPv6 ruleset that needs a larger program: IPv4's classifier goes on in it as
    // it was, counters and all.
    std::string many = "*filter\n";
    for (int i = 0; i < 1200; ++i) many += "-A INPUT -s 2001:db8:" + std::to_string(1000 + i) + "::/48 -j DROP\n";
    CHECK(run("ip6tables-restore", {"--noflush"}, many + "COMMIT\n").rc == 0);
    EXPECT(send6(udp6(7)), DROP, "INPUT#2");
    EXPECT(send6(udp6(7, "2001:db8:1100::5")), DROP, "INPUT#2");
    EXPECT(send6(Ip6{.src = "2001:db8:1100::5", .proto = 47, .l4 = Bytes(8, 0)}), DROP, "INPUT#104");
    counters_of(4);
    {
        const Snapshot s = snapshot();
        CHECK(s.rules.at("filter/INPUT").at(0) == Ctr{4, 4 * 40});
    }
    EXPECT(send(Ip{.l4 = udp(1000, 7)}), DROP, "INPUT#1");
    // And the other way: an IPv4 ruleset that needs a larger program keeps IPv6's.
    many = "*filter\n";
    for (int i = 0; i < 1200; ++i) many += "-A INPUT -s 10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24 -j DROP\n";
    CHECK(run("xdptables-restore", {"--noflush"}, many + "COMMIT\n").rc == 0);
    EXPECT(send(Ip{.l4 = udp(1000, 7)}), DROP, "INPUT#1");
    counters_of(6);
    {
        const Snapshot s = snapshot();
        CHECK(s.rules.at("filter/INPUT").at(1) == Ctr{8, 8 * 60});
    }
    EXPECT(send6(udp6(7)), DROP, "INPUT#2");
}

TEST_CASE("IPv6 counters: kept across the family's own commits") {
    load6(filter("-A INPUT -p udp -j DROP"));
    EXPECT(send6(udp6(7)), DROP, "INPUT#1");
    CHECK(run("ip6tables", {"-I", "INPUT", "-p", "tcp", "-j", "ACCEPT"}).rc == 0);
    const Snapshot s = snapshot();
    CHECK(s.rules.at("filter/INPUT").at(1) == Ctr{2, 2 * 60});
    EXPECT(send6(udp6(7)), DROP, "INPUT#2");
    // A rule XDP cannot decide: its packets go up; the others are still decided.
    CHECK(run("ip6tables", {"-I", "INPUT", "-p", "udp", "--dport", "9", "-m", "limit", "--limit", "1/sec", "-j",
                            "ACCEPT"}).rc == 0);
    EXPECT(send6(udp6(9)), PASS, "");
    EXPECT(send6(tcp6(9)), PASS, "INPUT#2");
}

// Conntrack in an IPv6 ruleset, as in IPv4 (dp_test.cpp): a packet conntrack would see
// as NEW is judged in XDP, every other one goes up after raw PREROUTING; so does one
// with extension headers (conntrack steps over them; XDP does not ask).
TEST_CASE("IPv6 conntrack: NEW packets judged in XDP, every other state left to the kernel") {
    unsetenv("XDPT_TEST_COUNT_ALL");
    load6(raw("-A PREROUTING -m conntrack --ctstate INVALID -p udp --dport 6 -j DROP") +
          filter(R"(-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p udp --dport 53 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p tcp --dport 22 -m state --state NEW -j ACCEPT
-A INPUT -p udp -m conntrack ! --ctstate NEW -j ACCEPT)", "DROP"));
    auto udp_csum = [](uint16_t sport, uint16_t dport, bool bad = false) {
        return Ip6{.proto = IPPROTO_UDP, .l4 = udp(sport, dport), .l4_csum = true, .bad_l4_csum = bad};
    };
    auto tcp_csum = [](uint16_t dport, uint8_t flags, bool bad = false) {
        return Ip6{.proto = IPPROTO_TCP, .l4 = tcp(40000, dport, flags), .l4_csum = true, .bad_l4_csum = bad};
    };
    // Raw PREROUTING comes before conntrack: every packet is INVALID there.
    EXPECT(send6(udp6(6)), DROP, "raw:PREROUTING#1");
    // NEW: dropped by the policy, or accepted (passed up, netfilter counts it).
    EXPECT(send6(udp_csum(1000, 9)), DROP, "INPUT:P raw:PREROUTING:P");
    EXPECT(send6(udp_csum(1000, 53)), PASS, "");
    EXPECT(send6(tcp_csum(80, SYN)), DROP, "INPUT:P raw:PREROUTING:P");
    EXPECT(send6(tcp_csum(80, SYN | ECE_CWR)), DROP, "INPUT:P raw:PREROUTING:P");
    EXPECT(send6(tcp_csum(22, SYN)), PASS, "");
    // What conntrack would not find NEW, or might not: up to the kernel, uncounted.
    EXPECT(send6(udp_csum(1000, 9, true)), PASS, "");  // a bad checksum: INVALID
    EXPECT(send6(tcp_csum(80, SYN, true)), PASS, "");
    EXPECT(send6(udp6(9)), PASS, "");                  // no UDP checksum: not valid in IPv6
    EXPECT(send6(tcp_csum(80, ACK)), PASS, "");        // mid-stream: NEW or INVALID
    EXPECT(send6(tcp_csum(80, SYN | FIN)), PASS, "");  // invalid flags
    EXPECT(send6(tcp_csum(80, RST)), PASS, "");
    Ip6 shortlen = udp_csum(1000, 9);
    shortlen.l4[5] = 10;  // the UDP length says less than the datagram holds
    EXPECT(send6(shortlen), PASS, "");
    EXPECT(send6(icmp6(128, 0)), PASS, "");
    // Extension headers: conntrack's, not asked here.
    EXPECT(send6(with_ext(udp_csum(1000, 9), {{DSTOPTS}})), PASS, "");
    // A flow this host started: the answer has an entry.
    send_local_udp(AF_INET6, "2001:db8::1", "2001:db8::2", 5353, 7000);
    forget_snapshot();  // netfilter counted that datagram
    EXPECT(send6(Ip6{.proto = IPPROTO_UDP, .l4 = udp(7000, 5353), .l4_csum = true}), PASS, "");
    // Another source port: no entry, NEW again.
    EXPECT(send6(Ip6{.proto = IPPROTO_UDP, .l4 = udp(7001, 5353), .l4_csum = true}), DROP, "INPUT:P raw:PREROUTING:P");
    Cli e = run("ip6tables", {"explain"});
    CHECK(e.out.find("for NEW packets (no conntrack entry) without extension headers") != std::string::npos);
    // A CT target (zones, helpers, untracked packets): filter is the kernel's again.
    load6(raw("-A PREROUTING -p tcp -j CT --notrack") +
          filter("-A INPUT -p udp --dport 8 -j DROP\n-A INPUT -m conntrack --ctstate NEW -p udp -j DROP"));
    EXPECT(send6(udp_csum(1000, 8)), PASS, "");
    setenv("XDPT_TEST_COUNT_ALL", "1", 1);
}
