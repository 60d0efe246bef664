// -m hl: compare the IPv6 hop limit (ip6t_hl): equal, not equal, less, greater, as
// libip6t_hl. What it shares with ttl is in ttlbase.
#include <linux/netfilter_ipv6/ip6t_hl.h>

#include "ext/matches/ttlbase.hpp"

namespace xdpt {
namespace {

using namespace matches;

static_assert(IP6T_HL_EQ == int(TtlMode::eq) && IP6T_HL_NE == int(TtlMode::ne) && IP6T_HL_LT == int(TtlMode::lt) &&
              IP6T_HL_GT == int(TtlMode::gt) && sizeof(ip6t_hl_info) == 2);

constexpr TtlKind hl_kind{
    "hl",
    {{
        {.name = "hl-lt", .id = o_ttl_lt, .excl = any_ttl},
        {.name = "hl-gt", .id = o_ttl_gt, .excl = any_ttl},
        {.name = "hl-eq", .id = o_ttl_eq, .flags = opt_invert, .excl = any_ttl},
        {.name = "hl", .id = o_ttl_eq, .flags = ttl_alias, .excl = any_ttl},
    }},
    "HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'",
    " HL match HL",
    7,
    false,
};

}  // namespace

const ExtKind match_hl{"hl", hl_kind.opts, make_data<TtlData<hl_kind>>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
