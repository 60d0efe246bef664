// -j LOG: kernel log of matching packets (xt_LOG).
#include <linux/netfilter/xt_LOG.h>

#include <array>

#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

// Option ids are the bit positions of the kernel's XT_LOG_* flags where there is one.
enum : int {
    o_tcp_sequence = 0,
    o_tcp_options = 1,
    o_ip_options = 2,
    o_uid = 3,
    o_macdecode = 5,
    o_level = 6,
    o_prefix = 7,
};
static_assert(1 << o_tcp_sequence == XT_LOG_TCPSEQ && 1 << o_tcp_options == XT_LOG_TCPOPT &&
              1 << o_ip_options == XT_LOG_IPOPT && 1 << o_uid == XT_LOG_UID &&
              1 << o_macdecode == XT_LOG_MACDECODE);
constexpr uint8_t log_flag_mask = 0x2f;  // XT_LOG_MASK
constexpr uint8_t default_level = 4;     // LOG_WARNING
constexpr size_t prefix_size = 30;       // xt_log_info.prefix

constexpr std::array<OptDef, 7> log_opts{{
    {.name = "log-level", .id = o_level},
    {.name = "log-prefix", .id = o_prefix},
    {.name = "log-tcp-sequence", .id = o_tcp_sequence, .has_arg = false},
    {.name = "log-tcp-options", .id = o_tcp_options, .has_arg = false},
    {.name = "log-ip-options", .id = o_ip_options, .has_arg = false},
    {.name = "log-uid", .id = o_uid, .has_arg = false},
    {.name = "log-macdecode", .id = o_macdecode, .has_arg = false},
}};

struct LevelName {
    std::string_view name;
    uint8_t level;
};
// What --log-level accepts besides 0..7 (libxtables' list, matched exactly).
constexpr std::array<LevelName, 9> level_input_names{{
    {"alert", 1}, {"crit", 2}, {"debug", 7}, {"emerg", 0}, {"error", 3},
    {"info", 6}, {"notice", 5}, {"panic", 0}, {"warning", 4},
}};
// What -L shows: the first name glibc's prioritynames gives each level.
constexpr std::array<std::string_view, 8> level_print_names{
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
};

struct FlagText {
    uint8_t bit;
    std::string_view print, save;
};
constexpr std::array<FlagText, 5> flag_texts{{
    {1u << o_tcp_sequence, "tcp-sequence", "--log-tcp-sequence"},
    {1u << o_tcp_options, "tcp-options", "--log-tcp-options"},
    {1u << o_ip_options, "ip-options", "--log-ip-options"},
    {1u << o_uid, "uid", "--log-uid"},
    {1u << o_macdecode, "macdecode", "--log-macdecode"},
}};

class LogData : public Data<LogData> {
public:
    uint8_t level = default_level;
    uint8_t flags = 0;
    std::string prefix;

    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        switch (opt.id) {
        case o_level:
            if (auto v = grammar::to_uint(arg, 0, 7)) {
                level = static_cast<uint8_t>(*v);
                return {};
            }
            for (const auto& n : level_input_names)
                if (n.name == arg) {
                    level = n.level;
                    return {};
                }
            return param_fail(str("log level \"", arg, "\" unknown\n"));
        case o_prefix: {
            auto p = parse_string(arg, 1, prefix_size);
            if (!p) return std::unexpected(p.error());
            if (arg.find('\n') != std::string_view::npos)
                return param_fail("Newlines not allowed in --log-prefix");
            prefix = std::move(*p);
            return {};
        }
        default:
            flags |= static_cast<uint8_t>(1u << opt.id);
            return {};
        }
    }

    XtInfo to_xt(const Rule&) const override {
        xt_log_info info{};
        info.level = level, info.logflags = flags;
        prefix.copy(info.prefix, sizeof info.prefix - 1);
        return XtInfo::of("LOG", 0, info);
    }

    void save(std::string& out) const override {
        if (!prefix.empty()) {
            out += " --log-prefix";
            append_quoted(out, prefix);
        }
        if (level != default_level) out += str(" --log-level ", level);
        for (const auto& f : flag_texts)
            if (flags & f.bit) out += str(' ', f.save);
    }

    void print(std::string& out, bool numeric) const override {
        out += " LOG";
        if (numeric) {
            out += str(" flags ", flags, " level ", level);
        } else {
            if (level < level_print_names.size())
                out += str(" level ", level_print_names[level]);
            else
                out += str(" UNKNOWN level ", level);
            for (const auto& f : flag_texts)
                if (flags & f.bit) out += str(' ', f.print);
            if (flags & ~log_flag_mask) out += " unknown-flags";
        }
        if (!prefix.empty()) out += str(" prefix \"", prefix, '"');
    }
};

}  // namespace

extern const ExtKind target_LOG{
    .name = "LOG",
    .opts = log_opts,
    .make = make_data<LogData>,
};

}  // namespace xdpt
