// -m hashlimit: token-bucket rate limits kept per address/port group in a named kernel
// table (xt_hashlimit revision 3). The buckets live in the kernel: rules with it are left
// to netfilter (no to_xdp). Rates are kept as the kernel wants them: packets as the period
// between matches in 1/1000000 s, bytes as a cost (xt_hashlimit's byte mode).
#include <linux/netfilter/xt_hashlimit.h>

#include <array>
#include <csignal>
#include <cinttypes>
#include <cstdlib>
#include <cstring>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_upto, o_above, o_limit, o_mode, o_srcmask, o_dstmask, o_name, o_burst,
             o_size, o_max, o_gcint, o_expire, o_ratematch, o_interval };
constexpr unsigned alias = opt_invert | opt_multi;  // checked by AliasGuard

constexpr std::array<OptDef, 15> hashlimit_opts{{
    {.name = "hashlimit-upto", .id = o_upto, .flags = opt_invert, .excl = 1u << o_above},
    {.name = "hashlimit-above", .id = o_above, .flags = opt_invert, .excl = 1u << o_upto},
    {.name = "hashlimit", .id = o_upto, .flags = alias, .excl = 1u << o_above},  // old name
    {.name = "hashlimit-srcmask", .id = o_srcmask},
    {.name = "hashlimit-dstmask", .id = o_dstmask},
    {.name = "hashlimit-burst", .id = o_burst},
    {.name = "hashlimit-htable-size", .id = o_size},
    {.name = "hashlimit-htable-max", .id = o_max},
    {.name = "hashlimit-htable-gcinterval", .id = o_gcint},
    {.name = "hashlimit-htable-expire", .id = o_expire},
    {.name = "hashlimit-mode", .id = o_mode},
    {.name = "hashlimit-name", .id = o_name, .flags = opt_mand},
    {.name = "hashlimit-rate-match", .id = o_ratematch, .has_arg = false},
    {.name = "hashlimit-rate-interval", .id = o_interval},
}};

constexpr uint64_t scale = 1000000;          // XT_HASHLIMIT_SCALE_v2
constexpr uint64_t default_burst = 5;
constexpr uint64_t burst_max = 1000000;      // XT_HASHLIMIT_BURST_MAX
constexpr uint32_t default_gc = 1000;        // ms
constexpr uint32_t byte_expire = 15;         // XT_HASHLIMIT_BYTE_EXPIRE, s
constexpr uint32_t byte_expire_burst = 60;   // XT_HASHLIMIT_BYTE_EXPIRE_BURST, s
constexpr uint32_t max_size = 1048576;       // the kernel's HASHLIMIT_MAX_SIZE
constexpr uint32_t hash_modes = XT_HASHLIMIT_HASH_DIP | XT_HASHLIMIT_HASH_DPT |
                                XT_HASHLIMIT_HASH_SIP | XT_HASHLIMIT_HASH_SPT;

// strtoll/strtoumax on a C string.
int64_t c_atoll(std::string_view s) {
    std::string b(s);
    return std::strtoll(b.c_str(), nullptr, 10);
}

uint64_t bytes_to_cost(uint64_t bytes) {
    const uint32_t r = static_cast<uint32_t>(bytes >> XT_HASHLIMIT_BYTE_SHIFT);
    const uint32_t d = r + 1;
    return d ? UINT32_MAX / d : 0;
}

uint64_t cost_to_bytes(uint64_t cost) {
    uint64_t r = cost ? UINT32_MAX / cost : UINT32_MAX;
    return (r - 1) << XT_HASHLIMIT_BYTE_SHIFT;
}

uint64_t unit_factor(char c) { return c == 'm' ? 1024 * 1024 : c == 'k' ? 1024 : 1; }

struct Rate {
    uint64_t value;
    uint32_t mult;  // seconds per unit (packets) or XT_HASHLIMIT_BYTE_EXPIRE (bytes)
    bool bytes;
};

// "N[k|m]b/s": a byte rate; nullopt when the text is no byte rate.
Result<std::optional<Rate>> parse_bytes(std::string_view rate) {
    auto b = rate.find("b/s");
    if (b == std::string_view::npos || b == 0) return std::nullopt;
    const uint64_t r = static_cast<uint64_t>(c_atoll(rate));
    if (r == 0) return std::nullopt;
    const uint64_t cost = bytes_to_cost(r * unit_factor(rate[b - 1]));
    if (cost == 0) return param_fail(str("Rate too high \"", rate, "\""));
    return Rate{cost, byte_expire, true};
}

