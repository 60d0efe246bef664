// What -m ttl (ipt_ttl, IPv4's time to live) and -m hl (ip6t_hl, IPv6's hop limit) share:
// one of equal, not equal, less, greater against a byte of the network header, the same
// option table shape, messages and listing, each with its own words (TtlKind). Both kernel
// structures are {mode, value} with the same mode numbering.
#pragma once
#include <array>
#include <cstdint>

#include "ext/matches/common.hpp"

namespace xdpt::matches {

enum : int { o_ttl_eq, o_ttl_lt, o_ttl_gt };
inline constexpr unsigned any_ttl = 0x7;  // each option excludes the others (and itself)
inline constexpr unsigned ttl_alias = opt_invert | opt_multi;  // checked by AliasGuard

struct TtlKind {
    std::string_view name;     // the match: "ttl", "hl"
    std::array<OptDef, 4> opts;  // lt, gt, eq, and the eq alias, in libxtables' order
    std::string_view missing;  // the message when no option is given
    std::string_view listed;   // -L: " TTL match TTL", " HL match HL"
    uint32_t offset;           // of the byte in the network header
    bool xdp;                  // the XDP classifier reads it (IPv4's TTL)
};

enum class TtlMode : uint8_t { eq, ne, lt, gt };  // IPT_TTL_* and IP6T_HL_*

// The XDP classifier's form of the comparison (c.ttl).
bool ttl_to_xdp(TtlMode mode, uint8_t v, XdpCond& c);

template <const TtlKind& K>
class TtlData : public Data<TtlData<K>> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        if (auto r = guard_.check(K.name, K.opts, opt, invert); !r) return r;
        auto v = parse_uint(K.name, canonical(K.opts, opt.id).name, arg, 0, 255);
        if (!v) return failure(v);
        value_ = static_cast<uint8_t>(*v);
        mode_ = opt.id == o_ttl_lt ? TtlMode::lt : opt.id == o_ttl_gt ? TtlMode::gt : invert ? TtlMode::ne : TtlMode::eq;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail(std::string(K.missing));
        return {};
    }

    bool to_xdp(const Rule&, XdpCond& c) const override { return K.xdp && ttl_to_xdp(mode_, value_, c); }

    XtInfo to_xt(const Rule&) const override {
        struct {
            uint8_t mode, value;
        } info{static_cast<uint8_t>(mode_), value_};
        return XtInfo::of(K.name, 0, info);
    }

    // ip ttl OP N / ip6 hoplimit OP N: the kernel compares the header's byte as the cmp does.
    bool to_nft(const Rule&, nftx::Exprs& out) const override {
        static constexpr std::array<uint32_t, 4> ops{NFT_CMP_EQ, NFT_CMP_NEQ, NFT_CMP_LT, NFT_CMP_GT};  // by mode
        out.push_back(nftx::Payload{NFT_PAYLOAD_NETWORK_HEADER, K.offset, 1});
        out.push_back(nftx::Cmp{ops[static_cast<size_t>(mode_)], nftx::u8(value_)});
        return true;
    }

    void save(std::string& out) const override {
        static constexpr std::array<std::string_view, 4> neg{"", " !", "", ""};
        static constexpr std::array<int, 4> opt{o_ttl_eq, o_ttl_eq, o_ttl_lt, o_ttl_gt};
        const size_t m = static_cast<size_t>(mode_);
        out += str(neg[m], " --", canonical(K.opts, opt[m]).name, ' ', value_);
    }

    void print(std::string& out, bool) const override {
        static constexpr std::array<std::string_view, 4> ops{"==", "!=", "<", ">"};
        out += str(K.listed, ' ', ops[static_cast<size_t>(mode_)], ' ', value_);
    }

private:
    AliasGuard guard_;
    TtlMode mode_ = TtlMode::eq;
    uint8_t value_ = 0;
};

}  // namespace xdpt::matches
