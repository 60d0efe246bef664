// -j REJECT (IPv4): answer with an ICMP error or a TCP reset.
#include <linux/netfilter_ipv4/ipt_REJECT.h>

#include <array>
#include <cctype>

#include "ext/targets/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace targets;

// ipt_reject_with, in the kernel's numbering (4 was the long gone echo-reply).
enum : uint8_t {
    rw_net_unreach,
    rw_host_unreach,
    rw_proto_unreach,
    rw_port_unreach,
    rw_echo_reply,
    rw_net_prohib,
    rw_host_prohib,
    rw_tcp_reset,
    rw_admin_prohib,
};

struct RejectName {
    std::string_view name, alias;
};
constexpr std::array<RejectName, 9> reject_names{{
    {"icmp-net-unreachable", "net-unreach"},
    {"icmp-host-unreachable", "host-unreach"},
    {"icmp-proto-unreachable", "proto-unreach"},
    {"icmp-port-unreachable", "port-unreach"},
    {"", ""},
    {"icmp-net-prohibited", "net-prohib"},
    {"icmp-host-prohibited", "host-prohib"},
    {"tcp-reset", "tcp-rst"},
    {"icmp-admin-prohibited", "admin-prohib"},
}};

// iptables takes any case-insensitive abbreviation, the first one in table order.
bool abbreviates(std::string_view arg, std::string_view full) {
    if (arg.size() > full.size()) return false;
    for (size_t i = 0; i < arg.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(arg[i])) != std::tolower(static_cast<unsigned char>(full[i])))
            return false;
    return true;
}

constexpr int o_reject_with = 0;
constexpr std::array<OptDef, 1> reject_opts{{
    {.name = "reject-with", .id = o_reject_with},
}};

class RejectData : public Data<RejectData> {
public:
    uint8_t with = rw_port_unreach;

    Result<void> parse(const OptDef&, std::string_view arg, bool, const ExtCtx& ctx) override {
        for (size_t i = 0; i < reject_names.size(); ++i) {
            const auto& n = reject_names[i];
            if (n.name.empty()) continue;
            if (abbreviates(arg, n.name) || abbreviates(arg, n.alias)) {
                with = static_cast<uint8_t>(i);
                return {};
            }
        }
        if (abbreviates(arg, "echo-reply") || abbreviates(arg, "echoreply"))
            warn(ctx, "--reject-with echo-reply no longer supported\n");
        return param_fail(str("unknown reject type \"", arg, "\""));
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        // ipt_REJECT: a TCP reset only for rules that match TCP alone.
        if (with == rw_tcp_reset) return rule.proto == 6 && !rule.inv_proto;
        return with != rw_echo_reply;
    }

    XtInfo to_xt(const Rule&) const override {
        ipt_reject_info info{};
        info.with = static_cast<ipt_reject_with>(with);  // the same numbering
        return XtInfo::of("REJECT", 0, info);
    }

    void save(std::string& out) const override { out += str(" --reject-with ", reject_names[with].name); }
    void print(std::string& out, bool) const override { out += str(" reject-with ", reject_names[with].name); }
};

}  // namespace

extern const ExtKind target_REJECT{
    .name = "REJECT",
    .opts = reject_opts,
    .make = make_data<RejectData>,
    .tables = "filter",
    .hooks = "INPUT,FORWARD,OUTPUT",
    .families = ipv4_only,
};

}  // namespace xdpt
