// -j TEE: send a copy of the packet to a gateway (xt_TEE revision 1, IPv4). The copy is
// routed by the kernel (nf_dup_ipv4), so such rules are left to netfilter.
#include <arpa/inet.h>
#include <linux/netfilter/xt_TEE.h>

#include <array>

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
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        if (opt.id == o_gateway) {
            auto gw = matches::parse_host(arg.substr(0, arg.find('\0')));  // XTTYPE_HOST
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
    bool kernel_accepts(const Rule&, const ExtCtx&) const override { return gw_ != 0; }

    // xt_tee_tginfo; the kernel fills `priv`.
    XtInfo to_xt(const Rule&) const override {
        xt_tee_tginfo info{};
        info.gw.ip = htonl(gw_);
        oif_.copy(info.oif, sizeof info.oif - 1);
        return XtInfo::of("TEE", 1, info);
    }

    void save(std::string& out) const override {
        out += str(" --gateway ", grammar::ipv4_to_dotted(gw_));
        if (!oif_.empty()) out += str(" --oif ", oif_);
    }

    void print(std::string& out, bool numeric) const override {
        out += str(" TEE gw:", numeric ? grammar::ipv4_to_dotted(gw_) : netdb::ipv4_to_anyname(gw_));
        if (!oif_.empty()) out += str(" oif=", oif_);
    }

private:
    uint32_t gw_ = 0;  // host order
    std::string oif_;
};

}  // namespace

extern const ExtKind target_TEE{
    .name = "TEE",
    .opts = tee_opts,
    .make = make_data<TeeData>,
    .families = ipv4_only,
};

}  // namespace xdpt
