// -m icmp6 (also loaded as icmpv6 and ipv6-icmp, and by -p ipv6-icmp): ICMPv6 type and
// code range (ip6t_icmp), as libip6t_icmp6. The parsing, listing and saving it shares with
// icmp are in icmpbase.
#include <limits.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include <array>

#include "ext/matches/icmpbase.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr std::array<OptDef, 1> icmp6_opts{{
    {.name = "icmpv6-type", .id = 0, .flags = opt_invert | opt_mand},
}};

// libxtables' icmpv6_codes, in its order (prefix matching and printing take the first hit).
constexpr std::array<IcmpName, 28> icmp6_names{{
    {"destination-unreachable", 1, 0, 0xff},
    {"no-route", 1, 0, 0},
    {"communication-prohibited", 1, 1, 1},
    {"beyond-scope", 1, 2, 2},
    {"address-unreachable", 1, 3, 3},
    {"port-unreachable", 1, 4, 4},
    {"failed-policy", 1, 5, 5},
    {"reject-route", 1, 6, 6},
    {"packet-too-big", 2, 0, 0xff},
    {"time-exceeded", 3, 0, 0xff},
    {"ttl-exceeded", 3, 0, 0xff},
    {"ttl-zero-during-transit", 3, 0, 0},
    {"ttl-zero-during-reassembly", 3, 1, 1},
    {"parameter-problem", 4, 0, 0xff},
    {"bad-header", 4, 0, 0},
    {"unknown-header-type", 4, 1, 1},
    {"unknown-option", 4, 2, 2},
    {"echo-request", 128, 0, 0xff},
    {"ping", 128, 0, 0xff},
    {"echo-reply", 129, 0, 0xff},
    {"pong", 129, 0, 0xff},
    {"router-solicitation", 133, 0, 0xff},
    {"router-advertisement", 134, 0, 0xff},
    {"neighbour-solicitation", 135, 0, 0xff},
    {"neighbor-solicitation", 135, 0, 0xff},
    {"neighbour-advertisement", 136, 0, 0xff},
    {"neighbor-advertisement", 136, 0, 0xff},
    {"redirect", 137, 0, 0xff},
}};

constexpr IcmpKind icmp6_kind{"icmp6", "ICMPv6", " --icmpv6-type", " ipv6-icmp", IPPROTO_ICMPV6, icmp6_names};

}  // namespace

const ExtKind match_icmp6{"icmp6", icmp6_opts, make_data<IcmpData<icmp6_kind, ip6t_icmp>>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
