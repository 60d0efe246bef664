// -j NETMAP: maps a whole network onto another one, host part kept (xt_NETMAP revision
// 0, struct nf_nat_ipv4_multi_range_compat holding the network as a range; in IPv6
// struct nf_nat_range, as libip6t_NETMAP).
#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>

#include <array>
#include <cstring>

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
    Result<void> parse(const OptDef&, std::string_view arg, bool, const ExtCtx& ctx) override {
        fam_ = ctx.family;
        auto hm = matches::parse_host_mask(fam_, "NETMAP", "to", arg);
        if (!hm) return std::unexpected(hm.error());
        min_ = hm->addr & hm->mask;
        max_ = min_;
        for (unsigned i = 0; i < spec_of(fam_).addr_bytes; ++i) max_.b[i] |= uint8_t(~hm->mask.b[i]);
        return {};
    }

    XtInfo to_xt(const Rule&) const override {
        if (fam_ == Family::ipv6) {
            nf_nat_range info{};
            info.flags = NF_NAT_RANGE_MAP_IPS;
            std::memcpy(&info.min_addr, min_.b.data(), 16), std::memcpy(&info.max_addr, max_.b.data(), 16);
            return XtInfo::of("NETMAP", 0, info);
        }
        nf_nat_ipv4_multi_range_compat info{};
        info.rangesize = 1;
        info.range[0].flags = NF_NAT_RANGE_MAP_IPS;
        info.range[0].min_ip = htonl(min_.v4()), info.range[0].max_ip = htonl(max_.v4());
        return XtInfo::of("NETMAP", 0, info);
    }

    void save(std::string& out) const override { out += str(" --to ", network()); }
    void print(std::string& out, bool) const override { out += str(" to:", network()); }

private:
    IpAddr min_, max_;
    Family fam_ = Family::ipv4;

    // The network and its mask as the bits min and max share: "/len" (always, /32 and
    // /128 too), or the mask as an address if it has holes.
    std::string network() const {
        const unsigned bytes = spec_of(fam_).addr_bytes;
        IpAddr mask;
        for (unsigned i = 0; i < bytes; ++i) mask.b[i] = uint8_t(~(min_.b[i] ^ max_.b[i]));
        const int len = mask.prefix_len(bytes);
        if (len < 0) return str(grammar::addr_to_text(fam_, min_), '/', grammar::addr_to_text(fam_, mask));
        return str(grammar::addr_to_text(fam_, min_), '/', len);
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
};

}  // namespace xdpt
