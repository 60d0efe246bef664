// -j SNAT, DNAT, MASQUERADE, REDIRECT: address and port translation (xt_nat,
// xt_MASQUERADE, xt_REDIRECT), all in the nat table. One data type for the four, as in
// iptables' libxt_NAT: they share the syntax of a range ("a.b.c.d[-a.b.c.d][:port[-port]]",
// or ports alone) and its printing, and differ in option names, labels and revision.
//
// Revisions, as iptables 1.8.9 picks them on a current kernel (the highest both know):
// DNAT 2 (struct nf_nat_range2, which carries the base port of a shifted port range
// "a-b/base"), SNAT, MASQUERADE and REDIRECT 0 (struct nf_nat_ipv4_multi_range_compat,
// which has no base port: it is dropped, and printed as /0 if the flag alone got there).
// In IPv6: DNAT 2, SNAT 1, MASQUERADE and REDIRECT 0 (struct nf_nat_range, no base port
// either); addresses may be bracketed, "[a::b[-c::d]]:port", and are when a port follows.
#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>

#include <array>
#include <cstring>

#include "core/netdb.hpp"
#include "ext/targets/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_to_dest, o_to_src, o_to_ports, o_random, o_random_fully, o_persistent };

constexpr std::array<OptDef, 4> snat_opts{{
    {.name = "to-source", .id = o_to_src, .flags = opt_mand},
    {.name = "random", .id = o_random, .has_arg = false},
    {.name = "random-fully", .id = o_random_fully, .has_arg = false},
    {.name = "persistent", .id = o_persistent, .has_arg = false},
}};
constexpr std::array<OptDef, 3> dnat_opts{{
    {.name = "to-destination", .id = o_to_dest, .flags = opt_mand},
    {.name = "random", .id = o_random, .has_arg = false},
    {.name = "persistent", .id = o_persistent, .has_arg = false},
}};
constexpr std::array<OptDef, 3> masquerade_opts{{
    {.name = "to-ports", .id = o_to_ports},
    {.name = "random", .id = o_random, .has_arg = false},
    {.name = "random-fully", .id = o_random_fully, .has_arg = false},
}};
constexpr std::array<OptDef, 2> redirect_opts{{
    {.name = "to-ports", .id = o_to_ports},
    {.name = "random", .id = o_random, .has_arg = false},
}};

// The four flavours: what they print and how they reach the kernel.
struct Flavour {
    std::string_view name;
    uint8_t rev, rev6;  // IPv4's, IPv6's
    std::string_view list_label;  // iptables -L: " to:1.2.3.4"
    std::string_view save_opt;    // iptables-save: " --to-source 1.2.3.4"
    bool skip_colon;              // a range of ports alone is printed without its ':'
};
constexpr Flavour snat{"SNAT", 0, 1, "to:", "--to-source ", false};
constexpr Flavour dnat{"DNAT", 2, 2, "to:", "--to-destination ", false};
constexpr Flavour masquerade{"MASQUERADE", 0, 0, "masq ports: ", "--to-ports ", true};
constexpr Flavour redirect{"REDIRECT", 0, 0, "redir ports ", "--to-ports ", true};

// struct nf_nat_range2, ports in host byte order; `flags` are the kernel's NF_NAT_RANGE_*.
struct Range {
    uint32_t flags = 0;
    IpAddr min_ip, max_ip;
    uint16_t min_port = 0, max_port = 0, base_port = 0;
};

// xtables_strtoui with an end pointer: a number in [min, 65535] at the start of `s`,
// and how much of `s` it took.
std::optional<grammar::PartialUint> port_prefix(std::string_view s, uint32_t min) {
    auto v = grammar::to_uint_prefix(s);
    if (!v || v->value < min || v->value > 0xffff) return std::nullopt;
    return v;
}

// A service name of any protocol (getservbyname with no protocol), as the whole text;
// never a number (no service is named by digits alone).
std::optional<uint16_t> service_port(std::string_view s) {
    if (grammar::to_uint(s, 0, 0xffff)) return std::nullopt;
    return netdb::parse_port(s, nullptr);
}

