// The name the binary answers to. Called by one of iptables' names (iptables,
// iptables-save, iptables-restore) it is iptables-legacy 1.8.9 to the byte: its messages,
// help and version line name "iptables" and the flavour "legacy" (what Docker and
// iptables-wrapper look for in `iptables --version`). Called as xdptables it prints the
// same text naming xdptables and the flavour "xdp".
#pragma once
#include <string_view>

#include "core/family.hpp"

namespace xdpt {

struct Brand {
    std::string_view name;     // "iptables" or "xdptables": the -save/-restore names follow
    std::string_view flavour;  // what "v1.8.9 (...)" says
    Family family = Family::ipv4;  // the rules it reads and writes
};

inline constexpr Brand xdptables_brand{"xdptables", "xdp"};
inline constexpr Brand iptables_brand{"iptables", "legacy"};
inline constexpr Brand xdp6tables_brand{"xdp6tables", "xdp", Family::ipv6};
inline constexpr Brand ip6tables_brand{"ip6tables", "legacy", Family::ipv6};

}  // namespace xdpt
