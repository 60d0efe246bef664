// -m icmp: ICMP type and code range (ipt_icmp). Type 255 with codes 0-255 is "any".
// The parsing, listing and saving it shares with icmp6 are in icmpbase.
#include <linux/netfilter_ipv4/ip_tables.h>

#include <array>
#include <strings.h>

#include "ext/matches/icmpbase.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace matches {

namespace {

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

Result<IcmpSpec> parse_numeric(const IcmpKind& k, std::string_view s) {
    auto t = parse_range(s);
    if (!t) return param_fail(str("Unknown ", k.label, " type `", s, "'"));
    IcmpSpec spec{uint8_t(t->lo), 0, 0xff};
    if (!t->rest.empty() && t->rest.front() == '/') {
        auto c = parse_range(t->rest.substr(1));
        if (!c) return param_fail(str("Unknown ", k.label, " code `", s, "'"));
        spec.code_min = uint8_t(c->lo);
        spec.code_max = uint8_t(c->hi);
        t->rest = c->rest;
    }
    if (!t->rest.empty()) return param_fail(str("unknown character ", t->rest.front()));
    if (t->lo != t->hi) return param_fail(str(k.label, " type range not supported"));
    return spec;
}

}  // namespace

Result<IcmpSpec> parse_icmp_spec(const IcmpKind& k, std::string_view s) {
    s = s.substr(0, s.find('\0'));
    const IcmpName* hit = nullptr;
    for (const auto& n : k.names) {
        if (s.size() > n.name.size() || strncasecmp(n.name.data(), s.data(), s.size()) != 0) continue;
        if (hit) return param_fail(str("Ambiguous ", k.label, " type `", s, "': `", hit->name, "' or `", n.name, "'?"));
        hit = &n;
    }
    if (hit) return IcmpSpec{hit->type, hit->code_min, hit->code_max};
    return parse_numeric(k, s);
}

void print_icmp_spec(const IcmpKind& k, std::string& out, const IcmpSpec& s, bool inv, bool numeric) {
    if (!numeric)
        for (const auto& n : k.names)
            if (n.type == s.type && n.code_min == s.code_min && n.code_max == s.code_max) {
                out += str(' ', inv ? "!" : "", n.name);
                return;
            }
    if (inv) out += " !";
    out += str("type ", s.type);
    if (s.code_min == s.code_max)
        out += str(" code ", s.code_min);
    else if (s.code_min != 0 || s.code_max != 0xff)
        out += str(" codes ", s.code_min, '-', s.code_max);
}

bool icmp_to_xdp(const IcmpKind& k, const IcmpSpec& s, bool inv, XdpCond& c) {
    if (k.proto != 1) return false;
    c.nonfirst_frag_ok = false;
    // ICMP type << 8 | code travels in the destination port field.
    ValueSet v = s.type == 0xff ? ValueSet::all(0xffff)
                                : ValueSet::range(uint32_t(s.type) << 8 | s.code_min,
                                                  uint32_t(s.type) << 8 | s.code_max, false, 0xffff);
    c.dport = c.dport.intersect(inv ? v.complement() : v);
    return true;
}

}  // namespace matches

namespace {

using namespace matches;

constexpr std::array<OptDef, 1> icmp_opts{{
    {.name = "icmp-type", .id = 0, .flags = opt_invert | opt_mand},
}};

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

constexpr IcmpKind icmp_kind{"icmp", "ICMP", " --icmp-type", " icmp", 1, icmp_names};

}  // namespace

const ExtKind match_icmp{"icmp", icmp_opts, make_data<IcmpData<icmp_kind, ipt_icmp>>, {}, {}, {}, ipv4_only};

}  // namespace xdpt
