// Name lookups the way libxtables does them (protocols, services, hosts, networks).
// Only called when the user gave a name or asked for names (no -n).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/family.hpp"

namespace xdpt::netdb {

// xtables_parse_protocol without the error: number 0..255, iptables' builtin protocol
// names, then /etc/protocols.
std::optional<uint16_t> parse_protocol(std::string_view name);
// proto_to_name(): iptables' builtin name, or the /etc/protocols name, or nothing.
std::optional<std::string> protocol_name(uint16_t proto);
// iptables' builtin table only (xtables_chain_protos), used to find protocol matches.
std::optional<std::string_view> builtin_protocol_name(uint16_t proto);

// xtables_parse_port without the error: number 0..65535 or a service for `proto`.
std::optional<uint16_t> parse_port(std::string_view s, const char* proto);
std::optional<std::string> service_name(uint16_t port, const char* proto);

// Hosts: every IPv4 address a name resolves to (getaddrinfo), in order, deduplicated.
std::vector<uint32_t> resolve_host(std::string_view name);
// Every address of family `f` a name resolves to, as libxtables takes them: IPv4
// deduplicated, IPv6 as getaddrinfo lists them (host_to_ip6addr).
std::vector<IpAddr> resolve_host(Family f, std::string_view name);
// xtables_ipaddr_to_anyname: network name, host name, or dotted quad.
std::string ipv4_to_anyname(uint32_t addr);
// The same for either family (xtables_ip6addr_to_anyname: getnameinfo's host name,
// numeric when there is none).
std::string addr_to_anyname(Family f, const IpAddr& a);

}  // namespace xdpt::netdb
