// -m physdev: the bridge ports a bridged packet came in on or goes out of (xt_physdev
// revision 0). Bridge ports are the bridge's business, not XDP's: rules with it are left
// to netfilter (no to_xdp).
#include <linux/netfilter/xt_physdev.h>

#include <array>
#include <cstring>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_in, o_out, o_is_in, o_is_out, o_is_bridged };

constexpr std::array<OptDef, 5> physdev_opts{{
    {.name = "physdev-in", .id = o_in, .flags = opt_invert},
    {.name = "physdev-out", .id = o_out, .flags = opt_invert},
    {.name = "physdev-is-in", .id = o_is_in, .has_arg = false, .flags = opt_invert},
    {.name = "physdev-is-out", .id = o_is_out, .has_arg = false, .flags = opt_invert},
    {.name = "physdev-is-bridged", .id = o_is_bridged, .has_arg = false, .flags = opt_invert},
}};

// The option's bit in xt_physdev_info's bitmask and invert.
constexpr uint8_t op_bit[] = {XT_PHYSDEV_OP_IN, XT_PHYSDEV_OP_OUT, XT_PHYSDEV_OP_ISIN, XT_PHYSDEV_OP_ISOUT,
                              XT_PHYSDEV_OP_BRIDGED};

// xtables_parse_interface: the name and its mask ("eth+" matches the bytes before the
// plus, any other name the name and its NUL).
Result<void> parse_port(std::string_view arg, char (&name)[IFNAMSIZ], char (&mask)[IFNAMSIZ],
                        const ExtCtx& ctx) {
    if (arg.size() + 1 > IFNAMSIZ)
        return param_fail(str("interface name `", arg, "' must be shorter than IFNAMSIZ (", IFNAMSIZ - 1, ")"));
    std::memset(name, 0, IFNAMSIZ);
    std::memset(mask, 0, IFNAMSIZ);
    arg.copy(name, arg.size());
    if (arg.empty()) return {};
    if (arg.back() == '+') {
        std::memset(mask, 0xff, arg.size() - 1);
        return {};
    }
    std::memset(mask, 0xff, arg.size() + 1);
    if (arg.find_first_of("/ ") != std::string_view::npos)
        warn(ctx, str("Warning: weird character in interface `", arg, "' ('/' and ' ' are not allowed by the kernel).\n"));
    return {};
}

class PhysdevData : public Data<PhysdevData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        arg = arg.substr(0, arg.find('\0'));
        if (opt.id == o_in)
            if (auto r = parse_port(arg, info_.physindev, info_.in_mask, ctx); !r) return r;
        if (opt.id == o_out)
            if (auto r = parse_port(arg, info_.physoutdev, info_.out_mask, ctx); !r) return r;
        info_.bitmask |= op_bit[opt.id];
        if (invert) info_.invert |= op_bit[opt.id];
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("PHYSDEV: no physdev option specified");
        return {};
    }

    // physdev_mt_check: the output port is known from OUTPUT only for bridged packets
    // (and only when that is not inverted).
    bool kernel_accepts(const Rule&, const ExtCtx& ctx) const override {
        const bool bridged = (info_.bitmask & XT_PHYSDEV_OP_BRIDGED) && !(info_.invert & XT_PHYSDEV_OP_BRIDGED);
        if (!(info_.bitmask & (XT_PHYSDEV_OP_OUT | XT_PHYSDEV_OP_ISOUT)) || bridged) return true;
        for (const auto& h : ctx.hooks)
            if (h == "OUTPUT") return false;
        return true;
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("physdev", 0, info_); }

    void save(std::string& out) const override { text(out); }
    // The stored form quotes the names (iptables prints "a b" bare).
    void save_exact(std::string& out) const override { text(out, true); }
    void print(std::string& out, bool) const override {
        out += " PHYSDEV match";
        text(out);
    }

private:
    xt_physdev_info info_{};

    void text(std::string& out, bool quote = false) const {
        auto item = [&](uint8_t bit, std::string_view opt, const char* name) {
            if (!(info_.bitmask & bit)) return;
            out += str(info_.invert & bit ? " !" : "", " --", opt);
            if (!name) return;
            if (quote) append_quoted(out, std::string_view(name, strnlen(name, IFNAMSIZ)));
            else out += str(' ', std::string_view(name, strnlen(name, IFNAMSIZ)));
        };
        item(XT_PHYSDEV_OP_ISIN, "physdev-is-in", nullptr);
        item(XT_PHYSDEV_OP_IN, "physdev-in", info_.physindev);
        item(XT_PHYSDEV_OP_ISOUT, "physdev-is-out", nullptr);
        item(XT_PHYSDEV_OP_OUT, "physdev-out", info_.physoutdev);
        item(XT_PHYSDEV_OP_BRIDGED, "physdev-is-bridged", nullptr);
    }
};

}  // namespace

const ExtKind match_physdev{"physdev", physdev_opts, make_data<PhysdevData>};

}  // namespace xdpt
