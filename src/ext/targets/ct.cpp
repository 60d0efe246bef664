// -j CT: conntrack template for the connection (xt_CT revision 2, raw table only), and
// its alias -j NOTRACK (CT with the notrack flag, printed under its own name).
#include <linux/netfilter/xt_CT.h>
#include <strings.h>

#include <array>

#include "ext/targets/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int {
    o_notrack,
    o_helper,
    o_timeout,
    o_ctevents,
    o_expevents,
    o_zone,
    o_zone_orig,
    o_zone_reply,
};

// xt_ct_target_info_v1.flags
enum : uint16_t {
    f_notrack = 1u << 0,
    f_notrack_alias = 1u << 1,
    f_zone_orig = 1u << 2,
    f_zone_reply = 1u << 3,
    f_zone_mark = 1u << 4,
};
static_assert(f_notrack == XT_CT_NOTRACK && f_notrack_alias == XT_CT_NOTRACK_ALIAS &&
              f_zone_orig == XT_CT_ZONE_DIR_ORIG && f_zone_reply == XT_CT_ZONE_DIR_REPL &&
              f_zone_mark == XT_CT_ZONE_MARK);
constexpr size_t helper_size = 16, timeout_size = 32;
// The kernel hands back only the first 32 bytes of the revision 1/2 structure (its
// usersize is that of revision 0): of --timeout, iptables-save sees 4 characters.
constexpr size_t timeout_seen = 4;

constexpr std::array<OptDef, 8> ct_opts{{
    {.name = "notrack", .id = o_notrack, .has_arg = false},
    {.name = "helper", .id = o_helper},
    {.name = "timeout", .id = o_timeout},
    {.name = "ctevents", .id = o_ctevents},
    {.name = "expevents", .id = o_expevents},
    {.name = "zone-orig", .id = o_zone_orig},
    {.name = "zone-reply", .id = o_zone_reply},
    {.name = "zone", .id = o_zone},
}};

// Event names in bit order (enum ip_conntrack_events, enum ip_conntrack_expect_events).
constexpr std::array<std::string_view, 10> ct_event_names{
    "new", "related", "destroy", "reply", "assured", "protoinfo", "helper", "mark", "natseqinfo", "secmark",
};
constexpr std::array<std::string_view, 1> exp_event_names{"new"};

template <size_t N>
Result<uint32_t> parse_events(const std::array<std::string_view, N>& names, std::string_view arg) {
    uint32_t mask = 0;
    for (auto ev : grammar::split(arg, ',')) {
        size_t i = 0;
        while (i < N && names[i] != ev) ++i;
        if (i == N) return param_fail(str("Unknown event type \"", ev, "\""));
        mask |= 1u << i;
    }
    return mask;
}

template <size_t N>
void emit_events(std::string& out, std::string_view label, const std::array<std::string_view, N>& names,
                 uint32_t mask) {
    out += str(' ', label, ' ');
    std::string_view sep;
    for (size_t i = 0; i < N; ++i)
        if (mask & (1u << i)) {
            out += str(sep, names[i]);
            sep = ",";
        }
}

// Conntrack helpers the kernel can attach, with the layer 4 protocol each is registered
// for (the helper must match the rule's -p). "sip" exists for both. irc, pptp,
// netbios-ns and the snmp ones are registered for IPv4 alone.
struct Helper {
    std::string_view name;
    uint16_t proto;
    bool ipv6 = true;
};
constexpr std::array<Helper, 14> kernel_helpers{{
    {"ftp", 6}, {"irc", 6, false}, {"sane", 6}, {"pptp", 6, false}, {"Q.931", 6}, {"sip", 6},
    {"H.245", 17}, {"RAS", 17}, {"sip", 17}, {"tftp", 17}, {"amanda", 17},
    {"netbios-ns", 17, false}, {"snmp", 17, false}, {"snmp_trap", 17, false},
}};

