// -j MARK: set the packet mark (xt_MARK revision 2: mark = (mark & ~mask) ^ value).
#include <array>

#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_set_mark, o_and_mark, o_or_mark, o_xor_mark, o_set_xmark };
constexpr unsigned any_mark = 0x1f;  // every option excludes every other (and itself)

constexpr std::array<OptDef, 5> mark_opts{{
    {.name = "set-xmark", .id = o_set_xmark, .excl = any_mark},
    {.name = "set-mark", .id = o_set_mark, .excl = any_mark},
    {.name = "and-mark", .id = o_and_mark, .excl = any_mark},
    {.name = "or-mark", .id = o_or_mark, .excl = any_mark},
    {.name = "xor-mark", .id = o_xor_mark, .excl = any_mark},
}};

struct MarkMask {
    uint32_t mark, mask;
};

// XTTYPE_MARKMASK32: "value[/mask]", each a number as strtoul base 0 reads it.
Result<MarkMask> parse_mark_mask(const OptDef& opt, std::string_view arg) {
    auto bad = [&] {
        return param_fail(str("MARK: bad integer value for option \"--", opt.name, "\", or out of range.\n"));
    };
    auto garbage = [&] {
        return param_fail(str("MARK: trailing garbage after value for option \"--", opt.name, "\".\n"));
    };
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

class MarkData : public Data<MarkData> {
public:
    uint32_t mark = 0, mask = 0;

    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        if (opt.id == o_set_xmark || opt.id == o_set_mark) {
            auto mm = parse_mark_mask(opt, arg);
            if (!mm) return std::unexpected(mm.error());
            mark = mm->mark;
            mask = opt.id == o_set_xmark ? mm->mask : mm->mark | mm->mask;
            return {};
        }
        auto v = parse_uint("MARK", opt, arg, 0, 0xffffffff);
        if (!v) return std::unexpected(v.error());
        switch (opt.id) {
        case o_and_mark: mark = 0, mask = ~*v; break;
        case o_or_mark: mark = mask = *v; break;
        default: mark = *v, mask = 0; break;
        }
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required");
        return {};
    }

    void save(std::string& out) const override { out += str(" --set-xmark ", hex(mark), '/', hex(mask)); }

    void print(std::string& out, bool) const override {
        if (mark == 0)
            out += str(" MARK and ", hex(~mask));
        else if (mark == mask)
            out += str(" MARK or ", hex(mark));
        else if (mask == 0)
            out += str(" MARK xor ", hex(mark));
        else if (mask == 0xffffffff)
            out += str(" MARK set ", hex(mark));
        else
            out += str(" MARK xset ", hex(mark), '/', hex(mask));
    }
};

}  // namespace

extern const ExtKind target_MARK{
    .name = "MARK",
    .opts = mark_opts,
    .make = make_data<MarkData>,
};

}  // namespace xdpt
