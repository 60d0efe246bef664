// -m iprange: source and/or destination address within an inclusive range (xt_iprange
// revision 1), of either family.
#include <arpa/inet.h>
#include <linux/netfilter/xt_iprange.h>

#include <array>
#include <cstring>

#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_src, o_dst };

constexpr std::array<OptDef, 2> iprange_opts{{
    {.name = "src-range", .id = o_src, .flags = opt_invert},
    {.name = "dst-range", .id = o_dst, .flags = opt_invert},
}};

struct Range {
    bool set = false, inv = false;
    Family fam = Family::ipv4;
    IpAddr lo, hi;

    std::string text() const { return grammar::addr_to_text(fam, lo) + '-' + grammar::addr_to_text(fam, hi); }
};

// "a.b.c.d[-a.b.c.d]" (IPv6: "a::b[-c::d]"), each address as xtables_numeric_to_ipaddr
// (xtables_numeric_to_ip6addr) reads it.
Result<Range> parse_range(std::string_view arg, std::string_view opt, const ExtCtx& ctx) {
    arg = arg.substr(0, arg.find('\0'));
    auto dash = arg.find('-');
    std::string_view from = arg.substr(0, dash);
    std::string_view to = dash == std::string_view::npos ? arg : arg.substr(dash + 1);
    Range r;
    r.set = true;
    r.fam = ctx.family;
    for (auto [text, dest] : {std::pair{from, &r.lo}, std::pair{to, &r.hi}}) {
        auto a = grammar::text_to_addr(ctx.family, text);
        if (!a) return param_fail(str("iprange: Bad value for \"", opt, "\" option: \"", text, "\""));
        *dest = *a;
    }
    if (r.lo > r.hi) warn(ctx, str("xt_iprange: range ", from, '-', to, " is reversed and will never match\n"));
    return r;
}

class IprangeData : public Data<IprangeData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        auto r = parse_range(arg, opt.id == o_src ? "--src-range" : "--dst-range", ctx);
        if (!r) return failure(r);
        Range& dest = opt.id == o_src ? src_ : dst_;
        dest = *r;
        dest.inv = invert;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("iprange match: You must specify `--src-range' or `--dst-range'");
        return {};
    }

    bool to_xdp(const Rule&, XdpCond& c) const override {
        if ((src_.set && src_.fam != Family::ipv4) || (dst_.set && dst_.fam != Family::ipv4)) return false;
        if (src_.set) c.src.push_back({range_to_prefixes(src_.lo.v4(), src_.hi.v4()), src_.inv});
        if (dst_.set) c.dst.push_back({range_to_prefixes(dst_.lo.v4(), dst_.hi.v4()), dst_.inv});
        return true;
    }

    // xt_iprange_mtinfo (revision 1), addresses in network order.
    XtInfo to_xt(const Rule&) const override {
        xt_iprange_mtinfo info{};
        if (src_.set) {
            std::memcpy(&info.src_min, src_.lo.b.data(), 16), std::memcpy(&info.src_max, src_.hi.b.data(), 16);
            info.flags |= IPRANGE_SRC | (src_.inv ? IPRANGE_SRC_INV : 0);
        }
        if (dst_.set) {
            std::memcpy(&info.dst_min, dst_.lo.b.data(), 16), std::memcpy(&info.dst_max, dst_.hi.b.data(), 16);
            info.flags |= IPRANGE_DST | (dst_.inv ? IPRANGE_DST_INV : 0);
        }
        return XtInfo::of("iprange", 1, info);
    }

    void save(std::string& out) const override {
        if (src_.set) out += str(src_.inv ? " !" : "", " --src-range ", src_.text());
        if (dst_.set) out += str(dst_.inv ? " !" : "", " --dst-range ", dst_.text());
    }

    void print(std::string& out, bool) const override {
        if (src_.set) out += str(" source IP range", src_.inv ? " !" : "", ' ', src_.text());
        if (dst_.set) out += str(" destination IP range", dst_.inv ? " !" : "", ' ', dst_.text());
    }

private:
    Range src_, dst_;
};

}  // namespace

const ExtKind match_iprange{"iprange", iprange_opts, make_data<IprangeData>};

}  // namespace xdpt
