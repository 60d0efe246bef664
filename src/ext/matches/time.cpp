// -m time: the packet's arrival time against a date window, a daytime window, weekdays
// and days of the month (xt_time revision 0). The clock is the kernel's: rules with it
// are left to netfilter (no to_xdp).
#include <linux/netfilter/xt_time.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <ctime>

#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_datestart, o_datestop, o_timestart, o_timestop, o_contiguous, o_monthdays, o_weekdays,
             o_localtz, o_utc, o_kerneltz };

// libxt_time's table order: the driver names the first of two exclusive options first.
constexpr std::array<OptDef, 10> time_opts{{
    {.name = "datestart", .id = o_datestart},
    {.name = "datestop", .id = o_datestop},
    {.name = "timestart", .id = o_timestart},
    {.name = "timestop", .id = o_timestop},
    {.name = "contiguous", .id = o_contiguous, .has_arg = false},
    {.name = "weekdays", .id = o_weekdays, .flags = opt_invert},
    {.name = "monthdays", .id = o_monthdays, .flags = opt_invert},
    {.name = "localtz", .id = o_localtz, .has_arg = false, .excl = 1u << o_utc},
    {.name = "utc", .id = o_utc, .has_arg = false, .excl = 1u << o_localtz | 1u << o_kerneltz},
    {.name = "kerneltz", .id = o_kerneltz, .has_arg = false, .excl = 1u << o_utc},
}};

