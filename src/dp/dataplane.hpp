// The kernel side of the classifier: counters in, generations out. Reads the live
// counters of the active generation, writes a compiled ruleset into the inactive one and
// flips the index, and keeps the program attached to every interface of the namespace.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "dp/compile.hpp"
#include "model/ruleset.hpp"
#include "store/state.hpp"

namespace xdpt::dp {

// The interfaces of the namespace XDP covers: Ethernet-like ones and lo.
std::vector<Iface> list_ifaces();

// The namespace's local addresses of family `f`, as the classifier is compiled with them.
std::vector<Prefix> local_addresses(Family f);

// The per-slot counters of the active generation when the ruleset was loaded.
struct Live {
    std::vector<Counters> snapshot;
};

// Adds what the dataplane of `anchor` counted since the last commit to the counters of
// `rs` (the ruleset that generation was compiled from) and gives each rule and policy its
// slot.
Result<Live> add_live_counters(const Anchor& anchor, Ruleset& rs);

// Stages the stored text of a ruleset in the anchor's store.
using Stage = std::function<Result<Publish>(const Anchor&, const Ruleset&)>;

// Compiles `rs` and makes it the active generation. Then folds what the old generation
// counted after `before` was taken into `rs`'s counters (rules that kept their slot), so
// that nothing counted is lost. `stage` writes the ruleset text where no load looks yet;
// it is called before the change (the new rules), published with it, and, when packets
// arrived meanwhile, after it (their counts). Netfilter and XDP change together: what
// fails leaves both as they were.
// `notices` receives warnings (rules left to the kernel, interfaces not covered).
// `prev` gives the ruleset before the change, called only if the flip fails after
// netfilter took the change (to put netfilter back): a copy of a large ruleset per
// command would cost more than the rest of an append.
// When the anchor's inner arrays do not fit the compiled ruleset (or there is no anchor
// yet), a program sized for it is loaded and takes the anchor's place at the flip;
// `anchor` is then the new one.
using Previous = std::function<Ruleset()>;
Result<void> commit(std::optional<Anchor>& anchor, Ruleset& rs, const Previous& prev, const Live& before,
                    const Stage& stage, std::string* notices);

}  // namespace xdpt::dp
