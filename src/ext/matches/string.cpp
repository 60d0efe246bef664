// -m string: a byte pattern searched in the packet by one of the kernel's textsearch
// algorithms (xt_string revision 1, with --icase). The payload is not looked at in XDP:
// rules with it are left to netfilter (no to_xdp).
#include <linux/netfilter/xt_string.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_from, o_to, o_algo, o_icase, o_string, o_hex_string };

constexpr std::array<OptDef, 6> string_opts{{
    {.name = "from", .id = o_from},
    {.name = "to", .id = o_to},
    {.name = "algo", .id = o_algo, .flags = opt_mand},
    {.name = "string", .id = o_string, .flags = opt_invert, .excl = 1u << o_hex_string},
    {.name = "hex-string", .id = o_hex_string, .flags = opt_invert, .excl = 1u << o_string},
    {.name = "icase", .id = o_icase, .has_arg = false},
}};

constexpr size_t max_pattern = XT_STRING_MAX_PATTERN_SIZE;

bool is_xdigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
uint8_t xdigit_value(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }
bool is_print(uint8_t c) { return c >= 0x20 && c < 0x7f; }  // isprint in the C locale

Result<std::string> too_long(std::string_view s) { return param_fail(str("STRING too long \"", s, "\"")); }

// libxt_string's --hex-string syntax: bytes as they are, "|41 42|" blocks of hex pairs
// (blanks after the opening bar and after a pair are skipped), "\c" for a literal c
// outside a block.
Result<std::string> parse_hex_string(std::string_view s) {
    if (s.empty()) return param_fail("STRING must contain at least one char");
    std::string out;
    bool hex = false, literal = false;
    const size_t n = s.size();
    auto at = [&](size_t k) { return k < n ? s[k] : '\0'; };
    for (size_t i = 0; i < n;) {
        if (out.size() >= max_pattern) return too_long(s);
        if (s[i] == '\\') {
            if (hex) return param_fail("Cannot include literals in hex data");
            literal = true;
        } else if (s[i] == '|') {
            if (!hex) {
                while (at(i + 1) == ' ') ++i;
            }
            hex = !hex;
            if (i + 1 >= n) break;
            ++i;
        }
        if (literal) {
            if (i + 1 >= n) return param_fail("Bad literal placement at end of string");
            out += s[i + 1];
            i += 2;
            literal = false;
        } else if (hex) {
            if (i + 1 >= n) return param_fail("Odd number of hex digits");
            if (i + 2 >= n) return param_fail("Invalid hex block");  // no closing bar
            for (size_t k : {i, i + 1})
                if (!is_xdigit(s[k])) return param_fail(str("Invalid hex char '", s[k], "'"));
            out += static_cast<char>(xdigit_value(s[i]) << 4 | xdigit_value(s[i + 1]));
            i += s[i + 2] == ' ' ? 3 : 2;
        } else {
            out += s[i++];
        }
    }
    return out;
}

// The kernel's ts_fsm tokens (include/linux/textsearch_fsm.h, not exported): a type up
// to TS_FSM_SPACE, a recurrence up to TS_FSM_HEAD_IGNORE, which only a first token of
// several may have.
constexpr unsigned fsm_type_max = 13, fsm_recur_max = 4, fsm_head_ignore = 4;
bool fsm_accepts(std::string_view pattern, bool icase) {
    constexpr size_t token = 4;  // struct ts_fsm_token { __u16 type; __u8 recur; __u8 value; }
    const size_t tokens = pattern.size() / token;
    if (pattern.size() % token || tokens < 1 || icase) return false;
    for (size_t i = 0; i < tokens; ++i) {
        const auto* t = reinterpret_cast<const uint8_t*>(pattern.data()) + i * token;
        uint16_t type;
        std::memcpy(&type, t, sizeof type);  // host order, as the kernel reads it
        if (type > fsm_type_max || t[2] > fsm_recur_max) return false;
        if (t[2] == fsm_head_ignore && (i != 0 || i == tokens - 1)) return false;
    }
    return true;
}

