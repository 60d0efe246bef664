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
#include "ext/support.hpp"
#include "grammar/values.hpp"

namespace xdpt::targets {

using ext::Data;
using ext::make_data;
using ext::append_quoted;
using ext::hex;
using ext::warn;

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

}  // namespace xdpt::targets
