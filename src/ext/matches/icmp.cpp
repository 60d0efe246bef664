// -m icmp: ICMP type and code range (ipt_icmp). Type 255 with codes 0-255 is "any".
#include <linux/netfilter_ipv4/ip_tables.h>

#include <array>
#include <strings.h>

#include "ext/matches/common.hpp"
#include "grammar/values.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr std::array<OptDef, 1> icmp_opts{{
    {.name = "icmp-type", .id = 0, .flags = opt_invert | opt_mand},
}};

struct IcmpName {
    std::string_view name;
    uint8_t type, code_min, code_max;
};

// libxtables' table: order matters for prefix matching and for printing (first hit).
constexpr std::array<IcmpName, 40> icmp_names{{
    {"any", 0xff, 0, 0xff},
    {"echo-reply", 0, 0, 0xff},
    {"pong", 0, 0, 0xff},
    {"destination-unreachable", 3, 0, 0xff},
    {"network-unreachable", 3, 0, 0},
    {"host-unreachable", 3, 1, 1},
    {"protocol-unreachable", 3, 2, 2},
    {"port-unreachable", 3, 3, 3},
    {"fragmentation-needed", 3, 4, 4},
    {"source-route-failed", 3, 5, 5},
    {"network-unknown", 3, 6, 6},
    {"host-unknown", 3, 7, 7},
    {"network-prohibited", 3, 9, 9},
    {"host-prohibited", 3, 10, 10},
    {"TOS-network-unreachable", 3, 11, 11},
    {"TOS-host-unreachable", 3, 12, 12},
    {"communication-prohibited", 3, 13, 13},
    {"host-precedence-violation", 3, 14, 14},
    {"precedence-cutoff", 3, 15, 15},
    {"source-quench", 4, 0, 0xff},
    {"redirect", 5, 0, 0xff},
    {"network-redirect", 5, 0, 0},
    {"host-redirect", 5, 1, 1},
    {"TOS-network-redirect", 5, 2, 2},
    {"TOS-host-redirect", 5, 3, 3},
    {"echo-request", 8, 0, 0xff},
    {"ping", 8, 0, 0xff},
    {"router-advertisement", 9, 0, 0xff},
    {"router-solicitation", 10, 0, 0xff},
    {"time-exceeded", 11, 0, 0xff},
    {"ttl-exceeded", 11, 0, 0xff},
    {"ttl-zero-during-transit", 11, 0, 0},
    {"ttl-zero-during-reassembly", 11, 1, 1},
    {"parameter-problem", 12, 0, 0xff},
    {"ip-header-bad", 12, 0, 0},
    {"required-option-missing", 12, 1, 1},
    {"timestamp-request", 13, 0, 0xff},
    {"timestamp-reply", 14, 0, 0xff},
    {"address-mask-request", 17, 0, 0xff},
    {"address-mask-reply", 18, 0, 0xff},
}};

struct Spec {
    uint8_t type = 0xff, code_min = 0, code_max = 0xff;
};

// "n" or "n:m", each 0..255 (strtoul base 0, stops at the first other character).
struct NumRange {
    unsigned lo, hi;
    std::string_view rest;
};
std::optional<NumRange> parse_range(std::string_view s) {
    auto a = grammar::to_uint_prefix(s);
    if (!a || a->value > 255) return std::nullopt;
    NumRange r{unsigned(a->value), unsigned(a->value), s.substr(a->used)};
    if (!r.rest.empty() && r.rest.front() == ':') {
        auto b = grammar::to_uint_prefix(r.rest.substr(1));
        if (!b || b->value > 255) return std::nullopt;
        r.hi = unsigned(b->value);
        r.rest = r.rest.substr(1 + b->used);
    }
    return r;
}

Result<Spec> parse_numeric(std::string_view s) {
    auto t = parse_range(s);
    if (!t) return param_fail(str("Unknown ICMP type `", s, "'"));
    Spec spec{uint8_t(t->lo), 0, 0xff};
    if (!t->rest.empty() && t->rest.front() == '/') {
        auto c = parse_range(t->rest.substr(1));
        if (!c) return param_fail(str("Unknown ICMP code `", s, "'"));
        spec.code_min = uint8_t(c->lo);
        spec.code_max = uint8_t(c->hi);
        t->rest = c->rest;
    }
    if (!t->rest.empty()) return param_fail(str("unknown character ", t->rest.front()));
    if (t->lo != t->hi) return param_fail("ICMP type range not supported");
    return spec;
}

// A name is matched by any case-insensitive prefix; two hits are ambiguous.
Result<Spec> parse_spec(std::string_view s) {
    s = s.substr(0, s.find('\0'));
    const IcmpName* hit = nullptr;
    for (const auto& n : icmp_names) {
        if (s.size() > n.name.size() || strncasecmp(n.name.data(), s.data(), s.size()) != 0) continue;
        if (hit) return param_fail(str("Ambiguous ICMP type `", s, "': `", hit->name, "' or `", n.name, "'?"));
        hit = &n;
    }
    if (hit) return Spec{hit->type, hit->code_min, hit->code_max};
    return parse_numeric(s);
}

class IcmpData : public Data<IcmpData> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        auto s = parse_spec(arg);
        if (!s) return failure(s);
        spec_ = *s;
        inv_ = invert;
        return {};
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return rule.proto == 1 && !rule.inv_proto;
    }

    void save(std::string& out) const override {
        if (inv_) out += " !";
        if (spec_.type == 0xff) {
            out += " --icmp-type any";
            return;
        }
        out += str(" --icmp-type ", spec_.type);
        if (spec_.code_min != 0 || spec_.code_max != 0xff) out += str('/', spec_.code_min);
    }

    bool to_xdp(const Rule&, XdpCond& c) const override {
        c.nonfirst_frag_ok = false;
        // ICMP type << 8 | code travels in the destination port field.
        ValueSet s = spec_.type == 0xff ? ValueSet::all(0xffff)
                                        : ValueSet::range(uint32_t(spec_.type) << 8 | spec_.code_min,
                                                          uint32_t(spec_.type) << 8 | spec_.code_max, false, 0xffff);
        c.dport = c.dport.intersect(inv_ ? s.complement() : s);
        return true;
    }

    XtInfo to_xt(const Rule&) const override {
        ipt_icmp info{};
        info.type = spec_.type;
        info.code[0] = spec_.code_min, info.code[1] = spec_.code_max;
        info.invflags = inv_ ? IPT_ICMP_INV : 0;
        return XtInfo::of("icmp", 0, info);
    }

    void print(std::string& out, bool numeric) const override {
        out += " icmp";
        if (!numeric)
            for (const auto& n : icmp_names)
                if (n.type == spec_.type && n.code_min == spec_.code_min && n.code_max == spec_.code_max) {
                    out += str(' ', inv_ ? "!" : "", n.name);
                    return;
                }
        if (inv_) out += " !";
        out += str("type ", spec_.type);
        if (spec_.code_min == spec_.code_max)
            out += str(" code ", spec_.code_min);
        else if (spec_.code_min != 0 || spec_.code_max != 0xff)
            out += str(" codes ", spec_.code_min, '-', spec_.code_max);
    }

private:
    Spec spec_;
    bool inv_ = false;
};

}  // namespace

const ExtKind match_icmp{"icmp", icmp_opts, make_data<IcmpData>, {}, {}, {}, ipv4_only};

}  // namespace xdpt
