// -j CHECKSUM --checksum-fill: compute a missing checksum (xt_CHECKSUM, mangle only).
#include <linux/netfilter/xt_CHECKSUM.h>

#include <array>

#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

constexpr int o_fill = 0;
constexpr std::array<OptDef, 1> checksum_opts{{
    {.name = "checksum-fill", .id = o_fill, .has_arg = false, .flags = opt_mand},
}};

class ChecksumData : public Data<ChecksumData> {
public:
    bool fill = false;  // XT_CHECKSUM_OP_FILL

    Result<void> parse(const OptDef&, std::string_view, bool, const ExtCtx&) override {
        fill = true;
        return {};
    }
    bool kernel_accepts(const Rule&, const ExtCtx&) const override { return fill; }
    XtInfo to_xt(const Rule&) const override {
        xt_CHECKSUM_info info{};
        info.operation = fill ? XT_CHECKSUM_OP_FILL : 0;
        return XtInfo::of("CHECKSUM", 0, info);
    }
    void save(std::string& out) const override {
        if (fill) out += " --checksum-fill";
    }
    void print(std::string& out, bool) const override {
        out += " CHECKSUM";
        if (fill) out += " fill";
    }
};

}  // namespace

extern const ExtKind target_CHECKSUM{
    .name = "CHECKSUM",
    .opts = checksum_opts,
    .make = make_data<ChecksumData>,
    .tables = "mangle",
};

}  // namespace xdpt
