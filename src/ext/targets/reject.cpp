// -j REJECT (IPv4): answer with an ICMP error or a TCP reset (ipt_REJECT). What it
// shares with IPv6's REJECT is in rejectbase.
#include <linux/netfilter_ipv4/ipt_REJECT.h>

#include <array>
#include <cctype>

#include "ext/targets/rejectbase.hpp"

namespace xdpt {
namespace targets {

namespace {

// iptables takes any case-insensitive abbreviation, the first one in table order.
bool abbreviates(std::string_view arg, std::string_view full) {
    if (arg.size() > full.size()) return false;
    for (size_t i = 0; i < arg.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(arg[i])) != std::tolower(static_cast<unsigned char>(full[i])))
            return false;
    return true;
}

}  // namespace

std::optional<uint8_t> find_reject_type(const RejectKind& k, std::string_view arg) {
    for (size_t i = 0; i < k.names.size(); ++i) {
        const auto& n = k.names[i];
        if (n.name.empty()) continue;
        if (abbreviates(arg, n.name) || abbreviates(arg, n.alias)) return static_cast<uint8_t>(i);
    }
    return std::nullopt;
}

}  // namespace targets

namespace {

using namespace targets;

// ipt_reject_with, in the kernel's numbering (4 was the long gone echo-reply).
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

void echo_reply(std::string_view arg, const ExtCtx& ctx) {
    if (abbreviates(arg, "echo-reply") || abbreviates(arg, "echoreply"))
        warn(ctx, "--reject-with echo-reply no longer supported\n");
}

constexpr RejectKind reject_kind{reject_names, IPT_TCP_RESET, IPT_ICMP_PORT_UNREACHABLE, echo_reply};

}  // namespace

extern const ExtKind target_REJECT{
    .name = "REJECT",
    .opts = reject_opts,
    .make = make_data<RejectData<reject_kind, ipt_reject_info>>,
    .tables = "filter",
    .hooks = "INPUT,FORWARD,OUTPUT",
    .families = ipv4_only,
};

}  // namespace xdpt
