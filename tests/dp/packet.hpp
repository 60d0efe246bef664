// Crafted Ethernet frames for BPF_PROG_TEST_RUN: an IPv4 header built from a few fields
// (checksum computed unless asked to be wrong) around a layer 4 header from tcp(), udp()
// or icmp(). Pure computation, no syscalls.
#pragma once
#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>
#include <algorithm>
#include <vector>

namespace dpt {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

inline constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE_CWR = 0xc0;
inline constexpr uint16_t MF = 0x2000;  // "more fragments", in frag_off

inline void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = uint8_t(v >> 8);
    b[at + 1] = uint8_t(v);
}

// A TCP header (20 bytes, no options) followed by `payload` zero bytes.
inline Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags = ACK, size_t payload = 0) {
    Bytes b(20 + payload, 0);
    put16(b, 0, sport);
    put16(b, 2, dport);
    b[12] = 5 << 4;  // data offset
    b[13] = flags;
    put16(b, 14, 512);
    return b;
}

inline Bytes udp(uint16_t sport, uint16_t dport, size_t payload = 12) {
    Bytes b(8 + payload, 0);
    put16(b, 0, sport);
    put16(b, 2, dport);
    put16(b, 4, uint16_t(8 + payload));
    return b;  // checksum 0: none, as UDP over IPv4 allows
}

inline Bytes icmp(uint8_t type, uint8_t code, size_t payload = 8) {
    Bytes b(8 + payload, 0);
    b[0] = type;
    b[1] = code;
    return b;
}

// One frame and what the test needs to know about it.
struct Frame {
    Bytes bytes;
    uint16_t tot = 0;  // IP total length as written in the header (the counted bytes)
};

struct Ip {
    std::string src = "198.18.0.2", dst = "198.18.0.1";
    uint8_t proto = IPPROTO_UDP;
    Bytes l4 = udp(1000, 2000);
    uint8_t ttl = 64;
    uint16_t frag = 0;  // flags and offset (in 8-byte units), host order
    Bytes options{};    // IP options, a multiple of 4 bytes
    bool bad_csum = false;
    int tot_extra = 0;       // added to the total length field after the fact
    size_t cut = 0;          // when set: the frame is cut to this many bytes
    uint16_t ethertype = 0x0800;
    // The TCP or UDP checksum: written (over the pseudo-header and layer 4) when set,
    // and then made wrong by `bad_l4_csum`. Unset: as the layer 4 bytes say (tcp() and
    // udp() leave it zero).
    bool l4_csum = false;
    bool bad_l4_csum = false;
};

