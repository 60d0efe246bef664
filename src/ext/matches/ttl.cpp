// -m ttl: compare the IPv4 time to live (ipt_ttl): equal, not equal, less, greater.
#include <linux/netfilter_ipv4/ipt_ttl.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_eq, o_lt, o_gt };
constexpr unsigned any_ttl = 0x7;  // each option excludes the others (and itself)
constexpr unsigned alias = opt_invert | opt_multi;  // checked by AliasGuard

// Table order as in libxtables: it decides which option the exclusion messages name.
constexpr std::array<OptDef, 4> ttl_opts{{
    {.name = "ttl-lt", .id = o_lt, .excl = any_ttl},
    {.name = "ttl-gt", .id = o_gt, .excl = any_ttl},
    {.name = "ttl-eq", .id = o_eq, .flags = opt_invert, .excl = any_ttl},
    {.name = "ttl", .id = o_eq, .flags = alias, .excl = any_ttl},
}};

enum class Mode { eq = IPT_TTL_EQ, ne = IPT_TTL_NE, lt = IPT_TTL_LT, gt = IPT_TTL_GT };

class TtlData : public Data<TtlData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        if (auto r = guard_.check("ttl", ttl_opts, opt, invert); !r) return r;
        auto v = parse_uint("ttl", canonical(ttl_opts, opt.id).name, arg, 0, 255);
        if (!v) return failure(v);
        ttl_ = static_cast<uint8_t>(*v);
        mode_ = opt.id == o_lt ? Mode::lt : opt.id == o_gt ? Mode::gt : invert ? Mode::ne : Mode::eq;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0)
            return param_fail("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt");
        return {};
    }

    bool to_xdp(const Rule&, XdpCond& c) const override {
        for (unsigned t = 0; t < 256; ++t) {
            bool m = mode_ == Mode::eq ? t == ttl_ : mode_ == Mode::ne ? t != ttl_
                   : mode_ == Mode::lt ? t < ttl_ : t > ttl_;
            if (!m) c.ttl.reset(t);
        }
        return true;
    }

    XtInfo to_xt(const Rule&) const override {
        ipt_ttl_info info{};
        info.mode = static_cast<uint8_t>(mode_);
        info.ttl = ttl_;
        return XtInfo::of("ttl", 0, info);
    }

    // ip ttl OP N: ttl_mt compares ip_hdr(skb)->ttl as the cmp does.
    bool to_nft(const Rule&, nftx::Exprs& out) const override {
        static constexpr std::array<uint32_t, 4> ops{NFT_CMP_EQ, NFT_CMP_NEQ, NFT_CMP_LT, NFT_CMP_GT};  // by Mode
        out.push_back(nftx::Payload{NFT_PAYLOAD_NETWORK_HEADER, 8, 1});
        out.push_back(nftx::Cmp{ops[static_cast<size_t>(mode_)], nftx::u8(ttl_)});
        return true;
    }

    void save(std::string& out) const override {
        static constexpr std::array<std::string_view, 4> opts{" --ttl-eq", " ! --ttl-eq", " --ttl-lt", " --ttl-gt"};
        out += str(opts[static_cast<size_t>(mode_)], ' ', ttl_);
    }

    void print(std::string& out, bool) const override {
        static constexpr std::array<std::string_view, 4> ops{"==", "!=", "<", ">"};
        out += str(" TTL match TTL ", ops[static_cast<size_t>(mode_)], ' ', ttl_);
    }

private:
    AliasGuard guard_;
    Mode mode_ = Mode::eq;
    uint8_t ttl_ = 0;
};

}  // namespace

const ExtKind match_ttl{"ttl", ttl_opts, make_data<TtlData>, {}, {}, {}, ipv4_only};

}  // namespace xdpt
