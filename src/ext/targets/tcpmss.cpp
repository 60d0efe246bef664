// -j TCPMSS: rewrite the MSS option of TCP SYN packets (xt_TCPMSS), of either family.
#include <linux/netfilter/xt_TCPMSS.h>

#include <array>

#include "ext/targets/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_set_mss, o_clamp };
constexpr uint16_t clamp_pmtu = 0xffff;       // XT_TCPMSS_CLAMP_PMTU
// 65535 less the network header: sizeof(struct iphdr), of struct ip6_hdr.
constexpr uint32_t max_mss(Family f) { return 0xffff - (f == Family::ipv6 ? 40 : 20); }

constexpr std::array<OptDef, 2> tcpmss_opts{{
    {.name = "set-mss", .id = o_set_mss},
    {.name = "clamp-mss-to-pmtu", .id = o_clamp, .has_arg = false},
}};

// Whether a match of the rule is `-m tcp --tcp-flags MASK COMP` with SYN in COMP and
// not inverted: what xt_TCPMSS looks for. Read from the tcp match's save text
// (" [!] --tcp-flags FIN,SYN,RST,ACK SYN"), the only public form of its data.
bool has_syn_match(const Rule& rule) {
    for (const auto& m : rule.matches) {
        if (!m.kind || m.kind->name != "tcp") continue;
        const std::string text = m.save_text();
        const auto at = text.find("--tcp-flags ");
        if (at == std::string::npos) continue;
        if (at >= 2 && text.compare(at - 2, 2, "! ") == 0) continue;
        const auto mask_end = text.find(' ', at + 12);
        if (mask_end == std::string::npos) continue;
        auto comp_end = text.find(' ', mask_end + 1);
        if (comp_end == std::string::npos) comp_end = text.size();
        const std::string_view comp = std::string_view(text).substr(mask_end + 1, comp_end - mask_end - 1);
        for (auto flag : grammar::split(comp, ','))
            if (flag == "SYN" || flag == "ALL") return true;
    }
    return false;
}

class TcpmssData : public Data<TcpmssData> {
public:
    uint16_t mss = 0;

    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx& ctx) override {
        if (opt.id == o_clamp) {
            mss = clamp_pmtu;
            return {};
        }
        auto v = parse_uint("TCPMSS", opt, arg, 0, max_mss(ctx.family));
        if (!v) return std::unexpected(v.error());
        mss = static_cast<uint16_t>(*v);
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("TCPMSS target: At least one parameter is required");
        return {};
    }

    // The target is registered for TCP only, and its checkentry wants a SYN test.
    // Not checked here: --clamp-mss-to-pmtu is refused from PREROUTING and INPUT, which
    // needs the hook the rule is reached from.
    bool kernel_accepts(const Rule& rule, const ExtCtx& ctx) const override {
        if (mss == clamp_pmtu)  // the route MTU is known only after routing
            for (const auto& h : ctx.hooks)
                if (h != "FORWARD" && h != "OUTPUT" && h != "POSTROUTING") return false;
        return rule.proto == 6 && !rule.inv_proto && has_syn_match(rule);
    }

    XtInfo to_xt(const Rule&) const override {
        xt_tcpmss_info info{};
        info.mss = mss;
        return XtInfo::of("TCPMSS", 0, info);
    }

    void save(std::string& out) const override {
        out += mss == clamp_pmtu ? std::string(" --clamp-mss-to-pmtu") : str(" --set-mss ", mss);
    }
    void print(std::string& out, bool) const override {
        out += mss == clamp_pmtu ? std::string(" TCPMSS clamp to PMTU") : str(" TCPMSS set ", mss);
    }
};

}  // namespace

extern const ExtKind target_TCPMSS{
    .name = "TCPMSS",
    .opts = tcpmss_opts,
    .make = make_data<TcpmssData>,
};

}  // namespace xdpt
