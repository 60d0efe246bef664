// A table of ipsets standing in for the kernel's (ext/ipset.hpp's lookup) while a test
// runs: foo is index 3 (IPv4), map 5 and any 7 (no family, as list:set), six 9 (IPv6);
// every other name is unknown.
#pragma once
#include <linux/netfilter.h>

#include <string_view>

#include "ext/ipset.hpp"

namespace xdpt::test {

inline Result<ext::SetId> fake_sets(std::string_view name) {
    if (name == "foo") return ext::SetId{3, NFPROTO_IPV4};
    if (name == "map") return ext::SetId{5, NFPROTO_UNSPEC};
    if (name == "any") return ext::SetId{7, NFPROTO_UNSPEC};
    if (name == "six") return ext::SetId{9, NFPROTO_IPV6};
    return ext::SetId{};
}

struct FakeSets {
    ext::SetLookup old = ext::set_lookup_hook(fake_sets);
    FakeSets() = default;
    FakeSets(const FakeSets&) = delete;
    FakeSets& operator=(const FakeSets&) = delete;
    ~FakeSets() { ext::set_lookup_hook(old); }
};

}  // namespace xdpt::test
