// What -m icmp (ipt_icmp) and -m icmp6 (ip6t_icmp) share: a type with a code range, given
// by name (a case-insensitive prefix of a table entry) or as "type[/code]", and listed and
// saved alike. The kernel structures of both are {type, code[2], invflags}. Each family's
// file holds its own name table and labels (IcmpKind).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ext/matches/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt::matches {

struct IcmpName {
    std::string_view name;
    uint8_t type, code_min, code_max;
};

struct IcmpSpec {
    uint8_t type = 0xff, code_min = 0, code_max = 0xff;
};

struct IcmpKind {
    std::string_view match;   // the x_tables name: "icmp", "icmp6"
    std::string_view label;   // in messages: "ICMP", "ICMPv6"
    std::string_view option;  // " --icmp-type", " --icmpv6-type"
    std::string_view listed;  // the -L label: " icmp", " ipv6-icmp"
    uint8_t proto;            // the only protocol the kernel registers it for
    std::span<const IcmpName> names;
};

// libxtables' __ipt_parse_icmp: a name (any case-insensitive prefix; two hits are
// ambiguous) or "type[/code[:code]]", numbers 0..255; a type range is refused.
Result<IcmpSpec> parse_icmp_spec(const IcmpKind& k, std::string_view s);

// The -L form after the label: a name when not numeric and one fits, else "type N ...".
void print_icmp_spec(const IcmpKind& k, std::string& out, const IcmpSpec& s, bool inv, bool numeric);

// The XDP classifier's form (IPv4's ICMP alone; false for the others).
bool icmp_to_xdp(const IcmpKind& k, const IcmpSpec& s, bool inv, XdpCond& c);

template <const IcmpKind& K, class Info>
class IcmpData : public Data<IcmpData<K, Info>> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        auto s = parse_icmp_spec(K, arg);
        if (!s) return failure(s);
        spec_ = *s;
        inv_ = invert;
        return {};
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return rule.proto == K.proto && !rule.inv_proto;
    }

    void save(std::string& out) const override {
        if (inv_) out += " !";
        if (spec_.type == 0xff && K.proto == 1) {  // ipt_icmp's "any"
            out += str(K.option, " any");
            return;
        }
        out += str(K.option, ' ', spec_.type);
        if (spec_.code_min != 0 || spec_.code_max != 0xff) out += str('/', spec_.code_min);
    }
    // "type/min:max" reads back to the code range that the saved form cuts to its minimum.
    void save_exact(std::string& out) const override {
        save(out);
        if (spec_.code_min != spec_.code_max && (spec_.code_min != 0 || spec_.code_max != 0xff))
            out += str(':', spec_.code_max);
    }

    bool to_xdp(const Rule&, XdpCond& c) const override { return icmp_to_xdp(K, spec_, inv_, c); }

    XtInfo to_xt(const Rule&) const override {
        Info info{};
        info.type = spec_.type;
        info.code[0] = spec_.code_min, info.code[1] = spec_.code_max;
        info.invflags = inv_ ? 1 : 0;  // IPT_ICMP_INV, IP6T_ICMP_INV
        return XtInfo::of(K.match, 0, info);
    }

    void print(std::string& out, bool numeric) const override {
        out += K.listed;
        print_icmp_spec(K, out, spec_, inv_, numeric);
    }

private:
    IcmpSpec spec_;
    bool inv_ = false;
};

}  // namespace xdpt::matches
