// -m ah (IPv6): the IPv6 authentication header (ip6t_ah): SPI range, header length,
// reserved field, as libip6t_ah. IPv4's ah (ipt_ah, SPI alone) is in spi.cpp.
#include <linux/netfilter_ipv6/ip6t_ah.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_spi, o_len, o_res };
constexpr std::array<OptDef, 3> ah6_opts{{
    {.name = "ahspi", .id = o_spi, .flags = opt_invert},
    {.name = "ahlen", .id = o_len, .flags = opt_invert},
    {.name = "ahres", .id = o_res, .has_arg = false},
}};

class Ah6Data : public Data<Ah6Data> {
public:
    Ah6Data() { info_.spis[1] = 0xffffffff; }

    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        switch (opt.id) {
            case o_spi:
                if (auto r = parse_u32_pair("ah", opt.name, arg, info_.spis); !r) return r;
                if (invert) info_.invflags |= IP6T_AH_INV_SPI;
                break;
            case o_len:
                if (auto r = parse_u32("ah", opt.name, arg, info_.hdrlen); !r) return r;
                if (invert) info_.invflags |= IP6T_AH_INV_LEN;
                break;
            case o_res: info_.hdrres = 1; break;
        }
        return {};
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("ah", 0, info_); }

    void save(std::string& out) const override { save_as(out, false); }
    void save_exact(std::string& out) const override { save_as(out, true); }

    // libip6t_ah prints the length right after the SPIs, without a space.
    void print(std::string& out, bool) const override {
        out += " ah ";
        print_u32_range(out, "spi", info_.spis[0], info_.spis[1], info_.invflags & IP6T_AH_INV_SPI);
        const bool inv_len = info_.invflags & IP6T_AH_INV_LEN;
        if (info_.hdrlen != 0 || inv_len) out += str("length:", inv_len ? "!" : "", info_.hdrlen);
        if (info_.hdrres) out += " reserved";
    }

private:
    ip6t_ah info_{};

    void save_as(std::string& out, bool exact) const {
        save_u32_range(out, "ahspi", info_.spis[0], info_.spis[1], info_.invflags & IP6T_AH_INV_SPI,
                       exact && (info_.invflags & IP6T_AH_INV_SPI));  // no flag: only ! tells
        const bool inv_len = info_.invflags & IP6T_AH_INV_LEN;
        if (info_.hdrlen != 0 || inv_len) out += str(inv_len ? " !" : "", " --ahlen ", info_.hdrlen);
        if (info_.hdrres) out += " --ahres";
    }
};

}  // namespace

const ExtKind match_ah6{"ah", ah6_opts, make_data<Ah6Data>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
