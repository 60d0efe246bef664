// -m connmark: the connection's mark, optionally under a mask (xt_connmark revision 1).
// The mark lives in conntrack, which the match loads: rules with it are left to
// netfilter, and the ruleset counts as one that uses conntrack (dp/compile.cpp).
#include <linux/netfilter/xt_connmark.h>

#include "ext/matches/markvalue.hpp"

namespace xdpt {
namespace {

using namespace matches;

// " connmark match  0x1" (two blanks), " connmark match ! 0x1".
constexpr MarkValueSpec connmark_spec{"connmark", 1, " connmark match ", " connmark match !", NFT_CT_MARK};

}  // namespace

extern const ExtKind match_connmark{"connmark", mark_value_opts,
                                    make_data<MarkValueData<connmark_spec, xt_connmark_mtinfo1>>};

}  // namespace xdpt
