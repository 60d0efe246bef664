// -m tcp: ports, flags and options of TCP segments (xt_tcp). An old-style libxtables
// extension: it checks repeats and takes `!` itself, with its own messages.
#include <linux/netfilter/xt_tcpudp.h>

#include <array>

#include "ext/matches/common.hpp"
#include "ext/ports.hpp"
#include "grammar/values.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_sport, o_dport, o_syn, o_flags, o_option };
constexpr unsigned own = opt_invert | opt_multi;  // the driver leaves these to us

constexpr std::array<OptDef, 7> tcp_opts{{
    {.name = "source-port", .id = o_sport, .flags = own},
    {.name = "sport", .id = o_sport, .flags = own},
    {.name = "destination-port", .id = o_dport, .flags = own},
    {.name = "dport", .id = o_dport, .flags = own},
    {.name = "syn", .id = o_syn, .has_arg = false, .flags = own},
    {.name = "tcp-flags", .id = o_flags, .flags = own},
    {.name = "tcp-option", .id = o_option, .flags = own},
}};

struct FlagName {
    std::string_view name;
    uint8_t bits;
};
constexpr std::array<FlagName, 8> flag_names{{
    {"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08},
    {"ACK", 0x10}, {"URG", 0x20}, {"ALL", 0x3f}, {"NONE", 0x00},
}};

// A comma list of flag names, any case; empty items are skipped (strtok).
Result<uint8_t> parse_flags(std::string_view list) {
    uint8_t bits = 0;
    for (auto item : grammar::split(list, ',')) {
        if (item.empty()) continue;
        const FlagName* f = nullptr;
        for (const auto& n : flag_names)
            if (equals_nocase(item, n.name)) f = &n;
        if (!f) return param_fail(str("Unknown TCP flag `", item, "'"));
        bits |= f->bits;
    }
    return bits;
}

// Single flag names from the lowest bit up, "NONE" for no flag.
std::string flags_text(uint8_t bits) {
    if (bits == 0) return "NONE";
    std::string s;
    for (size_t i = 0; i < 6; ++i) {
        if (!(bits & flag_names[i].bits)) continue;
        if (!s.empty()) s += ',';
        s += flag_names[i].name;
    }
    return s;
}

std::string hex2(uint8_t v) {
    static constexpr char digits[] = "0123456789ABCDEF";
    return str("0x", digits[v >> 4], digits[v & 0xf]);
}

using Ports = ext::PortMatch;

class TcpData : public Data<TcpData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert,
                       const ExtCtx& ctx) override {
        switch (opt.id) {
        case o_sport: return parse_ports(sport_, arg, invert, "Only one `--source-port' allowed");
        case o_dport: return parse_ports(dport_, arg, invert, "Only one `--destination-port' allowed");
        case o_syn: return parse_syn(invert);
        case o_flags: return parse_tcp_flags(arg, invert, ctx);
        default: return parse_option(arg, invert);
        }
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return rule.proto == 6 && !rule.inv_proto;
    }

    bool to_xdp(const Rule&, XdpCond& c) const override {
        if (have_option_) return false;  // TCP options are not looked at in XDP
        c.nonfirst_frag_ok = false;
        c.sport = c.sport.intersect(sport_.allowed());
        c.dport = c.dport.intersect(dport_.allowed());
        if (flg_mask_ || inv_flags_)
            for (unsigned f = 0; f < 256; ++f)
                if (((f & flg_mask_) == flg_cmp_) == inv_flags_) c.tcp_flags.reset(f);
        return true;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_tcp info{};
        info.spts[0] = sport_.range.lo, info.spts[1] = sport_.range.hi;
        info.dpts[0] = dport_.range.lo, info.dpts[1] = dport_.range.hi;
        info.option = option_;
        info.flg_mask = flg_mask_, info.flg_cmp = flg_cmp_;
        info.invflags = uint8_t((sport_.inv ? XT_TCP_INV_SRCPT : 0) | (dport_.inv ? XT_TCP_INV_DSTPT : 0) |
                                (inv_flags_ ? XT_TCP_INV_FLAGS : 0) | (inv_option_ ? XT_TCP_INV_OPTION : 0));
        return XtInfo::of("tcp", 0, info);
    }

    void save(std::string& out) const override { save_as(out, false); }
    void save_exact(std::string& out) const override { save_as(out, true); }

    void save_as(std::string& out, bool exact) const {
        sport_.save(out, "sport", exact);
        dport_.save(out, "dport", exact);
        if (option_ || inv_option_) {
            if (inv_option_) out += " !";
            out += str(" --tcp-option ", option_);
        }
        if (flg_mask_ || inv_flags_) {
            if (inv_flags_) out += " !";
            out += str(" --tcp-flags ", flags_text(flg_mask_), ' ', flags_text(flg_cmp_));
        }
    }

    void print(std::string& out, bool numeric) const override {
        out += " tcp";
        sport_.print(out, "spt", numeric, "tcp");
        dport_.print(out, "dpt", numeric, "tcp");
        if (option_ || inv_option_) out += str(" option=", inv_option_ ? "!" : "", option_);
        if (flg_mask_ || inv_flags_) {
            out += str(" flags:", inv_flags_ ? "!" : "");
            if (numeric)
                out += str(hex2(flg_mask_), '/', hex2(flg_cmp_));
            else
                out += str(flags_text(flg_mask_), '/', flags_text(flg_cmp_));
        }
    }