// libxt_NAT's parse_ports: "port", "port-port" or "port-port/base"; the first port and
// the base may be service names, the top of a range may not. Only TCP, UDP, SCTP, DCCP
// (and ICMP, whose id is a port to NAT) have ports to map.
//
// The structure of revision 0 has no base port: a shifted range there keeps its flag
// and prints as ".../0", which iptables cannot read back; `stored` takes it back from
// xdptables' stored state.
Result<void> parse_ports(std::string_view arg, bool portok, bool stored, Range& r) {
    if (!portok) return param_fail("Need TCP, UDP, SCTP or DCCP with port specification");
    r.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
    auto bad = [](std::string_view s) { return param_fail(str("Port `", s, "' not valid")); };

    uint32_t port = 0;
    std::string_view end;
    if (auto v = port_prefix(arg, 0)) {
        port = uint32_t(v->value);
        end = arg.substr(v->used);
    } else if (auto s = service_port(arg)) {
        port = *s;
    } else {
        return bad(arg);
    }
    if (end.empty()) {
        r.min_port = r.max_port = uint16_t(port);
        return {};
    }
    if (end.front() == ':') return param_fail("Invalid port:port syntax - use dash");
    if (end.front() != '-') return param_fail(str("Garbage after port value: `", end, "'"));

    // A range: no service names for its top.
    arg = end.substr(1);
    auto top = port_prefix(arg, 0);
    if (!top) return bad(arg);
    if (top->value < port) return param_fail(str("Port range `", arg, "' funky"));
    r.min_port = uint16_t(port);
    r.max_port = uint16_t(top->value);
    end = arg.substr(top->used);
    if (end.empty()) return {};
    if (end.front() != '/') return param_fail(str("Garbage after port range: `", end, "'"));

    // The base of a shifted range; what follows its number is not looked at.
    arg = end.substr(1);
    uint32_t base = 0;
    if (auto b = port_prefix(arg, stored ? 0 : 1))
        base = uint32_t(b->value);
    else if (auto s = service_port(arg))
        base = *s;
    else
        return bad(arg);
    r.flags |= NF_NAT_RANGE_PROTO_OFFSET;
    r.base_port = uint16_t(base);
    return {};
}

// inet_pton of the family (IPv4: exactly four decimal components, no leading zeros).
std::optional<IpAddr> pton(Family f, std::string_view s) {
    IpAddr a;
    if (inet_pton(f == Family::ipv6 ? AF_INET6 : AF_INET, std::string(s).c_str(), a.b.data()) != 1) return std::nullopt;
    return a;
}

// libxt_NAT's parse_to: "[addr[-addr]][:ports]", or in IPv6 "[addr[-addr]]:ports" too.
// Unbracketed, a second colon means an IPv6 address and no port (for IPv4 a bad
// address); brackets are IPv6 only. The ports are read first. As in iptables, a colon
// at offset 2 is taken for "[]:" and leaves no address either.
Result<void> parse_to(Family f, std::string_view arg, bool portok, bool stored, Range& r) {
    const std::string_view whole = arg;
    size_t colon = std::string_view::npos;
    if (const size_t open = arg.find('['); open != std::string_view::npos) {
        const size_t close = arg.find(']', open + 1);
        if (close == std::string_view::npos || f == Family::ipv4) return param_fail("Invalid address format");
        colon = arg.find(':', close + 1);
        arg = arg.substr(open + 1, close - open - 1);
    } else {
        colon = arg.find(':');
        if (colon != std::string_view::npos && arg.find(':', colon + 1) != std::string_view::npos)
            colon = std::string_view::npos;
        if (colon != std::string_view::npos) arg = arg.substr(0, colon);
    }
    if (colon != std::string_view::npos) {
        if (auto p = parse_ports(whole.substr(colon + 1), portok, stored, r); !p) return p;
        if (colon == 0 || colon == 2) return {};
    }
    r.flags |= NF_NAT_RANGE_MAP_IPS;
    const size_t dash = arg.find('-');
    const std::string_view lo = arg.substr(0, dash);
    auto min = pton(f, lo);
    if (!min) return param_fail(str("Bad IP address \"", lo, "\""));
    r.min_ip = r.max_ip = *min;
    if (dash != std::string_view::npos) {
        auto max = pton(f, arg.substr(dash + 1));
        if (!max) return param_fail(str("Bad IP address \"", arg.substr(dash + 1), "\""));
        r.max_ip = *max;
    }
    return {};
}

