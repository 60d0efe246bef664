// `xdptables migrate [--from legacy|nft] [--flush-source]`: iptables-save | xdptables-
// restore in one step, then the split: which rules XDP decides and which stay with
// netfilter (xdptables explain). `--flush-source` empties the source's tables afterwards.
#pragma once
#include <string>
#include <vector>

#include "core/family.hpp"

namespace xdpt {

// `self`: this binary (/proc/self/exe), run as xdptables-restore and xdptables explain.
// `family`: iptables' rules (to xdptables) or ip6tables' (to xdp6tables).
int main_migrate(const std::vector<std::string>& args, const std::string& self, Family family);

}  // namespace xdpt
