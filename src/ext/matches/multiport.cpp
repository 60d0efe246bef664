// -m multiport: up to 15 ports or port ranges (xt_multiport revision 1; a range takes two
// of the 15 slots).
#include <linux/netfilter/xt_multiport.h>

#include <array>
#include <vector>

#include "ext/matches/common.hpp"
#include "ext/ports.hpp"
#include "grammar/values.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_sports, o_dports, o_ports };
constexpr unsigned any_ports = 0x7;  // each option excludes the others (and itself)
constexpr unsigned alias = opt_invert | opt_multi;  // checked by AliasGuard
constexpr size_t max_slots = 15;

constexpr std::array<OptDef, 5> multiport_opts{{
    {.name = "source-ports", .id = o_sports, .flags = opt_invert, .excl = any_ports},
    {.name = "sports", .id = o_sports, .flags = alias, .excl = any_ports},
    {.name = "destination-ports", .id = o_dports, .flags = opt_invert, .excl = any_ports},
    {.name = "dports", .id = o_dports, .flags = alias, .excl = any_ports},
    {.name = "ports", .id = o_ports, .flags = opt_invert, .excl = any_ports},
}};

// The protocols multiport works with and the name services are looked up under.
const char* proto_name(uint16_t proto) {
    switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 136: return "udplite";
    case 132: return "sctp";
    case 33: return "dccp";
    default: return nullptr;
    }
}

Result<const char*> check_proto(const Rule* rule) {
    const uint16_t proto = rule ? rule->proto : 0;
    const bool inv = rule && rule->inv_proto;
    if (inv) return param_fail("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP");
    if (const char* n = proto_name(proto)) return n;
    if (proto == 0)
        return param_fail("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
    return param_fail("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP");
}

// One port or a range "a:b" (a < b) per comma item.
struct Item {
    uint16_t lo, hi;
    bool range;
};

Result<std::vector<Item>> parse_list(std::string_view arg, const char* proto) {
    std::vector<Item> items;
    size_t slots = 0;
    for (auto part : grammar::split(arg.substr(0, arg.find('\0')), ',')) {
        if (slots == max_slots) return param_fail("too many ports specified");
        auto colon = part.find(':');
        if (colon != std::string_view::npos && slots == max_slots - 1)
            return param_fail("too many ports specified");
        auto lo = ext::parse_port(part.substr(0, colon), proto);
        if (!lo) return failure(lo);
        Item item{*lo, *lo, false};
        if (colon != std::string_view::npos) {
            auto hi = ext::parse_port(part.substr(colon + 1), proto);
            if (!hi) return failure(hi);
            if (*lo >= *hi) return param_fail("invalid portrange specified");
            item = {*lo, *hi, true};
        }
        slots += item.range ? 2 : 1;
        items.push_back(item);
    }
    return items;
}

class MultiportData : public Data<MultiportData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert,
                       const ExtCtx& ctx) override {
        if (auto r = guard_.check("multiport", multiport_opts, opt, invert); !r) return r;
        auto proto = check_proto(ctx.rule);
        if (!proto) return failure(proto);
        auto items = parse_list(arg, *proto);
        if (!items) return failure(items);
        items_ = std::move(*items);
        which_ = opt.id;
        proto_ = *proto;
        inv_ = inv_ || invert;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("multiport expection an option");
        return {};
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return proto_name(rule.proto) && !rule.inv_proto;
    }

    bool to_xdp(const Rule& rule, XdpCond& c) const override {
        if (rule.proto != 6 && rule.proto != 17) return false;  // XDP reads TCP and UDP ports
        std::vector<std::pair<uint32_t, uint32_t>> iv;
        for (const auto& it : items_) iv.push_back({it.lo, it.hi});
        ValueSet s = ValueSet::of(std::move(iv), 0xffff);
        if (inv_) s = s.complement();
        c.nonfirst_frag_ok = false;
        if (which_ == o_sports) c.sport = c.sport.intersect(s);
        else if (which_ == o_dports) c.dport = c.dport.intersect(s);
        else if (inv_) c.sport = c.sport.intersect(s), c.dport = c.dport.intersect(s);
        else if (c.either_port) return false;  // two --ports alternatives: not one condition
        else c.either_port = s;
        return true;
    }

    // xt_multiport_v1 (revision 1): a range takes two slots, the first flagged.
    XtInfo to_xt(const Rule&) const override {
        xt_multiport_v1 info{};
        info.flags = which_ == o_sports ? XT_MULTIPORT_SOURCE
                   : which_ == o_dports ? XT_MULTIPORT_DESTINATION : XT_MULTIPORT_EITHER;
        size_t n = 0;
        for (const auto& it : items_) {
            if (it.range) info.pflags[n] = 1;
            info.ports[n++] = it.lo;
            if (it.range) info.ports[n++] = it.hi;
        }
        info.count = uint8_t(n);
        info.invert = inv_;
        return XtInfo::of("multiport", 1, info);
    }

    void save(std::string& out) const override {
        if (inv_) out += " !";
        out += str(" --", kind_name(), ' ');
        append_ports(out, true);
    }

    void print(std::string& out, bool numeric) const override {
        out += str(" multiport ", kind_name(), ' ');
        if (inv_) out += " !";
        append_ports(out, numeric);
    }

private:
    AliasGuard guard_;
    std::vector<Item> items_;
    int which_ = o_sports;
    const char* proto_ = "tcp";
    bool inv_ = false;

    std::string_view kind_name() const {
        return which_ == o_sports ? "sports" : which_ == o_dports ? "dports" : "ports";
    }

    void append_ports(std::string& out, bool numeric) const {
        bool first = true;
        for (const auto& it : items_) {
            if (!first) out += ',';
            first = false;
            out += ext::port_text(it.lo, numeric, proto_);
            if (it.range) out += str(':', ext::port_text(it.hi, numeric, proto_));
        }
    }
};

}  // namespace

const ExtKind match_multiport{"multiport", multiport_opts, make_data<MultiportData>};

}  // namespace xdpt