class StringData : public Data<StringData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        arg = arg.substr(0, arg.find('\0'));
        switch (opt.id) {
        case o_from: case o_to: {
            auto v = parse_uint("string", opt.name, arg, 0, 0xffff);
            if (!v) return failure(v);
            (opt.id == o_from ? from_ : to_) = static_cast<uint16_t>(*v);
            return {};
        }
        case o_algo:  // XTTYPE_STRING put into algo[16]: longer names are cut
            algo_ = std::string(arg.substr(0, XT_STRING_MAX_ALGO_NAME_SIZE - 1));
            return {};
        case o_icase: icase_ = true; return {};
        case o_string:
            if (arg.size() > max_pattern) return failure(too_long(arg));
            pattern_ = std::string(arg);
            break;
        default: {
            auto p = parse_hex_string(arg);
            if (!p) return failure(p);
            pattern_ = std::move(*p);
        }
        }
        invert_ = invert;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (!(seen & (1u << o_string | 1u << o_hex_string)))
            return param_fail("STRING match: You must specify `--string' or `--hex-string'");
        return {};
    }

    // string_mt_check and textsearch_prepare: a window that ends before it starts, an
    // empty pattern, a pattern the fsm algorithm cannot read (EINVAL); an algorithm the
    // kernel does not have (ENOENT).
    bool kernel_accepts(const Rule&, const ExtCtx&) const override {
        if (from_ > to_ || pattern_.empty()) return false;
        if (algo_ == "fsm") return fsm_accepts(pattern_, icase_);
        return algo_ == "bm" || algo_ == "kmp";
    }
    int refusal_errno() const override {
        const bool einval = from_ > to_ || pattern_.empty() || algo_ == "fsm";
        return einval ? EINVAL : ENOENT;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_string_info info{};
        info.from_offset = from_, info.to_offset = to_;
        algo_.copy(info.algo, sizeof info.algo - 1);
        pattern_.copy(info.pattern, sizeof info.pattern);
        info.patlen = static_cast<uint8_t>(pattern_.size());
        info.u.v1.flags = (invert_ ? XT_STRING_FLAG_INVERT : 0) | (icase_ ? XT_STRING_FLAG_IGNORECASE : 0);
        return XtInfo::of("string", 1, info);
    }

    void save(std::string& out) const override {
        out += str(invert_ ? " !" : "", as_hex() ? " --hex-string" : " --string");
        pattern_text(out);
        out += str(" --algo ", algo_);
        if (from_ != 0) out += str(" --from ", from_);
        if (to_ != 0xffff) out += str(" --to ", to_);
        if (icase_) out += " --icase";
    }

    void print(std::string& out, bool) const override {
        out += str(" STRING match ", invert_ ? "!" : "");
        pattern_text(out);
        out += str(" ALGO name ", algo_);
        if (from_ != 0) out += str(" FROM ", from_);
        if (to_ != 0xffff) out += str(" TO ", to_);
        if (icase_) out += " ICASE";
    }

private:
    uint16_t from_ = 0, to_ = 0xffff;
    std::string algo_, pattern_;
    bool invert_ = false, icase_ = false;

    // Printed in hex when a byte is not printable or the last one is a backslash.
    bool as_hex() const {
        for (char c : pattern_)
            if (!is_print(static_cast<uint8_t>(c))) return true;
        return !pattern_.empty() && pattern_.back() == '\\';
    }

    // ' "|6162|"' or ' "a\"b"' (" and \ escaped).
    void pattern_text(std::string& out) const {
        static constexpr char digits[] = "0123456789abcdef";
        out += " \"";
        if (as_hex()) {
            out += '|';
            for (char c : pattern_) out += str(digits[static_cast<uint8_t>(c) >> 4], digits[c & 0xf]);
            out += '|';
        } else {
            for (char c : pattern_) {
                if (c == '"' || c == '\\') out += '\\';
                out += c;
            }
        }
        out += '"';
    }
};

}  // namespace

const ExtKind match_string{"string", string_opts, make_data<StringData>};

}  // namespace xdpt
