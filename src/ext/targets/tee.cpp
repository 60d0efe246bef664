// -j TEE: send a copy of the packet to a gateway (xt_TEE revision 1), of either family.
// The copy is routed by the kernel (nf_dup_ipv4, nf_dup_ipv6), so such rules are left to
// netfilter.
#include <arpa/inet.h>
#include <linux/netfilter/xt_TEE.h>

#include <array>
#include <cstring>

#include "core/netdb.hpp"
#include "ext/matches/common.hpp"
#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_gateway, o_oif };

constexpr std::array<OptDef, 2> tee_opts{{
    {.name = "gateway", .id = o_gateway, .flags = opt_mand},
    {.name = "oif", .id = o_oif},
}};

class TeeData : public Data<TeeData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx& ctx) override {
        if (opt.id == o_gateway) {
            fam_ = ctx.family;
            auto gw = matches::parse_host(fam_, arg.substr(0, arg.find('\0')));  // XTTYPE_HOST
            if (!gw) return std::unexpected(gw.error());
            gw_ = *gw;
            return {};
        }
        auto oif = parse_string(arg, 0, sizeof(xt_tee_tginfo::oif));  // cut to 15 silently
        if (!oif) return std::unexpected(oif.error());
        oif_ = std::move(*oif);
        return {};
    }

    // tee_tg_check: the gateway must not be the zero address.
    bool kernel_accepts(const Rule&, const ExtCtx&) const override { return !gw_.zero(); }

    // xt_tee_tginfo; the kernel fills `priv`.
    XtInfo to_xt(const Rule&) const override {
        xt_tee_tginfo info{};
        std::memcpy(&info.gw, gw_.b.data(), sizeof info.gw);
        oif_.copy(info.oif, sizeof info.oif - 1);
        return XtInfo::of("TEE", 1, info);
    }

    void save(std::string& out) const override {
        out += str(" --gateway ", grammar::addr_to_text(fam_, gw_));
        if (!oif_.empty()) out += str(" --oif ", oif_);
    }

    void print(std::string& out, bool numeric) const override {
        out += str(" TEE gw:", numeric ? grammar::addr_to_text(fam_, gw_) : netdb::addr_to_anyname(fam_, gw_));
        if (!oif_.empty()) out += str(" oif=", oif_);
    }

private:
    IpAddr gw_;
    Family fam_ = Family::ipv4;
    std::string oif_;
};

}  // namespace

extern const ExtKind target_TEE{
    .name = "TEE",
    .opts = tee_opts,
    .make = make_data<TeeData>,
};

}  // namespace xdpt
