// -j MARK: set the packet mark (xt_MARK revision 2: mark = (mark & ~mask) ^ value).
#include <linux/netfilter/xt_mark.h>

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

class MarkData : public Data<MarkData> {
public:
    uint32_t mark = 0, mask = 0;

    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        if (opt.id == o_set_xmark || opt.id == o_set_mark) {
            auto mm = ext::parse_mark_mask("MARK", opt.name, arg);
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

    // xt_mark_tginfo2 (revision 2): every option is a mark/mask pair.
    XtInfo to_xt(const Rule&) const override {
        xt_mark_tginfo2 info{};
        info.mark = mark, info.mask = mask;
        return XtInfo::of("MARK", 2, info);
    }

    void save(std::string& out) const override { out += str(" --set-xmark ", hex(mark), '/', hex(mask)); }

    void print(std::string& out, bool) const override { out += ext::xmark_listing("MARK", mark, mask); }
};

}  // namespace

extern const ExtKind target_MARK{
    .name = "MARK",
    .opts = mark_opts,
    .make = make_data<MarkData>,
};

}  // namespace xdpt
