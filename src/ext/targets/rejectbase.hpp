// What REJECT of IPv4 (ipt_REJECT) and of IPv6 (ip6t_REJECT) share: --reject-with takes a
// case-insensitive abbreviation of a type's name or alias (the first in the kernel's
// numbering), lists and saves the type's name, and the kernel takes a TCP reset only in a
// rule that matches TCP alone. Each family's file holds its table of types (RejectKind).
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "ext/targets/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt::targets {

struct RejectName {
    std::string_view name, alias;  // empty: a number the kernel refuses or has no more
};

struct RejectKind {
    std::span<const RejectName> names;  // by the kernel's number
    uint8_t tcp_reset;                  // the number of tcp-reset
    uint8_t fallback;                   // the default (ICMP port unreachable)
    // Warns (IPv4's echo-reply) before the "unknown reject type" error; may be null.
    void (*unknown)(std::string_view arg, const ExtCtx& ctx);
};

// The number of the first type whose name or alias `arg` abbreviates, if any.
std::optional<uint8_t> find_reject_type(const RejectKind& k, std::string_view arg);

constexpr int o_reject_with = 0;
inline constexpr OptDef reject_opts[] = {
    {.name = "reject-with", .id = o_reject_with},
};

// `Info` is ipt_reject_info or ip6t_reject_info: one field, with.
template <const RejectKind& K, class Info>
class RejectData : public Data<RejectData<K, Info>> {
public:
    uint8_t with = K.fallback;

    Result<void> parse(const OptDef&, std::string_view arg, bool, const ExtCtx& ctx) override {
        if (auto t = find_reject_type(K, arg)) {
            with = *t;
            return {};
        }
        if (K.unknown) K.unknown(arg, ctx);
        return param_fail(str("unknown reject type \"", arg, "\""));
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        if (with == K.tcp_reset) return rule.proto == 6 && !rule.inv_proto;
        return with < K.names.size() && !K.names[with].name.empty();
    }

    XtInfo to_xt(const Rule&) const override {
        Info info{};
        info.with = static_cast<decltype(info.with)>(with);  // the same numbering
        return XtInfo::of("REJECT", 0, info);
    }

    void save(std::string& out) const override { out += str(" --reject-with ", K.names[with].name); }
    void print(std::string& out, bool) const override { out += str(" reject-with ", K.names[with].name); }
};

}  // namespace xdpt::targets