constexpr std::array<std::string_view, 8> week_days{"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr uint32_t no_date_stop = INT_MAX;

// strtoul(s, &end, base) on a C string, kept in an unsigned int as iptables keeps it:
// blanks, a sign, digits; `used` is 0 when no digit was read.
struct Num {
    unsigned long value = 0;
    size_t used = 0;
};
Num strtoul_at(std::string_view s, int base) {
    std::string c(s);
    char* end = nullptr;
    Num n;
    n.value = static_cast<unsigned>(std::strtoul(c.c_str(), &end, base));  // an unsigned int in iptables
    n.used = static_cast<size_t>(end - c.c_str());
    return n;
}
char at(std::string_view s, size_t i) { return i < s.size() ? s[i] : '\0'; }

// YYYY[-MM[-DD[Thh[:mm[:ss]]]]] as UTC seconds (mktime under TZ=UTC normalises: month 0
// is December of the year before, day 31 of February is in March).
Result<uint32_t> parse_date(std::string_view arg) {
    auto bad = [&] {
        return param_fail(str("Invalid date \"", arg, "\" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]"));
    };
    struct Field {
        char sep;
        unsigned long min, max;
    };
    // Each field: its value limits and the separator that may follow it.
    constexpr Field fields[] = {{'-', 1970, 2038}, {'-', 0, 12}, {'T', 0, 31}, {':', 0, 23}, {':', 0, 59}, {'\0', 0, 59}};
    unsigned long v[6] = {0, 1, 1, 0, 0, 0};
    size_t pos = 0;
    for (size_t f = 0; f < 6; ++f) {
        Num n = strtoul_at(arg.substr(pos), 10);
        const char next = at(arg, pos + n.used);
        const bool last = f == 5 || next == '\0';
        if ((next != fields[f].sep && next != '\0') || n.value < fields[f].min || n.value > fields[f].max ||
            (f == 5 && next != '\0'))
            return bad();
        v[f] = n.value;
        if (last) break;
        pos += n.used + 1;
    }
    std::tm tm{};
    tm.tm_year = static_cast<int>(v[0]) - 1900, tm.tm_mon = static_cast<int>(v[1]) - 1;
    tm.tm_mday = static_cast<int>(v[2]), tm.tm_hour = static_cast<int>(v[3]);
    tm.tm_min = static_cast<int>(v[4]), tm.tm_sec = static_cast<int>(v[5]);
    const time_t t = timegm(&tm);
    if (t < 0) return fail(Exit::other, "mktime returned an error");
    return static_cast<uint32_t>(t);
}

// hh:mm[:ss] as seconds of the day; the message quotes the field that failed onwards.
Result<uint32_t> parse_daytime(std::string_view arg) {
    auto bad = [](std::string_view rest) {
        return param_fail(str("invalid time \"", rest, "\" specified, should be hh:mm[:ss] format and within the boundaries"));
    };
    Num h = strtoul_at(arg, 10);
    if (at(arg, h.used) != ':' || h.value > 23) return bad(arg);
    std::string_view rest = arg.substr(h.used + 1);
    Num m = strtoul_at(rest, 10);
    const char after = at(rest, m.used);
    if ((after != ':' && after != '\0') || m.value > 59) return bad(rest);
    unsigned long s = 0;
    if (after == ':') {
        rest = rest.substr(m.used + 1);
        Num sec = strtoul_at(rest, 10);
        if (at(rest, sec.used) != '\0' || sec.value > 59) return bad(rest);
        s = sec.value;
    }
    return static_cast<uint32_t>(3600 * h.value + 60 * m.value + s);
}

// my_strseg: comma separated items, each cut to `width` characters; an empty list has none.
std::vector<std::string> segments(std::string_view arg, size_t width) {
    std::vector<std::string> out;
    if (arg.empty()) return out;
    for (auto item : grammar::split(arg, ',')) out.emplace_back(item.substr(0, width));
    if (arg.back() == ',') out.pop_back();  // a trailing comma ends the list
    return out;
}

Result<uint32_t> parse_monthdays(std::string_view arg) {
    uint32_t mask = 0;
    for (const auto& day : segments(arg, 2)) {
        Num n = strtoul_at(day, 0);
        if (at(day, n.used) != '\0' || n.value > 31)
            return param_fail(str(day, " is not a valid day for --monthdays"));
        mask |= 1u << n.value;
    }
    return mask;
}

Result<uint8_t> parse_weekdays(std::string_view arg) {
    uint32_t mask = 0;
    for (const auto& day : segments(arg, 3)) {
        Num n = strtoul_at(day, 0);
        if (at(day, n.used) == '\0') {
            if (n.value == 0) return param_fail("No, the week does NOT begin with Sunday.");
            mask |= 1u << (n.value & 31);  // the x86 shift iptables' `1 << i` compiles to
            continue;
        }
        bool valid = false;
        for (size_t i = 1; i < week_days.size(); ++i)
            if (day.size() >= 2 && day.compare(0, 2, week_days[i], 0, 2) == 0) mask |= 1u << i, valid = true;
        if (!valid) return param_fail(str(day, " is not a valid day specifier"));
    }
    return static_cast<uint8_t>(mask);  // xt_time_info's weekdays_match is a byte
}

std::string two(unsigned v) { return str(v < 10 ? "0" : "", v); }

std::string daytime_text(uint32_t t) { return str(two(t / 3600), ':', two(t / 60 % 60), ':', two(t % 60)); }

// "YYYY-MM-DD<sep>hh:mm:ss" in UTC.
std::string date_text(uint32_t date, char sep) {
    const time_t t = date;
    std::tm tm{};
    gmtime_r(&t, &tm);
    return str(tm.tm_year + 1900, '-', two(tm.tm_mon + 1), '-', two(tm.tm_mday), sep, two(tm.tm_hour), ':',
               two(tm.tm_min), ':', two(tm.tm_sec));
}

class TimeData : public Data<TimeData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        arg = arg.substr(0, arg.find('\0'));
        switch (opt.id) {
        case o_datestart: case o_datestop: {
            auto d = parse_date(arg);
            if (!d) return failure(d);
            info_.date_start = opt.id == o_datestart ? *d : info_.date_start;
            info_.date_stop = opt.id == o_datestop ? *d : info_.date_stop;
            return {};
        }
        case o_timestart: case o_timestop: {
            auto t = parse_daytime(arg);
            if (!t) return failure(t);
            (opt.id == o_timestart ? info_.daytime_start : info_.daytime_stop) = *t;
            return {};
        }
        case o_contiguous: info_.flags |= XT_TIME_CONTIGUOUS; return {};
        case o_localtz:
            warn(ctx, "WARNING: --localtz is being replaced by --kerneltz, since \"local\" is ambiguous. Note the "
                      "kernel timezone has caveats - see manpage for details.\n");
            [[fallthrough]];
        case o_kerneltz: info_.flags |= XT_TIME_LOCAL_TZ; return {};
        case o_utc: return {};
        case o_monthdays: {
            auto m = parse_monthdays(arg);
            if (!m) return failure(m);
            info_.monthdays_match = invert ? *m ^ XT_TIME_ALL_MONTHDAYS : *m;
            return {};
        }
        default: {
            auto w = parse_weekdays(arg);
            if (!w) return failure(w);
            info_.weekdays_match = invert ? *w ^ XT_TIME_ALL_WEEKDAYS : *w;
            return {};
        }
        }
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if ((seen & 1u << o_contiguous) && info_.daytime_start < info_.daytime_stop)
            return param_fail("time: --contiguous only makes sense when stoptime is smaller than starttime");
        return {};
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("time", 0, info_); }

    void save(std::string& out) const override { save_as(out, false); }
    // What iptables does not print kept (day 0 of the month and weekday bit 0 as numbers,
    // an empty list quoted, a --datestop at the epoch), so that the text reads back to the
    // same structure.
    void save_exact(std::string& out) const override { save_as(out, true); }

    void print(std::string& out, bool) const override {
        out += " TIME";
        if (daytime_given())
            out += str(" from ", daytime_text(info_.daytime_start), " to ", daytime_text(info_.daytime_stop));
        if (info_.weekdays_match != XT_TIME_ALL_WEEKDAYS) out += str(" on ", weekdays_text(false));
        if (info_.monthdays_match != XT_TIME_ALL_MONTHDAYS) out += str(" on ", monthdays_text(true, false));
        if (info_.date_start != 0) out += str(" starting from ", date_text(info_.date_start, ' '));
        if (info_.date_stop != no_date_stop) {  // the epoch itself is left out, the words stay
            out += " until date";
            if (info_.date_stop != 0) out += str(' ', date_text(info_.date_stop, ' '));
        }
        if (!(info_.flags & XT_TIME_LOCAL_TZ)) out += " UTC";
        if (info_.flags & XT_TIME_CONTIGUOUS) out += " contiguous";
    }

