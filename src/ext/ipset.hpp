// What the set match and the SET target share (iptables' libxt_set.h): a set named on the
// command line is resolved to the kernel's index at parse time, through the ipset
// getsockopt interface of the namespace (a name lookup, as /etc/protocols is), and its
// direction list ("src,dst") becomes xt_set_info's dim and flags.
#pragma once
#include <linux/netfilter/xt_set.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "ext/ext.hpp"

namespace xdpt::ext {

// A set as a rule names it: the name given, and xt_set_info as the kernel takes it.
struct SetRef {
    std::string name;
    xt_set_info info{IPSET_INVALID_ID, 0, 0};
    bool given() const { return info.dim != 0; }
};

// What the kernel answers for a set name (IP_SET_OP_GET_FNAME).
struct SetId {
    uint16_t index = IPSET_INVALID_ID;
    uint8_t family = 0;  // NFPROTO_*
};
// Asks the kernel of the current namespace; fails with iptables' messages (socket,
// protocol, "Set X doesn't exist."). Unit tests put a table of their own in its place.
using SetLookup = Result<SetId> (*)(std::string_view name);
Result<SetId> kernel_set_lookup(std::string_view name);
SetLookup set_lookup_hook(SetLookup lookup);  // returns the one it replaces

// "--<what> NAME FLAGS": `name` is the option's argument, FLAGS the next word of the
// command line (ctx.argv). Checks in libxt_set's order: given once, two arguments, the
// name's length, the kernel's index and family, then the directions.
Result<void> parse_set_ref(SetRef& ref, std::string_view what, std::string_view name, const ExtCtx& ctx);

// " <prefix> NAME src,dst" (print_match / print_target); nothing for a set not given.
// `quote`: the name as append_quoted writes it (the stored form).
void append_set_ref(std::string& out, std::string_view prefix, const SetRef& ref, bool quote = false);

}  // namespace xdpt::ext
