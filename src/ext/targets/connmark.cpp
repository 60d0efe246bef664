// -j CONNMARK: set the connection's mark, or copy marks between packet and connection
// (xt_CONNMARK revision 2, the one iptables 1.8.9 picks on this kernel: masks and a shift).
// Conntrack holds the mark: rules with it are left to netfilter, and the ruleset counts as
// one that uses conntrack (dp/compile.cpp). The parsed values live in the kernel's
// structure itself, so that options overwriting each other's fields (--mask after
// --ctmask, --set-mark after --mask) end as in iptables.
#include <linux/netfilter/xt_connmark.h>

#include <array>

#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

// libxt_CONNMARK's ids: messages about excluded options name the others in id order.
enum : int {
    o_set_mark, o_save_mark, o_restore_mark, o_and_mark, o_or_mark, o_xor_mark,
    o_left_shift, o_right_shift, o_set_xmark, o_ctmask, o_nfmask, o_mask,
};
constexpr unsigned op_any = 1u << o_set_mark | 1u << o_save_mark | 1u << o_restore_mark | 1u << o_and_mark |
                            1u << o_or_mark | 1u << o_xor_mark | 1u << o_set_xmark;

constexpr std::array<OptDef, 12> connmark_opts{{
    {.name = "set-xmark", .id = o_set_xmark, .excl = op_any},
    {.name = "set-mark", .id = o_set_mark, .excl = op_any},
    {.name = "and-mark", .id = o_and_mark, .excl = op_any},
    {.name = "or-mark", .id = o_or_mark, .excl = op_any},
    {.name = "xor-mark", .id = o_xor_mark, .excl = op_any},
    {.name = "save-mark", .id = o_save_mark, .has_arg = false, .excl = op_any},
    {.name = "restore-mark", .id = o_restore_mark, .has_arg = false, .excl = op_any},
    {.name = "left-shift-mark", .id = o_left_shift},
    {.name = "right-shift-mark", .id = o_right_shift},
    {.name = "ctmask", .id = o_ctmask, .excl = 1u << o_mask},
    {.name = "nfmask", .id = o_nfmask, .excl = 1u << o_mask},
    {.name = "mask", .id = o_mask, .excl = 1u << o_ctmask | 1u << o_nfmask},
}};

class ConnmarkData : public Data<ConnmarkData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        switch (opt.id) {
        case o_set_xmark:
        case o_set_mark: {
            auto mm = ext::parse_mark_mask("CONNMARK", opt.name, arg);
            if (!mm) return std::unexpected(mm.error());
            info_.mode = XT_CONNMARK_SET;
            info_.ctmark = mm->mark;
            info_.ctmask = opt.id == o_set_xmark ? mm->mask : mm->mark | mm->mask;
            return {};
        }
        case o_save_mark: info_.mode = XT_CONNMARK_SAVE; return {};
        case o_restore_mark: info_.mode = XT_CONNMARK_RESTORE; return {};
        case o_left_shift:
        case o_right_shift: {
            auto v = parse_uint("CONNMARK", opt, arg, 0, 32);
            if (!v) return std::unexpected(v.error());
            info_.shift_dir = opt.id == o_left_shift ? D_SHIFT_LEFT : D_SHIFT_RIGHT;
            info_.shift_bits = static_cast<uint8_t>(*v);
            return {};
        }
        default: break;
        }
        auto v = parse_uint("CONNMARK", opt, arg, 0, 0xffffffff);
        if (!v) return std::unexpected(v.error());
        switch (opt.id) {
        case o_and_mark: info_.mode = XT_CONNMARK_SET, info_.ctmark = 0, info_.ctmask = ~*v; break;
        case o_or_mark: info_.mode = XT_CONNMARK_SET, info_.ctmark = info_.ctmask = *v; break;
        case o_xor_mark: info_.mode = XT_CONNMARK_SET, info_.ctmark = *v, info_.ctmask = 0; break;
        case o_ctmask: info_.ctmask = *v; break;
        case o_nfmask: info_.nfmask = *v; break;
        default: info_.nfmask = info_.ctmask = *v; break;  // --mask
        }
        return {};
    }
    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (!(seen & op_any)) return param_fail("CONNMARK target: No operation specified");
        return {};
    }

    // connmark_tg_check refuses a shift of 32 bits or more.
    bool kernel_accepts(const Rule&, const ExtCtx&) const override { return info_.shift_bits < 32; }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("CONNMARK", 2, info_); }

    void save(std::string& out) const override { save_as(out, false); }
    // The stored form also keeps what iptables-save leaves out but the kernel is given:
    // the nfmask of a set (--set-mark with --mask), a shift direction without bits.
    void save_exact(std::string& out) const override { save_as(out, true); }
    void save_as(std::string& out, bool exact) const {
        switch (info_.mode) {
        case XT_CONNMARK_SET:
            out += str(" --set-xmark ", hex(info_.ctmark), '/', hex(info_.ctmask));
            if (exact && info_.nfmask != 0xffffffff) out += str(" --nfmask ", hex(info_.nfmask));
            break;
        case XT_CONNMARK_SAVE: out += str(" --save-mark --nfmask ", hex(info_.nfmask), " --ctmask ", hex(info_.ctmask)); break;
        default: out += str(" --restore-mark --nfmask ", hex(info_.nfmask), " --ctmask ", hex(info_.ctmask)); break;
        }
        if (info_.shift_bits || (exact && info_.shift_dir != D_SHIFT_LEFT))
            out += str(" --", shift_name(), ' ', unsigned(info_.shift_bits));
    }

    void print(std::string& out, bool) const override {
        switch (info_.mode) {
        case XT_CONNMARK_SET: out += ext::xmark_listing("CONNMARK", info_.ctmark, info_.ctmask); break;
        case XT_CONNMARK_SAVE: out += copy_listing("save", "nfmask", info_.nfmask, "ctmask", info_.ctmask); break;
        default: out += copy_listing("restore", "ctmask", info_.ctmask, "nfmask", info_.nfmask); break;
        }
        if (info_.shift_bits) out += str(' ', shift_name(), ' ', unsigned(info_.shift_bits));
    }

private:
    // connmark_tg_init_v2: both masks full, no shift.
    xt_connmark_tginfo2 info_{.ctmark = 0, .ctmask = 0xffffffff, .nfmask = 0xffffffff,
                              .shift_dir = D_SHIFT_LEFT, .shift_bits = 0, .mode = XT_CONNMARK_SET};

    // A copy between the marks: bare with both masks full, " mask M" with equal masks,
    // else the mask of the source and the (complemented) mask of the destination.
    static std::string copy_listing(std::string_view op, std::string_view from_name, uint32_t from,
                                    std::string_view to_name, uint32_t to) {
        if (from == 0xffffffff && to == 0xffffffff) return str(" CONNMARK ", op);
        if (from == to) return str(" CONNMARK ", op, " mask ", hex(from));
        return str(" CONNMARK ", op, ' ', from_name, ' ', hex(from), ' ', to_name, " ~", hex(to));
    }

    std::string_view shift_name() const {
        return info_.shift_dir == D_SHIFT_RIGHT ? "right-shift-mark" : "left-shift-mark";
    }
};

}  // namespace

extern const ExtKind target_CONNMARK{
    .name = "CONNMARK",
    .opts = connmark_opts,
    .make = make_data<ConnmarkData>,
};

}  // namespace xdpt
