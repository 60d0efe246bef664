// `xdptables explain`: where each rule and policy of a ruleset is judged, XDP or
// netfilter, and why. Netfilter holds every rule; "xdp" means XDP decides the packets
// that rule matches (it drops at the driver, and passes accepted ones up, where
// netfilter confirms the verdict); "netfilter" means XDP hands those packets up undecided.
#pragma once
#include <string>

#include "dp/compile.hpp"
#include "model/ruleset.hpp"

namespace xdpt::dp {

// One line per policy and rule, in iptables-save form, table by table (`only_table`
// empty: all of them); then, as a comment line, what a packet XDP's class cache has not
// seen can cost (dp::miss_bound), with the namespace's interfaces `ifaces` and local
// addresses `local` (the rules' homes depend on them).
std::string explain(const Ruleset& rs, const std::vector<Iface>& ifaces, const std::vector<Prefix>& local,
                    const std::string& only_table = {});

}  // namespace xdpt::dp
