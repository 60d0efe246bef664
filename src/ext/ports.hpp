// Port and port-range helpers shared by tcp, udp and multiport.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "ext/cond.hpp"

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

// A --sport or --dport of the tcp and udp matches: a range, maybe inverted.
struct PortMatch {
    PortRange range;
    bool inv = false;

    bool full() const { return range.lo == 0 && range.hi == 0xffff; }
    // " --sport 1:2"; iptables 1.8.9 leaves a full range out even when inverted. The
    // stored form (`exact`) keeps an inverted one: it never matches.
    void save(std::string& out, std::string_view opt, bool exact = false) const;
    // " spts:!1:2" (`name` "spt"), ports of `proto` named unless numeric.
    void print(std::string& out, std::string_view name, bool numeric, const char* proto) const;
    // The ports it lets through, as the kernel's port_match() decides.
    ValueSet allowed() const { return ValueSet::range(range.lo, range.hi, inv, 0xffff); }
};

}  // namespace xdpt::ext
