// -j NFLOG: hand packets to nfnetlink_log (xt_NFLOG).
#include <linux/netfilter/xt_NFLOG.h>

#include <array>

#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_group, o_prefix, o_range, o_size, o_threshold };
constexpr size_t prefix_size = 64;  // xt_nflog_info.prefix

// --nflog-range and --nflog-size exclude each other; NflogData::finish checks that
// itself because iptables warns about --nflog-range before the exclusion check.
constexpr std::array<OptDef, 5> nflog_opts{{
    {.name = "nflog-group", .id = o_group},
    {.name = "nflog-prefix", .id = o_prefix},
    {.name = "nflog-range", .id = o_range},
    {.name = "nflog-size", .id = o_size},
    {.name = "nflog-threshold", .id = o_threshold},
}};

class NflogData : public Data<NflogData> {
public:
    uint16_t group = 0;
    uint16_t threshold = 0;  // XT_NFLOG_DEFAULT_THRESHOLD
    uint32_t len = 0;
    bool copy_len = false;  // XT_NFLOG_F_COPY_LEN: len came from --nflog-size
    std::string prefix;

    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        switch (opt.id) {
        case o_group:
        case o_threshold: {
            auto v = parse_uint("NFLOG", opt, arg, 0, 0xffff);
            if (!v) return std::unexpected(v.error());
            (opt.id == o_group ? group : threshold) = static_cast<uint16_t>(*v);
            return {};
        }
        case o_range:
        case o_size: {
            auto v = parse_uint("NFLOG", opt, arg, 0, 0xffffffff);
            if (!v) return std::unexpected(v.error());
            len = *v;
            return {};
        }
        default: {
            auto p = parse_string(arg, 1, prefix_size);
            if (!p) return std::unexpected(p.error());
            if (arg.find('\n') != std::string_view::npos)
                return param_fail("Newlines not allowed in --log-prefix");
            prefix = std::move(*p);
            return {};
        }
        }
    }

    Result<void> finish(unsigned seen, const ExtCtx& ctx) override {
        const bool range = seen & (1u << o_range), size = seen & (1u << o_size);
        // Only for a command line being parsed: a ruleset read back must not warn again.
        if (range)
            warn(ctx, "warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead\n");
        if (range && size)
            return param_fail("NFLOG: option \"--nflog-range\" cannot be used together with \"--nflog-size\".\n");
        if (size) copy_len = true;
        return {};
    }

    XtInfo to_xt(const Rule&) const override {
        xt_nflog_info info{};
        info.len = len, info.group = group, info.threshold = threshold;
        info.flags = copy_len ? XT_NFLOG_F_COPY_LEN : 0;
        prefix.copy(info.prefix, sizeof info.prefix - 1);
        return XtInfo::of("NFLOG", 0, info);
    }

    void save(std::string& out) const override { emit(out, "--"); }
    void print(std::string& out, bool) const override { emit(out, ""); }

private:
    void emit(std::string& out, std::string_view dash) const {
        if (!prefix.empty()) {
            out += str(' ', dash, "nflog-prefix");
            append_quoted(out, prefix);
        }
        if (group) out += str(' ', dash, "nflog-group ", group);
        if (copy_len)
            out += str(' ', dash, "nflog-size ", len);
        else if (len)
            out += str(' ', dash, "nflog-range ", len);
        if (threshold) out += str(' ', dash, "nflog-threshold ", threshold);
    }
};

}  // namespace

extern const ExtKind target_NFLOG{
    .name = "NFLOG",
    .opts = nflog_opts,
    .make = make_data<NflogData>,
};

}  // namespace xdpt
