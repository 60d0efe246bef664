// -m ipv6header: which extension headers the packet has (ip6t_ipv6header), exactly or
// at least (--soft), as libip6t_ipv6header.
#include <netdb.h>
#include <netinet/in.h>
#include <linux/netfilter_ipv6/ip6t_ipv6header.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_header, o_soft };
constexpr std::array<OptDef, 2> ipv6header_opts{{
    {.name = "header", .id = o_header, .flags = opt_invert | opt_mand},
    {.name = "soft", .id = o_soft, .has_arg = false},
}};

// libip6t_ipv6header's names, for when the protocol database does not know them.
struct HeaderName {
    std::string_view name;
    uint8_t proto;
};
constexpr std::array<HeaderName, 18> header_names{{
    {"hop-by-hop", IPPROTO_HOPOPTS}, {"protocol", IPPROTO_RAW}, {"hop", IPPROTO_HOPOPTS},
    {"dst", IPPROTO_DSTOPTS}, {"route", IPPROTO_ROUTING}, {"frag", IPPROTO_FRAGMENT},
    {"auth", IPPROTO_AH}, {"esp", IPPROTO_ESP}, {"none", IPPROTO_NONE},
    {"prot", IPPROTO_RAW}, {"0", IPPROTO_HOPOPTS}, {"60", IPPROTO_DSTOPTS},
    {"43", IPPROTO_ROUTING}, {"44", IPPROTO_FRAGMENT}, {"51", IPPROTO_AH},
    {"50", IPPROTO_ESP}, {"59", IPPROTO_NONE}, {"255", IPPROTO_RAW},
}};

// The mask bit of each header, in the order they are listed.
constexpr std::array<std::pair<uint8_t, uint8_t>, 8> header_masks{{
    {IPPROTO_HOPOPTS, MASK_HOPOPTS}, {IPPROTO_DSTOPTS, MASK_DSTOPTS}, {IPPROTO_ROUTING, MASK_ROUTING},
    {IPPROTO_FRAGMENT, MASK_FRAGMENT}, {IPPROTO_AH, MASK_AH}, {IPPROTO_ESP, MASK_ESP},
    {IPPROTO_NONE, MASK_NONE}, {IPPROTO_RAW, MASK_PROTO},
}};

// A header's name: the protocol database's (but for 0), else the table's.
std::string header_name(uint8_t proto) {
    if (proto != 0)
        if (const protoent* p = getprotobynumber(proto)) return p->p_name;
    for (const auto& h : header_names)
        if (h.proto == proto) return std::string(h.name);
    return {};
}

// "name[,name...]" (empty names skipped) as a mask.
Result<uint8_t> parse_headers(std::string_view arg) {
    uint8_t mask = 0;
    size_t pos = 0;
    while (pos <= arg.size()) {
        size_t comma = arg.find(',', pos);
        if (comma == arg.npos) comma = arg.size();
        const std::string name(arg.substr(pos, comma - pos));
        pos = comma + 1;
        if (name.empty()) continue;
        int proto = -1;
        if (const protoent* p = getprotobyname(name.c_str())) proto = p->p_proto;
        else
            for (const auto& h : header_names)
                if (h.name == name) {
                    proto = h.proto;
                    break;
                }
        if (proto < 0) return param_fail(str("unknown header `", name, "' specified"));
        const auto* m = std::find_if(header_masks.begin(), header_masks.end(), [&](auto& hm) { return hm.first == proto; });
        if (m == header_masks.end()) return param_fail(str("unknown header `", proto, "' specified"));
        mask |= m->second;
    }
    return mask;
}

class Ipv6HeaderData : public Data<Ipv6HeaderData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        if (opt.id == o_soft) {
            info_.modeflag = 0xff;
            return {};
        }
        auto m = parse_headers(arg.substr(0, arg.find('\0')));
        if (!m) return failure(m);
        if (*m == 0) return param_fail("ip6t_ipv6header: cannot parse header names");
        info_.matchflags = *m;
        if (invert) info_.invflags = 0xff;
        return {};
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("ipv6header", 0, info_); }

    void save(std::string& out) const override {
        out += str(info_.invflags ? " !" : "", " --header ");
        names(out);
        if (info_.modeflag) out += " --soft";
    }

    void print(std::string& out, bool numeric) const override {
        out += " ipv6header";
        if (info_.matchflags || info_.invflags) {
            out += str(" flags:", info_.invflags ? "!" : "");
            if (numeric) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "0x%02X", info_.matchflags);
                out += buf;
            } else {
                names(out);
            }
        }
        if (info_.modeflag) out += " soft";
    }

private:
    ip6t_ipv6header_info info_{};

    void names(std::string& out) const {
        bool any = false;
        for (const auto& [proto, bit] : header_masks)
            if (info_.matchflags & bit) {
                out += str(any ? "," : "", header_name(proto));
                any = true;
            }
        if (!any) out += "NONE";
    }
};

}  // namespace

const ExtKind match_ipv6header{"ipv6header", ipv6header_opts, make_data<Ipv6HeaderData>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
