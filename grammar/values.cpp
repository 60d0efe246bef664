#include "grammar/values.hpp"

#include <boost/spirit/home/x3.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include <arpa/inet.h>

namespace x3 = boost::spirit::x3;

namespace xdpt::grammar {

std::optional<PartialUint> to_uint_prefix(std::string_view s, unsigned base) {
    std::string buf(s);
    const char* p = buf.c_str();
    while (std::isspace(static_cast<unsigned char>(*p))) ++p;
    if (*p == '-') return std::nullopt;
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(buf.c_str(), &end, static_cast<int>(base));
    if (end == buf.c_str() || errno == ERANGE) return std::nullopt;
    return PartialUint{v, static_cast<size_t>(end - buf.c_str())};
}

std::optional<uint64_t> plain_decimal(std::string_view s) {
    // At most 19 digits: no overflow. A leading 0 (other than "0" itself) is octal in base 0.
    if (s.empty() || s.size() > 19 || (s[0] == '0' && s.size() > 1)) return std::nullopt;
    uint64_t v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return std::nullopt;
        v = v * 10 + uint64_t(ch - '0');
    }
    return v;
}

std::optional<uint64_t> to_uint(std::string_view s, uint64_t min, uint64_t max, unsigned base) {
    // Most numbers are plain decimal digits, read the same in base 0 and 10 (strtoull
    // itself, with its copy into a C string, costs more than the rest of reading them).
    std::optional<uint64_t> v = base == 0 || base == 10 ? plain_decimal(s) : std::nullopt;
    if (!v)
        if (auto r = to_uint_prefix(s, base); r && r->used == s.size()) v = r->value;
    if (!v || *v < min || (max != 0 && *v > max)) return std::nullopt;
    return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (;;) {
        size_t pos = s.find(sep, start);
        if (pos == std::string_view::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, pos - start));
        start = pos + 1;
    }
}

std::optional<uint32_t> dotted_to_ipv4(std::string_view s, bool is_mask) {
    // libxtables copies into a 20-byte buffer first: longer text is cut there.
    if (s.size() > 19) s = s.substr(0, 19);
    // Up to four components; a fifth means the fourth contained dots and fails the
    // number check. Components left out are 0 (not in a mask).
    std::string_view parts[4];
    size_t n = 0;
    for (size_t start = 0;;) {
        if (n == 4) return std::nullopt;
        const size_t dot = s.find('.', start);
        parts[n++] = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (n < 4 && is_mask) return std::nullopt;
    uint32_t addr = 0;
    for (size_t i = 0; i < n; ++i) {
        auto v = to_uint(parts[i], 0, 255);
        if (!v) return std::nullopt;
        addr |= static_cast<uint32_t>(*v) << (24 - 8 * i);
    }
    return addr;
}

std::string ipv4_to_dotted(uint32_t a) {
    return std::to_string(a >> 24) + '.' + std::to_string((a >> 16) & 0xff) + '.' +
           std::to_string((a >> 8) & 0xff) + '.' + std::to_string(a & 0xff);
}

std::optional<IpAddr> text_to_ipv6(std::string_view s) {
    const std::string z(s);
    IpAddr a;
    if (inet_pton(AF_INET6, z.c_str(), a.b.data()) != 1) return std::nullopt;
    return a;
}

std::string ipv6_to_text(const IpAddr& a) {
    char buf[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, a.b.data(), buf, sizeof buf);
}

std::optional<IpAddr> text_to_addr(Family f, std::string_view s, bool is_mask) {
    if (f == Family::ipv6) return text_to_ipv6(s);
    return dotted_to_ipv4(s, is_mask).transform(IpAddr::from_v4);
}

std::string addr_to_text(Family f, const IpAddr& a) {
    return f == Family::ipv4 ? ipv4_to_dotted(a.v4()) : ipv6_to_text(a);
}

std::string mask_suffix(Family f, const IpAddr& mask) {
    const FamilySpec& fs = spec_of(f);
    const int len = mask.prefix_len(fs.addr_bytes);
    if (len == int(fs.addr_bits())) return "";
    if (len < 0) return "/" + addr_to_text(f, mask);
    return "/" + std::to_string(len);
}

RangeText split_range(std::string_view s, char sep) {
    auto pos = s.find(sep);
    if (pos == std::string_view::npos) return {s, s, false};
    return {s.substr(0, pos), s.substr(pos + 1), true};
}

std::optional<std::vector<std::string>> tokenize_restore_line(std::string_view line) {
    // iptables-restore's argument syntax: blanks (space, tab, newline) separate; a double
    // quote opens a group in which a backslash escapes the next character; the closing
    // quote ends the argument (even an empty one); outside quotes a backslash is literal;
    // a quote may follow unquoted text directly and continues the same argument.
    using x3::char_;
    using x3::lit;
    const auto blank = char_(" \t\n");
    const auto quoted = x3::rule<class quoted, std::string>{} =
        lit('"') >> *((lit('\\') >> char_) | ~char_('"')) >> (lit('"') | x3::eoi);
    const auto plain = x3::rule<class plain, std::string>{} = +(~char_(" \t\n\""));
    const auto token = x3::rule<class token, std::string>{} = (plain >> -quoted) | quoted;
    const auto line_g = x3::omit[*blank] >> *(token >> x3::omit[*blank]);

    std::vector<std::string> out;
    out.reserve(16);
    auto first = line.begin();
    if (!x3::parse(first, line.end(), line_g, out) || first != line.end()) return std::nullopt;
    return out;
}

std::optional<CounterPair> parse_counter_pair(std::string_view s) {
    using x3::lit;
    using x3::ulong_long;
    CounterPair c{};
    auto first = s.begin();
    auto set_p = [&](auto& ctx) { c.pkts = x3::_attr(ctx); };
    auto set_b = [&](auto& ctx) { c.bytes = x3::_attr(ctx); };
    bool ok = x3::parse(first, s.end(),
                        lit('[') >> ulong_long[set_p] >> ':' >> ulong_long[set_b] >> ']');
    if (!ok || first != s.end()) return std::nullopt;
    return c;
}

}  // namespace xdpt::grammar
