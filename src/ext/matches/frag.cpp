// -m frag: the IPv6 fragment header (ip6t_frag): identification range, header length,
// reserved fields, first / more / last fragment, as libip6t_frag.
#include <linux/netfilter_ipv6/ip6t_frag.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_id, o_len, o_res, o_first, o_more, o_last };
constexpr std::array<OptDef, 6> frag_opts{{
    {.name = "fragid", .id = o_id, .flags = opt_invert},
    {.name = "fraglen", .id = o_len, .flags = opt_invert},
    {.name = "fragres", .id = o_res, .has_arg = false},
    {.name = "fragfirst", .id = o_first, .has_arg = false},
    {.name = "fragmore", .id = o_more, .has_arg = false, .excl = 1u << o_last},
    {.name = "fraglast", .id = o_last, .has_arg = false, .excl = 1u << o_more},
}};

class FragData : public Data<FragData> {
public:
    FragData() { info_.ids[1] = 0xffffffff; }

    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        switch (opt.id) {
            case o_id:
                if (auto r = parse_u32_pair("frag", opt.name, arg, info_.ids); !r) return r;
                if (invert) info_.invflags |= IP6T_FRAG_INV_IDS;
                info_.flags |= IP6T_FRAG_IDS;
                break;
            case o_len:
                if (auto r = parse_u32("frag", opt.name, arg, info_.hdrlen); !r) return r;
                if (invert) info_.invflags |= IP6T_FRAG_INV_LEN;
                info_.flags |= IP6T_FRAG_LEN;
                break;
            case o_res: info_.flags |= IP6T_FRAG_RES; break;
            case o_first: info_.flags |= IP6T_FRAG_FST; break;
            case o_more: info_.flags |= IP6T_FRAG_MF; break;
            case o_last: info_.flags |= IP6T_FRAG_NMF; break;
        }
        return {};
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("frag", 0, info_); }

    void save(std::string& out) const override { save_as(out, false); }
    void save_exact(std::string& out) const override { save_as(out, true); }

    void print(std::string& out, bool) const override {
        out += " frag ";
        print_u32_range(out, "id", info_.ids[0], info_.ids[1], info_.invflags & IP6T_FRAG_INV_IDS);
        if (info_.flags & IP6T_FRAG_LEN)
            out += str(" length:", info_.invflags & IP6T_FRAG_INV_LEN ? "!" : "", info_.hdrlen);
        flags(out, " reserved", " first", " more", " last");
    }

private:
    ip6t_frag info_{};

    void flags(std::string& out, std::string_view res, std::string_view fst, std::string_view mf,
               std::string_view nmf) const {
        if (info_.flags & IP6T_FRAG_RES) out += res;
        if (info_.flags & IP6T_FRAG_FST) out += fst;
        if (info_.flags & IP6T_FRAG_MF) out += mf;
        if (info_.flags & IP6T_FRAG_NMF) out += nmf;
    }

    // The exact form also keeps what the saved one leaves out: a full range given.
    void save_as(std::string& out, bool exact) const {
        save_u32_range(out, "fragid", info_.ids[0], info_.ids[1], info_.invflags & IP6T_FRAG_INV_IDS,
                       exact && (info_.flags & IP6T_FRAG_IDS));
        if (info_.flags & IP6T_FRAG_LEN)
            out += str(info_.invflags & IP6T_FRAG_INV_LEN ? " !" : "", " --fraglen ", info_.hdrlen);
        flags(out, " --fragres", " --fragfirst", " --fragmore", " --fraglast");
    }
};

}  // namespace

const ExtKind match_frag{"frag", frag_opts, make_data<FragData>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