class CtData : public Data<CtData> {
public:
    uint16_t flags = 0;
    uint16_t zone = 0;
    uint32_t ct_events = 0, exp_events = 0;
    std::string helper, timeout;

    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        switch (opt.id) {
        case o_notrack:
            flags |= f_notrack;
            return {};
        case o_helper:
        case o_timeout: {
            auto s = parse_string(arg, 0, opt.id == o_helper ? helper_size : timeout_size);
            if (!s) return std::unexpected(s.error());
            (opt.id == o_helper ? helper : timeout) = std::move(*s);
            return {};
        }
        case o_ctevents:
        case o_expevents: {
            auto m = opt.id == o_ctevents ? parse_events(ct_event_names, arg) : parse_events(exp_event_names, arg);
            if (!m) return std::unexpected(m.error());
            (opt.id == o_ctevents ? ct_events : exp_events) = *m;
            return {};
        }
        default:
            return parse_zone(opt.id, arg);
        }
    }

    // xt_ct_tg_check. Everything below notrack is skipped for --notrack. Helpers and
    // timeout policies are looked up for the rule's protocol; the kernel refuses an
    // unknown helper or policy with ENOENT rather than EINVAL (no timeout policy can
    // exist here: they are made by nfct, outside iptables).
    bool kernel_accepts(const Rule& rule, const ExtCtx& ctx) const override {
        if (flags & f_notrack) return true;
        const uint16_t proto = rule.inv_proto ? 0 : rule.proto;
        if (!helper.empty()) {
            bool found = false;
            for (const auto& h : kernel_helpers)
                found = found || (h.name == helper && h.proto == proto && (h.ipv6 || ctx.family == Family::ipv4));
            if (!found) return false;
        }
        return timeout.empty();
    }

    // Revision 2 (xt_ct_target_info_v1), the one iptables picks for CT and NOTRACK alike;
    // our flag bits are the kernel's XT_CT_*.
    XtInfo to_xt(const Rule&) const override {
        xt_ct_target_info_v1 info{};
        info.flags = flags, info.zone = zone;
        info.ct_events = ct_events, info.exp_events = exp_events;
        helper.copy(info.helper, sizeof info.helper - 1);
        timeout.copy(info.timeout, sizeof info.timeout - 1);
        return XtInfo::of("CT", 2, info);
    }

    void save(std::string& out) const override {
        if (flags & f_notrack_alias) return;
        emit(out, "--");
    }

    void print(std::string& out, bool) const override {
        if (flags & f_notrack_alias) {
            out += " NOTRACK";
            return;
        }
        out += " CT";
        emit(out, "");
    }

    void make_notrack_alias() { flags = f_notrack | f_notrack_alias; }

private:
    Result<void> parse_zone(int id, std::string_view arg) {
        if (id == o_zone_orig) flags |= f_zone_orig;
        if (id == o_zone_reply) flags |= f_zone_reply;
        zone = 0;
        if (arg.size() == 4 && strncasecmp(arg.data(), "mark", 4) == 0) {
            flags |= f_zone_mark;
            return {};
        }
        auto v = grammar::to_uint(arg, 0, 0xffff);
        if (!v) return param_fail(str("Cannot parse ", arg, " as a zone ID"));
        zone = static_cast<uint16_t>(*v);
        return {};
    }

    void emit(std::string& out, std::string_view dash) const {
        if (flags & f_notrack) out += str(' ', dash, "notrack");
        if (!helper.empty()) out += str(' ', dash, "helper ", helper);
        if (!timeout.empty()) out += str(' ', dash, "timeout ", timeout.substr(0, timeout_seen));
        if (ct_events) emit_events(out, str(dash, "ctevents"), ct_event_names, ct_events);
        if (exp_events) emit_events(out, str(dash, "expevents"), exp_event_names, exp_events);
        if ((flags & f_zone_mark) || zone) {
            out += str(' ', dash, "zone");
            const uint16_t dir = flags & (f_zone_orig | f_zone_reply);
            if (dir == f_zone_orig) out += "-orig";
            if (dir == f_zone_reply) out += "-reply";
            if (flags & f_zone_mark)
                out += " mark";
            else
                out += str(' ', zone);
        }
    }
};

std::unique_ptr<ExtData> make_notrack() {
    auto d = std::make_unique<CtData>();
    d->make_notrack_alias();
    return d;
}

}  // namespace

extern const ExtKind target_CT{
    .name = "CT",
    .opts = ct_opts,
    .make = make_data<CtData>,
    .tables = "raw",
};

// -j NOTRACK takes no option; iptables -L shows "CT" in the target column and " NOTRACK"
// after the addresses, iptables-save shows "-j NOTRACK" and nothing after it.
extern const ExtKind target_NOTRACK{
    .name = "NOTRACK",
    .opts = {},
    .make = make_notrack,
    .tables = "raw",
    .list_name = "CT",
};

}  // namespace xdpt