// "N[/second|minute|hour|day]" (any prefix of the unit): a packet rate.
Result<std::optional<Rate>> parse_rate(std::string_view rate) {
    uint32_t mult = 1;
    if (auto slash = rate.find('/'); slash != std::string_view::npos) {
        std::string_view unit = rate.substr(slash + 1);
        if (unit.empty()) return std::nullopt;
        if (prefix_of(unit, "second")) mult = 1;
        else if (prefix_of(unit, "minute")) mult = 60;
        else if (prefix_of(unit, "hour")) mult = 60 * 60;
        else if (prefix_of(unit, "day")) mult = 24 * 60 * 60;
        else return std::nullopt;
    }
    const uint64_t r = static_cast<uint64_t>(c_atoll(rate));
    if (r == 0) return std::nullopt;
    const uint64_t avg = scale * mult / r;
    if (avg == 0) return param_fail(str("Rate too fast \"", rate, "\""));
    return Rate{avg, mult, false};
}

std::string burst_range_error() {
    return str("bad value for option \"--hashlimit-burst\", or out of range (1-", burst_max, ").");
}

struct RateUnit {
    std::string_view name;
    uint64_t mult;
};
constexpr std::array<RateUnit, 4> rate_units{{
    {"day", scale * 24 * 60 * 60}, {"hour", scale * 60 * 60}, {"min", scale * 60}, {"sec", scale}}};

// print_rate: the text and the expiry (ms) that goes with the unit chosen.
uint32_t rate_text(std::string& out, uint64_t period) {
    if (period == 0) {
        out += " inf";
        return 0;
    }
    size_t i = 1;
    for (; i < rate_units.size(); ++i)
        if (period > rate_units[i].mult || rate_units[i].mult / period < rate_units[i].mult % period)
            break;
    out += str(' ', rate_units[i - 1].mult / period, '/', rate_units[i - 1].name);
    return static_cast<uint32_t>(rate_units[i - 1].mult / scale * 1000);
}

struct ByteUnit {
    std::string_view name;
    uint64_t thresh;
};
constexpr std::array<ByteUnit, 3> byte_units{{{"m", 1024 * 1024}, {"k", 1024}, {"", 1}}};

// print_bytes: the rate (and the burst with `prefix`) and the expiry that goes with them.
uint32_t bytes_text(std::string& out, uint64_t avg, uint64_t burst, std::string_view prefix) {
    uint64_t r = cost_to_bytes(avg);
    size_t i = 0;
    for (; i < byte_units.size() - 1; ++i)
        // The mask is the complement of a 32-bit threshold: it clears the high word too.
        if (r >= byte_units[i].thresh &&
            bytes_to_cost(r & uint32_t(~uint32_t(byte_units[i].thresh - 1))) == avg)
            break;
    out += str(' ', r / byte_units[i].thresh, byte_units[i].name, "b/s");
    if (burst == 0) return byte_expire * 1000;
    r *= burst;
    out += str(' ', prefix);
    for (i = 0; i < byte_units.size() - 1; ++i)
        if (r >= byte_units[i].thresh) break;
    out += str("burst ", r / byte_units[i].thresh, byte_units[i].name, 'b');
    return byte_expire_burst * 1000;
}

void mode_text(std::string& out, uint32_t mode, char sep) {
    out += ' ';
    bool prev = false;
    for (auto [bit, name] : {std::pair{XT_HASHLIMIT_HASH_SIP, "srcip"}, {XT_HASHLIMIT_HASH_SPT, "srcport"},
                             {XT_HASHLIMIT_HASH_DIP, "dstip"}, {XT_HASHLIMIT_HASH_DPT, "dstport"}}) {
        if (!(mode & bit)) continue;
        if (prev) out += sep;
        out += name;
        prev = true;
    }
}

