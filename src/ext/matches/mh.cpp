// -m mh: the IPv6 mobility header's type range (ip6t_mh), by name or number, as
// libip6t_mh; the kernel takes it only in rules that match -p mobility-header (135).
#include <linux/netfilter_ipv6/ip6t_mh.h>
#include <strings.h>

#include <array>

#include "ext/matches/common.hpp"
#include "grammar/values.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr std::array<OptDef, 1> mh_opts{{{.name = "mh-type", .id = 0, .flags = opt_invert}}};

struct MhName {
    std::string_view name;
    uint8_t type;
};
constexpr std::array<MhName, 16> mh_names{{
    {"binding-refresh-request", 0}, {"brr", 0}, {"home-test-init", 1}, {"hoti", 1},
    {"careof-test-init", 2}, {"coti", 2}, {"home-test", 3}, {"hot", 3},
    {"careof-test", 4}, {"cot", 4}, {"binding-update", 5}, {"bu", 5},
    {"binding-acknowledgement", 6}, {"ba", 6}, {"binding-error", 7}, {"be", 7},
}};

// A name (a case-insensitive prefix; the first hit, or an exact one) or a number 0..255.
Result<uint8_t> mh_type(std::string_view s) {
    const MhName* hit = nullptr;
    for (const auto& n : mh_names)
        if (s.size() <= n.name.size() && strncasecmp(n.name.data(), s.data(), s.size()) == 0)
            if (!hit || n.name.size() == s.size()) hit = &n;
    if (hit) return hit->type;
    if (auto v = grammar::to_uint(s, 0, 255)) return static_cast<uint8_t>(*v);
    return param_fail(str("Invalid MH type `", s, "'"));
}

class MhData : public Data<MhData> {
public:
    MhData() { info_.types[1] = 0xff; }

    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        arg = arg.substr(0, arg.find('\0'));
        const size_t colon = arg.find(':');
        if (colon == arg.npos) {
            auto t = mh_type(arg);
            if (!t) return failure(t);
            info_.types[0] = info_.types[1] = *t;
        } else {
            const auto lo = arg.substr(0, colon), hi = arg.substr(colon + 1);
            auto a = lo.empty() ? Result<uint8_t>(0) : mh_type(lo);
            if (!a) return failure(a);
            auto b = hi.empty() ? Result<uint8_t>(0xff) : mh_type(hi);
            if (!b) return failure(b);
            if (*a > *b) return param_fail("Invalid MH type range (min > max)");
            info_.types[0] = *a, info_.types[1] = *b;
        }
        if (invert) info_.invflags |= IP6T_MH_INV_TYPE;
        return {};
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return rule.proto == 135 && !rule.inv_proto;  // IPPROTO_MH
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("mh", 0, info_); }

    void save(std::string& out) const override {
        if (!full()) save_exact(out);
    }
    // The full range is left out even inverted; the exact form keeps it.
    void save_exact(std::string& out) const override {
        const bool inv = info_.invflags & IP6T_MH_INV_TYPE;
        if (full() && !inv) return;
        out += str(inv ? " !" : "", " --mh-type ", info_.types[0]);
        if (info_.types[0] != info_.types[1]) out += str(':', info_.types[1]);
    }

    void print(std::string& out, bool numeric) const override {
        out += " mh";
        const bool inv = info_.invflags & IP6T_MH_INV_TYPE;
        if (full() && !inv) return;
        out += str(' ', inv ? "!" : "", name(info_.types[0], numeric));
        if (info_.types[0] != info_.types[1]) out += str(':', name(info_.types[1], numeric));
    }

private:
    ip6t_mh info_{};

    bool full() const { return info_.types[0] == 0 && info_.types[1] == 0xff; }

    static std::string name(uint8_t t, bool numeric) {
        if (!numeric)
            for (const auto& n : mh_names)
                if (n.type == t) return std::string(n.name);
        return str(t);
    }
};

}  // namespace

const ExtKind match_mh{"mh", mh_opts, make_data<MhData>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
