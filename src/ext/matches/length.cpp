// -m length: the packet's layer-3 length within a range (xt_length).
#include <linux/netfilter/xt_length.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr std::array<OptDef, 1> length_opts{{
    {.name = "length", .id = 0, .flags = opt_invert | opt_mand},
}};

class LengthData : public Data<LengthData> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        auto r = parse_uint_range("length", "length", arg, 0xffff);
        if (!r) return failure(r);
        range_ = *r;
        inv_ = invert;
        v6_ = ctx.family == Family::ipv6;
        return {};
    }

    bool to_xdp(const Rule&, XdpCond& c) const override {
        c.len = c.len.intersect(ValueSet::range(range_.lo, range_.hi, inv_, 0xffff));
        return true;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_length_info info{};
        info.min = uint16_t(range_.lo), info.max = uint16_t(range_.hi);
        info.invert = inv_;
        return XtInfo::of("length", 0, info);
    }

    // ip length within [min, max]: length_mt reads the IP header's total length (not the
    // skb's, which meta length would). A range with min > max, which matches nothing,
    // stays with x_tables. IPv6: length_mt6 reads the payload length plus the 40 bytes of
    // the header (in 16 bits: a payload length above 65495 wraps to 0..39), so the payload
    // length within [min - 40, max - 40] when min >= 40 (no wrapped length is in the
    // range); other ranges stay with x_tables.
    bool to_nft(const Rule&, nftx::Exprs& out) const override {
        if (range_.lo > range_.hi) return false;
        if (!v6_) {
            nftx::ip_field_range(out, 2, nftx::be16(uint16_t(range_.lo)), nftx::be16(uint16_t(range_.hi)), inv_);
            return true;
        }
        constexpr uint32_t hdr = 40;  // sizeof(struct ipv6hdr)
        if (range_.lo < hdr) return false;
        nftx::ip_field_range(out, 4, nftx::be16(uint16_t(range_.lo - hdr)), nftx::be16(uint16_t(range_.hi - hdr)), inv_);
        return true;
    }

    void save(std::string& out) const override {
        out += str(inv_ ? " !" : "", " --length ", text());
    }

    void print(std::string& out, bool) const override {
        out += str(" length ", inv_ ? "!" : "", text());
    }

private:
    UintRange range_;
    bool inv_ = false;
    bool v6_ = false;  // an ip6tables rule (ExtCtx::family)

    std::string text() const {
        if (range_.lo == range_.hi) return str(range_.lo);
        return str(range_.lo, ':', range_.hi);
    }
};

}  // namespace

const ExtKind match_length{"length", length_opts, make_data<LengthData>};

}  // namespace xdpt
