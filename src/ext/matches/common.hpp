// Pieces shared by the match extensions (src/ext/matches): the value types of libxtables'
// x6 option parser with their exact messages, the alias handling of x6 option tables,
// and the clone boilerplate of ExtData.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/str.hpp"
#include "ext/cond.hpp"
#include "ext/ext.hpp"
#include "ext/support.hpp"

namespace xdpt {

// The match kinds, as registry.cpp names them.
extern const ExtKind match_tcp, match_udp, match_icmp, match_multiport, match_iprange,
    match_comment, match_conntrack, match_state, match_length, match_ttl, match_mac,
    match_limit, match_mark, match_sctp, match_addrtype, match_pkttype, match_dscp,
    match_connlimit, match_esp, match_ah, match_recent, match_hashlimit;
extern const ExtKind match_icmp6, match_hl, match_frag, match_ipv6header, match_rt, match_hbh, match_dst,
    match_eui64, match_mh, match_ah6, match_srh;
extern const ExtKind match_set, match_string, match_time, match_physdev, match_socket;

namespace matches {

using ext::Data;
using ext::make_data;
using ext::append_quoted;
using ext::hex;
using ext::warn;

// Turns a failed Result<T> into a failed Result<U> (for early returns).
template <class T>
std::unexpected<Error> failure(const Result<T>& r) {
    return std::unexpected(r.error());
}

// libxtables looks an x6 option up by its id, so an alias (udp --sport for
// --source-port) behaves exactly like the first entry with that id, and messages name
// that entry. Alias entries are declared with opt_multi|opt_invert so that the generic
// driver passes them through; AliasGuard then applies the first entry's rules.
const OptDef& canonical(std::span<const OptDef> opts, int id);

class AliasGuard {
public:
    Result<void> check(std::string_view ext, std::span<const OptDef> opts, const OptDef& opt,
                       bool invert);

private:
    unsigned seen_ = 0;
};

// XTTYPE_UINT8/16/32: the whole argument is a number in [min, max].
Result<uint32_t> parse_uint(std::string_view ext, std::string_view opt, std::string_view arg,
                            uint32_t min, uint32_t max);

// XTTYPE_UINT16RC/UINT32RC: "a", "a:b", ":b", "a:" (missing low = 0, missing high = max).
struct UintRange {
    uint32_t lo = 0, hi = 0;
    unsigned n = 0;  // components given (1 for "a", 2 for "a:b")
};
Result<UintRange> parse_uint_range(std::string_view ext, std::string_view opt,
                                   std::string_view arg, uint32_t max);

// XTTYPE_PORTRC: like a uint range, each side a port number or service resolved with
// getaddrinfo (any protocol).
struct PortPair {
    uint16_t lo = 0, hi = 0xffff;
};
Result<PortPair> parse_port_pair(std::string_view ext, std::string_view opt, std::string_view arg);

// XTTYPE_HOSTMASK of family `f`: "host[/mask]", host resolved with getaddrinfo (numeric
// forms as inet_aton / inet_pton read them, names through the resolver), mask a prefix
// length or a numeric mask of the family. The address is kept unmasked, as libxtables does.
struct AddrMask {
    IpAddr addr, mask;
};
Result<AddrMask> parse_host_mask(Family f, std::string_view ext, std::string_view opt, std::string_view arg);
// The same for IPv4, host order.
struct HostMask {
    uint32_t addr = 0, mask = 0xffffffff;
};
Result<HostMask> parse_host_mask(std::string_view ext, std::string_view opt, std::string_view arg);

// XTTYPE_HOST of family `f`: a name or numeric address through getaddrinfo; every
// answer must be the same address. The IPv4 one in host order.
Result<IpAddr> parse_host(Family f, std::string_view arg);
Result<uint32_t> parse_host(std::string_view arg);

// XTTYPE_PLEN: a prefix length 0..32 (0..128 for IPv6) or a numeric mask of the family,
// as a prefix length (255 for a non-contiguous mask, as libxtables stores -1 in its uint8_t).
Result<uint8_t> parse_plen(Family f, std::string_view ext, std::string_view opt, std::string_view arg);
Result<uint8_t> parse_plen(std::string_view ext, std::string_view opt, std::string_view arg);

// XTTYPE_PLENMASK: the same as a mask (a non-contiguous numeric mask ends up as a full
// one, as in libxtables). The IPv4 one in host order.
Result<IpAddr> parse_plen_mask(Family f, std::string_view ext, std::string_view opt, std::string_view arg);
Result<uint32_t> parse_plen_mask(std::string_view ext, std::string_view opt, std::string_view arg);


// How connlimit and hashlimit count a mask's bits: the width less, in each 32-bit word,
// the position of the highest zero bit (a contiguous mask's prefix length).
unsigned count_mask_bits(Family f, const IpAddr& mask);

// How the IPv6 extension header matches (frag, rt, ah of IPv6) list a u32 range: nothing
// when it is 0:4294967295 and not inverted, else `label` then ":[!]N" or "s:[!]N:M".
void print_u32_range(std::string& out, std::string_view label, uint32_t lo, uint32_t hi, bool inv);
// And save it: nothing for the full range (inverted or not; but in the `exact` form of
// ExtData::save_exact an inverted one), else "[ !] --opt N[:M]".
// `present`: the kernel structure flags the option as given (the stored form then keeps
// even a full range, which iptables-save leaves out).
void save_u32_range(std::string& out, std::string_view opt, uint32_t lo, uint32_t hi, bool inv, bool exact = false,
                    bool present = false);
// XTTYPE_UINT32RC and XTTYPE_UINT32 into a kernel structure's fields.
Result<void> parse_u32_pair(std::string_view ext, std::string_view opt, std::string_view arg, uint32_t (&dst)[2]);
Result<void> parse_u32(std::string_view ext, std::string_view opt, std::string_view arg, uint32_t& dst);

// strncasecmp(token, name, token.size()) == 0 with a non-empty token: the token is a
// case-insensitive prefix of `name`.
bool prefix_of(std::string_view token, std::string_view name);
bool equals_nocase(std::string_view a, std::string_view b);


}  // namespace matches
}  // namespace xdpt
