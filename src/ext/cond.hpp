// What a rule asks of a packet, field by field, in the terms the XDP classifier can look
// up: sets of values per header field. A match extension that XDP can decide exactly
// adds its condition here (ExtData::to_xdp); one that cannot says why. No syscalls.
#pragma once
#include <algorithm>
#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "core/family.hpp"

namespace xdpt {

// A set of values in [0, max] as sorted, disjoint, inclusive intervals. Most hold one
// (every value, a port, a range): kept in place, not on the heap (a flattened rule holds
// five, and 50k rules' allocations were a tenth of a command's memory).
class ValueSet {
public:
    using Intervals = boost::container::small_vector<std::pair<uint32_t, uint32_t>, 2>;
    static ValueSet all(uint32_t max) { return ValueSet({{0, max}}, max); }
    static ValueSet none(uint32_t max) { return ValueSet({}, max); }
    // [lo, hi], or its complement when `inv`.
    static ValueSet range(uint32_t lo, uint32_t hi, bool inv, uint32_t max) {
        ValueSet s = lo <= hi ? ValueSet({{lo, hi}}, max) : none(max);
        return inv ? s.complement() : s;
    }
    // The union of the given intervals (any order, may overlap).
    static ValueSet of(std::vector<std::pair<uint32_t, uint32_t>> iv, uint32_t max) {
        std::sort(iv.begin(), iv.end());
        Intervals out;
        for (auto [lo, hi] : iv) {
            if (lo > hi) continue;
            if (!out.empty() && lo <= uint64_t(out.back().second) + 1)
                out.back().second = std::max(out.back().second, hi);
            else
                out.push_back({lo, hi});
        }
        return ValueSet(std::move(out), max);
    }

    ValueSet complement() const {
        Intervals out;
        uint64_t next = 0;
        for (auto [lo, hi] : iv_) {
            if (lo > next) out.push_back({uint32_t(next), lo - 1});
            next = uint64_t(hi) + 1;
        }
        if (next <= max_) out.push_back({uint32_t(next), max_});
        return ValueSet(std::move(out), max_);
    }
    ValueSet intersect(const ValueSet& o) const {
        Intervals out;
        size_t i = 0, j = 0;
        while (i < iv_.size() && j < o.iv_.size()) {
            uint32_t lo = std::max(iv_[i].first, o.iv_[j].first);
            uint32_t hi = std::min(iv_[i].second, o.iv_[j].second);
            if (lo <= hi) out.push_back({lo, hi});
            if (iv_[i].second < o.iv_[j].second) ++i; else ++j;
        }
        return ValueSet(std::move(out), max_);
    }
    ValueSet unite(const ValueSet& o) const {
        std::vector<std::pair<uint32_t, uint32_t>> v(iv_.begin(), iv_.end());
        v.insert(v.end(), o.iv_.begin(), o.iv_.end());
        return of(std::move(v), max_);
    }
    bool empty() const { return iv_.empty(); }
    bool is_all() const { return iv_.size() == 1 && iv_[0].first == 0 && iv_[0].second == max_; }
    bool contains(uint32_t v) const {
        auto it = std::upper_bound(iv_.begin(), iv_.end(), std::pair<uint32_t, uint32_t>{v, UINT32_MAX});
        return it != iv_.begin() && std::prev(it)->second >= v;
    }
    const Intervals& intervals() const { return iv_; }
    uint32_t max() const { return max_; }
    bool operator==(const ValueSet&) const = default;

private:
    ValueSet(Intervals iv, uint32_t max) : iv_(std::move(iv)), max_(max) {}
    Intervals iv_;
    uint32_t max_ = 0;
};

// A prefix of either family (an IPv4 one in the first four bytes of the address, at
// most 32 bits long); bits below the length are zero. Ordered by address, then length:
// the pre-order of the prefix tree.
struct Prefix {
    IpAddr addr;
    uint8_t len = 0;
    constexpr Prefix() = default;
    constexpr Prefix(const IpAddr& a, uint8_t l) : addr(a & IpAddr::prefix_mask(l)), len(l) {}
    // An IPv4 prefix from its address in host byte order.
    constexpr Prefix(uint32_t v4, uint8_t l) : Prefix(IpAddr::from_v4(v4), l) {}
    constexpr uint32_t addr4() const { return addr.v4(); }
    constexpr bool contains(const Prefix& p) const {  // p within this prefix
        return p.len >= len && (p.addr & IpAddr::prefix_mask(len)) == addr;
    }
    constexpr bool operator==(const Prefix&) const = default;
    constexpr auto operator<=>(const Prefix&) const = default;
};

// The prefixes that exactly cover [lo, hi].
std::vector<Prefix> range_to_prefixes(uint32_t lo, uint32_t hi);

// One address condition: the address is in one of `prefixes`, or in none when `neg`.
struct AddrTerm {
    std::vector<Prefix> prefixes;
    bool neg = false;
    bool operator==(const AddrTerm&) const = default;
};

// An interface name condition as iptables compares names: `name` exact, or a prefix when
// it ends with '+'; "+" alone is any name.
struct IfaceTerm {
    std::string name;
    bool neg = false;
    bool operator==(const IfaceTerm&) const = default;
    bool matches(const std::string& ifname) const;
};

struct MacTerm {
    std::array<uint8_t, 6> mac{};
    bool neg = false;
    bool operator==(const MacTerm&) const = default;
};

// A conjunction of field conditions. Empty term lists and full sets mean "any".
struct XdpCond {
    std::vector<AddrTerm> src, dst;
    std::bitset<256> proto = std::bitset<256>().set();
    bool nonfirst_frag_ok = true;  // may match non-first fragments
    bool first_ok = true;          // may match first fragments and whole packets
    std::bitset<256> tcp_flags = std::bitset<256>().set();
    std::bitset<256> ttl = std::bitset<256>().set();
    ValueSet sport = ValueSet::all(0xffff);
    ValueSet dport = ValueSet::all(0xffff);  // or ICMP type << 8 | code
    ValueSet len = ValueSet::all(0xffff);
    // --ports of multiport: the source or the destination port is in the set. The
    // compiler turns it into two conditions.
    std::optional<ValueSet> either_port;
    std::vector<IfaceTerm> iif, oif;
    std::vector<MacTerm> mac;
    bool needs_ether = false;  // only on Ethernet interfaces (-m mac)
    // The conntrack states (the kernel's XT_CONNTRACK_STATE_* bits) with which the rule
    // can match (-m conntrack --ctstate, -m state). Not a field looked up per packet: the
    // state of every packet a walk judges is known when compiling (no entry yet in raw
    // PREROUTING, NEW in filter under XDPT_CFG_CT_NEW), and the compiler resolves it.
    uint16_t ct_states = 0xffff;
};

}  // namespace xdpt