// The kernel's user2credits for revision 3 with HZ=250: CREDITS_PER_JIFFY is 2^39, so
// HZ * CREDITS_PER_JIFFY / scale is 137438953 (64-bit arithmetic, wrapping).
uint64_t user2credits(uint64_t user) { return user * 137438953ull; }
// user2credits_byte: CREDITS_PER_JIFFY_BYTES is 2^24.
uint32_t user2credits_byte(uint32_t user) {
    return static_cast<uint32_t>((uint64_t{user} * 250 * (1u << 24)) >> 32);
}

class HashlimitData : public Data<HashlimitData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        set_family(ctx.family);
        if (auto r = guard_.check("hashlimit", hashlimit_opts, opt, invert); !r) return r;
        arg = arg.substr(0, arg.find('\0'));
        // The stored form (save_exact) names the kernel's values themselves: "=N" a packet
        // period or a burst, "=bN" a byte cost.
        if (ctx.stored && arg.starts_with('=')) {
            const bool b = arg.starts_with("=b");
            const uint64_t v = std::strtoull(std::string(arg.substr(b ? 2 : 1)).c_str(), nullptr, 10);
            if (opt.id == o_burst) {
                burst_ = v;
            } else {
                if ((opt.id == o_above) != invert) inverted_ = true;
                avg_ = v, bytes_ = b;
            }
            return {};
        }
        switch (opt.id) {
            case o_upto: case o_above: {
                // "upto" is the kernel's plain mode, "above" its inverted one; `!` turns
                // either around.
                if ((opt.id == o_above) != invert) inverted_ = true;
                auto b = parse_bytes(arg);
                if (!b) return failure(b);
                std::optional<Rate> rate = *b;
                if (!rate) {
                    auto p = parse_rate(arg);
                    if (!p) return failure(p);
                    rate = *p;
                }
                if (!rate)
                    return param_fail(str("hashlimit: Bad value for \"--", canonical(hashlimit_opts, opt.id).name,
                                          "\" option: \"", arg, "\""));
                avg_ = rate->value, mult_ = rate->mult, bytes_ = rate->bytes;
                return {};
            }
            case o_mode: {
                for (auto tok : split_mode(arg)) {
                    if (tok == "dstip") mode_ |= XT_HASHLIMIT_HASH_DIP;
                    else if (tok == "srcip") mode_ |= XT_HASHLIMIT_HASH_SIP;
                    else if (tok == "srcport") mode_ |= XT_HASHLIMIT_HASH_SPT;
                    else if (tok == "dstport") mode_ |= XT_HASHLIMIT_HASH_DPT;
                    else return param_fail(str("hashlimit: Bad value for \"--hashlimit-mode\" option: \"", arg, "\""));
                }
                return {};
            }
            case o_srcmask: case o_dstmask: {
                // A dotted mask that is no prefix gives 255, which the kernel refuses.
                auto v = parse_plen(fam_, "hashlimit", opt.name, arg);
                if (!v) return failure(v);
                (opt.id == o_srcmask ? srcmask_ : dstmask_) = *v;
                return {};
            }
            case o_name:
                if (arg.empty()) return param_fail("Argument must have a minimum length of 1 characters\n");
                name_ = std::string(arg.substr(0, NAME_MAX - 1));
                return {};
            case o_burst: {
                // xtables_strtoul (base 0, no minus), then an optional k or m factor.
                std::string b(arg);
                const char* p = b.c_str();
                while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
                char* end = nullptr;
                errno = 0;
                const uintmax_t v = *p == '-' ? 0 : std::strtoumax(b.c_str(), &end, 0);
                if (*p == '-' || end == b.c_str() || errno == ERANGE || v < 1 || (*end == '\0' && v > burst_max))
                    return param_fail(burst_range_error());
                burst_ = v * unit_factor(*end);
                return {};
            }
            case o_ratematch: ratematch_ = true; return {};
            case o_interval: {
                const auto r = static_cast<int>(c_atoll(arg));
                if (r <= 0)
                    return param_fail(str("hashlimit: Bad value for \"--hashlimit-rate-interval\" option: \"", arg, "\""));
                interval_ = static_cast<uint32_t>(r);
                return {};
            }
        }
        auto v = parse_uint("hashlimit", opt.name, arg, 0, 0xffffffff);
        if (!v) return failure(v);
        switch (opt.id) {
            case o_size: size_ = *v; break;
            case o_max: max_ = *v; break;
            case o_gcint: gc_interval_ = *v; break;
            case o_expire: expire_ = *v; break;
        }
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx& ctx) override {
        set_family(ctx.family);
        if (!(seen & (1u << o_upto | 1u << o_above))) return param_fail("You have to specify --hashlimit");
        if (ctx.stored) return {};  // the stored text holds the final values
        const bool expire_given = seen & (1u << o_expire);
        if (!expire_given) expire_ = mult_ * 1000;
        if (bytes_) {
            uint32_t burst = 0;
            if (seen & (1u << o_burst)) {
                const uint64_t unit = cost_to_bytes(avg_);
                if (burst_ < unit) return param_fail(str("burst cannot be smaller than ", unit, "b"));
                // A rate of under 2 bytes/s makes the unit 0, and iptables 1.8.9 divides by
                // it: it dies of SIGFPE before changing anything. The same end, on purpose
                // (a division by zero would be undefined here).
                if (unit == 0) std::raise(SIGFPE);
                burst = static_cast<uint32_t>(burst_);
                burst /= unit;
                if (burst_ % unit) ++burst;
                if (!expire_given) expire_ = byte_expire_burst * 1000;
            }
            burst_ = burst;
        } else if (burst_ > burst_max) {
            return param_fail(burst_range_error());
        }
        if (ratematch_) {
            if (!bytes_) avg_ /= mult_;
            if (interval_ == 0) interval_ = bytes_ ? 1 : mult_;
        }
        // The kernel cuts the table's size and entries to its maximum in the rule it keeps.
        size_ = std::min(size_, max_size), max_ = std::min(max_, max_size);
        return {};
    }


    // hashlimit_mt_check: a name fit for /proc, timers, masks, and a rate whose credits do
    // not overflow (that one ERANGE).
    bool kernel_accepts(const Rule&, const ExtCtx&) const override {
        if (name_ == "." || name_ == ".." || name_.find('/') != std::string::npos) return false;
        if (gc_interval_ == 0 || expire_ == 0) return false;
        if (srcmask_ > width() || dstmask_ > width()) return false;
        return !out_of_range() && !(bytes_ && !ratematch_ && user2credits_byte(static_cast<uint32_t>(avg_)) == 0);
    }
    int refusal_errno() const override { return out_of_range() ? ERANGE : EINVAL; }
    // The kernel's table of buckets is shared by name; a rule that rate-matches cannot use
    // the table of one that limits, and the other way round.
    std::optional<std::pair<std::string, std::string>> kernel_shared() const override {
        return std::pair{name_, std::string(ratematch_ ? "rate-match" : "limit")};
    }

    XtInfo to_xt(const Rule&) const override {
        xt_hashlimit_mtinfo3 info{};
        name_.copy(info.name, sizeof info.name - 1);
        info.cfg.avg = avg_, info.cfg.burst = burst_, info.cfg.mode = mode_bits();
        info.cfg.size = size_, info.cfg.max = max_, info.cfg.gc_interval = gc_interval_;
        info.cfg.expire = expire_, info.cfg.interval = interval_;
        info.cfg.srcmask = srcmask_, info.cfg.dstmask = dstmask_;
        return XtInfo::of("hashlimit", 3, info);
    }

    void save(std::string& out) const override { save_as(out, false); }
    // The stored form: every value the structure holds, as it is after the final check
    // (the expiry, the byte burst in units and the rate-match period are derived there).
    void save_exact(std::string& out) const override { save_as(out, true); }

    void print(std::string& out, bool) const override {
        out += inverted_ ? " limit: above" : " limit: up to";
        uint64_t quantum;
        if (bytes_) {
            quantum = bytes_text(out, avg_, burst_, "");
        } else {
            quantum = rate_text(out, interval_ ? avg_ * interval_ : avg_);
            out += str(" burst ", burst_);
        }
        if (mode_ & hash_modes) {
            out += " mode";
            mode_text(out, mode_, '-');
        }
        if (size_) out += str(" htable-size ", size_);
        if (max_) out += str(" htable-max ", max_);
        if (gc_interval_ != default_gc) out += str(" htable-gcinterval ", gc_interval_);
        if (expire_ != quantum) out += str(" htable-expire ", expire_);
        if (srcmask_ != width()) out += str(" srcmask ", unsigned{srcmask_});
        if (dstmask_ != width()) out += str(" dstmask ", unsigned{dstmask_});
        if (ratematch_) {
            out += " rate-match";
            if (interval_ != 1) out += str(" rate-interval ", interval_);
        }
    }

