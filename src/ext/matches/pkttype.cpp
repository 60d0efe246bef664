// -m pkttype: the link-layer class of the packet (skb->pkt_type: to this host, broadcast,
// multicast, to another host; xt_pkttype). XDP does not classify by it: rules with it are
// left to netfilter (no to_xdp).
#include <linux/if_packet.h>
#include <linux/netfilter/xt_pkttype.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr std::array<OptDef, 1> pkttype_opts{{
    {.name = "pkt-type", .id = 0, .flags = opt_invert | opt_mand},
}};

struct PktType {
    std::string_view name;
    int type;
};
// Printing names a type by its first entry; the aliases come after.
constexpr std::array<PktType, 7> pkt_types{{
    {"unicast", PACKET_HOST},
    {"broadcast", PACKET_BROADCAST},
    {"multicast", PACKET_MULTICAST},
    {"otherhost", PACKET_OTHERHOST},
    {"bcast", PACKET_BROADCAST},
    {"mcast", PACKET_MULTICAST},
    {"host", PACKET_HOST},
}};

class PkttypeData : public Data<PkttypeData> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        arg = arg.substr(0, arg.find('\0'));
        for (const auto& t : pkt_types)
            if (equals_nocase(arg, t.name)) {
                type_ = t.type;
                inv_ = invert;
                return {};
            }
        return param_fail(str("Bad packet type '", arg, "'"));
    }

    XtInfo to_xt(const Rule&) const override {
        xt_pkttype_info info{};
        info.pkttype = type_, info.invert = inv_;
        return XtInfo::of("pkttype", 0, info);
    }

    void save(std::string& out) const override {
        out += str(inv_ ? " !" : "", " --pkt-type ", name());
    }

    void print(std::string& out, bool) const override {
        out += str(" PKTTYPE ", inv_ ? "!" : "", "= ", name());
    }

private:
    int type_ = PACKET_HOST;
    bool inv_ = false;

    std::string name() const {
        for (const auto& t : pkt_types)
            if (t.type == type_) return std::string(t.name);
        return str(type_);
    }
};

}  // namespace

const ExtKind match_pkttype{"pkttype", pkttype_opts, make_data<PkttypeData>};

}  // namespace xdpt
