// Pieces shared by the target extensions (src/ext/targets): the value types of
// libxtables' x6 parser with their exact messages, the iptables-save string quoting, and
// the clone boilerplate of ExtData.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/str.hpp"
#include "ext/ext.hpp"
#include "grammar/values.hpp"

namespace xdpt::targets {

// ExtData with clone() written once: `class FooData : public Data<FooData>`.
template <class D>
class Data : public ExtData {
public:
    std::unique_ptr<ExtData> clone() const override {
        return std::make_unique<D>(static_cast<const D&>(*this));
    }
};

template <class D>
std::unique_ptr<ExtData> make_data() {
    return std::make_unique<D>();
}

// XTTYPE_UINT8/16/32 with .min/.max: the whole argument is a number in [min, max].
inline Result<uint32_t> parse_uint(std::string_view ext, const OptDef& opt, std::string_view arg,
                                   uint32_t min, uint32_t max) {
    if (auto v = grammar::to_uint(arg, min, max)) return static_cast<uint32_t>(*v);
    return param_fail(str(ext, ": bad value for option \"--", opt.name, "\", or out of range (", min, "-", max, ").\n"));
}

// XTTYPE_STRING with .min and a destination of `size` bytes: shorter than `min` is an
// error, longer than size-1 is cut silently.
inline Result<std::string> parse_string(std::string_view arg, size_t min, size_t size) {
    arg = arg.substr(0, arg.find('\0'));  // a C string for libxtables
    if (min != 0 && arg.size() < min)
        return param_fail(str("Argument must have a minimum length of ", min, " characters\n"));
    if (arg.size() >= size) arg = arg.substr(0, size - 1);
    return std::string(arg);
}

// xtables_save_string: a leading space, then the value bare when it is made only of
// [A-Za-z0-9_-] (and not empty), else in double quotes with " \ ' escaped by a backslash.
inline void append_quoted(std::string& out, std::string_view v) {
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

// A warning that iptables writes to stderr on its own before going on (or failing); it
// goes where the caller collects notices, and nowhere when stored state is re-read.
inline void warn(const ExtCtx& ctx, std::string_view text) {
    if (ctx.notices) ctx.notices->append(text);
}

// 0x%x
inline std::string hex(uint32_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    do {
        s.insert(s.begin(), digits[v & 0xf]);
        v >>= 4;
    } while (v);
    return "0x" + s;
}

}  // namespace xdpt::targets
