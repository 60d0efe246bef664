// Native nftables expressions as values: what a match asks of a packet when nftables
// can say it without x_tables (ExtData::to_nft), in the order the kernel evaluates it.
// compat/nft.cpp turns them into libnftnl expressions; nothing here touches the kernel.
// Every expression loads into or reads register 1, as iptables-nft's do.
//
// A native form replaces an x_tables match only where the kernel decides every packet
// the same way through both (the match function and the expressions read the same
// fields). The tcp, udp, icmp and multiport matches are not among them: x_tables drops
// a packet whose transport header is cut short (hotdrop, and no rule counts it) where a
// payload expression only fails the rule.
#pragma once
#include <linux/netfilter/nf_tables.h>

#include <cstdint>
#include <variant>
#include <vector>

namespace xdpt::nftx {

using Bytes = std::vector<uint8_t>;

// A field of the packet: `len` bytes at `offset` from the header `base` (NFT_PAYLOAD_*).
struct Payload {
    uint32_t base, offset, len;
};
// Packet metadata (NFT_META_*), host byte order.
struct Meta {
    uint32_t key;
};
// Conntrack data (NFT_CT_*), host byte order.
struct Ct {
    uint32_t key;
};
// register & mask (xor 0).
struct Bitwise {
    Bytes mask;
};
// register OP data (NFT_CMP_*): the rule goes on only when it holds.
struct Cmp {
    uint32_t op;
    Bytes data;
};
// lo <= register <= hi (compared as bytes), or outside that range.
struct Range {
    bool inside;
    Bytes lo, hi;
};
// A packet rate: `rate` per `unit` seconds with a burst of `burst` packets; over it, the
// rule stops.
struct Limit {
    uint64_t rate, unit;
    uint32_t burst;
};

using Expr = std::variant<Payload, Meta, Ct, Bitwise, Cmp, Range, Limit>;
using Exprs = std::vector<Expr>;

// Register contents: network order for packet fields, host order for metadata.
inline Bytes be16(uint16_t v) { return {uint8_t(v >> 8), uint8_t(v)}; }
inline Bytes u8(uint8_t v) { return {v}; }
inline Bytes host32(uint32_t v) {
    Bytes b(4);
    for (size_t i = 0; i < 4; ++i) b[i] = reinterpret_cast<const uint8_t*>(&v)[i];
    return b;
}

// Field `len` bytes at `offset` of the IP header, within [lo, hi] (or outside with
// `inv`): one cmp for a single value, a range otherwise.
inline void ip_field_range(Exprs& out, uint32_t offset, const Bytes& lo, const Bytes& hi, bool inv) {
    out.push_back(Payload{NFT_PAYLOAD_NETWORK_HEADER, offset, uint32_t(lo.size())});
    if (lo == hi)
        out.push_back(Cmp{inv ? uint32_t(NFT_CMP_NEQ) : uint32_t(NFT_CMP_EQ), lo});
    else
        out.push_back(Range{!inv, lo, hi});
}

}  // namespace xdpt::nftx