template <const Flavour& F>
class NatData : public Data<NatData<F>> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx& ctx) override {
        fam_ = ctx.family;
        // The protocol as given before this option (an inverted one counts as given).
        const uint16_t proto = ctx.rule ? ctx.rule->proto : 0;
        const bool portok = proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
                            proto == IPPROTO_DCCP || proto == IPPROTO_ICMP;
        Range got;
        switch (opt.id) {
            case o_to_dest:
            case o_to_src:
                if (auto r = parse_to(fam_, arg, portok, ctx.stored, got); !r) return r;
                range_.min_ip = got.min_ip, range_.max_ip = got.max_ip;
                range_.min_port = got.min_port, range_.max_port = got.max_port;
                break;
            case o_to_ports:
                if (auto r = parse_ports(arg, portok, ctx.stored, got); !r) return r;
                range_.min_port = got.min_port, range_.max_port = got.max_port;
                break;
            case o_random: got.flags = NF_NAT_RANGE_PROTO_RANDOM; break;
            case o_random_fully: got.flags = NF_NAT_RANGE_PROTO_RANDOM_FULLY; break;
            case o_persistent: got.flags = NF_NAT_RANGE_PERSISTENT; break;
        }
        range_.flags |= got.flags;
        if (rev() == 2 && (got.flags & NF_NAT_RANGE_PROTO_OFFSET)) range_.base_port = got.base_port;
        return {};
    }

    // REDIRECT checks, as DNAT revision 0 did, that its structure can carry the range.
    Result<void> finish(unsigned, const ExtCtx& ctx) override {
        fam_ = ctx.family;
        if (&F == &redirect && (range_.flags & NF_NAT_RANGE_PROTO_OFFSET))
            return param_fail("Shifted portmap ranges not supported with this kernel");
        return {};
    }

    // xt_nat checks only the range count (always 1 here); MASQUERADE and REDIRECT refuse
    // an address range, which their options cannot give. Table and hooks: the ExtKind.

    XtInfo to_xt(const Rule&) const override {
        nf_nat_range2 info{};
        info.flags = range_.flags;
        std::memcpy(&info.min_addr, range_.min_ip.b.data(), sizeof info.min_addr);
        std::memcpy(&info.max_addr, range_.max_ip.b.data(), sizeof info.max_addr);
        info.min_proto.all = htons(range_.min_port), info.max_proto.all = htons(range_.max_port);
        info.base_proto.all = htons(range_.base_port);
        if (rev() == 2) return XtInfo::of(F.name, 2, info);
        if (fam_ == Family::ipv6) {  // struct nf_nat_range: nf_nat_range2 without its base
            nf_nat_range v1{};
            std::memcpy(&v1, &info, sizeof v1);
            return XtInfo::of(F.name, rev(), v1);
        }
        nf_nat_ipv4_multi_range_compat mr{};
        mr.rangesize = 1;
        nf_nat_ipv4_range& r = mr.range[0];
        r.flags = range_.flags;
        r.min_ip = info.min_addr.ip, r.max_ip = info.max_addr.ip;
        r.min = info.min_proto, r.max = info.max_proto;
        return XtInfo::of(F.name, F.rev, mr);
    }

    void save(std::string& out) const override { emit(out, F.save_opt, "--"); }
    void print(std::string& out, bool) const override { emit(out, F.list_label, ""); }

private:
    Range range_;
    Family fam_ = Family::ipv4;

    uint8_t rev() const { return fam_ == Family::ipv6 ? F.rev6 : F.rev; }

    // sprint_range: "a[-b]" when addresses are mapped (in IPv6 in brackets when ports
    // follow), then ":p[-q][/base]".
    std::string range_text() const {
        std::string s;
        if (range_.flags & NF_NAT_RANGE_MAP_IPS) {
            const bool brackets = fam_ == Family::ipv6 && (range_.flags & NF_NAT_RANGE_PROTO_SPECIFIED);
            if (brackets) s += '[';
            s += grammar::addr_to_text(fam_, range_.min_ip);
            if (range_.max_ip != range_.min_ip) s += str('-', grammar::addr_to_text(fam_, range_.max_ip));
            if (brackets) s += ']';
        }
        if (range_.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
            s += str(':', range_.min_port);
            if (range_.max_port != range_.min_port) s += str('-', range_.max_port);
            if (range_.flags & NF_NAT_RANGE_PROTO_OFFSET) s += str('/', range_.base_port);
        }
        return s;
    }

    void emit(std::string& out, std::string_view label, std::string_view dash) const {
        const std::string s = range_text();
        std::string_view text = s;
        if (!text.empty()) {
            if (text.front() == ':' && F.skip_colon) text.remove_prefix(1);
            out += str(' ', label, text);
        }
        if (range_.flags & NF_NAT_RANGE_PROTO_RANDOM) out += str(' ', dash, "random");
        if (range_.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) out += str(' ', dash, "random-fully");
        if (range_.flags & NF_NAT_RANGE_PERSISTENT) out += str(' ', dash, "persistent");
    }
};

}  // namespace

// Tables and hooks as the kernel registers each target (x_tables refuses others).
extern const ExtKind target_SNAT{
    .name = "SNAT",
    .opts = snat_opts,
    .make = make_data<NatData<snat>>,
    .tables = "nat",
    .hooks = "POSTROUTING,INPUT",
};
extern const ExtKind target_DNAT{
    .name = "DNAT",
    .opts = dnat_opts,
    .make = make_data<NatData<dnat>>,
    .tables = "nat",
    .hooks = "PREROUTING,OUTPUT",
};
extern const ExtKind target_MASQUERADE{
    .name = "MASQUERADE",
    .opts = masquerade_opts,
    .make = make_data<NatData<masquerade>>,
    .tables = "nat",
    .hooks = "POSTROUTING",
};
extern const ExtKind target_REDIRECT{
    .name = "REDIRECT",
    .opts = redirect_opts,
    .make = make_data<NatData<redirect>>,
    .tables = "nat",
    .hooks = "PREROUTING,OUTPUT",
};

}  // namespace xdpt
