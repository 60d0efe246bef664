#include "ext/ports.hpp"

#include "core/netdb.hpp"
#include "core/str.hpp"
#include "grammar/values.hpp"

namespace xdpt::ext {

Result<uint16_t> parse_port(std::string_view s, const char* proto) {
    if (auto p = netdb::parse_port(s, proto)) return *p;
    return param_fail(str("invalid port/service `", s, "' specified"));
}

Result<PortRange> parse_port_range(std::string_view s, const char* proto) {
    auto r = grammar::split_range(s);
    if (!r.has_colon) {
        auto p = parse_port(s, proto);
        if (!p) return std::unexpected(p.error());
        return PortRange{*p, *p};
    }
    PortRange pr{0, 0xffff};
    if (!r.lo.empty()) {
        auto p = parse_port(r.lo, proto);
        if (!p) return std::unexpected(p.error());
        pr.lo = *p;
    }
    if (!r.hi.empty()) {
        auto p = parse_port(r.hi, proto);
        if (!p) return std::unexpected(p.error());
        pr.hi = *p;
    }
    if (pr.lo > pr.hi) return param_fail("invalid portrange (min > max)");
    return pr;
}

std::string port_text(uint16_t port, bool numeric, const char* proto) {
    if (!numeric)
        if (auto n = netdb::service_name(port, proto)) return *n;
    return std::to_string(port);
}

void PortMatch::save(std::string& out, std::string_view opt, bool exact) const {
    if (full() && !(exact && inv)) return;
    if (inv) out += " !";
    out += str(" --", opt, ' ', range.lo);
    if (range.lo != range.hi) out += str(':', range.hi);
}

void PortMatch::print(std::string& out, std::string_view name, bool numeric, const char* proto) const {
    if (full() && !inv) return;
    const char* bang = inv ? "!" : "";
    if (range.lo == range.hi)
        out += str(' ', name, ':', bang, port_text(range.lo, numeric, proto));
    else
        out += str(' ', name, "s:", bang, port_text(range.lo, numeric, proto), ':', port_text(range.hi, numeric, proto));
}

}  // namespace xdpt::ext
