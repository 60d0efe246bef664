// Port and port-range helpers shared by tcp, udp and multiport.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace xdpt::ext {

struct PortRange {
    uint16_t lo = 0, hi = 0xffff;
    bool operator==(const PortRange&) const = default;
};

// xtables_parse_port with its error message.
Result<uint16_t> parse_port(std::string_view s, const char* proto);
// parse_tcp_ports / parse_udp_ports: "p", "a:b", ":b", "a:".
Result<PortRange> parse_port_range(std::string_view s, const char* proto);
// print_port: the service name for `proto` unless numeric, else the number.
std::string port_text(uint16_t port, bool numeric, const char* proto);

}  // namespace xdpt::ext
