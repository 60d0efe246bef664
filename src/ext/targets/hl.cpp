// -j HL: set, decrement or increment the IPv6 hop limit (ip6t_HL, mangle only), as
// libip6t_HL.
#include <linux/netfilter_ipv6/ip6t_HL.h>

#include <array>

#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_set, o_inc, o_dec };
constexpr unsigned any_hl = 0x7;

// libxtables' order (set, dec, inc): it decides which option the exclusion messages name.
constexpr std::array<OptDef, 3> hl_opts{{
    {.name = "hl-set", .id = o_set, .excl = any_hl},
    {.name = "hl-dec", .id = o_dec, .excl = any_hl},
    {.name = "hl-inc", .id = o_inc, .excl = any_hl},
}};

class HlData : public Data<HlData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        auto v = parse_uint("HL", opt, arg, opt.id == o_set ? 0 : 1, 255);
        if (!v) return std::unexpected(v.error());
        mode_ = static_cast<uint8_t>(opt.id);  // IP6T_HL_SET, _INC, _DEC
        value_ = static_cast<uint8_t>(*v);
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("HL: You must specify an action");
        return {};
    }

    XtInfo to_xt(const Rule&) const override {
        ip6t_HL_info info{};
        info.mode = mode_;
        info.hop_limit = value_;
        return XtInfo::of("HL", 0, info);
    }

    void save(std::string& out) const override {
        static constexpr std::array<std::string_view, 3> opts{" --hl-set ", " --hl-inc ", " --hl-dec "};
        out += str(opts[mode_], value_);
    }

    void print(std::string& out, bool) const override {
        static constexpr std::array<std::string_view, 3> what{"set to ", "increment by ", "decrement by "};
        out += str(" HL ", what[mode_], value_);
    }

private:
    uint8_t mode_ = IP6T_HL_SET, value_ = 0;
};

static_assert(IP6T_HL_SET == o_set && IP6T_HL_INC == o_inc && IP6T_HL_DEC == o_dec);

}  // namespace

extern const ExtKind target_HL{
    .name = "HL",
    .opts = hl_opts,
    .make = make_data<HlData>,
    .tables = "mangle",
    .families = ipv6_only,
};

}  // namespace xdpt
