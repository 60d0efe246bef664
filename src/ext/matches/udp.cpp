// -m udp: source and destination port ranges of UDP datagrams (xt_udp).
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

struct Ports {
    PortPair range;
    bool inv = false;

    bool full() const { return range.lo == 0 && range.hi == 0xffff; }

    // iptables 1.8.9 leaves a full range out of the save form even when inverted.
    void save(std::string& out, std::string_view opt) const {
        if (full()) return;
        if (inv) out += " !";
        out += str(" --", opt, ' ', range.lo);
        if (range.lo != range.hi) out += str(':', range.hi);
    }

    void print(std::string& out, std::string_view name, bool numeric) const {
        if (full() && !inv) return;
        const char* bang = inv ? "!" : "";
        if (range.lo == range.hi)
            out += str(' ', name, ':', bang, ext::port_text(range.lo, numeric, "udp"));
        else
            out += str(' ', name, "s:", bang, ext::port_text(range.lo, numeric, "udp"), ':',
                       ext::port_text(range.hi, numeric, "udp"));
    }
};

class UdpData : public Data<UdpData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert,
                       const ExtCtx&) override {
        if (auto r = guard_.check("udp", udp_opts, opt, invert); !r) return r;
        const auto& canon = canonical(udp_opts, opt.id);
        auto p = parse_port_pair("udp", canon.name, arg);
        if (!p) return failure(p);
        Ports& ports = opt.id == o_sport ? sport_ : dport_;
        ports.range = *p;
        ports.inv = ports.inv || invert;
        return {};
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return rule.proto == 17 && !rule.inv_proto;
    }

    bool to_xdp(const Rule&, XdpCond& c) const override {
        c.nonfirst_frag_ok = false;
        c.sport = c.sport.intersect(ValueSet::range(sport_.range.lo, sport_.range.hi, sport_.inv, 0xffff));
        c.dport = c.dport.intersect(ValueSet::range(dport_.range.lo, dport_.range.hi, dport_.inv, 0xffff));
        return true;
    }

    void save(std::string& out) const override {
        sport_.save(out, "sport");
        dport_.save(out, "dport");
    }

    void print(std::string& out, bool numeric) const override {
        out += " udp";
        sport_.print(out, "spt", numeric);
        dport_.print(out, "dpt", numeric);
    }

private:
    AliasGuard guard_;
    Ports sport_, dport_;
};

}  // namespace

const ExtKind match_udp{"udp", udp_opts, make_data<UdpData>};

}  // namespace xdpt
