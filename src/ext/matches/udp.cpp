// -m udp: source and destination port ranges of UDP datagrams (xt_udp).
#include <linux/netfilter/xt_tcpudp.h>

#include <array>

#include "ext/matches/common.hpp"
#include "ext/ports.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_sport, o_dport };
constexpr unsigned alias = opt_invert | opt_multi;  // checked by AliasGuard

constexpr std::array<OptDef, 4> udp_opts{{
    {.name = "source-port", .id = o_sport, .flags = opt_invert},
    {.name = "sport", .id = o_sport, .flags = alias},
    {.name = "destination-port", .id = o_dport, .flags = opt_invert},
    {.name = "dport", .id = o_dport, .flags = alias},
}};

using Ports = ext::PortMatch;

class UdpData : public Data<UdpData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert,
                       const ExtCtx&) override {
        if (auto r = guard_.check("udp", udp_opts, opt, invert); !r) return r;
        const auto& canon = canonical(udp_opts, opt.id);
        auto p = parse_port_pair("udp", canon.name, arg);
        if (!p) return failure(p);
        Ports& ports = opt.id == o_sport ? sport_ : dport_;
        ports.range = {p->lo, p->hi};
        ports.inv = ports.inv || invert;
        return {};
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return rule.proto == 17 && !rule.inv_proto;
    }

    bool to_xdp(const Rule&, XdpCond& c) const override {
        c.nonfirst_frag_ok = false;
        c.sport = c.sport.intersect(sport_.allowed());
        c.dport = c.dport.intersect(dport_.allowed());
        return true;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_udp info{};
        info.spts[0] = sport_.range.lo, info.spts[1] = sport_.range.hi;
        info.dpts[0] = dport_.range.lo, info.dpts[1] = dport_.range.hi;
        info.invflags = uint8_t((sport_.inv ? XT_UDP_INV_SRCPT : 0) | (dport_.inv ? XT_UDP_INV_DSTPT : 0));
        return XtInfo::of("udp", 0, info);
    }

    void save(std::string& out) const override { save_as(out, false); }
    void save_exact(std::string& out) const override { save_as(out, true); }
    void save_as(std::string& out, bool exact) const {
        sport_.save(out, "sport", exact);
        dport_.save(out, "dport", exact);
    }

    void print(std::string& out, bool numeric) const override {
        out += " udp";
        sport_.print(out, "spt", numeric, "udp");
        dport_.print(out, "dpt", numeric, "udp");
    }

private:
    AliasGuard guard_;
    Ports sport_, dport_;
};

}  // namespace

const ExtKind match_udp{"udp", udp_opts, make_data<UdpData>};

}  // namespace xdpt
