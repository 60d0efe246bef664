// The dataplane on crafted packets: every case loads a ruleset with the real
// xdptables-restore, runs the real XDP program on frames with BPF_PROG_TEST_RUN, and
// checks the XDP action and which counters moved (read back with `xdptables-save -c`,
// each by one packet of the IP total length). Expectations follow iptables-legacy.
// Needs root (exits 77 otherwise); runs in a namespace of its own (see harness.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>
#include <sched.h>
#include <cstdlib>
#include <cstdio>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.hpp"
#include "xdpt_shared.h"

using namespace dpt;

namespace {

Ip udp_to(uint16_t dport, const char* src = "198.18.0.2") {
    return Ip{.src = src, .proto = IPPROTO_UDP, .l4 = udp(1000, dport)};
}
Ip tcp_pkt(uint16_t sport, uint16_t dport, uint8_t flags = ACK) {
    return Ip{.proto = IPPROTO_TCP, .l4 = tcp(sport, dport, flags)};
}
Ip icmp_pkt(uint8_t type, uint8_t code) { return Ip{.proto = IPPROTO_ICMP, .l4 = icmp(type, code)}; }

// From the neighbour behind veth2 to veth2's address.
Ip from_veth2(Ip ip) {
    ip.src = "198.18.1.2", ip.dst = "198.18.1.1";
    return ip;
}

}  // namespace

