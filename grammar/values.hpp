// Syntax of the scalar values that iptables options take: numbers the way libxtables'
// xtables_strtoui reads them (strtoul base 0: decimal, 0x hex, 0 octal), dotted quads,
// address/mask lists, port ranges, comma lists. Pure functions, no syscalls, no lookups:
// name resolution (hosts, services, protocols) is the caller's business.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/family.hpp"

namespace xdpt::grammar {

// xtables_strtoul_base(s, NULL, .., min, max, base): the whole string must be a number in
// [min, max] (max == 0 means no upper bound); leading white space allowed, no minus.
std::optional<uint64_t> to_uint(std::string_view s, uint64_t min, uint64_t max, unsigned base = 0);

// A string of 1 to 19 decimal digits without a leading 0 (unless it is "0"): its value.
// Anything else (blanks, signs, 0x, octal, longer): nothing. The value every reading of
// numbers here agrees on (strtoul base 0 or 10, sscanf %llu, %u, %i).
std::optional<uint64_t> plain_decimal(std::string_view s);

// Like to_uint but stops at the first character that is not part of the number; returns
// the value and how many characters were consumed (strtoul with an end pointer).
struct PartialUint {
    uint64_t value;
    size_t used;
};
std::optional<PartialUint> to_uint_prefix(std::string_view s, unsigned base = 0);

// libxtables' numeric_to_ipaddr: up to four dot-separated components 0..255 each read
// with base 0; fewer than four components are completed with zeros ("10" = 10.0.0.0)
// unless `is_mask`. Result in host byte order.
std::optional<uint32_t> dotted_to_ipv4(std::string_view s, bool is_mask = false);
std::string ipv4_to_dotted(uint32_t host_order);

// xtables_numeric_to_ip6addr (inet_pton) and xtables_ip6addr_to_numeric (inet_ntop).
std::optional<IpAddr> text_to_ipv6(std::string_view s);
std::string ipv6_to_text(const IpAddr& a);

// A numeric address of family `f` as libxtables reads one: numeric_to_ipaddr (`is_mask`
// as dotted_to_ipv4's) or inet_pton for IPv6.
std::optional<IpAddr> text_to_addr(Family f, std::string_view s, bool is_mask = false);

// An address of family `f` as iptables prints it numerically (dotted quad, or RFC 5952).
std::string addr_to_text(Family f, const IpAddr& a);

// xtables_ipmask_to_numeric / xtables_ip6mask_to_numeric: "" for a full mask, "/N" for a
// prefix, "/" and the mask as an address otherwise.
std::string mask_suffix(Family f, const IpAddr& mask);

// Splits at every occurrence of `sep` (empty fields kept).
std::vector<std::string_view> split(std::string_view s, char sep);

// "a:b" port ranges as libxtables splits them: `lo`/`hi` are the raw texts (either may be
// empty), `has_colon` tells whether there was a range separator.
struct RangeText {
    std::string_view lo, hi;
    bool has_colon;
};
RangeText split_range(std::string_view s, char sep = ':');

// One line of an iptables-restore file cut into arguments the way iptables-restore's
// add_param_to_argv does: white space separates, double quotes group (and are removed),
// a backslash-escaped quote is literal. Returns nullopt on an unterminated quote.
std::optional<std::vector<std::string>> tokenize_restore_line(std::string_view line);

// "[pkts:bytes]" at the start of a restore rule line or after a chain policy.
struct CounterPair {
    uint64_t pkts, bytes;
};
std::optional<CounterPair> parse_counter_pair(std::string_view s);

}  // namespace xdpt::grammar
