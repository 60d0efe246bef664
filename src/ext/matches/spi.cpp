// -m esp and -m ah: the SPI of an IPsec ESP or AH header within a range (xt_esp, ipt_ah).
// Both keep the same structure (a range and an invert flag) and print alike but for
// their spacing. XDP does not read IPsec headers: rules with them are left to netfilter
// (no to_xdp).
#include <netinet/in.h>
#include <linux/netfilter/xt_esp.h>
#include <linux/netfilter_ipv4/ipt_ah.h>

#include <array>

#include "ext/matches/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace matches;

static_assert(sizeof(xt_esp) == sizeof(ipt_ah) && XT_ESP_INV_SPI == IPT_AH_INV_SPI);

struct SpiKind {
    std::string_view name;  // the match, and the -L label
    std::string_view opt;   // its option, without "--"
    uint8_t proto;          // the only protocol the kernel registers it for
    bool spaced;            // ah's -L form puts a space after its label, esp's before the range
};
constexpr SpiKind esp_kind{"esp", "espspi", IPPROTO_ESP, false};
constexpr SpiKind ah_kind{"ah", "ahspi", IPPROTO_AH, true};

constexpr std::array<OptDef, 1> esp_opts{{{.name = "espspi", .id = 0, .flags = opt_invert}}};
constexpr std::array<OptDef, 1> ah_opts{{{.name = "ahspi", .id = 0, .flags = opt_invert}}};

template <const SpiKind& K>
class SpiData : public Data<SpiData<K>> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        auto r = parse_uint_range(K.name, K.opt, arg, 0xffffffff);
        if (!r) return failure(r);
        range_ = *r;
        if (invert) inv_ = true;
        return {};
    }

    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return rule.proto == K.proto && !rule.inv_proto;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_esp info{};
        info.spis[0] = range_.lo, info.spis[1] = range_.hi;
        info.invflags = inv_ ? XT_ESP_INV_SPI : 0;
        return XtInfo::of(K.name, 0, info);
    }

    // The whole range is left out, even inverted (a rule that matches nothing then saves
    // as one that matches every packet); the exact form keeps it.
    void save(std::string& out) const override {
        if (!full()) save_exact(out);
    }
    void save_exact(std::string& out) const override {
        if (full() && !inv_) return;
        out += str(inv_ ? " !" : "", " --", K.opt, ' ', range_.lo);
        if (range_.lo != range_.hi) out += str(':', range_.hi);
    }

    void print(std::string& out, bool) const override {
        out += str(' ', K.name, K.spaced ? " " : "");
        if (full() && !inv_) return;
        out += str(K.spaced ? "" : " ", "spi", range_.lo == range_.hi ? ":" : "s:", inv_ ? "!" : "", range_.lo);
        if (range_.lo != range_.hi) out += str(':', range_.hi);
    }

private:
    UintRange range_{0, 0xffffffff};
    bool inv_ = false;

    bool full() const { return range_.lo == 0 && range_.hi == 0xffffffff; }
};

}  // namespace

const ExtKind match_esp{"esp", esp_opts, make_data<SpiData<esp_kind>>};
const ExtKind match_ah{"ah", ah_opts, make_data<SpiData<ah_kind>>, {}, {}, {}, ipv4_only};

}  // namespace xdpt
