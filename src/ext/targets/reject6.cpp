// -j REJECT (IPv6): answer with an ICMPv6 error or a TCP reset (ip6t_REJECT), as
// libip6t_REJECT. What it shares with IPv4's REJECT is in rejectbase.
#include <linux/netfilter_ipv6/ip6t_REJECT.h>

#include <array>

#include "ext/targets/rejectbase.hpp"

namespace xdpt {
namespace {

using namespace targets;

// ip6t_reject_with, in the kernel's numbering; not-neighbour and echo-reply are not
// offered.
constexpr std::array<RejectName, 9> reject6_names{{
    {"icmp6-no-route", "no-route"},
    {"icmp6-adm-prohibited", "adm-prohibited"},
    {"", ""},
    {"icmp6-addr-unreachable", "addr-unreach"},
    {"icmp6-port-unreachable", "port-unreach"},
    {"", ""},
    {"tcp-reset", "tcp-reset"},
    {"icmp6-policy-fail", "policy-fail"},
    {"icmp6-reject-route", "reject-route"},
}};

constexpr RejectKind reject6_kind{reject6_names, IP6T_TCP_RESET, IP6T_ICMP6_PORT_UNREACH, nullptr};

}  // namespace

extern const ExtKind target_REJECT6{
    .name = "REJECT",
    .opts = reject_opts,
    .make = make_data<RejectData<reject6_kind, ip6t_reject_info>>,
    .tables = "filter",
    .hooks = "INPUT,FORWARD,OUTPUT",
    .families = ipv6_only,
};

}  // namespace xdpt
