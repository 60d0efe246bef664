// -m mark: the packet mark, optionally under a mask (xt_mark revision 1).
#include <linux/netfilter/xt_mark.h>

#include "ext/matches/markvalue.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr MarkValueSpec mark_spec{"mark", 1, " mark match", " mark match !"};

}  // namespace

const ExtKind match_mark{"mark", mark_value_opts, make_data<MarkValueData<mark_spec, xt_mark_mtinfo1>>};

}  // namespace xdpt
