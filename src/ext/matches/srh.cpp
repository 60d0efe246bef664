// -m srh: the IPv6 segment routing header (ip6t_srh revision 1, as libip6t_srh sends it
// to a kernel that has it): next header, header length, segments left and last entry
// (each equal, greater or less), tag, and the previous, next and last SID with a prefix.
#include <arpa/inet.h>
#include <linux/netfilter_ipv6/ip6t_srh.h>

#include <array>
#include <cstring>
#include <utility>

#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace {

using namespace matches;

// The option ids are the bit positions of their IP6T_SRH_* and IP6T_SRH_INV_* flags.
enum : int {
    o_next_hdr, o_len_eq, o_len_gt, o_len_lt, o_segs_eq, o_segs_gt, o_segs_lt,
    o_last_eq, o_last_gt, o_last_lt, o_tag, o_psid, o_nsid, o_lsid, o_count
};
constexpr std::array<OptDef, o_count> srh_opts{{
    {.name = "srh-next-hdr", .id = o_next_hdr, .flags = opt_invert},
    {.name = "srh-hdr-len-eq", .id = o_len_eq, .flags = opt_invert},
    {.name = "srh-hdr-len-gt", .id = o_len_gt, .flags = opt_invert},
    {.name = "srh-hdr-len-lt", .id = o_len_lt, .flags = opt_invert},
    {.name = "srh-segs-left-eq", .id = o_segs_eq, .flags = opt_invert},
    {.name = "srh-segs-left-gt", .id = o_segs_gt, .flags = opt_invert},
    {.name = "srh-segs-left-lt", .id = o_segs_lt, .flags = opt_invert},
    {.name = "srh-last-entry-eq", .id = o_last_eq, .flags = opt_invert},
    {.name = "srh-last-entry-gt", .id = o_last_gt, .flags = opt_invert},
    {.name = "srh-last-entry-lt", .id = o_last_lt, .flags = opt_invert},
    {.name = "srh-tag", .id = o_tag, .flags = opt_invert},
    {.name = "srh-psid", .id = o_psid, .flags = opt_invert},
    {.name = "srh-nsid", .id = o_nsid, .flags = opt_invert},
    {.name = "srh-lsid", .id = o_lsid, .flags = opt_invert},
}};

static_assert(IP6T_SRH_NEXTHDR == 1u << o_next_hdr && IP6T_SRH_LEN_EQ == 1u << o_len_eq &&
              IP6T_SRH_SEGS_EQ == 1u << o_segs_eq && IP6T_SRH_LAST_EQ == 1u << o_last_eq &&
              IP6T_SRH_TAG == 1u << o_tag && IP6T_SRH_PSID == 1u << o_psid && IP6T_SRH_LSID == 1u << o_lsid);
static_assert(IP6T_SRH_INV_MASK == IP6T_SRH_MASK);

// The byte an option's value goes in, and a SID's address and mask (of `i`, const or not).
template <class Info>
auto& field(Info& i, int id) {
    return id == o_next_hdr ? i.next_hdr : id <= o_len_lt ? i.hdr_len : id <= o_segs_lt ? i.segs_left : i.last_entry;
}
template <class Info>
auto sid(Info& i, int id) {
    using A = decltype((i.psid_addr));
    if (id == o_psid) return std::pair<A, A>{i.psid_addr, i.psid_msk};
    if (id == o_nsid) return std::pair<A, A>{i.nsid_addr, i.nsid_msk};
    return std::pair<A, A>{i.lsid_addr, i.lsid_msk};
}

class SrhData : public Data<SrhData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        if (opt.id >= o_psid) {
            auto hm = parse_host_mask(ctx.family, "srh", opt.name, arg);  // XTTYPE_HOSTMASK
            if (!hm) return failure(hm);
            auto [addr, mask] = sid(info_, opt.id);
            std::memcpy(&addr, hm->addr.b.data(), sizeof addr);
            std::memcpy(&mask, hm->mask.b.data(), sizeof mask);
        } else {
            auto v = parse_uint("srh", opt.name, arg, 0, opt.id == o_tag ? 0xffff : 0xff);
            if (!v) return failure(v);
            if (opt.id == o_tag) info_.tag = static_cast<uint16_t>(*v);
            else field(info_, opt.id) = static_cast<uint8_t>(*v);
        }
        info_.mt_flags |= uint16_t(1u << opt.id);
        if (invert) info_.mt_invflags |= uint16_t(1u << opt.id);
        return {};
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("srh", 1, info_); }

    // libip6t_srh: " next-hdr:[!]N" ... " tag:[!]N", then " psid [!] ADDR/LEN" (two spaces
    // when not inverted).
    void print(std::string& out, bool) const override {
        out += " srh";
        each([&](int id, bool inv, std::string_view value) {
            const std::string_view label = srh_opts[id].name.substr(4);
            if (id < o_psid) out += str(' ', label, ':', inv ? "!" : "", value);
            else out += str(' ', label, ' ', inv ? "!" : "", ' ', value);
        });
    }

    void save(std::string& out) const override {
        each([&](int id, bool inv, std::string_view value) {
            out += str(inv ? " !" : "", " --", srh_opts[id].name, ' ', value);
        });
    }

private:
    ip6t_srh1 info_{};

    // Each option given, in libip6t_srh's order, with its value as text (a SID as
    // "ADDR/LEN", the length as xtables_ip6mask_to_cidr's unsigned).
    template <class F>
    void each(F&& f) const {
        for (int id = 0; id < o_count; ++id) {
            if (!(info_.mt_flags & (1u << id))) continue;
            const bool inv = info_.mt_invflags & (1u << id);
            if (id < o_psid) {
                f(id, inv, str(id == o_tag ? info_.tag : field(info_, id)));
                continue;
            }
            auto [a, m] = sid(info_, id);
            IpAddr addr, mask;
            std::memcpy(addr.b.data(), &a, 16), std::memcpy(mask.b.data(), &m, 16);
            f(id, inv, str(grammar::addr_to_text(Family::ipv6, addr), '/', static_cast<uint32_t>(mask.prefix_len(16))));
        }
    }
};

}  // namespace

const ExtKind match_srh{"srh", srh_opts, make_data<SrhData>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
