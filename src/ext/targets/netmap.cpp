// -j NETMAP (IPv4): maps a whole network onto another one, host part kept (xt_NETMAP
// revision 0, struct nf_nat_ipv4_multi_range_compat holding the network as a range).
#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>

#include <array>

#include "ext/matches/common.hpp"  // XTTYPE_HOSTMASK, shared with the matches
#include "ext/targets/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace targets;

constexpr int o_to = 0;
constexpr std::array<OptDef, 1> netmap_opts{{
    {.name = "to", .id = o_to, .flags = opt_mand},
}};

class NetmapData : public Data<NetmapData> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool, const ExtCtx&) override {
        auto hm = matches::parse_host_mask("NETMAP", "to", arg);
        if (!hm) return std::unexpected(hm.error());
        min_ = hm->addr & hm->mask;
        max_ = min_ | ~hm->mask;
        return {};
    }

    XtInfo to_xt(const Rule&) const override {
        nf_nat_ipv4_multi_range_compat info{};
        info.rangesize = 1;
        info.range[0].flags = NF_NAT_RANGE_MAP_IPS;
        info.range[0].min_ip = htonl(min_), info.range[0].max_ip = htonl(max_);
        return XtInfo::of("NETMAP", 0, info);
    }

    void save(std::string& out) const override { out += str(" --to ", network()); }
    void print(std::string& out, bool) const override { out += str(" to:", network()); }

private:
    uint32_t min_ = 0, max_ = 0;

    // The network and its mask as the bits min and max share: "/len" (always, /32 too),
    // or the dotted mask if it has holes.
    std::string network() const {
        const uint32_t mask = ~(min_ ^ max_);
        int len = 0;
        while (len < 32 && (mask & (0x80000000u >> len))) ++len;
        const uint32_t contiguous = len == 0 ? 0 : 0xffffffffu << (32 - len);
        if (mask != contiguous) return str(grammar::ipv4_to_dotted(min_), '/', grammar::ipv4_to_dotted(mask));
        return str(grammar::ipv4_to_dotted(min_), '/', len);
    }
};

}  // namespace

// The kernel registers it for the nat table, every hook of it.
extern const ExtKind target_NETMAP{
    .name = "NETMAP",
    .opts = netmap_opts,
    .make = make_data<NetmapData>,
    .tables = "nat",
    .hooks = "PREROUTING,POSTROUTING,OUTPUT,INPUT",
    .families = ipv4_only,
};

}  // namespace xdpt
