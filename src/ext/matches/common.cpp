#include "ext/matches/common.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <strings.h>

#include <cstring>
#include <map>

#include "grammar/values.hpp"

namespace xdpt::matches {

namespace {

// What libxtables sees of an argument: a C string.
std::string_view c_string(std::string_view s) { return s.substr(0, s.find('\0')); }

// xtables_getportbyname: getaddrinfo with no host and no hints; the port of the first
// IPv6 or IPv4 answer.
std::optional<uint16_t> port_by_name_uncached(std::string_view name) {
    std::string n(name);
    addrinfo* res = nullptr;
    if (getaddrinfo(nullptr, n.c_str(), nullptr, &res) != 0) return std::nullopt;
    std::optional<uint16_t> port;
    for (addrinfo* p = res; p && !port; p = p->ai_next) {
        if (p->ai_family == AF_INET6)
            port = ntohs(reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_port);
        else if (p->ai_family == AF_INET)
            port = ntohs(reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_port);
    }
    freeaddrinfo(res);
    return port;
}

// Remembered per process: restoring 10,000 rules asks for the same few ports, and each
// getaddrinfo() costs a netlink round trip and two nscd attempts.
std::optional<uint16_t> port_by_name(std::string_view name) {
    // A decimal number is its own port for getaddrinfo (strtoul base 10, whole string).
    if (!name.empty() && name.size() <= 5 && name.find_first_not_of("0123456789") == std::string_view::npos) {
        unsigned v = 0;
        for (char c : name) v = v * 10 + unsigned(c - '0');
        if (v <= 0xffff) return uint16_t(v);
    }
    static std::map<std::string, std::optional<uint16_t>, std::less<>> cache;
    auto it = cache.find(name);
    if (it == cache.end()) it = cache.emplace(std::string(name), port_by_name_uncached(name)).first;
    return it->second;
}


}  // namespace

// xtopt_parse_host: getaddrinfo of the family; every answer must be the same address.
Result<IpAddr> parse_host(Family f, std::string_view arg) {
    addrinfo hints{};
    hints.ai_family = f == Family::ipv6 ? AF_INET6 : AF_INET;
    addrinfo* res = nullptr;
    std::string n(arg);
    if (int rc = getaddrinfo(n.c_str(), nullptr, &hints, &res); rc != 0)
        return param_fail(str("getaddrinfo: ", gai_strerror(rc), "\n"));
    std::optional<IpAddr> addr;
    bool several = false;
    for (addrinfo* p = res; p; p = p->ai_next) {
        IpAddr a;
        if (p->ai_family == AF_INET6)
            std::memcpy(a.b.data(), &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, 16);
        else
            std::memcpy(a.b.data(), &reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr, 4);
        if (addr && *addr != a) several = true;
        if (!addr) addr = a;
    }
    freeaddrinfo(res);
    if (several) return param_fail(str(arg, " resolves to more than one address\n"));
    return addr.value_or(IpAddr{});
}

Result<uint32_t> parse_host(std::string_view arg) {
    auto a = parse_host(Family::ipv4, arg);
    if (!a) return failure(a);
    return a->v4();
}

const OptDef& canonical(std::span<const OptDef> opts, int id) {
    for (const auto& o : opts)
        if (o.id == id) return o;
    return opts.front();
}

Result<void> AliasGuard::check(std::string_view ext, std::span<const OptDef> opts,
                               const OptDef& opt, bool invert) {
    const OptDef& canon = canonical(opts, opt.id);
    const unsigned bit = 1u << opt.id;
    if (&canon != &opt) {
        if ((seen_ & bit) && !(canon.flags & opt_multi))
            return param_fail(str(ext, ": option \"--", canon.name, "\" can only be used once.\n"));
        if (invert && !(canon.flags & opt_invert))
            return param_fail(str(ext, ": option \"--", canon.name, "\" cannot be inverted.\n"));
    }
    seen_ |= bit;
    return {};
}

Result<uint32_t> parse_uint(std::string_view ext, std::string_view opt, std::string_view arg,
                            uint32_t min, uint32_t max) {
    if (auto v = grammar::to_uint(c_string(arg), min, max)) return static_cast<uint32_t>(*v);
    return param_fail(str(ext, ": bad value for option \"--", opt, "\", or out of range (", min, "-", max, ").\n"));
}

Result<UintRange> parse_uint_range(std::string_view ext, std::string_view opt,
                                   std::string_view arg, uint32_t max) {
    arg = c_string(arg);
    uint32_t vals[2] = {0, 0};
    unsigned n = 0;
    size_t pos = 0;
    for (;;) {
        if (n == 2)
            return param_fail(str(ext, ": Too many components for option \"--", opt, "\" (max: 2)\n"));
        std::string_view rest = arg.substr(pos);
        uint32_t value;
        size_t used = 0;
        if (rest.empty() || rest.front() == ':') {
            value = n == 1 ? max : 0;
        } else {
            auto v = grammar::to_uint_prefix(rest);
            if (!v || v->value > max)
                return param_fail(str(ext, ": bad value for option \"--", opt, "\" near \"", rest, "\", or out of range (0-", max, ").\n"));
            used = v->used;
            if (used < rest.size() && rest[used] != ':')
                return param_fail(str(ext, ": Argument to \"--", opt, "\" has unexpected characters near \"", rest.substr(used), "\".\n"));
            value = static_cast<uint32_t>(v->value);
        }
        vals[n++] = value;
        if (used == rest.size()) break;
        pos += used + 1;
    }
    return UintRange{vals[0], n >= 2 ? vals[1] : vals[0], n};
}

Result<PortPair> parse_port_pair(std::string_view ext, std::string_view opt, std::string_view arg) {
    uint16_t vals[2] = {0, 0xffff};
    unsigned n = 0;
    for (auto tok : grammar::split(c_string(arg), ':')) {
        if (n == 2)
            return param_fail(str(ext, ": Too many components for option \"--", opt, "\" (max: 2)\n"));
        if (!tok.empty()) {
            auto p = port_by_name(tok);
            if (!p) return param_fail(str("Port \"", tok, "\" does not resolve to anything.\n"));
            vals[n] = *p;
        }
        ++n;
    }
    if (n == 1) vals[1] = vals[0];
    return PortPair{vals[0], vals[1]};
}

Result<AddrMask> parse_host_mask(Family f, std::string_view ext, std::string_view opt, std::string_view arg) {
    arg = c_string(arg);
    auto slash = arg.find('/');
    auto host = parse_host(f, arg.substr(0, slash));
    if (!host) return failure(host);
    const unsigned width = spec_of(f).addr_bits();
    if (slash == std::string_view::npos) return AddrMask{*host, IpAddr::prefix_mask(width)};
    auto mask = parse_plen_mask(f, ext, opt, arg.substr(slash + 1));
    if (!mask) return failure(mask);
    return AddrMask{*host, *mask};
}

Result<HostMask> parse_host_mask(std::string_view ext, std::string_view opt, std::string_view arg) {
    auto hm = parse_host_mask(Family::ipv4, ext, opt, arg);
    if (!hm) return failure(hm);
    return HostMask{hm->addr.v4(), hm->mask.v4()};
}

// xtopt_parse_plen: a prefix length 0..32 (0..128), else a numeric mask of the family
// read as its prefix length (255, uint8_t of -1, for a non-contiguous one).
Result<uint8_t> parse_plen(Family f, std::string_view ext, std::string_view opt, std::string_view arg) {
    arg = c_string(arg);
    const FamilySpec& fs = spec_of(f);
    if (auto len = grammar::to_uint(arg, 0, fs.addr_bits())) return static_cast<uint8_t>(*len);
    addrinfo hints{};
    hints.ai_family = f == Family::ipv6 ? AF_INET6 : AF_INET;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* res = nullptr;
    std::string n(arg);
    if (getaddrinfo(n.c_str(), nullptr, &hints, &res) != 0)
        return param_fail(str(ext, ": bad value for option \"--", opt, "\", neither a valid network mask nor valid CIDR (0-",
                              fs.addr_bits(), ").\n"));
    IpAddr m;
    if (f == Family::ipv6) std::memcpy(m.b.data(), &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, 16);
    else std::memcpy(m.b.data(), &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, 4);
    freeaddrinfo(res);
    return static_cast<uint8_t>(m.prefix_len(fs.addr_bytes));
}

Result<uint8_t> parse_plen(std::string_view ext, std::string_view opt, std::string_view arg) {
    return parse_plen(Family::ipv4, ext, opt, arg);
}

// xtopt_parse_plenmask: the prefix length of xtopt_parse_plen as a mask (a
// non-contiguous numeric mask ends up as a full one, as in libxtables).
Result<IpAddr> parse_plen_mask(Family f, std::string_view ext, std::string_view opt, std::string_view arg) {
    auto len = parse_plen(f, ext, opt, arg);
    if (!len) return failure(len);
    const unsigned width = spec_of(f).addr_bits();
    return IpAddr::prefix_mask(*len > width ? width : *len);
}

Result<uint32_t> parse_plen_mask(std::string_view ext, std::string_view opt, std::string_view arg) {
    auto m = parse_plen_mask(Family::ipv4, ext, opt, arg);
    if (!m) return failure(m);
    return m->v4();
}

unsigned count_mask_bits(Family f, const IpAddr& mask) {
    const FamilySpec& fs = spec_of(f);
    unsigned bits = 0;
    for (unsigned w = 0; w < fs.addr_bytes; w += 4) {
        uint32_t word = ~(uint32_t(mask.b[w]) << 24 | uint32_t(mask.b[w + 1]) << 16 | uint32_t(mask.b[w + 2]) << 8 | mask.b[w + 3]);
        for (; word; word >>= 1) ++bits;
    }
    return fs.addr_bits() - bits;
}

bool prefix_of(std::string_view token, std::string_view name) {
    return !token.empty() && token.size() <= name.size() &&
           strncasecmp(token.data(), name.data(), token.size()) == 0;
}

bool equals_nocase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

void print_u32_range(std::string& out, std::string_view label, uint32_t lo, uint32_t hi, bool inv) {
    if (lo == 0 && hi == 0xffffffff && !inv) return;
    out += str(label, lo == hi ? ":" : "s:", inv ? "!" : "", lo);
    if (lo != hi) out += str(':', hi);
}

void save_u32_range(std::string& out, std::string_view opt, uint32_t lo, uint32_t hi, bool inv, bool exact,
                    bool present) {
    if (lo == 0 && hi == 0xffffffff && !(exact && (inv || present))) return;
    out += str(inv ? " !" : "", " --", opt, ' ', lo);
    if (lo != hi) out += str(':', hi);
}

Result<void> parse_u32_pair(std::string_view ext, std::string_view opt, std::string_view arg, uint32_t (&dst)[2]) {
    auto r = parse_uint_range(ext, opt, arg, 0xffffffff);
    if (!r) return failure(r);
    dst[0] = r->lo, dst[1] = r->hi;
    return {};
}

Result<void> parse_u32(std::string_view ext, std::string_view opt, std::string_view arg, uint32_t& dst) {
    auto v = parse_uint(ext, opt, arg, 0, 0xffffffff);
    if (!v) return failure(v);
    dst = *v;
    return {};
}


}  // namespace xdpt::matches