TEST_CASE("addresses: -s/-d with /0, /32, /24 and !") {
    load(filter(R"(-A INPUT -s 0.0.0.0/0
-A INPUT -s 198.18.0.0/24
-A INPUT -s 198.18.0.2/32
-A INPUT ! -s 198.18.0.2/32
-A INPUT ! -s 198.18.0.0/24
-A INPUT -d 198.18.0.1/32
-A INPUT ! -d 198.18.0.1
-A INPUT -d 198.18.0.0/24
-A INPUT ! -s 0.0.0.0/0
-A INPUT -s 198.18.1.2 -d 198.18.1.1 -j DROP)"));
    EXPECT(send(udp_to(7)), PASS, "INPUT#1 INPUT#2 INPUT#3 INPUT#6 INPUT#8 INPUT:P");
    EXPECT(send(udp_to(7, "198.18.0.77")), PASS, "INPUT#1 INPUT#2 INPUT#4 INPUT#6 INPUT#8 INPUT:P");
    EXPECT(send(from_veth2(udp_to(7)), veth2()), DROP, "INPUT#1 INPUT#4 INPUT#5 INPUT#7 INPUT#10");
}

TEST_CASE("addresses: iprange") {
    load(filter(R"(-A INPUT -m iprange --src-range 198.18.0.2-198.18.0.10
-A INPUT -m iprange ! --src-range 198.18.0.2-198.18.0.10
-A INPUT -m iprange --dst-range 198.18.0.1-198.18.0.1
-A INPUT -m iprange --src-range 198.18.0.10-198.18.1.5)"));
    EXPECT(send(udp_to(7)), PASS, "INPUT#1 INPUT#3 INPUT:P");
    EXPECT(send(udp_to(7, "198.18.0.10")), PASS, "INPUT#1 INPUT#3 INPUT#4 INPUT:P");
    EXPECT(send(udp_to(7, "198.18.0.11")), PASS, "INPUT#2 INPUT#3 INPUT#4 INPUT:P");
    EXPECT(send(from_veth2(udp_to(7)), veth2()), PASS, "INPUT#2 INPUT#4 INPUT:P");
}

TEST_CASE("protocols: -p tcp/udp/icmp/number and !") {
    load(filter(R"(-A INPUT -p tcp
-A INPUT -p udp
-A INPUT -p icmp
-A INPUT -p 47
-A INPUT ! -p tcp
-A INPUT -p all
-A INPUT -p 47 -j DROP)"));
    EXPECT(send(tcp_pkt(1, 2)), PASS, "INPUT#1 INPUT#6 INPUT:P");
    EXPECT(send(udp_to(7)), PASS, "INPUT#2 INPUT#5 INPUT#6 INPUT:P");
    EXPECT(send(icmp_pkt(8, 0)), PASS, "INPUT#3 INPUT#5 INPUT#6 INPUT:P");
    EXPECT(send(Ip{.proto = 47, .l4 = Bytes(8, 0)}), DROP, "INPUT#4 INPUT#5 INPUT#6 INPUT#7");
}

TEST_CASE("input interface: -i exact, + wildcard, !") {
    load(filter(R"(-A INPUT -i veth0
-A INPUT -i veth+
-A INPUT ! -i veth0
-A INPUT -i veth2
-A INPUT ! -i veth+
-A INPUT -i lo
-A INPUT -i +
-A INPUT -i veth0 -s 198.18.0.9 -j DROP)"));
    EXPECT(send(udp_to(7)), PASS, "INPUT#1 INPUT#2 INPUT#7 INPUT:P");
    EXPECT(send(udp_to(7, "198.18.0.9")), DROP, "INPUT#1 INPUT#2 INPUT#7 INPUT#8");
    EXPECT(send(from_veth2(udp_to(7)), veth2()), PASS, "INPUT#2 INPUT#3 INPUT#4 INPUT#7 INPUT:P");
    Ip local{.src = "127.0.0.1", .dst = "127.0.0.1"};
    EXPECT(send(local, lo()), PASS, "INPUT#3 INPUT#5 INPUT#6 INPUT#7 INPUT:P");
}

TEST_CASE("FORWARD: -o, -i, and forwarding disabled") {
    load(filter(R"(-A INPUT
-A FORWARD -o veth2
-A FORWARD -o veth+
-A FORWARD ! -o veth2
-A FORWARD -o veth0
-A FORWARD -i veth0 -o veth2 -p udp --dport 9 -j DROP
-A FORWARD -m ttl --ttl-eq 63 -p udp --dport 8 -j DROP)"));
    Ip out = udp_to(9);
    out.dst = "198.18.1.2";
    Ip back = udp_to(7, "198.18.1.2");
    back.dst = "198.18.0.2";
    {
        Forwarding on(true);
        EXPECT(send(out), DROP, "FORWARD#1 FORWARD#2 FORWARD#5");
        EXPECT(send(back, veth2()), PASS, "FORWARD#2 FORWARD#3 FORWARD#4 FORWARD:P");
        // ip_forward decrements the TTL before FORWARD.
        Ip ttl = out;
        ttl.l4 = udp(1000, 8);
        EXPECT(send(ttl), DROP, "FORWARD#1 FORWARD#2 FORWARD#6");
        ttl.ttl = 63;
        EXPECT(send(ttl), PASS, "FORWARD#1 FORWARD#2 FORWARD:P");
        out.ttl = 1;  // ip_forward drops it (time exceeded) before FORWARD
        EXPECT(send(out), PASS, "");
        out.ttl = 64;
        // Still local traffic in INPUT.
        EXPECT(send(udp_to(9)), PASS, "INPUT#1 INPUT:P");
    }
    // Forwarding off: routing drops it; neither FORWARD nor INPUT sees it.
    EXPECT(send(out), PASS, "");
    EXPECT(send(back, veth2()), PASS, "");
}

// Fragments reach raw PREROUTING and FORWARD as such (no conntrack: no reassembly);
// ip_local_deliver reassembles before INPUT, which never sees a fragment.
TEST_CASE("fragments: -f, ! -f; non-first fragments never match ports or icmp types") {
    load(raw(R"(-A PREROUTING -f
-A PREROUTING ! -f
-A PREROUTING -p udp --dport 2000
-A PREROUTING -p udp ! --dport 2000
-A PREROUTING -p icmp --icmp-type any
-A PREROUTING -p udp
-A PREROUTING -p udp -m multiport --dports 2000
-A PREROUTING -p udp -m multiport ! --dports 2000
-A PREROUTING -p tcp --dport 80
-A PREROUTING -p tcp ! --dport 80
-A PREROUTING -p icmp)") + filter(R"(-A INPUT
-A FORWARD -f
-A FORWARD ! -f
-A FORWARD -p udp --dport 2000
-A FORWARD -p udp ! --dport 2000 -j DROP)"));
    Ip whole = udp_to(2000);
    Ip first = whole;
    first.frag = MF;
    Ip later = whole;  // its payload looks like a UDP header to port 2000: never read
    later.frag = 185;
    const char* raw_first = "raw:PREROUTING#2 raw:PREROUTING#3 raw:PREROUTING#6 raw:PREROUTING#7 raw:PREROUTING:P";
    const char* raw_later = "raw:PREROUTING#1 raw:PREROUTING#6 raw:PREROUTING:P";
    EXPECT(send(whole), PASS, std::string("INPUT#1 INPUT:P ") + raw_first);
    EXPECT(send(first), PASS, raw_first);
    EXPECT(send(later), PASS, raw_later);
    later.frag = MF | 185;
    EXPECT(send(later), PASS, raw_later);
    Ip tcp_later = tcp_pkt(5, 80);
    tcp_later.frag = 100;
    EXPECT(send(tcp_later), PASS, "raw:PREROUTING#1 raw:PREROUTING:P");
    Ip icmp_later = icmp_pkt(8, 0);
    icmp_later.frag = 10;
    EXPECT(send(icmp_later), PASS, "raw:PREROUTING#1 raw:PREROUTING#11 raw:PREROUTING:P");
    EXPECT(send(icmp_pkt(8, 0)), PASS,
           "INPUT#1 INPUT:P raw:PREROUTING#2 raw:PREROUTING#5 raw:PREROUTING#11 raw:PREROUTING:P");

    Forwarding on(true);
    for (Ip* ip : {&first, &later}) ip->dst = "198.18.1.2";
    EXPECT(send(first), PASS, std::string("FORWARD#2 FORWARD#3 FORWARD:P ") + raw_first);
    EXPECT(send(later), PASS, std::string("FORWARD#1 FORWARD:P ") + raw_later);
    first.l4 = udp(1000, 2001);
    EXPECT(send(first), DROP,
           "FORWARD#2 FORWARD#4 raw:PREROUTING#2 raw:PREROUTING#4 raw:PREROUTING#6 raw:PREROUTING#8 "
           "raw:PREROUTING:P");
}

TEST_CASE("ports: --sport/--dport single, ranges, 0, 65535, !") {
    load(filter(R"(-A INPUT -p tcp --dport 80
-A INPUT -p tcp --sport 1024:65535
-A INPUT -p tcp --dport 0
-A INPUT -p tcp --dport 65535
-A INPUT -p tcp ! --dport 80
-A INPUT -p tcp ! --sport 0:1023
-A INPUT -p udp --dport 53:54
-A INPUT -p udp --sport 0
-A INPUT -p udp ! --dport 0:65534
-A INPUT -p tcp --sport 5000 --dport 79:81 -j DROP)"));
    EXPECT(send(tcp_pkt(5000, 80)), DROP, "INPUT#1 INPUT#2 INPUT#6 INPUT#10");
    EXPECT(send(tcp_pkt(5001, 80)), PASS, "INPUT#1 INPUT#2 INPUT#6 INPUT:P");
    EXPECT(send(tcp_pkt(1023, 0)), PASS, "INPUT#3 INPUT#5 INPUT:P");
    EXPECT(send(tcp_pkt(65535, 65535)), PASS, "INPUT#2 INPUT#4 INPUT#5 INPUT#6 INPUT:P");
    EXPECT(send(Ip{.l4 = udp(0, 53)}), PASS, "INPUT#7 INPUT#8 INPUT:P");
    EXPECT(send(Ip{.l4 = udp(1000, 54)}), PASS, "INPUT#7 INPUT:P");
    EXPECT(send(Ip{.l4 = udp(1000, 65535)}), PASS, "INPUT#9 INPUT:P");
    EXPECT(send(Ip{.l4 = udp(1000, 65534)}), PASS, "INPUT:P");
}

TEST_CASE("tcp flags: --syn and --tcp-flags") {
    load(filter(R"(-A INPUT -p tcp --syn
-A INPUT -p tcp ! --syn
-A INPUT -p tcp --tcp-flags SYN,ACK SYN,ACK
-A INPUT -p tcp --tcp-flags ALL NONE
-A INPUT -p tcp --tcp-flags ALL FIN,PSH,URG
-A INPUT -p tcp ! --tcp-flags FIN FIN)"));
    EXPECT(send(tcp_pkt(1, 2, SYN)), PASS, "INPUT#1 INPUT#6 INPUT:P");
    EXPECT(send(tcp_pkt(1, 2, SYN | ACK)), PASS, "INPUT#2 INPUT#3 INPUT#6 INPUT:P");
    EXPECT(send(tcp_pkt(1, 2, 0)), PASS, "INPUT#2 INPUT#4 INPUT#6 INPUT:P");
    EXPECT(send(tcp_pkt(1, 2, FIN | PSH | URG)), PASS, "INPUT#2 INPUT#5 INPUT:P");
    EXPECT(send(tcp_pkt(1, 2, 0xc0 | SYN)), PASS, "INPUT#1 INPUT#6 INPUT:P");  // ECN bits
    EXPECT(send(tcp_pkt(1, 2, 0xc0)), PASS, "INPUT#2 INPUT#4 INPUT#6 INPUT:P");
}

TEST_CASE("icmp: any, type, type/code, !") {
    load(filter(R"(-A INPUT -p icmp --icmp-type any
-A INPUT -p icmp --icmp-type echo-request
-A INPUT -p icmp --icmp-type 3/3
-A INPUT -p icmp --icmp-type destination-unreachable
-A INPUT -p icmp ! --icmp-type echo-request
-A INPUT -p icmp --icmp-type 8/0 -j DROP)"));
    EXPECT(send(icmp_pkt(8, 0)), DROP, "INPUT#1 INPUT#2 INPUT#6");
    EXPECT(send(icmp_pkt(8, 5)), PASS, "INPUT#1 INPUT#2 INPUT:P");
    EXPECT(send(icmp_pkt(3, 3)), PASS, "INPUT#1 INPUT#3 INPUT#4 INPUT#5 INPUT:P");
    EXPECT(send(icmp_pkt(3, 1)), PASS, "INPUT#1 INPUT#4 INPUT#5 INPUT:P");
    EXPECT(send(icmp_pkt(0, 0)), PASS, "INPUT#1 INPUT#5 INPUT:P");
    EXPECT(send(udp_to(3)), PASS, "INPUT:P");
}

TEST_CASE("multiport: --sports, --dports, --ports (counted once), !") {
    load(filter(R"(-A INPUT -p tcp -m multiport --dports 22,80,1000:2000
-A INPUT -p tcp -m multiport --sports 53,65535
-A INPUT -p tcp -m multiport --ports 80,443
-A INPUT -p tcp -m multiport ! --dports 80,443
-A INPUT -p udp -m multiport ! --ports 80,443
-A INPUT -p tcp -m multiport --ports 443,8080 -j DROP)"));
    EXPECT(send(tcp_pkt(80, 443)), DROP, "INPUT#3 INPUT#6");
    EXPECT(send(tcp_pkt(443, 80)), DROP, "INPUT#1 INPUT#3 INPUT#6");
    EXPECT(send(tcp_pkt(80, 80)), PASS, "INPUT#1 INPUT#3 INPUT:P");
    EXPECT(send(tcp_pkt(53, 1500)), PASS, "INPUT#1 INPUT#2 INPUT#4 INPUT:P");
    EXPECT(send(tcp_pkt(65535, 22)), PASS, "INPUT#1 INPUT#2 INPUT#4 INPUT:P");
    EXPECT(send(tcp_pkt(7, 8080)), DROP, "INPUT#4 INPUT#6");
    EXPECT(send(Ip{.l4 = udp(80, 443)}), PASS, "INPUT:P");
    EXPECT(send(Ip{.l4 = udp(1, 443)}), PASS, "INPUT:P");
    EXPECT(send(Ip{.l4 = udp(1, 2)}), PASS, "INPUT#5 INPUT:P");
}

TEST_CASE("length and ttl") {
    load(filter(R"(-A INPUT -m length --length 40
-A INPUT -m length --length 100:200
-A INPUT -m length ! --length 0:99
-A INPUT -m ttl --ttl-eq 64
-A INPUT -m ttl --ttl-lt 10
-A INPUT -m ttl --ttl-gt 100
-A INPUT -m ttl ! --ttl-eq 64)"));
    auto sized = [](size_t tot, uint8_t ttl = 64) {
        return Ip{.l4 = udp(1, 2, tot - 28), .ttl = ttl};
    };
    EXPECT(send(sized(40)), PASS, "INPUT#1 INPUT#4 INPUT:P");
    EXPECT(send(sized(99)), PASS, "INPUT#4 INPUT:P");
    EXPECT(send(sized(100)), PASS, "INPUT#2 INPUT#3 INPUT#4 INPUT:P");
    EXPECT(send(sized(200)), PASS, "INPUT#2 INPUT#3 INPUT#4 INPUT:P");
    EXPECT(send(sized(1500)), PASS, "INPUT#3 INPUT#4 INPUT:P");
    EXPECT(send(sized(40, 9)), PASS, "INPUT#1 INPUT#5 INPUT#7 INPUT:P");
    EXPECT(send(sized(40, 10)), PASS, "INPUT#1 INPUT#7 INPUT:P");
    EXPECT(send(sized(40, 100)), PASS, "INPUT#1 INPUT#7 INPUT:P");
    EXPECT(send(sized(40, 101)), PASS, "INPUT#1 INPUT#6 INPUT#7 INPUT:P");
    EXPECT(send(sized(40, 1)), PASS, "INPUT#1 INPUT#5 INPUT#7 INPUT:P");
    EXPECT(send(sized(40, 255)), PASS, "INPUT#1 INPUT#6 INPUT#7 INPUT:P");
}

TEST_CASE("mac: --mac-source, !, never on lo") {
    load(filter(R"(-A INPUT -m mac --mac-source 02:00:5e:00:00:02
-A INPUT -m mac ! --mac-source 02:00:5e:00:00:02
-A INPUT -m mac --mac-source 02:00:5E:00:00:99 -j DROP)"));
    EXPECT(send(udp_to(7)), PASS, "INPUT#1 INPUT:P");
    EXPECT(send(from_veth2(udp_to(7)), veth2()), PASS, "INPUT#2 INPUT:P");
    Frame f = frame(udp_to(7), veth0().mac, Mac{0x02, 0, 0x5e, 0, 0, 0x99});
    EXPECT(send_frame(f, veth0()), DROP, "INPUT#2 INPUT#3");
    Ip local{.src = "127.0.0.1", .dst = "127.0.0.1"};
    EXPECT(send(local, lo()), PASS, "INPUT:P");
}

TEST_CASE("comment matches like no match") {
    load(filter(R"(-A INPUT -p udp -m comment --comment "counts like a plain rule"
-A INPUT -s 198.18.0.3/32 -m comment --comment drop -j DROP)"));
    EXPECT(send(udp_to(7)), PASS, "INPUT#1 INPUT:P");
    EXPECT(send(udp_to(7, "198.18.0.3")), DROP, "INPUT#1 INPUT#2");
}

TEST_CASE("targets: ACCEPT, DROP, RETURN, none; policy DROP") {
    load(filter(R"(-A INPUT -s 198.18.0.2/32
-A INPUT -p udp --dport 1 -j ACCEPT
-A INPUT -p udp --dport 2 -j DROP
-A INPUT -p udp --dport 3 -j RETURN
-A INPUT -p udp -j ACCEPT)", "DROP"));
    EXPECT(send(udp_to(1)), PASS, "INPUT#1 INPUT#2");
    EXPECT(send(udp_to(2)), DROP, "INPUT#1 INPUT#3");
    EXPECT(send(udp_to(3)), DROP, "INPUT#1 INPUT#4 INPUT:P");
    EXPECT(send(udp_to(4)), PASS, "INPUT#1 INPUT#5");
    EXPECT(send(tcp_pkt(1, 2)), DROP, "INPUT#1 INPUT:P");
    EXPECT(send(udp_to(4, "198.18.0.5")), PASS, "INPUT#5");
}

TEST_CASE("user chains: -j, RETURN, fall-through, nesting") {
    load(filter(R"(-A INPUT -p udp -j A
-A INPUT -p udp --dport 9 -j DROP
-A INPUT -p udp --dport 2 -j DROP
-A A -p udp --dport 1 -j ACCEPT
-A A -p udp --dport 2 -j RETURN
-A A -j B
-A A -p udp --dport 5 -j DROP
-A B -p udp --dport 4 -j RETURN
-A B -p udp --dport 5
-A B -p udp --dport 6 -j DROP)", "ACCEPT", "ACCEPT", {"A", "B"}));
    EXPECT(send(udp_to(1)), PASS, "A#1 INPUT#1");
    EXPECT(send(udp_to(2)), DROP, "A#2 INPUT#1 INPUT#3");
    EXPECT(send(udp_to(4)), PASS, "A#3 B#1 INPUT#1 INPUT:P");
    EXPECT(send(udp_to(5)), DROP, "A#3 A#4 B#2 INPUT#1");
    EXPECT(send(udp_to(6)), DROP, "A#3 B#3 INPUT#1");
    EXPECT(send(udp_to(9)), DROP, "A#3 INPUT#1 INPUT#2");
    EXPECT(send(udp_to(7)), PASS, "A#3 INPUT#1 INPUT:P");
    EXPECT(send(tcp_pkt(1, 2)), PASS, "INPUT:P");
}

TEST_CASE("goto: the calling chain ends with the goto'd one") {
    load(filter(R"(-A INPUT -p udp --dport 1:10 -g G
-A INPUT -p udp -j ACCEPT
-A G -p udp --dport 1 -j ACCEPT
-A G -p udp --dport 2 -j RETURN
-A G -p udp --dport 3 -j H
-A H -p udp --dport 3 -j RETURN)", "DROP", "ACCEPT", {"G", "H"}));
    EXPECT(send(udp_to(1)), PASS, "G#1 INPUT#1");
    EXPECT(send(udp_to(2)), DROP, "G#2 INPUT#1 INPUT:P");
    EXPECT(send(udp_to(3)), DROP, "G#3 H#1 INPUT#1 INPUT:P");
    EXPECT(send(udp_to(5)), DROP, "INPUT#1 INPUT:P");
    EXPECT(send(udp_to(20)), PASS, "INPUT#2");

    // A goto inside a called chain: the end of the goto'd chain returns to the caller
    // of the chain that holds the goto.
    load(filter(R"(-A INPUT -p udp -j A
-A INPUT -p udp --dport 1 -j DROP
-A A -p udp -g B
-A A -p udp -j DROP
-A B -p udp --dport 2 -j DROP)", "ACCEPT", "ACCEPT", {"A", "B"}));
    EXPECT(send(udp_to(1)), DROP, "A#1 INPUT#1 INPUT#2");
    EXPECT(send(udp_to(2)), DROP, "A#1 B#1 INPUT#1");
    EXPECT(send(udp_to(3)), PASS, "A#1 INPUT#1 INPUT:P");
}

TEST_CASE("raw PREROUTING before filter INPUT") {
    load(raw(R"(-A PREROUTING -p udp --dport 1 -j DROP
-A PREROUTING -p udp)") + filter(R"(-A INPUT -p udp
-A INPUT -p udp --dport 2 -j DROP)"));
    EXPECT(send(udp_to(1)), DROP, "raw:PREROUTING#1");
    EXPECT(send(udp_to(2)), DROP, "INPUT#1 INPUT#2 raw:PREROUTING#2 raw:PREROUTING:P");
    EXPECT(send(udp_to(3)), PASS, "INPUT#1 INPUT:P raw:PREROUTING#2 raw:PREROUTING:P");
    // Not for this host and not forwarded: only raw sees it.
    Ip away = udp_to(3);
    away.dst = "198.18.1.2";
    EXPECT(send(away), PASS, "raw:PREROUTING#2 raw:PREROUTING:P");
}

TEST_CASE("rules XDP cannot decide hand matching packets over uncounted") {
    load(raw(R"(-A PREROUTING -p udp)") + filter(R"(-A INPUT -p udp
-A INPUT -s 198.18.0.3/32 -j DROP
-A INPUT -p udp --dport 1 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p udp --dport 2 -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p udp --dport 3 -j LOG
-A INPUT -p udp --dport 4 -j DROP)"));
    // Conntrack is on: a datagram without an entry is NEW, and the conntrack rule
    // holds for it (judged here); a TCP segment that is no SYN goes to the kernel.
    EXPECT(send(udp_to(1)), PASS, "INPUT#1 INPUT#3 raw:PREROUTING#1 raw:PREROUTING:P");
    EXPECT(send(udp_to(2)), PASS, "");
    EXPECT(send(udp_to(3)), PASS, "");
    EXPECT(send(udp_to(1, "198.18.0.3")), DROP, "INPUT#1 INPUT#2 raw:PREROUTING#1 raw:PREROUTING:P");
    EXPECT(send(udp_to(4)), DROP, "INPUT#1 INPUT#6 raw:PREROUTING#1 raw:PREROUTING:P");
    EXPECT(send(udp_to(5)), PASS, "INPUT#1 INPUT:P raw:PREROUTING#1 raw:PREROUTING:P");
    EXPECT(send(tcp_pkt(1, 2)), PASS, "");
    // With conntrack in use, fragments are reassembled first: the kernel's business.
    Ip frag = udp_to(4);
    frag.frag = MF;
    EXPECT(send(frag), PASS, "");
}

// XDP does not read SCTP chunks: a packet an sctp match may judge goes up uncounted
// (netfilter judges and counts it), and the rule's -p keeps it from other protocols.
TEST_CASE("sctp: rules with the sctp match are left to netfilter") {
    load(filter(R"(-A INPUT -p sctp -m sctp --dport 80 -j DROP
-A INPUT -p sctp -m sctp ! --chunk-types any INIT -j DROP
-A INPUT -p udp --dport 80 -j DROP
-A INPUT -p sctp -j DROP)"));
    // Common header (ports 1000 -> DPORT, verification tag, checksum), one DATA chunk.
    auto sctp_to = [](uint8_t dport) {
        return Ip{.proto = IPPROTO_SCTP, .l4 = Bytes{0x03, 0xe8, 0x00, dport, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4}};
    };
    EXPECT(send(sctp_to(80)), PASS, "");
    EXPECT(send(sctp_to(81)), PASS, "");
    EXPECT(send(udp_to(80)), DROP, "INPUT#3");
    EXPECT(send(udp_to(81)), PASS, "INPUT:P");
}

// XDP knows neither the route type of an address nor skb->pkt_type: a packet an addrtype,
// pkttype, dscp or connlimit match may judge goes up uncounted, and a packet their rules'
// other fields rule out is still decided in XDP.
TEST_CASE("addrtype, pkttype, dscp, connlimit: rules with them are left to netfilter") {
    const Mac bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    for (const char* m : {"-m addrtype --dst-type LOCAL", "-m addrtype ! --src-type LOCAL --limit-iface-in",
                          "-m pkttype --pkt-type unicast", "-m pkttype ! --pkt-type broadcast",
                          "-m dscp --dscp 0", "-m connlimit --connlimit-upto 5"}) {
        CAPTURE(m);
        load(filter(std::string("-A INPUT -p udp --dport 80 ") + m + " -j DROP\n-A INPUT -p udp --dport 81 -j DROP"));
        EXPECT(send(udp_to(80)), PASS, "");
        EXPECT(send(udp_to(81)), DROP, "INPUT#2");
        EXPECT(send_frame(frame(udp_to(80), bcast, veth0().peer_mac), veth0()), PASS, "");
        EXPECT(send(udp_to(82)), PASS, "INPUT:P");
        EXPECT(send(tcp_pkt(1, 80)), PASS, "INPUT:P");
    }
}

// recent's address lists and hashlimit's buckets live in the kernel and change with every
// packet: a packet such a rule may judge goes up uncounted, and a packet the rule's other
// fields rule out is still decided in XDP.
TEST_CASE("recent, hashlimit: rules with them are left to netfilter") {
    for (const char* m : {"-m recent --set", "-m recent ! --rcheck --seconds 5 --name x --rdest",
                          "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name dp1",
                          "-m hashlimit --hashlimit-above 1kb/s --hashlimit-mode srcip --hashlimit-name dp2"}) {
        CAPTURE(m);
        load(filter(std::string("-A INPUT -p udp --dport 80 ") + m + " -j DROP\n-A INPUT -p udp --dport 81 -j DROP"));
        EXPECT(send(udp_to(80)), PASS, "");
        EXPECT(send(udp_to(81)), DROP, "INPUT#2");
        EXPECT(send(udp_to(82)), PASS, "INPUT:P");
        EXPECT(send(tcp_pkt(1, 80)), PASS, "INPUT:P");
    }
}

// ipset contents, payloads, the clock, bridge ports and sockets are the kernel's: a packet
// such a rule may judge goes up uncounted, one the rule's other fields rule out is still
// decided in XDP.
TEST_CASE("set, SET, string, time, physdev, socket: rules with them are left to netfilter") {
    REQUIRE(std::system("ipset -exist create dpfoo hash:ip && ipset -exist create dpbar hash:ip,port") == 0);
    for (const char* m : {"-m set --match-set dpfoo src", "-m set ! --match-set dpbar dst,dst --packets-gt 1",
                          "-j SET --add-set dpfoo src", "-m set --match-set dpfoo dst -j SET --del-set dpbar src,src",
                          "-m string --algo bm --string x", "-m string --algo kmp ! --hex-string |00| --to 40",
                          "-m time --weekdays Mon", "-m time --timestart 00:00 --timestop 23:59:59 --kerneltz",
                          "-m physdev --physdev-in veth0", "-m physdev ! --physdev-is-bridged",
                          "-m socket", "-m socket --nowildcard --transparent"}) {
        CAPTURE(m);
        std::string rule = std::string("-A INPUT -p udp --dport 80 ") + m;
        if (rule.find("-j SET") == std::string::npos) rule += " -j DROP";
        load(filter(rule + "\n-A INPUT -p udp --dport 81 -j DROP"));
        EXPECT(send(udp_to(80)), PASS, "");
        EXPECT(send(udp_to(81)), DROP, "INPUT#2");
        EXPECT(send(udp_to(82)), PASS, "INPUT:P");
        EXPECT(send(tcp_pkt(1, 80)), PASS, "INPUT:P");
    }
}

// What these extensions look at or do happens in the kernel (statistic's random draws and
// nth counters, conntrack's mark, a queue's reader, the copy TEE routes): a packet such a
// rule may judge goes up uncounted, and a packet the rule's other fields rule out is still
// decided in XDP.
TEST_CASE("statistic, connmark, CONNMARK, NFQUEUE, TEE: rules with them are left to netfilter") {
    for (const char* m : {
             "-m statistic --mode random --probability 1 -j DROP",
             "-m statistic --mode nth ! --every 2 --packet 1 -j DROP",
             "-m connmark --mark 0 -j DROP",
             "-j CONNMARK --set-mark 1",
             "-j CONNMARK --restore-mark --nfmask 0xff",
             "-j NFQUEUE --queue-num 3",
             "-j NFQUEUE --queue-balance 1:4 --queue-bypass --queue-cpu-fanout",
             "-j TEE --gateway 198.18.0.9",
         }) {
        CAPTURE(m);
        load(filter(std::string("-A INPUT -p udp --dport 80 ") + m + "\n-A INPUT -p udp --dport 81 -j DROP"));
        // connmark and CONNMARK turn conntrack on: a TCP segment that is no SYN is its.
        const bool ct = std::string_view(m).find("onnmark") != std::string_view::npos ||
                        std::string_view(m).find("CONNMARK") != std::string_view::npos;
        EXPECT(send(udp_to(80)), PASS, "");
        EXPECT(send(udp_to(81)), DROP, "INPUT#2");
        EXPECT(send(udp_to(82)), PASS, "INPUT:P");
        EXPECT(send(tcp_pkt(1, 80)), PASS, ct ? "" : "INPUT:P");
    }
}

// connmark and CONNMARK load conntrack, which then sees every packet before filter: filter
// is decided in XDP for NEW packets only (their rules with connmark or CONNMARK are the
// kernel's: a packet they may judge goes up).
TEST_CASE("connmark, CONNMARK: conntrack in use, filter decided in XDP for NEW packets only") {
    unsetenv("XDPT_TEST_COUNT_ALL");
    const std::string pre = raw("-A PREROUTING -p udp --dport 5 -j DROP");
    for (const char* m : {"-m connmark --mark 1 -j DROP", "-j CONNMARK --save-mark"}) {
        CAPTURE(m);
        load(pre + filter(std::string("-A INPUT -p udp --dport 8 -j DROP\n-A INPUT -p udp --dport 9 ") + m));
        EXPECT(send(udp_to(5)), DROP, "raw:PREROUTING#1");
        EXPECT(send(udp_to(8)), DROP, "INPUT#1 raw:PREROUTING:P");
        EXPECT(send(udp_to(9)), PASS, "");
        EXPECT(send(tcp_pkt(1, 8)), PASS, "");  // no SYN: conntrack's to judge
    }
    setenv("XDPT_TEST_COUNT_ALL", "1", 1);
}

// The first pass records the counter slots it meets (up to XDPT_MAX_HITS = 64, raw and
// filter together) and counts them from there; a walk that meets more walks again. Both
// ways every rule met counts once, on either side of the boundary.
TEST_CASE("counting what a walk met: recorded up to 64 slots, walked again past that") {
    for (int n : {1, 62, 63, 70}) {
        CAPTURE(n);
        std::string rules;
        for (int i = 0; i < n; ++i) rules += "-A INPUT -p udp\n";
        rules += "-A INPUT -p udp --dport 1 -m conntrack --ctstate NEW -j ACCEPT\n-A INPUT -p udp --dport 4 -j DROP";
        load(raw("-A PREROUTING -p udp") + filter(rules));
        std::string want;
        for (int i = 1; i <= n; ++i) want += "INPUT#" + std::to_string(i) + " ";
        EXPECT(send(udp_to(4)), DROP, want + "INPUT#" + std::to_string(n + 2) + " raw:PREROUTING#1 raw:PREROUTING:P");
        EXPECT(send(udp_to(5)), PASS, want + "INPUT:P raw:PREROUTING#1 raw:PREROUTING:P");
    }
}

// As iptables-legacy counts frames sent to ff:ff:ff:ff:ff:ff: local (and broadcast)
// destinations reach INPUT, nothing is forwarded.
TEST_CASE("class cache: one walk per class tuple, exact counts, a new ruleset never meets old entries") {
    const bool cache = !std::getenv("XDPT_NO_CACHE");
    // The cache is a stretch per CPU: the test-runs all on one, to count one stretch's
    // hits and misses.
    cpu_set_t all, one;
    REQUIRE(sched_getaffinity(0, sizeof all, &all) == 0);
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
    struct Unpin {
        cpu_set_t all;
        ~Unpin() { sched_setaffinity(0, sizeof all, &all); }
    } unpin{all};
    // Wildcards everywhere: the walk would visit every rule; packets of one class
    // (any source outside the blocklist, any port outside the list) share an entry.
    std::string rules;
    for (int i = 0; i < 300; ++i)
        rules += "-A INPUT -s 10.0." + std::to_string(i / 200) + "." + std::to_string(i % 200) + " -j DROP\n" +
                 "-A INPUT -p udp --dport " + std::to_string(1000 + i) + " -j ACCEPT\n";
    rules += "-A INPUT -p udp --dport 9 -j DROP\n-A INPUT -p udp\n";
    load(filter(rules));
    const uint64_t hits0 = stat_sum(XDPT_S_CACHE_HIT), miss0 = stat_sum(XDPT_S_CACHE_MISS);
    EXPECT(send(udp_to(9)), DROP, "INPUT#601");
    // Another source and source port, the same classes: the entry of the first.
    EXPECT(send(udp_to(9, "198.18.0.77")), DROP, "INPUT#601");
    EXPECT(send(udp_to(1005)), PASS, "INPUT#12");
    EXPECT(send(udp_to(7777)), PASS, "INPUT#602 INPUT:P");
    const uint64_t hits = stat_sum(XDPT_S_CACHE_HIT) - hits0, misses = stat_sum(XDPT_S_CACHE_MISS) - miss0;
    if (cache) {
        CHECK(misses == 3);  // one walk per class tuple: dport 9, dport 1005, dport 7777
        CHECK(hits == 5);    // each frame runs twice, and the second source shares the first's tuple
    } else {
        CHECK(hits == 0);
        CHECK(misses == 0);
    }
    // The same classes under a changed ruleset: judged by the new one, not the entries.
    Cli c = run("xdptables", {"-R", "INPUT", "601", "-p", "udp", "--dport", "9", "-j", "ACCEPT"});
    REQUIRE_MESSAGE(c.rc == 0, c.err);
    EXPECT(send(udp_to(9)), PASS, "INPUT#601");
    c = run("xdptables", {"-I", "INPUT", "1", "-p", "udp", "--dport", "1005", "-j", "DROP"});
    REQUIRE_MESSAGE(c.rc == 0, c.err);
    EXPECT(send(udp_to(1005)), DROP, "INPUT#1");
}

TEST_CASE("martian sources: the namespace's own address from outside goes up uncounted (the kernel drops it)") {
    load(filter("-A INPUT -p tcp -j DROP\n-A INPUT -p udp -j DROP"));
    // The LAND pattern: source and destination both veth0's address.
    EXPECT(send(Ip{.src = "198.18.0.1", .proto = IPPROTO_TCP, .l4 = tcp(80, 80, SYN)}), PASS, "");
    // veth2's address arriving on veth0, and a broadcast address of veth0's subnet.
    EXPECT(send(udp_to(9, "198.18.1.1")), PASS, "");
    EXPECT(send(udp_to(9, "198.18.0.255")), PASS, "");
    // A neighbour's address: judged.
    EXPECT(send(udp_to(9, "198.18.0.2")), DROP, "INPUT#2");

    // A local table too big for the config's copy (XDPT_LOCAL_INLINE): the trie answers
    // the same. 20 more addresses on veth2, the ruleset committed again to read them.
    for (int i = 100; i < 120; ++i)
        REQUIRE(std::system(("ip addr add 198.18.1." + std::to_string(i) + "/32 dev veth2").c_str()) == 0);
    load(filter("-A INPUT -p tcp -j DROP\n-A INPUT -p udp -j DROP"));
    EXPECT(send(udp_to(9, "198.18.1.119")), PASS, "");
    EXPECT(send(udp_to(9, "198.18.1.1")), PASS, "");
    EXPECT(send(udp_to(9, "198.18.0.2")), DROP, "INPUT#2");
    // Delivered to one of them: counted in INPUT (not delivered: the verdict alone).
    EXPECT(send(Ip{.dst = "198.18.1.110", .l4 = udp(1000, 9)}), DROP, "INPUT#2");
    for (int i = 100; i < 120; ++i)
        REQUIRE(std::system(("ip addr del 198.18.1." + std::to_string(i) + "/32 dev veth2").c_str()) == 0);
}

TEST_CASE("link-layer broadcast: delivered locally, never forwarded") {
    load(filter("-A INPUT -p udp\n-A FORWARD -p udp"));
    const Mac bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    auto bsend = [&](const char* dst) {
        Ip ip = udp_to(7);
        ip.dst = dst;
        return send_frame(frame(ip, bcast, veth0().peer_mac), veth0());
    };
    Forwarding on(true);
    EXPECT(bsend("198.18.0.255"), PASS, "INPUT#1 INPUT:P");
    EXPECT(bsend("255.255.255.255"), PASS, "INPUT#1 INPUT:P");
    EXPECT(bsend("198.18.0.1"), PASS, "INPUT#1 INPUT:P");
    EXPECT(bsend("198.18.1.2"), PASS, "");
    // IP multicast is delivered only to sockets that joined the group: the kernel's call.
    EXPECT(bsend("224.0.0.1"), PASS, "");
}

TEST_CASE("edges: malformed or foreign frames pass uncounted") {
    load(raw(R"(-A PREROUTING)") + filter("-A INPUT", "DROP"));
    const char* all = "INPUT#1 INPUT:P raw:PREROUTING#1 raw:PREROUTING:P";
    EXPECT(send(udp_to(7)), DROP, all);  // the control: a good packet is judged
    EXPECT(send(Ip{.cut = 14 + 12}), PASS, "");           // truncated IP header
    EXPECT(send(Ip{.bad_csum = true}), PASS, "");          // bad IP checksum
    EXPECT(send(Ip{.tot_extra = 20}), PASS, "");           // tot_len beyond the frame
    EXPECT(send(Ip{.options = {1, 1, 1, 0}}), PASS, "");   // IP options (ihl 6)
    EXPECT(send(Ip{.ethertype = 0x0806}), PASS, "");       // ARP
    EXPECT(send(Ip{.ethertype = 0x86dd}), PASS, "");       // IPv6
    EXPECT(send_frame(frame(Ip{}, Mac{0x02, 0, 0x5e, 0, 0, 0x77}, veth0().peer_mac), veth0()), PASS, "");
    EXPECT(send(Ip{.proto = IPPROTO_TCP, .l4 = Bytes(10, 0)}), PASS, "");  // TCP header cut short
    EXPECT(send(Ip{.proto = IPPROTO_UDP, .l4 = Bytes(4, 0)}), PASS, "");   // UDP header cut short
    EXPECT(send(Ip{.proto = IPPROTO_ICMP, .l4 = Bytes(4, 0)}), PASS, "");  // ICMP header cut short
    // Ethernet padding after the IP packet: judged, counted with the IP total length.
    EXPECT(send(Ip{.proto = 47, .l4 = Bytes(30, 0), .tot_extra = -10}), DROP, all);
    EXPECT(send(udp_to(7)), DROP, all);
}

TEST_CASE("rule counters survive updates, policy counters reset as in libiptc; -Z zeroes; restore --counters loads them") {
    load(filter(R"(-A INPUT -p udp
-A INPUT -p tcp -j DROP)"));
    EXPECT(send(udp_to(7)), PASS, "INPUT#1 INPUT:P");
    EXPECT(send(tcp_pkt(1, 2)), DROP, "INPUT#2");
    REQUIRE(run("xdptables", {"-A", "INPUT", "-p", "icmp"}).rc == 0);
    REQUIRE(run("xdptables", {"-I", "INPUT", "1", "-s", "198.18.0.99"}).rc == 0);
    // Each send runs its frame twice (harness.hpp): two packets a send.
    Snapshot s = snapshot();
    CHECK(s.rules["filter/INPUT"] == std::vector<Ctr>{{0, 0}, {2, 80}, {2, 80}, {0, 0}});
    // libiptc resets the policy counters of a table at each commit of it (iptables-legacy
    // shows 0 after -A); rule counters survive.
    CHECK(s.policy["filter/INPUT"] == Ctr{0, 0});
    EXPECT(send(udp_to(7)), PASS, "INPUT#2 INPUT:P");
    EXPECT(send(icmp_pkt(8, 0)), PASS, "INPUT#4 INPUT:P");
    s = snapshot();
    CHECK(s.rules["filter/INPUT"] == std::vector<Ctr>{{0, 0}, {4, 160}, {2, 80}, {2, 72}});
    REQUIRE(run("xdptables", {"-D", "INPUT", "1"}).rc == 0);
    CHECK(snapshot().rules["filter/INPUT"] == std::vector<Ctr>{{4, 160}, {2, 80}, {2, 72}});

    REQUIRE(run("xdptables", {"-Z"}).rc == 0);
    s = snapshot();
    CHECK(s.rules["filter/INPUT"] == std::vector<Ctr>{{0, 0}, {0, 0}, {0, 0}});
    CHECK(s.policy["filter/INPUT"] == Ctr{0, 0});
    EXPECT(send(tcp_pkt(1, 2)), DROP, "INPUT#2");

    Cli c = run("xdptables-restore", {"--counters"}, R"(*filter
:INPUT ACCEPT [7:700]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
[5:500] -A INPUT -p udp
[3:300] -A INPUT -p tcp -j DROP
COMMIT
)");
    REQUIRE_MESSAGE(c.rc == 0, c.err);
    s = snapshot();
    CHECK(s.rules["filter/INPUT"] == std::vector<Ctr>{{5, 500}, {3, 300}});
    CHECK(s.policy["filter/INPUT"] == Ctr{7, 700});
    EXPECT(send(udp_to(7)), PASS, "INPUT#1 INPUT:P");
    s = snapshot();
    CHECK(s.rules["filter/INPUT"] == std::vector<Ctr>{{7, 580}, {3, 300}});
    CHECK(s.policy["filter/INPUT"] == Ctr{9, 780});
}

TEST_CASE("10,000 rules: the last one matches; -F empties the chain") {
    std::string rules;
    for (int i = 0; i < 9999; ++i)
        rules += "-A INPUT -s 198.19." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "/32 -j DROP\n";
    rules += "-A INPUT -s 198.18.0.2/32 -p udp --dport 9 -j DROP\n";
    load(filter(rules));
    Outcome o = send(udp_to(9));
    CHECK(o.action == DROP);
    CHECK(o.moved == "INPUT#10000");
    EXPECT(send(udp_to(8)), PASS, "INPUT:P");

    // The same size where every rule constrains the same field.
    rules.clear();
    for (int i = 1; i <= 10000; ++i) rules += "-A INPUT -p udp --dport " + std::to_string(i) + " -j DROP\n";
    load(filter(rules));
    EXPECT(send(udp_to(10000)), DROP, "INPUT#10000");
    EXPECT(send(udp_to(1)), DROP, "INPUT#1");
    EXPECT(send(udp_to(10001)), PASS, "INPUT:P");

    REQUIRE(run("xdptables", {"-F", "INPUT"}).rc == 0);
    EXPECT(send(udp_to(10000)), PASS, "INPUT:P");
}

TEST_CASE("homes: wildcard-heavy rules are met wherever their home field is") {
    // Blocks of 200 rules, each block at home in another field (the one its rules do not
    // share): sources, TCP ports, UDP source ports under one shared destination, lengths,
    // TTLs under one shared input interface; counting rules at home in no field (a
    // comment) or in the port they share. A walk visits only the words its fields' homes
    // mark: each packet meets one rule deep in a block of another field's home.
    std::string rules = "-A INPUT -p udp --dport 7777\n-A INPUT -m comment --comment c\n";
    for (int i = 0; i < 200; ++i) rules += "-A INPUT -s 198.19.0." + std::to_string(i) + "/32 -j DROP\n";
    for (int i = 0; i < 200; ++i) rules += "-A INPUT -p tcp --dport " + std::to_string(1000 + i) + " -j DROP\n";
    for (int i = 0; i < 200; ++i)
        rules += "-A INPUT -d 198.18.0.1/32 -p udp --sport " + std::to_string(2000 + i) + " -j DROP\n";
    for (int i = 0; i < 200; ++i) rules += "-A INPUT -m length --length " + std::to_string(300 + i) + " -j DROP\n";
    for (int i = 0; i < 200; ++i) rules += "-A INPUT -i veth0 -m ttl --ttl-eq " + std::to_string(i + 1) + " -j DROP\n";
    rules += "-A INPUT -p udp --dport 7777\n";
    load(filter(rules));
    const int src0 = 3, tcp0 = 203, sport0 = 403, len0 = 603, ttl0 = 803, last = 1003;
    auto at = [](int block, int i) { return "INPUT#" + std::to_string(block + i); };
    EXPECT(send(udp_to(9, "198.19.0.150")), DROP, "INPUT#2 " + at(src0, 150));
    EXPECT(send(tcp_pkt(5, 1150)), DROP, "INPUT#2 " + at(tcp0, 150));
    EXPECT(send(Ip{.l4 = udp(2150, 7777)}), DROP, "INPUT#1 INPUT#2 " + at(sport0, 150));
    EXPECT(send(Ip{.l4 = udp(1, 2, 450 - 28)}), DROP, "INPUT#2 " + at(len0, 150));
    EXPECT(send(Ip{.l4 = udp(1, 2, 40 - 28), .ttl = 151}), DROP, "INPUT#2 " + at(ttl0, 150));
    // The same TTL from elsewhere: only the counting rules, to the policy.
    EXPECT(send(from_veth2(Ip{.l4 = udp(1, 7777, 40 - 28), .ttl = 151}), veth2()), PASS,
           "INPUT#1 INPUT#2 INPUT#" + std::to_string(last) + " INPUT:P");
    EXPECT(send(Ip{.l4 = udp(1, 7777, 40 - 28), .ttl = 250}), PASS,
           "INPUT#1 INPUT#2 INPUT#" + std::to_string(last) + " INPUT:P");
    // What explain says a miss costs at most: the words of the rules that test no field
    // (the first, with the comment rule; the last, with the policies), and one word of
    // each block, whose rules have a value each in their home (the TTL rules at home in
    // the TTL, not the interface they share; the UDP ones in the source port, not the
    // destination they share).
    const Cli e = run("xdptables", {"explain"});
    CHECK(e.out.find("\n# XDP's classifier: 1006 flat rules in 16 words of 64. A packet whose class its cache has "
                     "not seen reads at most 7 of those words, whatever its headers (rules that test no field 2, "
                     "source 1, ttl 1, source port 1, destination port 1, length 1), plus one step per rule it "
                     "meets.\n") != std::string::npos);
}

TEST_CASE("rp_filter: only raw PREROUTING is decided, routing may drop the rest") {
    auto set_rpf = [](const char* v) {
        std::FILE* f = std::fopen("/proc/sys/net/ipv4/conf/veth0/rp_filter", "w");
        REQUIRE(f);
        std::fputs(v, f);
        std::fclose(f);
    };
    set_rpf("1");
    load(raw("-A PREROUTING -p udp --dport 5 -j DROP") + filter("-A INPUT -p udp -j DROP"));
    EXPECT(send(udp_to(5)), DROP, "raw:PREROUTING#1");
    EXPECT(send(udp_to(7)), PASS, "raw:PREROUTING:P");
    set_rpf("0");
    load(raw("-A PREROUTING -p udp --dport 5 -j DROP") + filter("-A INPUT -p udp -j DROP"));
    EXPECT(send(udp_to(7)), DROP, "INPUT#1 raw:PREROUTING:P");
}

TEST_CASE("as deployed: XDP counts its drops, netfilter what XDP passes up") {
    unsetenv("XDPT_TEST_COUNT_ALL");
    const std::string pre = raw("-A PREROUTING -p udp --dport 5 -j DROP\n-A PREROUTING -p udp");
    load(pre + filter("-A INPUT -p udp --dport 7\n-A INPUT -p udp --dport 8 -j DROP"));
    EXPECT(send(udp_to(5)), DROP, "raw:PREROUTING#1");
    EXPECT(send(udp_to(8)), DROP, "INPUT#2 raw:PREROUTING#2 raw:PREROUTING:P");
    // Accepted: passed up uncounted (a test packet never reaches netfilter, which would
    // judge and count it).
    EXPECT(send(udp_to(7)), PASS, "");
    // Conntrack watches every packet before filter: a packet without an entry (NEW) is
    // judged here, its drop leaving no trace in conntrack; raw PREROUTING (before
    // conntrack) is decided here for every packet.
    load(pre + filter("-A INPUT -p udp --dport 8 -j DROP\n-A INPUT -m conntrack --ctstate NEW -p udp -j DROP"));
    EXPECT(send(udp_to(5)), DROP, "raw:PREROUTING#1");
    EXPECT(send(udp_to(8)), DROP, "INPUT#1 raw:PREROUTING#2 raw:PREROUTING:P");
    EXPECT(send(udp_to(9)), DROP, "INPUT#2 raw:PREROUTING#2 raw:PREROUTING:P");
    // A CT target (zones, helpers, untracked packets): filter is the kernel's again.
    load(raw("-A PREROUTING -p tcp -j CT --notrack") +
         filter("-A INPUT -p udp --dport 8 -j DROP\n-A INPUT -m conntrack --ctstate NEW -p udp -j DROP"));
    EXPECT(send(udp_to(8)), PASS, "");
    setenv("XDPT_TEST_COUNT_ALL", "1", 1);
}

TEST_CASE("conntrack: NEW packets judged in XDP, every other state left to the kernel") {
    unsetenv("XDPT_TEST_COUNT_ALL");
    load(raw("-A PREROUTING -m conntrack --ctstate INVALID -p udp --dport 6 -j DROP") +
         filter(R"(-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p udp --dport 53 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p tcp --dport 22 -m state --state NEW -j ACCEPT
-A INPUT -p udp -m conntrack ! --ctstate NEW -j ACCEPT)", "DROP"));
    auto udp_csum = [](uint16_t sport, uint16_t dport, bool bad = false) {
        return Ip{.l4 = udp(sport, dport), .l4_csum = true, .bad_l4_csum = bad};
    };
    auto tcp_csum = [](uint16_t dport, uint8_t flags, bool bad = false) {
        return Ip{.proto = IPPROTO_TCP, .l4 = tcp(40000, dport, flags), .l4_csum = true, .bad_l4_csum = bad};
    };
    // Raw PREROUTING comes before conntrack: every packet is INVALID there.
    EXPECT(send(udp_to(6)), DROP, "raw:PREROUTING#1");
    // NEW: dropped by the policy, or accepted (passed up, netfilter counts it).
    EXPECT(send(udp_to(9)), DROP, "INPUT:P raw:PREROUTING:P");
    EXPECT(send(udp_csum(1000, 9)), DROP, "INPUT:P raw:PREROUTING:P");
    EXPECT(send(udp_csum(1000, 53)), PASS, "");
    EXPECT(send(tcp_csum(80, SYN)), DROP, "INPUT:P raw:PREROUTING:P");
    EXPECT(send(tcp_csum(80, SYN | ECE_CWR)), DROP, "INPUT:P raw:PREROUTING:P");
    EXPECT(send(tcp_csum(22, SYN)), PASS, "");
    // What conntrack would not find NEW, or might not: up to the kernel, uncounted.
    EXPECT(send(udp_csum(1000, 9, true)), PASS, "");       // a bad checksum: INVALID
    EXPECT(send(tcp_csum(80, SYN, true)), PASS, "");
    EXPECT(send(tcp_pkt(40000, 80, SYN)), PASS, "");        // no checksum at all
    EXPECT(send(tcp_csum(80, ACK)), PASS, "");              // mid-stream: NEW or INVALID
    EXPECT(send(tcp_csum(80, SYN | FIN)), PASS, "");        // invalid flags
    EXPECT(send(tcp_csum(80, RST)), PASS, "");
    Ip shortlen = udp_to(9);
    shortlen.l4[5] = 10;  // the UDP length says less than the datagram holds
    EXPECT(send(shortlen), PASS, "");
    EXPECT(send(icmp_pkt(8, 0)), PASS, "");
    // A flow this host started: the answer (and the next datagram out) have an entry.
    send_local_udp(AF_INET, "198.18.0.1", "198.18.0.2", 5353, 7000);
    forget_snapshot();  // netfilter counted that datagram
    EXPECT(send(Ip{.src = "198.18.0.2", .l4 = udp(7000, 5353)}), PASS, "");
    EXPECT(send(Ip{.src = "198.18.0.1", .dst = "198.18.0.2", .l4 = udp(5353, 7000)}), PASS, "");
    // Another source port: no entry, NEW again.
    EXPECT(send(Ip{.src = "198.18.0.2", .l4 = udp(7001, 5353)}), DROP, "INPUT:P raw:PREROUTING:P");
    setenv("XDPT_TEST_COUNT_ALL", "1", 1);
}

namespace {

void on_signal(int sig) {
    teardown_netns();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
    if (geteuid() != 0) {
        std::fprintf(stderr, "dp_test: skipped: needs root (network namespaces, BPF)\n");
        return 77;
    }
    std::string why;
    if (!setup_netns(why)) {
        std::fprintf(stderr, "dp_test: cannot set up its network namespace: %s\n", why.c_str());
        return 1;
    }
    std::atexit(teardown_netns);
    setenv("XDPT_TEST_COUNT_ALL", "1", 1);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_signal);
    doctest::Context ctx(argc, argv);
    int rc = ctx.run();
    teardown_netns();
    return rc;
}
