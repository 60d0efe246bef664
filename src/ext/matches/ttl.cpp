// -m ttl: compare the IPv4 time to live (ipt_ttl): equal, not equal, less, greater. What
// it shares with hl is in ttlbase.
#include <linux/netfilter_ipv4/ipt_ttl.h>

#include "ext/matches/ttlbase.hpp"

namespace xdpt {
namespace matches {

bool ttl_to_xdp(TtlMode mode, uint8_t v, XdpCond& c) {
    for (unsigned t = 0; t < 256; ++t) {
        bool m = mode == TtlMode::eq ? t == v : mode == TtlMode::ne ? t != v : mode == TtlMode::lt ? t < v : t > v;
        if (!m) c.ttl.reset(t);
    }
    return true;
}

}  // namespace matches

namespace {

using namespace matches;

static_assert(IPT_TTL_EQ == int(TtlMode::eq) && IPT_TTL_NE == int(TtlMode::ne) && IPT_TTL_LT == int(TtlMode::lt) &&
              IPT_TTL_GT == int(TtlMode::gt) && sizeof(ipt_ttl_info) == 2);

// Table order as in libxtables: it decides which option the exclusion messages name.
constexpr TtlKind ttl_kind{
    "ttl",
    {{
        {.name = "ttl-lt", .id = o_ttl_lt, .excl = any_ttl},
        {.name = "ttl-gt", .id = o_ttl_gt, .excl = any_ttl},
        {.name = "ttl-eq", .id = o_ttl_eq, .flags = opt_invert, .excl = any_ttl},
        {.name = "ttl", .id = o_ttl_eq, .flags = ttl_alias, .excl = any_ttl},
    }},
    "TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt",
    " TTL match TTL",
    8,
    true,
};

}  // namespace

const ExtKind match_ttl{"ttl", ttl_kind.opts, make_data<TtlData<ttl_kind>>, {}, {}, {}, ipv4_only};

}  // namespace xdpt
