// -m recent: a named list of addresses seen lately (xt_recent revision 1, with a mask).
// The list lives in the kernel and changes with every packet: rules with it are left to
// netfilter (no to_xdp).
#include <arpa/inet.h>
#include <linux/netfilter/xt_recent.h>

#include <array>
#include <cstring>

#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_set, o_rcheck, o_update, o_remove, o_seconds, o_reap, o_hitcount, o_rttl,
             o_name, o_rsource, o_rdest, o_mask };
constexpr unsigned any_op = 1u << o_set | 1u << o_rcheck | 1u << o_update | 1u << o_remove;

constexpr std::array<OptDef, 12> recent_opts{{
    {.name = "set", .id = o_set, .has_arg = false, .flags = opt_invert, .excl = any_op},
    {.name = "rcheck", .id = o_rcheck, .has_arg = false, .flags = opt_invert, .excl = any_op},
    {.name = "update", .id = o_update, .has_arg = false, .flags = opt_invert, .excl = any_op},
    {.name = "remove", .id = o_remove, .has_arg = false, .flags = opt_invert, .excl = any_op},
    {.name = "seconds", .id = o_seconds},
    {.name = "reap", .id = o_reap, .has_arg = false, .also = 1u << o_seconds},
    {.name = "hitcount", .id = o_hitcount},
    {.name = "rttl", .id = o_rttl, .has_arg = false, .excl = 1u << o_set | 1u << o_remove},
    {.name = "name", .id = o_name},
    {.name = "rsource", .id = o_rsource, .has_arg = false},
    {.name = "rdest", .id = o_rdest, .has_arg = false},
    {.name = "mask", .id = o_mask},
}};

constexpr std::string_view default_name = "DEFAULT";
// The kernel's XT_RECENT_MAX_NSTAMPS on this kernel: a larger --hitcount is refused.
constexpr uint32_t max_nstamps = 65536;