private:
    AliasGuard guard_;
    uint64_t avg_ = 0, burst_ = default_burst;
    uint32_t mode_ = 0, mult_ = 1, size_ = 0, max_ = 0, gc_interval_ = default_gc, expire_ = 0,
             interval_ = 0;
    uint8_t srcmask_ = 32, dstmask_ = 32;  // the family's width unless given
    Family fam_ = Family::ipv4;
    bool family_set_ = false;

    unsigned width() const { return spec_of(fam_).addr_bits(); }
    // The first call, before any option is applied: the masks start at the family's width.
    void set_family(Family f) {
        if (family_set_) return;
        family_set_ = true;
        fam_ = f;
        srcmask_ = dstmask_ = static_cast<uint8_t>(width());
    }
    bool inverted_ = false, bytes_ = false, ratematch_ = false;
    std::string name_;

    uint32_t mode_bits() const {
        return mode_ | (inverted_ ? XT_HASHLIMIT_INVERT : 0) | (bytes_ ? XT_HASHLIMIT_BYTES : 0) |
               (ratematch_ ? XT_HASHLIMIT_RATE_MATCH : 0);
    }

    bool out_of_range() const {
        if (ratematch_) return avg_ == 0 || avg_ > UINT32_MAX;
        if (bytes_) return false;
        return burst_ == 0 || user2credits(avg_ * burst_) < user2credits(avg_);
    }

    // strtok(arg, ",|"): the non-empty pieces.
    static std::vector<std::string_view> split_mode(std::string_view s) {
        std::vector<std::string_view> out;
        size_t i = 0;
        while (i < s.size()) {
            size_t j = s.find_first_of(",|", i);
            if (j == std::string_view::npos) j = s.size();
            if (j > i) out.push_back(s.substr(i, j - i));
            i = j + 1;
        }
        return out;
    }

    // `exact`: the stored form. iptables' text does not always read back to the same
    // structure (a byte burst, a rounded rate, the rate-match period), so the stored form
    // gives the rate and the burst as the kernel's numbers ("=N", "=bN"), read back with
    // ExtCtx::stored, where finish() leaves every value as it is.
    void save_as(std::string& out, bool exact) const {
        out += inverted_ ? " --hashlimit-above" : " --hashlimit-upto";
        uint32_t quantum;
        if (exact) {
            out += str(bytes_ ? " =b" : " =", avg_, " --hashlimit-burst =", burst_);
            std::string ignored;
            quantum = bytes_ ? bytes_text(ignored, avg_, burst_, "") : rate_text(ignored, avg_);
        } else if (bytes_) {
            quantum = bytes_text(out, avg_, burst_, "--hashlimit-");
        } else {
            quantum = rate_text(out, avg_);
            out += str(" --hashlimit-burst ", burst_);
        }
        if (mode_ & hash_modes) {
            out += " --hashlimit-mode";
            mode_text(out, mode_, ',');
        }
        out += " --hashlimit-name";
        if (exact) append_quoted(out, name_);
        else out += str(' ', name_);
        if (size_) out += str(" --hashlimit-htable-size ", size_);
        if (max_) out += str(" --hashlimit-htable-max ", max_);
        if (gc_interval_ != default_gc) out += str(" --hashlimit-htable-gcinterval ", gc_interval_);
        if (expire_ != quantum || exact) out += str(" --hashlimit-htable-expire ", expire_);
        if (srcmask_ != width()) out += str(" --hashlimit-srcmask ", unsigned{srcmask_});
        if (dstmask_ != width()) out += str(" --hashlimit-dstmask ", unsigned{dstmask_});
        if (ratematch_) {
            out += " --hashlimit-rate-match";
            if (interval_ != 1 || exact) out += str(" --hashlimit-rate-interval ", interval_);
        }
    }
};

}  // namespace

const ExtKind match_hashlimit{"hashlimit", hashlimit_opts, make_data<HashlimitData>};

}  // namespace xdpt
