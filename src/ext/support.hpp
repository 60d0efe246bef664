// What every match and target extension (src/ext/matches, src/ext/targets) shares: the
// clone boilerplate of ExtData, iptables-save's string quoting, printf("0x%x"), the
// notices channel, and libxtables' XTTYPE_MARKMASK32 value.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "ext/ext.hpp"

namespace xdpt::ext {

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

// xtables_save_string: a leading space, then the value bare when it is made only of
// [A-Za-z0-9_-] (and not empty), else in double quotes with " \ ' escaped by a backslash.
void append_quoted(std::string& out, std::string_view v);

// printf("0x%x").
std::string hex(uint32_t v);

// A warning that iptables writes to stderr on its own while going on: it goes where the
// caller collects notices, and nowhere when stored state is re-read.
void warn(const ExtCtx& ctx, std::string_view text);

struct MarkMask {
    uint32_t mark = 0, mask = 0xffffffff;
};

// How MARK and CONNMARK list "zero the bits of mask, XOR mark in": " NAME and 0x..",
// " NAME or 0x..", " NAME xor 0x..", " NAME set 0x..", else " NAME xset mark/mask".
std::string xmark_listing(std::string_view name, uint32_t mark, uint32_t mask);

// XTTYPE_MARKMASK32: "value[/mask]", each a number as strtoul base 0 reads it. Messages
// name the extension `ext` and the option `--opt`.
Result<MarkMask> parse_mark_mask(std::string_view ext, std::string_view opt, std::string_view arg);

}  // namespace xdpt::ext
