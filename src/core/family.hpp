// The address family seam: everything that differs between iptables (IPv4) and ip6tables
// (IPv6) is a field of FamilySpec, read from one place. An address of either family is an
// IpAddr (network byte order, IPv4 in its first four bytes), so rules, the compiler and
// the netfilter layer hold one type and ask the family how wide it is.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace xdpt {

enum class Family : uint8_t { ipv4 = 0, ipv6 = 1 };

struct FamilySpec {
    Family family;
    uint8_t nfproto;     // NFPROTO_IPV4 / NFPROTO_IPV6: x_tables and the nftables table family
    uint16_t ethertype;  // ETH_P_IP / ETH_P_IPV6 (host order)
    unsigned addr_bytes; // 4 / 16
    std::string_view iptables;   // the iptables command of the family: "iptables" / "ip6tables"
    std::string_view xdptables;  // ours: "xdptables" / "xdp6tables"
    std::string_view nft_family; // nftables' name of the table family: "ip" / "ip6"
    // Offsets of the source and destination addresses in the network header.
    uint32_t src_offset, dst_offset;
    unsigned addr_bits() const { return addr_bytes * 8; }
};

// (The values of NFPROTO_* and ETH_P_*: <linux/netfilter.h> cannot be included next to
// <netinet/in.h>, which most users of this header need.)
inline constexpr std::array<FamilySpec, 2> families{{
    {Family::ipv4, 2 /* NFPROTO_IPV4 */, 0x0800 /* ETH_P_IP */, 4, "iptables", "xdptables", "ip", 12, 16},
    {Family::ipv6, 10 /* NFPROTO_IPV6 */, 0x86DD /* ETH_P_IPV6 */, 16, "ip6tables", "xdp6tables", "ip6", 8, 24},
}};

constexpr const FamilySpec& spec_of(Family f) { return families[static_cast<size_t>(f)]; }

// An address or a mask of either family, in network byte order; an IPv4 one fills the
// first four bytes and leaves the others zero.
struct IpAddr {
    std::array<uint8_t, 16> b{};

    static constexpr IpAddr from_v4(uint32_t host_order) {
        IpAddr a;
        for (int i = 0; i < 4; ++i) a.b[i] = static_cast<uint8_t>(host_order >> (24 - 8 * i));
        return a;
    }
    // The first four bytes, host order (the address of an IPv4 rule).
    constexpr uint32_t v4() const {
        return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
    }
    // The mask of a prefix of `bits` bits.
    static constexpr IpAddr prefix_mask(unsigned bits) {
        IpAddr m;
        for (unsigned i = 0; i < 16 && bits; ++i) {
            const unsigned take = bits < 8 ? bits : 8;
            m.b[i] = static_cast<uint8_t>(0xff00u >> take);
            bits -= take;
        }
        return m;
    }
    // The prefix length of a contiguous mask of `width` bits, or -1.
    constexpr int prefix_len(unsigned width_bytes) const {
        int bits = 0;
        unsigned i = 0;
        for (; i < width_bytes && b[i] == 0xff; ++i) bits += 8;
        if (i < width_bytes) {
            uint8_t x = b[i];
            while (x & 0x80) x = static_cast<uint8_t>(x << 1), ++bits;
            if (x) return -1;
            for (++i; i < width_bytes; ++i)
                if (b[i]) return -1;
        }
        return bits;
    }
    constexpr bool zero() const {
        for (uint8_t x : b)
            if (x) return false;
        return true;
    }
    constexpr IpAddr operator&(const IpAddr& o) const {
        IpAddr r;
        for (size_t i = 0; i < b.size(); ++i) r.b[i] = b[i] & o.b[i];
        return r;
    }
    constexpr bool operator==(const IpAddr&) const = default;
    constexpr auto operator<=>(const IpAddr&) const = default;
};

// An address with its mask (the mask need not be contiguous: dotted masks); `addr` holds
// no bit outside `mask`.
struct IpNet {
    IpAddr addr, mask;
    static constexpr IpNet v4(uint32_t a, uint32_t m) { return {IpAddr::from_v4(a & m), IpAddr::from_v4(m)}; }
    constexpr uint32_t addr4() const { return addr.v4(); }
    constexpr uint32_t mask4() const { return mask.v4(); }
    constexpr bool operator==(const IpNet&) const = default;
};

}  // namespace xdpt
