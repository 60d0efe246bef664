// -m limit: token-bucket rate limit (xt_limit). The rate is kept as the kernel wants it:
// the average period between matches in 1/10000 seconds.
#include <linux/netfilter/xt_limit.h>

#include <array>
#include <cstdlib>

#include "ext/matches/common.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_limit, o_burst };
constexpr uint32_t scale = 10000;  // XT_LIMIT_SCALE
constexpr uint32_t default_avg = scale * 3600 / 3;  // "3/hour"
constexpr uint32_t default_burst = 5;

constexpr std::array<OptDef, 2> limit_opts{{
    {.name = "limit", .id = o_limit},
    {.name = "limit-burst", .id = o_burst},
}};

struct Unit {
    std::string_view parse_name;  // accepted as any prefix
    std::string_view print_name;
    uint32_t seconds;
};
// Printing tries them from the largest down (libxt_limit's rates[]).
constexpr std::array<Unit, 4> units{{
    {"day", "day", 24 * 60 * 60},
    {"hour", "hour", 60 * 60},
    {"minute", "min", 60},
    {"second", "sec", 1},
}};

// atoi: white space, a sign and digits; out-of-range values wrap like glibc's (int)strtol.
uint32_t c_atoi(std::string_view s) {
    std::string buf(s);
    return static_cast<uint32_t>(static_cast<int>(std::strtol(buf.c_str(), nullptr, 10)));
}

// parse_rate: "N[/unit]" -> period; nullopt for a bad rate.
Result<std::optional<uint32_t>> parse_rate(std::string_view rate) {
    uint32_t mult = 1;
    if (auto slash = rate.find('/'); slash != std::string_view::npos) {
        std::string_view unit = rate.substr(slash + 1);
        if (unit.empty()) return std::nullopt;
        const Unit* u = nullptr;
        for (auto it = units.rbegin(); it != units.rend() && !u; ++it)
            if (prefix_of(unit, it->parse_name)) u = &*it;
        if (!u) return std::nullopt;
        mult = u->seconds;
    }
    const uint32_t r = c_atoi(rate);
    if (r == 0) return std::nullopt;
    const uint32_t avg = scale * mult / r;
    if (avg == 0) return param_fail(str("Rate too fast \"", rate, "\""));
    return avg;
}

// A period (> 0) as print_rate shows it: that many per the largest unit whose count
// rounds well.
struct Rate {
    uint32_t count;
    const Unit& unit;
};
Rate rate_of(uint32_t period) {
    size_t i = 1;
    for (; i < units.size(); ++i) {
        const uint32_t mult = units[i].seconds * scale;
        if (period > mult || mult / period < mult % period) break;
    }
    return {(units[i - 1].seconds * scale) / period, units[i - 1]};
}

std::string rate_text(uint32_t period) {
    if (period == 0) return " inf";
    const Rate r = rate_of(period);
    return str(' ', r.count, '/', r.unit.print_name);
}

// The kernel's user2credits with HZ=250 (CREDITS_PER_JIFFY 128), in 32-bit arithmetic.
uint32_t user2credits(uint32_t user) {
    constexpr uint32_t hz_cpj = 250 * 128;
    if (user > 0xffffffffu / hz_cpj) return (user / scale) * hz_cpj;
    return (user * hz_cpj) / scale;
}

class LimitData : public Data<LimitData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        arg = arg.substr(0, arg.find('\0'));
        if (opt.id == o_burst) {
            auto b = parse_uint("limit", "limit-burst", arg, 0, 10000);
            if (!b) return failure(b);
            burst_ = *b;
            return {};
        }
        auto r = parse_rate(arg);
        if (!r) return failure(r);
        if (!*r) return param_fail(str("bad rate \"", arg, "\"'"));
        avg_ = **r;
        return {};
    }

    // The kernel refuses a zero burst and a burst whose credit overflows, with ERANGE
    // ("Numerical result out of range").
    bool kernel_accepts(const Rule&, const ExtCtx&) const override {
        return burst_ != 0 && user2credits(avg_ * burst_) >= user2credits(avg_);
    }
    int refusal_errno() const override { return ERANGE; }

    // xt_rateinfo: iptables fills the period and the burst, the kernel the rest.
    XtInfo to_xt(const Rule&) const override {
        xt_rateinfo info{};
        info.avg = avg_, info.burst = burst_;
        return XtInfo::of("limit", 0, info);
    }

    // limit rate N/UNIT burst B packets, the rate as -L shows it (iptables-nft's form).
    // nft_limit and xt_limit are the same token bucket, B packets deep, refilled at the
    // rate: xt_limit refills once a jiffy where nft_limit counts nanoseconds, and its
    // period is rounded to 1/10000 s, so the two may part within a jiffy of a refill.
    bool to_nft(const Rule&, nftx::Exprs& out) const override {
        if (avg_ == 0) return false;
        const Rate r = rate_of(avg_);
        out.push_back(nftx::Limit{r.count, r.unit.seconds, burst_});
        return true;
    }

    void save(std::string& out) const override {
        out += str(" --limit", rate_text(avg_));
        if (burst_ != default_burst) out += str(" --limit-burst ", burst_);
    }

    void print(std::string& out, bool) const override {
        out += str(" limit: avg", rate_text(avg_), " burst ", burst_);
    }

private:
    uint32_t avg_ = default_avg, burst_ = default_burst;
};

}  // namespace

const ExtKind match_limit{"limit", limit_opts, make_data<LimitData>};

}  // namespace xdpt
