// -m statistic: a random share of packets, or every nth packet (xt_statistic revision 0).
// The kernel draws the random number and keeps the nth counter, so rules with it are left
// to netfilter (no to_xdp). The parsed values live in the kernel's structure itself: its
// union makes --probability and --every share one field, which libxt_statistic's checks
// see (an order of options that overwrites one with the other is judged as iptables does).
#include <linux/netfilter/xt_statistic.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_mode, o_probability, o_every, o_packet };
constexpr unsigned f_probability = 1u << o_probability, f_every = 1u << o_every, f_packet = 1u << o_packet;

constexpr std::array<OptDef, 4> statistic_opts{{
    {.name = "mode", .id = o_mode, .flags = opt_mand},
    {.name = "probability", .id = o_probability, .flags = opt_invert, .excl = f_every | f_packet},
    {.name = "every", .id = o_every, .flags = opt_invert, .excl = f_probability, .also = f_packet},
    {.name = "packet", .id = o_packet, .excl = f_probability, .also = f_every},
}};

// XTTYPE_DOUBLE with .min = 0, .max = 1: strtod must read the whole argument, and a value
// outside [0, 1] is refused (a NaN compares false both ways and passes, as in libxtables).
Result<double> parse_probability(std::string_view arg) {
    const std::string s(arg.substr(0, arg.find('\0')));
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0' || v < 0 || v > 1)
        return param_fail("statistic: bad value for option \"--probability\", or out of range (0-1).\n");
    return v;
}

class StatisticData : public Data<StatisticData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        if (invert) info_.flags |= XT_STATISTIC_INVERT;
        switch (opt.id) {
        case o_mode: {
            const std::string_view mode = arg.substr(0, arg.find('\0'));
            if (mode == "random")
                info_.mode = XT_STATISTIC_MODE_RANDOM;
            else if (mode == "nth")
                info_.mode = XT_STATISTIC_MODE_NTH;
            else
                return param_fail(str("Bad mode \"", mode, "\""));
            return {};
        }
        case o_probability: {
            auto p = parse_probability(arg);
            if (!p) return failure(p);
            // lround, then the conversion to the u32 field (a NaN ends up as 0).
            info_.u.random.probability = static_cast<uint32_t>(std::lround(0x80000000 * *p));
            return {};
        }
        case o_every: {
            auto v = parse_uint("statistic", "every", arg, 1, 0xffffffff);
            if (!v) return failure(v);
            info_.u.nth.every = *v - 1;  // the kernel counts from 0 to every-1
            return {};
        }
        default: {
            auto v = parse_uint("statistic", "packet", arg, 0, 0xffffffff);
            if (!v) return failure(v);
            info_.u.nth.packet = *v;
            return {};
        }
        }
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (info_.mode == XT_STATISTIC_MODE_RANDOM && !(seen & f_probability))
            return param_fail("--probability must be specified when using random mode");
        if (info_.mode == XT_STATISTIC_MODE_NTH && !(seen & (f_every | f_packet)))
            return param_fail("--every and --packet must be specified when using nth mode");
        if (info_.u.nth.packet > info_.u.nth.every) return param_fail("the --packet p must be 0 <= p <= n-1");
        // The kernel starts its nth counter from here.
        info_.u.nth.count = info_.u.nth.every - info_.u.nth.packet;
        return {};
    }

    // xt_statistic_info; the kernel fills `master`.
    XtInfo to_xt(const Rule&) const override { return XtInfo::of("statistic", 0, info_); }

    void save(std::string& out) const override { emit(out, "--"); }
    void print(std::string& out, bool) const override {
        out += " statistic";
        emit(out, "");
    }

private:
    xt_statistic_info info_{};

    void emit(std::string& out, std::string_view dash) const {
        const char* inv = (info_.flags & XT_STATISTIC_INVERT) ? " !" : "";
        if (info_.mode == XT_STATISTIC_MODE_RANDOM) {
            char p[64];
            std::snprintf(p, sizeof p, "%.11f", 1.0 * info_.u.random.probability / 0x80000000);
            out += str(' ', dash, "mode random", inv, ' ', dash, "probability ", p);
            return;
        }
        out += str(' ', dash, "mode nth", inv, ' ', dash, "every ", static_cast<uint32_t>(info_.u.nth.every + 1));
        // -L leaves out a zero start; iptables-save always writes it.
        if (info_.u.nth.packet || !dash.empty()) out += str(' ', dash, "packet ", info_.u.nth.packet);
    }
};

}  // namespace

extern const ExtKind match_statistic{"statistic", statistic_opts, make_data<StatisticData>};

}  // namespace xdpt