class RecentData : public Data<RecentData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        fam_ = ctx.family;
        arg = arg.substr(0, arg.find('\0'));
        switch (opt.id) {
            case o_set: case o_rcheck: case o_update: case o_remove: {
                static constexpr uint8_t bits[] = {XT_RECENT_SET, XT_RECENT_CHECK, XT_RECENT_UPDATE,
                                                   XT_RECENT_REMOVE};
                check_set_ |= bits[opt.id];
                if (invert) invert_ = true;
                return {};
            }
            case o_reap: check_set_ |= XT_RECENT_REAP; return {};
            case o_rttl: check_set_ |= XT_RECENT_TTL; return {};
            case o_rsource: side_ = XT_RECENT_SOURCE; return {};
            case o_rdest: side_ = XT_RECENT_DEST; return {};
            case o_name:
                // The field holds 199 characters and its NUL; longer names are cut.
                name_ = std::string(arg.substr(0, XT_RECENT_NAME_LEN - 1));
                return {};
            case o_mask: {
                auto m = parse_host(fam_, arg);
                if (!m) return failure(m);
                mask_ = *m;
                mask_given_ = true;
                return {};
            }
        }
        auto v = parse_uint("recent", opt.name, arg, opt.id == o_seconds ? 1 : 0, 0xffffffff);
        if (!v) return failure(v);
        (opt.id == o_seconds ? seconds_ : hit_count_) = *v;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx& ctx) override {
        fam_ = ctx.family;
        if (!(seen & any_op))
            return param_fail("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
        return {};
    }


    // recent_mt_check: --set and --remove take no condition, --reap needs --seconds, the
    // hit count has a ceiling, and the name must do for a /proc file.
    bool kernel_accepts(const Rule&, const ExtCtx&) const override {
        if ((check_set_ & (XT_RECENT_SET | XT_RECENT_REMOVE)) &&
            (seconds_ || hit_count_ || (check_set_ & (XT_RECENT_TTL | XT_RECENT_REAP))))
            return false;
        if ((check_set_ & XT_RECENT_REAP) && !seconds_) return false;
        if (hit_count_ >= max_nstamps) return false;
        return !name_.empty() && name_ != "." && name_ != ".." && name_.find('/') == std::string::npos;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_recent_mtinfo_v1 info{};
        info.seconds = seconds_, info.hit_count = hit_count_;
        info.check_set = check_set_, info.invert = invert_, info.side = side_;
        // iptables writes "DEFAULT" first and a --name over it with its NUL, so a shorter
        // name leaves the rest of "DEFAULT" behind it.
        default_name.copy(info.name, default_name.size());
        std::memcpy(info.name, name_.data(), name_.size());
        info.name[name_.size()] = '\0';
        // Without --mask every byte of the address union is set; a --mask writes the
        // address of its family (IPv4: the first word, the rest cleared).
        std::memcpy(&info.mask, mask_.b.data(), sizeof info.mask);
        return XtInfo::of("recent", 1, info);
    }

    // iptables prints the name bare, even one with blanks.
    void save(std::string& out) const override { save_as(out, true, false); }
    // Without --mask the IPv4 structure differs (see to_xt): -C tells them apart (the
    // IPv6 one is that of an all-ones mask). The name is quoted where needed and the
    // numbers unsigned, so that the text reads back.
    void save_exact(std::string& out) const override { save_as(out, mask_given_ || fam_ == Family::ipv6, true); }

    void print(std::string& out, bool) const override {
        if (invert_) out += " !";
        out += " recent:";
        conditions(out, print_words, true);
        out += str(" name: ", name_);
        out += side_ == XT_RECENT_DEST ? " side: dest" : " side: source";
        out += str(" mask: ", grammar::addr_to_text(fam_, mask_));
    }

private:
    uint32_t seconds_ = 0, hit_count_ = 0;
    IpAddr mask_ = IpAddr::prefix_mask(128);
    Family fam_ = Family::ipv4;
    uint8_t check_set_ = 0, side_ = XT_RECENT_SOURCE;
    bool invert_ = false, mask_given_ = false;
    std::string name_{default_name};

    // The command and its conditions, in the order iptables prints them.
    struct Words {
        std::string_view set, check, update, remove, seconds, reap, hitcount, ttl;
    };
    static constexpr Words print_words{" SET", " CHECK", " UPDATE", " REMOVE", " seconds: ", " reap",
                                       " hit_count: ", " TTL-Match"};
    static constexpr Words save_words{" --set", " --rcheck", " --update", " --remove", " --seconds ",
                                      " --reap", " --hitcount ", " --rttl"};

    // `as_int`: printf("%d") of the unsigned fields, as iptables prints and saves them
    // (2147483648 and above come out negative).
    void conditions(std::string& out, const Words& w, bool as_int) const {
        auto num = [&](uint32_t v) { return as_int ? std::to_string(static_cast<int32_t>(v)) : std::to_string(v); };
        if (check_set_ & XT_RECENT_SET) out += w.set;
        if (check_set_ & XT_RECENT_CHECK) out += w.check;
        if (check_set_ & XT_RECENT_UPDATE) out += w.update;
        if (check_set_ & XT_RECENT_REMOVE) out += w.remove;
        if (seconds_) out += str(w.seconds, num(seconds_));
        if (check_set_ & XT_RECENT_REAP) out += w.reap;
        if (hit_count_) out += str(w.hitcount, num(hit_count_));
        if (check_set_ & XT_RECENT_TTL) out += w.ttl;
    }

    void save_as(std::string& out, bool with_mask, bool exact) const {
        if (invert_) out += " !";
        conditions(out, save_words, !exact);
        out += " --name";
        if (exact) append_quoted(out, name_);
        else out += str(' ', name_);
        if (with_mask) out += str(" --mask ", grammar::addr_to_text(fam_, mask_));
        out += side_ == XT_RECENT_DEST ? " --rdest" : " --rsource";
    }
};

}  // namespace

const ExtKind match_recent{"recent", recent_opts, make_data<RecentData>};

}  // namespace xdpt
