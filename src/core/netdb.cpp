#include "core/netdb.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <utility>

#include "grammar/values.hpp"

namespace xdpt::netdb {

namespace {

// The answers of the NSS databases, remembered for the life of the process: a ruleset of
// 10,000 rules asks the same few questions 10,000 times (each answer costs NSS an nscd
// attempt and a read of /etc/protocols or /etc/services).
template <class K, class V, class F>
const V& memo(std::map<K, V>& cache, const K& key, F&& compute) {
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, compute()).first;
    return it->second;
}

// libxtables' xtables_chain_protos: consulted before the NSS database both ways, so that a
// ruleset using only these names never reads /etc/protocols; a number's name is the first
// entry that has it.
constexpr std::array<std::pair<std::string_view, uint16_t>, 13> chain_protos{{
    {"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1},
    {"ipv6-icmp", 58}, {"icmpv6", 58}, {"esp", 50}, {"ah", 51},
    {"mobility-header", 135}, {"ipv6-mh", 135}, {"mh", 135}, {"all", 0},
}};
}  // namespace

std::optional<uint16_t> parse_protocol(std::string_view name) {
    if (auto v = grammar::to_uint(name, 0, 255)) return static_cast<uint16_t>(*v);
    for (auto [pn, num] : chain_protos)
        if (pn == name) return num;
    static std::map<std::string, std::optional<uint16_t>> cache;
    return memo(cache, std::string(name), [&]() -> std::optional<uint16_t> {
        std::string n(name);
        if (const protoent* p = getprotobyname(n.c_str())) return static_cast<uint16_t>(p->p_proto);
        return std::nullopt;
    });
}

std::optional<std::string_view> builtin_protocol_name(uint16_t proto) {
    for (auto [pn, num] : chain_protos)
        if (num == proto) return pn;
    return std::nullopt;
}

std::optional<std::string> protocol_name(uint16_t proto) {
    static std::map<uint16_t, std::optional<std::string>> cache;
    if (auto b = builtin_protocol_name(proto)) return std::string(*b);
    return memo(cache, proto, [&]() -> std::optional<std::string> {
        if (proto != 0)
            if (const protoent* p = getprotobynumber(proto)) return std::string(p->p_name);
        return std::nullopt;
    });
}

std::optional<uint16_t> parse_port(std::string_view s, const char* proto) {
    if (auto v = grammar::to_uint(s, 0, 65535)) return static_cast<uint16_t>(*v);
    static std::map<std::pair<std::string, std::string>, std::optional<uint16_t>> cache;
    return memo(cache, std::pair{std::string(s), std::string(proto ? proto : "")}, [&]() -> std::optional<uint16_t> {
        std::string n(s);
        if (const servent* se = getservbyname(n.c_str(), proto)) return ntohs(static_cast<uint16_t>(se->s_port));
        return std::nullopt;
    });
}

std::optional<std::string> service_name(uint16_t port, const char* proto) {
    static std::map<std::pair<uint16_t, std::string>, std::optional<std::string>> cache;
    return memo(cache, std::pair{port, std::string(proto ? proto : "")}, [&]() -> std::optional<std::string> {
        if (const servent* se = getservbyport(htons(port), proto)) return std::string(se->s_name);
        return std::nullopt;
    });
}

std::vector<uint32_t> resolve_host(std::string_view name) {
    std::vector<uint32_t> out;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_RAW;
    addrinfo* res = nullptr;
    std::string n(name);
    if (getaddrinfo(n.c_str(), nullptr, &hints, &res) != 0) return out;
    for (addrinfo* p = res; p; p = p->ai_next) {
        auto a = ntohl(reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr.s_addr);
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    freeaddrinfo(res);
    return out;
}

std::vector<IpAddr> resolve_host(Family f, std::string_view name) {
    std::vector<IpAddr> out;
    if (f == Family::ipv4) {
        for (uint32_t a : resolve_host(name)) out.push_back(IpAddr::from_v4(a));
        return out;
    }
    addrinfo hints{};
    hints.ai_family = AF_INET6;
    hints.ai_socktype = SOCK_RAW;
    addrinfo* res = nullptr;
    std::string n(name);
    if (getaddrinfo(n.c_str(), nullptr, &hints, &res) != 0) return out;
    for (addrinfo* p = res; p; p = p->ai_next) {
        IpAddr a;
        std::memcpy(a.b.data(), &reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr, 16);
        out.push_back(a);
    }
    freeaddrinfo(res);
    return out;
}

std::string addr_to_anyname(Family f, const IpAddr& a) {
    if (f == Family::ipv4) return ipv4_to_anyname(a.v4());
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    std::memcpy(&sa.sin6_addr, a.b.data(), 16);
    char host[NI_MAXHOST];
    if (getnameinfo(reinterpret_cast<sockaddr*>(&sa), sizeof sa, host, sizeof host - 1, nullptr, 0, 0) == 0) return host;
    return grammar::ipv6_to_text(a);
}

std::string ipv4_to_anyname(uint32_t addr) {
    if (netent* ne = getnetbyaddr(addr, AF_INET)) return ne->n_name;
    in_addr a{htonl(addr)};
    if (hostent* he = gethostbyaddr(&a, sizeof(a), AF_INET)) return he->h_name;
    return grammar::ipv4_to_dotted(addr);
}

}  // namespace xdpt::netdb
