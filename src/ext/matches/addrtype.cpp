// -m addrtype: the routing type of the source and/or destination address (xt_addrtype
// revision 1, which iptables picks on any kernel since 2.6.39; ip6tables too). The type is what the
// kernel's routing lookup says, so XDP cannot decide it: rules with it are left to
// netfilter (no to_xdp).
#include <linux/netfilter/xt_addrtype.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_src, o_dst, o_iface_in, o_iface_out };

constexpr std::array<OptDef, 4> addrtype_opts{{
    {.name = "src-type", .id = o_src, .flags = opt_invert},
    {.name = "dst-type", .id = o_dst, .flags = opt_invert},
    {.name = "limit-iface-in", .id = o_iface_in, .has_arg = false, .excl = 1u << o_iface_out},
    {.name = "limit-iface-out", .id = o_iface_out, .has_arg = false, .excl = 1u << o_iface_in},
}};

// The route types in the order of the kernel's RTN_* values: bit i of a mask is type i.
constexpr std::array<std::string_view, 12> type_names{
    "UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
    "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE",
};

// Sets the bit of the first type that `token` abbreviates (any case); false if none.
bool add_type(std::string_view token, uint16_t& mask) {
    for (size_t i = 0; i < type_names.size(); ++i)
        if (prefix_of(token, type_names[i])) {
            mask |= uint16_t(1u << i);
            return true;
        }
    return false;
}

// "type[,type...]". iptables names a bad type before a comma with the rest of the list
// from it on (`...'), the last one alone ("...").
Result<uint16_t> parse_types(std::string_view arg) {
    uint16_t mask = 0;
    for (size_t comma; (comma = arg.find(',')) != std::string_view::npos; arg.remove_prefix(comma + 1))
        if (!add_type(arg.substr(0, comma), mask)) return param_fail(str("addrtype: bad type `", arg, "'"));
    if (!add_type(arg, mask)) return param_fail(str("addrtype: bad type \"", arg, "\""));
    return mask;
}

std::string types_text(uint16_t mask) {
    std::string out;
    for (size_t i = 0; i < type_names.size(); ++i)
        if (mask & (1u << i)) out += str(out.empty() ? "" : ",", type_names[i]);
    return out;
}

class AddrtypeData : public Data<AddrtypeData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        switch (opt.id) {
            case o_iface_in: flags_ |= XT_ADDRTYPE_LIMIT_IFACE_IN; return {};
            case o_iface_out: flags_ |= XT_ADDRTYPE_LIMIT_IFACE_OUT; return {};
        }
        auto m = parse_types(arg.substr(0, arg.find('\0')));
        if (!m) return failure(m);
        (opt.id == o_src ? src_ : dst_) |= *m;
        if (invert) flags_ |= opt.id == o_src ? XT_ADDRTYPE_INVERT_SOURCE : XT_ADDRTYPE_INVERT_DEST;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (!(seen & (1u << o_src | 1u << o_dst)))
            return param_fail("addrtype: you must specify --src-type or --dst-type");
        return {};
    }

    // The interface a type is looked up on must exist where the rule runs: no input
    // interface in POSTROUTING and OUTPUT, no output interface in PREROUTING and INPUT.
    // In IPv6 the kernel matches neither BLACKHOLE, BROADCAST nor PROHIBIT and after.
    bool kernel_accepts(const Rule&, const ExtCtx& ctx) const override {
        if (ctx.family == Family::ipv6) {
            const unsigned both = src_ | dst_;
            if ((both & XT_ADDRTYPE_BLACKHOLE) || both >= XT_ADDRTYPE_PROHIBIT || (both & XT_ADDRTYPE_BROADCAST))
                return false;
        }
        for (const auto& h : ctx.hooks) {
            if ((flags_ & XT_ADDRTYPE_LIMIT_IFACE_OUT) && (h == "PREROUTING" || h == "INPUT")) return false;
            if ((flags_ & XT_ADDRTYPE_LIMIT_IFACE_IN) && (h == "POSTROUTING" || h == "OUTPUT")) return false;
        }
        return true;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_addrtype_info_v1 info{};
        info.source = src_, info.dest = dst_, info.flags = flags_;
        return XtInfo::of("addrtype", 1, info);
    }

    void save(std::string& out) const override {
        if (src_) out += str(flags_ & XT_ADDRTYPE_INVERT_SOURCE ? " !" : "", " --src-type ", types_text(src_));
        if (dst_) out += str(flags_ & XT_ADDRTYPE_INVERT_DEST ? " !" : "", " --dst-type ", types_text(dst_));
        if (flags_ & XT_ADDRTYPE_LIMIT_IFACE_IN) out += " --limit-iface-in";
        if (flags_ & XT_ADDRTYPE_LIMIT_IFACE_OUT) out += " --limit-iface-out";
    }

    void print(std::string& out, bool) const override {
        out += " ADDRTYPE match";
        if (src_) out += str(" src-type ", flags_ & XT_ADDRTYPE_INVERT_SOURCE ? "!" : "", types_text(src_));
        if (dst_) out += str(" dst-type ", flags_ & XT_ADDRTYPE_INVERT_DEST ? "!" : "", types_text(dst_));
        if (flags_ & XT_ADDRTYPE_LIMIT_IFACE_IN) out += " limit-in";
        if (flags_ & XT_ADDRTYPE_LIMIT_IFACE_OUT) out += " limit-out";
    }

private:
    uint16_t src_ = 0, dst_ = 0;
    uint32_t flags_ = 0;
};

}  // namespace

const ExtKind match_addrtype{"addrtype", addrtype_opts, make_data<AddrtypeData>};

}  // namespace xdpt
