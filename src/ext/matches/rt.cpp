// -m rt: the IPv6 routing header (ip6t_rt): type, segments left, header length, and for
// type 0 the reserved field and the list of addresses, as libip6t_rt.
#include <arpa/inet.h>
#include <linux/netfilter_ipv6/ip6t_rt.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_type, o_segsleft, o_len, o_res, o_addrs, o_not_strict };
constexpr std::array<OptDef, 6> rt_opts{{
    {.name = "rt-type", .id = o_type, .flags = opt_invert},
    {.name = "rt-segsleft", .id = o_segsleft, .flags = opt_invert},
    {.name = "rt-len", .id = o_len, .flags = opt_invert},
    {.name = "rt-0-res", .id = o_res, .has_arg = false},
    {.name = "rt-0-addrs", .id = o_addrs},
    {.name = "rt-0-not-strict", .id = o_not_strict, .has_arg = false},
}};

// "ADDR[,ADDR...]", numeric IPv6 addresses, at most IP6T_RT_HOPS.
Result<void> parse_addrs(std::string_view arg, ip6t_rt& info) {
    unsigned n = 0;
    for (size_t pos = 0;; ++n) {
        if (n == IP6T_RT_HOPS) return param_fail("too many addresses specified");
        const size_t comma = arg.find(',', pos);
        const std::string a(arg.substr(pos, comma == arg.npos ? arg.npos : comma - pos));
        if (inet_pton(AF_INET6, a.c_str(), &info.addrs[n]) != 1) return param_fail(str("bad address: ", a));
        if (comma == arg.npos) break;
        pos = comma + 1;
    }
    info.addrnr = static_cast<uint8_t>(n + 1);
    return {};
}

class RtData : public Data<RtData> {
public:
    RtData() { info_.segsleft[1] = 0xffffffff; }

    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        switch (opt.id) {
            case o_type:
                if (auto r = parse_u32("rt", opt.name, arg, info_.rt_type); !r) return r;
                if (invert) info_.invflags |= IP6T_RT_INV_TYP;
                info_.flags |= IP6T_RT_TYP;
                break;
            case o_segsleft:
                if (auto r = parse_u32_pair("rt", opt.name, arg, info_.segsleft); !r) return r;
                if (invert) info_.invflags |= IP6T_RT_INV_SGS;
                info_.flags |= IP6T_RT_SGS;
                break;
            case o_len:
                if (auto r = parse_u32("rt", opt.name, arg, info_.hdrlen); !r) return r;
                if (invert) info_.invflags |= IP6T_RT_INV_LEN;
                info_.flags |= IP6T_RT_LEN;
                break;
            case o_res:
                if (!type0()) return param_fail("`--rt-type 0' required before `--rt-0-res'");
                info_.flags |= IP6T_RT_RES;
                break;
            case o_addrs:
                if (!type0()) return param_fail("`--rt-type 0' required before `--rt-0-addrs'");
                if (auto r = parse_addrs(arg.substr(0, arg.find('\0')), info_); !r) return r;
                info_.flags |= IP6T_RT_FST;
                break;
            case o_not_strict:
                if (!(info_.flags & IP6T_RT_FST))
                    return param_fail("`--rt-0-addr ...' required before `--rt-0-not-strict'");
                info_.flags |= IP6T_RT_FST_NSTRICT;
                break;
        }
        return {};
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("rt", 0, info_); }

    void save(std::string& out) const override { save_as(out, false); }
    void save_exact(std::string& out) const override { save_as(out, true); }

    void print(std::string& out, bool) const override {
        out += " rt";
        if (info_.flags & IP6T_RT_TYP)
            out += str(" type:", info_.invflags & IP6T_RT_INV_TYP ? "!" : "", static_cast<int32_t>(info_.rt_type));
        print_u32_range(out, " segsleft", info_.segsleft[0], info_.segsleft[1], info_.invflags & IP6T_RT_INV_SGS);
        if (info_.flags & IP6T_RT_LEN) out += str(" length:", info_.invflags & IP6T_RT_INV_LEN ? "!" : "", info_.hdrlen);
        if (info_.flags & IP6T_RT_RES) out += " reserved";
        if (info_.flags & IP6T_RT_FST) out += " 0-addrs";
        addresses(out);
        if (info_.flags & IP6T_RT_FST_NSTRICT) out += " 0-not-strict";
    }

private:
    ip6t_rt info_{};

    bool type0() const {
        return (info_.flags & IP6T_RT_TYP) && info_.rt_type == 0 && !(info_.invflags & IP6T_RT_INV_TYP);
    }

    void addresses(std::string& out) const {
        for (unsigned i = 0; i < info_.addrnr; ++i) {
            char buf[INET6_ADDRSTRLEN];
            out += str(i == 0 ? ' ' : ',', inet_ntop(AF_INET6, &info_.addrs[i], buf, sizeof buf));
        }
    }

    void save_as(std::string& out, bool exact) const {
        if (info_.flags & IP6T_RT_TYP)
            out += str(info_.invflags & IP6T_RT_INV_TYP ? " !" : "", " --rt-type ", info_.rt_type);
        save_u32_range(out, "rt-segsleft", info_.segsleft[0], info_.segsleft[1], info_.invflags & IP6T_RT_INV_SGS,
                       exact && (info_.flags & IP6T_RT_SGS));
        if (info_.flags & IP6T_RT_LEN)
            out += str(info_.invflags & IP6T_RT_INV_LEN ? " !" : "", " --rt-len ", info_.hdrlen);
        if (info_.flags & IP6T_RT_RES) out += " --rt-0-res";
        if (info_.flags & IP6T_RT_FST) out += " --rt-0-addrs";
        addresses(out);
        if (info_.flags & IP6T_RT_FST_NSTRICT) out += " --rt-0-not-strict";
    }
};

}  // namespace

const ExtKind match_rt{"rt", rt_opts, make_data<RtData>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