private:
    xt_time_info info_{0, no_date_stop, XT_TIME_MIN_DAYTIME, XT_TIME_MAX_DAYTIME, XT_TIME_ALL_MONTHDAYS,
                       XT_TIME_ALL_WEEKDAYS, 0};

    bool daytime_given() const {
        return info_.daytime_start != XT_TIME_MIN_DAYTIME || info_.daytime_stop != XT_TIME_MAX_DAYTIME;
    }

    std::string monthdays_text(bool ordinals, bool exact) const {
        std::string s;
        for (unsigned i = exact ? 0 : 1; i <= 31; ++i) {
            if (!(info_.monthdays_match & (1u << i))) continue;
            if (!s.empty()) s += ',';
            s += str(i);
            if (ordinals) s += i % 10 == 1 ? "st" : i % 10 == 2 ? "nd" : i % 10 == 3 ? "rd" : "th";
        }
        return s;
    }

    std::string weekdays_text(bool exact) const {
        std::string s;
        for (unsigned i = exact ? 0 : 1; i <= 7; ++i) {
            if (!(info_.weekdays_match & (1u << i))) continue;
            if (!s.empty()) s += ',';
            s += i == 0 ? std::string("32") : std::string(week_days[i]);  // bit 0: what "32" sets
        }
        return s;
    }

    void save_as(std::string& out, bool exact) const {
        auto list = [&](std::string_view opt, const std::string& items) {
            out += str(" --", opt);
            if (exact && items.empty()) out += " \"\"";
            else out += str(' ', items);
        };
        if (daytime_given())
            out += str(" --timestart ", daytime_text(info_.daytime_start), " --timestop ",
                       daytime_text(info_.daytime_stop));
        if (info_.monthdays_match != XT_TIME_ALL_MONTHDAYS) list("monthdays", monthdays_text(false, exact));
        if (info_.weekdays_match != XT_TIME_ALL_WEEKDAYS) list("weekdays", weekdays_text(exact));
        if (info_.date_start != 0) out += str(" --datestart ", date_text(info_.date_start, 'T'));
        if (info_.date_stop != 0 || exact) out += str(" --datestop ", date_text(info_.date_stop, 'T'));
        if (info_.flags & XT_TIME_LOCAL_TZ) out += " --kerneltz";
        if (info_.flags & XT_TIME_CONTIGUOUS) out += " --contiguous";
    }
};

}  // namespace

const ExtKind match_time{"time", time_opts, make_data<TimeData>};

}  // namespace xdpt