inline uint16_t ip_checksum(const uint8_t* h, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 2) sum += uint32_t(h[i]) << 8 | h[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

inline Frame frame(const Ip& ip, const Mac& dst_mac, const Mac& src_mac) {
    const size_t hlen = 20 + ip.options.size();
    Frame f;
    f.tot = uint16_t(hlen + ip.l4.size() + ip.tot_extra);
    Bytes& b = f.bytes;
    b.assign(14 + hlen, 0);
    std::copy(dst_mac.begin(), dst_mac.end(), b.begin());
    std::copy(src_mac.begin(), src_mac.end(), b.begin() + 6);
    put16(b, 12, ip.ethertype);
    uint8_t* h = b.data() + 14;
    h[0] = uint8_t(0x40 | hlen / 4);
    h[2] = uint8_t(f.tot >> 8), h[3] = uint8_t(f.tot);
    h[4] = 0x12, h[5] = 0x34;
    h[6] = uint8_t(ip.frag >> 8), h[7] = uint8_t(ip.frag);
    h[8] = ip.ttl;
    h[9] = ip.proto;
    inet_pton(AF_INET, ip.src.c_str(), h + 12);
    inet_pton(AF_INET, ip.dst.c_str(), h + 16);
    std::copy(ip.options.begin(), ip.options.end(), h + 20);
    uint16_t sum = ip_checksum(h, hlen);
    if (ip.bad_csum) sum ^= 0x0101;
    h[10] = uint8_t(sum >> 8), h[11] = uint8_t(sum);
    b.insert(b.end(), ip.l4.begin(), ip.l4.end());
    const size_t at = ip.proto == IPPROTO_TCP ? 16 : ip.proto == IPPROTO_UDP ? 6 : 0;
    if (ip.l4_csum && at && ip.l4.size() >= at + 2) {
        h = b.data() + 14;  // the insert above may have moved the bytes
        uint8_t* l4 = b.data() + 14 + hlen;
        const size_t len = ip.l4.size();
        l4[at] = l4[at + 1] = 0;
        Bytes pseudo(12 + len + (len & 1), 0);
        std::copy(h + 12, h + 20, pseudo.begin());
        pseudo[9] = ip.proto;
        pseudo[10] = uint8_t(len >> 8), pseudo[11] = uint8_t(len);
        std::copy(l4, l4 + len, pseudo.begin() + 12);
        uint16_t sum = ip_checksum(pseudo.data(), pseudo.size());
        if (ip.proto == IPPROTO_UDP && sum == 0) sum = 0xffff;  // 0 means none in UDP
        if (ip.bad_l4_csum) sum ^= 0x0101;
        l4[at] = uint8_t(sum >> 8), l4[at + 1] = uint8_t(sum);
    }
    if (ip.cut && ip.cut < b.size()) b.resize(ip.cut);
    return f;
}

// An IPv6 extension header: its type (the next-header value that announces it) and its
// body after the two bytes of next header and length. Hop-by-hop, routing and
// destination options are padded to a multiple of 8 bytes, AH to a multiple of 4; the
// fragment header is 8 bytes whatever the body.
struct Ext {
    uint8_t type;
    Bytes body{};
};
inline constexpr uint8_t HOP = 0, ROUTING = 43, FRAGMENT = 44, AH = 51, NONE = 59, DSTOPTS = 60;

struct Ip6 {
    std::string src = "2001:db8::2", dst = "2001:db8::1";
    uint8_t proto = IPPROTO_UDP;  // the upper layer (after the extension headers)
    Bytes l4 = udp(1000, 2000);
    uint8_t hop_limit = 64;
    std::vector<Ext> ext{};
    int plen_extra = 0;       // added to the payload length field after the fact
    bool plen_zero = false;   // a payload length of 0 (a jumbogram's)
    uint8_t version = 6;
    size_t cut = 0;           // when set: the frame is cut to this many bytes
    uint16_t ethertype = 0x86DD;
    // A right TCP or UDP checksum over the IPv6 pseudo-header (then made wrong by
    // `bad_l4_csum`). Unset: as the layer 4 bytes say.
    bool l4_csum = false;
    bool bad_l4_csum = false;
};

inline Frame frame6(const Ip6& ip, const Mac& dst_mac, const Mac& src_mac) {
    Bytes payload;
    for (size_t i = 0; i < ip.ext.size(); ++i) {
        const Ext& e = ip.ext[i];
        const uint8_t next = i + 1 < ip.ext.size() ? ip.ext[i + 1].type : ip.proto;
        Bytes h{next, 0};
        h.insert(h.end(), e.body.begin(), e.body.end());
        if (e.type == FRAGMENT) {
            h.resize(8, 0);
        } else if (e.type == AH) {
            h.resize(std::max<size_t>(12, (h.size() + 3) / 4 * 4), 0);
            h[1] = uint8_t(h.size() / 4 - 2);
        } else {
            h.resize(std::max<size_t>(8, (h.size() + 7) / 8 * 8), 0);
            h[1] = uint8_t(h.size() / 8 - 1);
        }
        payload.insert(payload.end(), h.begin(), h.end());
    }
    payload.insert(payload.end(), ip.l4.begin(), ip.l4.end());
    Frame f;
    const uint16_t plen = ip.plen_zero ? 0 : uint16_t(payload.size() + ip.plen_extra);
    f.tot = uint16_t(40 + plen);
    Bytes& b = f.bytes;
    b.assign(14 + 40, 0);
    std::copy(dst_mac.begin(), dst_mac.end(), b.begin());
    std::copy(src_mac.begin(), src_mac.end(), b.begin() + 6);
    put16(b, 12, ip.ethertype);
    uint8_t* h = b.data() + 14;
    h[0] = uint8_t(ip.version << 4);
    h[4] = uint8_t(plen >> 8), h[5] = uint8_t(plen);
    h[6] = ip.ext.empty() ? ip.proto : ip.ext[0].type;
    h[7] = ip.hop_limit;
    inet_pton(AF_INET6, ip.src.c_str(), h + 8);
    inet_pton(AF_INET6, ip.dst.c_str(), h + 24);
    b.insert(b.end(), payload.begin(), payload.end());
    const size_t at = ip.proto == IPPROTO_TCP ? 16 : ip.proto == IPPROTO_UDP ? 6 : 0;
    if (ip.l4_csum && at && ip.l4.size() >= at + 2) {
        const size_t len = ip.l4.size();
        uint8_t* l4 = b.data() + b.size() - len;
        l4[at] = l4[at + 1] = 0;
        // Source, destination, upper-layer length (32 bits), three zeros, next header.
        Bytes pseudo(40 + len + (len & 1), 0);
        std::copy(b.data() + 14 + 8, b.data() + 14 + 40, pseudo.begin());
        pseudo[32] = uint8_t(len >> 24), pseudo[33] = uint8_t(len >> 16);
        pseudo[34] = uint8_t(len >> 8), pseudo[35] = uint8_t(len);
        pseudo[39] = ip.proto;
        std::copy(l4, l4 + len, pseudo.begin() + 40);
        uint16_t sum = ip_checksum(pseudo.data(), pseudo.size());
        if (ip.proto == IPPROTO_UDP && sum == 0) sum = 0xffff;  // 0 means none in UDP
        if (ip.bad_l4_csum) sum ^= 0x0101;
        l4[at] = uint8_t(sum >> 8), l4[at + 1] = uint8_t(sum);
    }
    if (ip.cut && ip.cut < b.size()) b.resize(ip.cut);
    return f;
}

}  // namespace dpt
