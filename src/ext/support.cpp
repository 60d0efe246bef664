#include "ext/support.hpp"

#include "core/str.hpp"
#include "grammar/values.hpp"

namespace xdpt::ext {

void append_quoted(std::string& out, std::string_view v) {
    auto plain = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    };
    bool bare = !v.empty();
    for (char c : v) bare = bare && plain(c);
    out += ' ';
    if (bare) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        if (c == '"' || c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    out += '"';
}

std::string hex(uint32_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digits[v & 0xf]);
        v >>= 4;
    } while (v);
    return "0x" + s;
}

void warn(const ExtCtx& ctx, std::string_view text) {
    if (ctx.notices) ctx.notices->append(text);
}

std::string xmark_listing(std::string_view name, uint32_t mark, uint32_t mask) {
    if (mark == 0) return str(' ', name, " and ", hex(~mask));
    if (mark == mask) return str(' ', name, " or ", hex(mark));
    if (mask == 0) return str(' ', name, " xor ", hex(mark));
    if (mask == 0xffffffff) return str(' ', name, " set ", hex(mark));
    return str(' ', name, " xset ", hex(mark), '/', hex(mask));
}

Result<MarkMask> parse_mark_mask(std::string_view ext, std::string_view opt, std::string_view arg) {
    auto bad = [&] {
        return param_fail(str(ext, ": bad integer value for option \"--", opt, "\", or out of range.\n"));
    };
    auto garbage = [&] { return param_fail(str(ext, ": trailing garbage after value for option \"--", opt, "\".\n")); };
    auto v = grammar::to_uint_prefix(arg);
    if (!v || v->value > 0xffffffff) return bad();
    MarkMask r{static_cast<uint32_t>(v->value), 0xffffffff};
    std::string_view rest = arg.substr(v->used);
    if (rest.empty()) return r;
    if (rest.front() != '/') return garbage();
    auto m = grammar::to_uint_prefix(rest.substr(1));
    if (!m || m->value > 0xffffffff) return bad();
    r.mask = static_cast<uint32_t>(m->value);
    if (m->used != rest.size() - 1) return garbage();
    return r;
}

}  // namespace xdpt::ext