private:
    Ports sport_, dport_;
    bool have_sport_ = false, have_dport_ = false, have_flags_ = false, have_option_ = false;
    uint8_t flg_mask_ = 0, flg_cmp_ = 0, option_ = 0;
    bool inv_flags_ = false, inv_option_ = false;

    Result<void> parse_ports(Ports& p, std::string_view arg, bool invert, std::string_view once) {
        bool& have = &p == &sport_ ? have_sport_ : have_dport_;
        if (have) return param_fail(std::string(once));
        auto r = ext::parse_port_range(arg, "tcp");
        if (!r) return failure(r);
        p.range = *r;
        p.inv = p.inv || invert;
        have = true;
        return {};
    }

    Result<void> parse_syn(bool invert) {
        if (have_flags_) return param_fail("Only one of `--syn' or `--tcp-flags'  allowed");
        flg_mask_ = 0x17;  // SYN,RST,ACK,FIN
        flg_cmp_ = 0x02;
        inv_flags_ = inv_flags_ || invert;
        have_flags_ = true;
        return {};
    }

    Result<void> parse_tcp_flags(std::string_view mask, bool invert, const ExtCtx& ctx) {
        if (have_flags_) return param_fail("Only one of `--syn' or `--tcp-flags'  allowed");
        if (!ctx.argv || !ctx.next || *ctx.next >= ctx.argv->size())
            return param_fail("--tcp-flags requires two args.");
        const std::string& comp = (*ctx.argv)[*ctx.next];
        if (!comp.empty() && (comp.front() == '-' || comp.front() == '!'))
            return param_fail("--tcp-flags requires two args.");
        auto m = parse_flags(mask);
        if (!m) return failure(m);
        auto c = parse_flags(comp);
        if (!c) return failure(c);
        ++*ctx.next;
        flg_mask_ = *m;
        flg_cmp_ = *c;
        inv_flags_ = inv_flags_ || invert;
        have_flags_ = true;
        return {};
    }

    Result<void> parse_option(std::string_view arg, bool invert) {
        if (have_option_) return param_fail("Only one `--tcp-option' allowed");
        auto v = grammar::to_uint(arg, 1, 255);
        if (!v) return param_fail(str("Bad TCP option \"", arg, "\""));
        option_ = static_cast<uint8_t>(*v);
        inv_option_ = inv_option_ || invert;
        have_option_ = true;
        return {};
    }
};

}  // namespace

const ExtKind match_tcp{"tcp", tcp_opts, make_data<TcpData>};

}  // namespace xdpt
