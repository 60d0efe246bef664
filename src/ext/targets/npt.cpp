// -j SNPT and -j DNPT: IPv6-to-IPv6 network prefix translation of the source or the
// destination (ip6t_NPT, mangle only), as libip6t_SNPT and libip6t_DNPT: both take a
// prefix to translate from and one to translate to.
#include <arpa/inet.h>
#include <linux/netfilter_ipv6/ip6t_NPT.h>

#include <array>
#include <cstring>

#include "ext/matches/common.hpp"  // XTTYPE_HOSTMASK, shared with the matches
#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_src, o_dst };
constexpr std::array<OptDef, 2> npt_opts{{
    {.name = "src-pfx", .id = o_src, .flags = opt_mand},
    {.name = "dst-pfx", .id = o_dst, .flags = opt_mand},
}};

struct Prefix {
    IpAddr addr;
    uint8_t len = 0;

    bool given() const { return len != 0 || !addr.zero(); }
    std::string text() const { return str(grammar::addr_to_text(Family::ipv6, addr), '/', len); }
    // ip6t_npt_checkentry: at most 64 bits, and no address bit outside them.
    bool kernel_accepts() const { return len <= 64 && (addr & IpAddr::prefix_mask(len)) == addr; }
};

template <const std::string_view& Name>
class NptData : public Data<NptData<Name>> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        auto hm = matches::parse_host_mask(Family::ipv6, Name, opt.name, arg);
        if (!hm) return std::unexpected(hm.error());
        // The prefix length libxtables keeps (cb->val.hlen): a numeric mask with holes
        // reads as 255 and leaves a full mask.
        const int len = hm->mask.prefix_len(16);
        pfx_[opt.id] = Prefix{hm->addr, static_cast<uint8_t>(len < 0 ? 255 : len)};
        return {};
    }

    bool kernel_accepts(const Rule&, const ExtCtx&) const override {
        return pfx_[o_src].kernel_accepts() && pfx_[o_dst].kernel_accepts();
    }

    XtInfo to_xt(const Rule&) const override {
        ip6t_npt_tginfo info{};
        std::memcpy(&info.src_pfx, pfx_[o_src].addr.b.data(), 16);
        std::memcpy(&info.dst_pfx, pfx_[o_dst].addr.b.data(), 16);
        info.src_pfx_len = pfx_[o_src].len;
        info.dst_pfx_len = pfx_[o_dst].len;
        return XtInfo::of(Name, 0, info);
    }

    // ip6tables-save leaves out a prefix that is ::/0; the exact form keeps it (both
    // options are mandatory).
    void save(std::string& out) const override { save_as(out, false); }
    void save_exact(std::string& out) const override { save_as(out, true); }

    void print(std::string& out, bool) const override {
        out += str(' ', Name, " src-pfx ", pfx_[o_src].text(), " dst-pfx ", pfx_[o_dst].text());
    }

private:
    std::array<Prefix, 2> pfx_{};

    void save_as(std::string& out, bool exact) const {
        for (int id : {o_src, o_dst})
            if (exact || pfx_[id].given()) out += str(" --", npt_opts[id].name, ' ', pfx_[id].text());
    }
};

constexpr std::string_view snpt = "SNPT", dnpt = "DNPT";

}  // namespace

// The kernel registers SNPT for the mangle table's INPUT and POSTROUTING, DNPT for its
// PREROUTING and OUTPUT.
extern const ExtKind target_SNPT{
    .name = snpt,
    .opts = npt_opts,
    .make = make_data<NptData<snpt>>,
    .tables = "mangle",
    .hooks = "INPUT,POSTROUTING",
    .families = ipv6_only,
};
extern const ExtKind target_DNPT{
    .name = dnpt,
    .opts = npt_opts,
    .make = make_data<NptData<dnpt>>,
    .tables = "mangle",
    .hooks = "PREROUTING,OUTPUT",
    .families = ipv6_only,
};

}  // namespace xdpt
