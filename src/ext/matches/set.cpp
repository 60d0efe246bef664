// -m set: the packet's addresses and ports looked up in an ipset (xt_set revision 4, with
// the set's packet and byte counters). An old-style libxtables extension: it takes `!` and
// repeats itself, with its own messages. The set is resolved to the kernel's index when
// the rule is parsed (ext/ipset.hpp); its content lives in the kernel and changes at any
// time, so rules with it are left to netfilter (no to_xdp).
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/xt_set.h>

#include <array>

#include "ext/ipset.hpp"
#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_match_set, o_set, o_return_nomatch, o_update_counters, o_update_subcounters,
             o_packets_eq, o_packets_lt, o_packets_gt, o_bytes_eq, o_bytes_lt, o_bytes_gt };
constexpr unsigned own = opt_invert | opt_multi;  // the driver leaves these to us

constexpr std::array<OptDef, 11> set_opts{{
    {.name = "match-set", .id = o_match_set, .flags = own},
    {.name = "set", .id = o_set, .flags = own},
    {.name = "return-nomatch", .id = o_return_nomatch, .has_arg = false, .flags = own},
    {.name = "update-counters", .id = o_update_counters, .has_arg = false, .flags = own},
    {.name = "packets-eq", .id = o_packets_eq, .flags = own},
    {.name = "packets-lt", .id = o_packets_lt, .flags = own},
    {.name = "packets-gt", .id = o_packets_gt, .flags = own},
    {.name = "bytes-eq", .id = o_bytes_eq, .flags = own},
    {.name = "bytes-lt", .id = o_bytes_lt, .flags = own},
    {.name = "bytes-gt", .id = o_bytes_gt, .flags = own},
    {.name = "update-subcounters", .id = o_update_subcounters, .has_arg = false, .flags = own},
}};

class SetData : public Data<SetData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        switch (opt.id) {
        case o_return_nomatch:
            if (invert) return param_fail("--return-nomatch flag cannot be inverted");
            flags_ |= IPSET_FLAG_RETURN_NOMATCH;
            return {};
        case o_update_counters:
            if (invert) flags_ |= IPSET_FLAG_SKIP_COUNTER_UPDATE;
            return {};
        case o_update_subcounters:
            if (invert) flags_ |= IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE;
            return {};
        case o_packets_eq: case o_packets_lt: case o_packets_gt:
            return parse_counter(packets_, "packets", opt, arg, invert);
        case o_bytes_eq: case o_bytes_lt: case o_bytes_gt:
            return parse_counter(bytes_, "bytes", opt, arg, invert);
        default:
            break;
        }
        if (opt.id == o_set) warn(ctx, "--set option deprecated, please use --match-set\n");
        if (auto r = ext::parse_set_ref(set_, "match-set", arg, ctx); !r) return r;
        if (invert) set_.info.flags |= IPSET_INV_MATCH;
        return {};
    }

    Result<void> finish(unsigned, const ExtCtx&) override {
        if (!set_.given()) return param_fail("You must specify `--match-set' with proper arguments");
        return {};
    }

    // xt_set_info_match_v4 (revision 4, the highest this kernel and iptables share).
    XtInfo to_xt(const Rule&) const override {
        xt_set_info_match_v4 info{};
        info.match_set = set_.info;
        info.packets = packets_, info.bytes = bytes_;
        info.flags = flags_;
        return XtInfo::of("set", 4, info);
    }

    void save(std::string& out) const override { text(out, "--", false); }
    void save_exact(std::string& out) const override { text(out, "--", true); }
    void print(std::string& out, bool) const override { text(out, "", false); }

private:
    ext::SetRef set_;
    ip_set_counter_match packets_{}, bytes_{};
    uint32_t flags_ = 0;

    static Result<void> parse_counter(ip_set_counter_match& c, std::string_view what, const OptDef& opt,
                                      std::string_view arg, bool invert) {
        if (c.op != IPSET_COUNTER_NONE) return param_fail(str("only one of the --", what, "-[eq|lt|gt] is allowed"));
        const bool eq = opt.name.ends_with("-eq");
        if (invert && !eq) return param_fail(str("--", opt.name, " option cannot be inverted"));
        auto v = grammar::to_uint(arg.substr(0, arg.find('\0')), 0, UINT64_MAX);
        if (!v) return param_fail(str("Cannot parse ", arg.substr(0, arg.find('\0')), " as a counter value"));
        c.op = eq ? (invert ? IPSET_COUNTER_NE : IPSET_COUNTER_EQ)
                  : opt.name.ends_with("-lt") ? IPSET_COUNTER_LT : IPSET_COUNTER_GT;
        c.value = *v;
        return {};
    }

    static void counter_text(std::string& out, const ip_set_counter_match& c, std::string_view what,
                             std::string_view sep) {
        switch (c.op) {
        case IPSET_COUNTER_EQ: out += str(' ', sep, what, "-eq ", c.value); break;
        case IPSET_COUNTER_NE: out += str(" ! ", sep, what, "-eq ", c.value); break;
        case IPSET_COUNTER_LT: out += str(' ', sep, what, "-lt ", c.value); break;
        case IPSET_COUNTER_GT: out += str(' ', sep, what, "-gt ", c.value); break;
        default: break;
        }
    }

    // set_print_v4_matchinfo: `sep` is "--" for save, "" for -L.
    void text(std::string& out, std::string_view sep, bool quote) const {
        if (set_.info.flags & IPSET_INV_MATCH) out += " !";
        ext::append_set_ref(out, str(sep, "match-set"), set_, quote);
        if (flags_ & IPSET_FLAG_RETURN_NOMATCH) out += str(' ', sep, "return-nomatch");
        if (flags_ & IPSET_FLAG_SKIP_COUNTER_UPDATE) out += str(" ! ", sep, "update-counters");
        if (flags_ & IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE) out += str(" ! ", sep, "update-subcounters");
        counter_text(out, packets_, "packets", sep);
        counter_text(out, bytes_, "bytes", sep);
    }
};

}  // namespace

const ExtKind match_set{"set", set_opts, make_data<SetData>};

}  // namespace xdpt
