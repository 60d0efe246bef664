// -m connlimit: the number of conntrack connections from (or to) the packet's address
// grouped by a prefix (xt_connlimit revision 1), of either family (the mask's default is
// the family's full width). The count lives in the kernel's
// conntrack: rules with it are left to netfilter (no to_xdp).
#include <linux/netfilter/xt_connlimit.h>

#include <array>
#include <cstring>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_upto, o_above, o_mask, o_saddr, o_daddr };

constexpr std::array<OptDef, 5> connlimit_opts{{
    {.name = "connlimit-upto", .id = o_upto, .flags = opt_invert, .excl = 1u << o_above},
    {.name = "connlimit-above", .id = o_above, .flags = opt_invert, .excl = 1u << o_upto},
    {.name = "connlimit-mask", .id = o_mask},
    {.name = "connlimit-saddr", .id = o_saddr, .has_arg = false, .excl = 1u << o_daddr},
    {.name = "connlimit-daddr", .id = o_daddr, .has_arg = false, .excl = 1u << o_saddr},
}};

class ConnlimitData : public Data<ConnlimitData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        fam_ = ctx.family;
        arg = arg.substr(0, arg.find('\0'));
        switch (opt.id) {
            case o_saddr: flags_ &= ~XT_CONNLIMIT_DADDR; return {};
            case o_daddr: flags_ |= XT_CONNLIMIT_DADDR; return {};
            case o_mask: {
                auto m = parse_plen_mask(fam_, "connlimit", opt.name, arg);
                if (!m) return failure(m);
                mask_ = *m;
                mask_given_ = true;
                return {};
            }
        }
        auto v = parse_uint("connlimit", opt.name, arg, 0, 0xffffffff);
        if (!v) return failure(v);
        limit_ = *v;
        // "upto n" is "not above n": the kernel's invert flag, which `!` turns around.
        if ((opt.id == o_upto) != invert) flags_ |= XT_CONNLIMIT_INVERT;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx& ctx) override {
        fam_ = ctx.family;
        if (!(seen & (1u << o_upto | 1u << o_above)))
            return param_fail("You must specify \"--connlimit-above\" or \"--connlimit-upto\".");
        return {};
    }

    XtInfo to_xt(const Rule&) const override {
        xt_connlimit_info info{};
        // iptables starts from an all-ones IPv6 mask, the IPv4 one its first word; a
        // --connlimit-mask writes all four words (for IPv4, the three after it zero).
        std::memcpy(info.v6_mask, mask_.b.data(), sizeof info.v6_mask);
        info.limit = limit_, info.flags = flags_;
        return XtInfo::of("connlimit", 1, info);
    }

    void save(std::string& out) const override { save_as(out, true); }
    // Without a --connlimit-mask the IPv4 structure differs (see to_xt): -C tells them
    // apart. The IPv6 one is the same as with /128.
    void save_exact(std::string& out) const override { save_as(out, mask_given_ || fam_ == Family::ipv6); }

    void print(std::string& out, bool) const override {
        out += str(" #conn ", flags_ & XT_CONNLIMIT_DADDR ? "dst" : "src", '/', prefix_bits(),
                   flags_ & XT_CONNLIMIT_INVERT ? " <= " : " > ", limit_);
    }

private:
    IpAddr mask_ = IpAddr::prefix_mask(128);
    uint32_t limit_ = 0, flags_ = 0;
    bool mask_given_ = false;
    Family fam_ = Family::ipv4;

    void save_as(std::string& out, bool with_mask) const {
        out += str(flags_ & XT_CONNLIMIT_INVERT ? " --connlimit-upto " : " --connlimit-above ", limit_);
        if (with_mask) out += str(" --connlimit-mask ", prefix_bits());
        out += flags_ & XT_CONNLIMIT_DADDR ? " --connlimit-daddr" : " --connlimit-saddr";
    }

    unsigned prefix_bits() const { return count_mask_bits(fam_, mask_); }
};

}  // namespace

const ExtKind match_connlimit{"connlimit", connlimit_opts, make_data<ConnlimitData>};

}  // namespace xdpt
