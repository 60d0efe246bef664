// -j SET: add the packet's addresses and ports to an ipset, delete them from one, or map
// the skb's mark, priority and queue from a set's entry (xt_SET revision 3). An old-style
// libxtables extension: repeats are its own business and `!` is ignored. Sets are
// resolved to the kernel's index when the rule is parsed (ext/ipset.hpp).
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/xt_set.h>

#include <array>

#include "ext/ipset.hpp"
#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_add_set, o_del_set, o_exist, o_timeout, o_map_set, o_map_mark, o_map_prio, o_map_queue };
constexpr unsigned own = opt_invert | opt_multi;  // the driver leaves these to us

constexpr std::array<OptDef, 8> set_opts{{
    {.name = "add-set", .id = o_add_set, .flags = own},
    {.name = "del-set", .id = o_del_set, .flags = own},
    {.name = "exist", .id = o_exist, .has_arg = false, .flags = own},
    {.name = "timeout", .id = o_timeout, .flags = own},
    {.name = "map-set", .id = o_map_set, .flags = own},
    {.name = "map-mark", .id = o_map_mark, .has_arg = false, .flags = own},
    {.name = "map-prio", .id = o_map_prio, .has_arg = false, .flags = own},
    {.name = "map-queue", .id = o_map_queue, .has_arg = false, .flags = own},
}};

constexpr uint32_t no_timeout = UINT32_MAX;

class SetData : public Data<SetData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx& ctx) override {
        switch (opt.id) {
        case o_add_set: return ext::parse_set_ref(add_, "add-set", arg, ctx);
        case o_del_set: return ext::parse_set_ref(del_, "del-set", arg, ctx);
        case o_map_set: return ext::parse_set_ref(map_, "map-set", arg, ctx);
        case o_exist: flags_ |= IPSET_FLAG_EXIST; return {};
        case o_map_mark: flags_ |= IPSET_FLAG_MAP_SKBMARK; return {};
        case o_map_prio: flags_ |= IPSET_FLAG_MAP_SKBPRIO; return {};
        case o_map_queue: flags_ |= IPSET_FLAG_MAP_SKBQUEUE; return {};
        default: break;
        }
        auto v = grammar::to_uint(arg.substr(0, arg.find('\0')), 0, no_timeout - 1);
        if (!v) return param_fail(str("Invalid value for option --timeout or out of range 0-", no_timeout - 1));
        timeout_ = static_cast<uint32_t>(*v);
        return {};
    }

    // set_target_check_v3.
    Result<void> finish(unsigned seen, const ExtCtx&) override {
        auto has = [&](int id) { return (seen & (1u << id)) != 0; };
        if (!has(o_add_set) && !has(o_del_set) && !has(o_map_set))
            return param_fail("You must specify either `--add-set' or `--del-set' or `--map-set'");
        if (!has(o_add_set)) {
            if (has(o_exist)) return param_fail("Flag `--exist' can be used with `--add-set' only");
            if (has(o_timeout)) return param_fail("Option `--timeout' can be used with `--add-set' only");
        }
        if (!has(o_map_set)) {
            if (has(o_map_mark)) return param_fail("Flag `--map-mark' can be used with `--map-set' only");
            if (has(o_map_prio)) return param_fail("Flag `--map-prio' can be used with `--map-set' only");
            if (has(o_map_queue)) return param_fail("Flag `--map-queue' can be used with `--map-set' only");
        } else if (!has(o_map_mark) && !has(o_map_prio) && !has(o_map_queue)) {
            return param_fail("You must specify flags `--map-mark' or '--map-prio` or `--map-queue'");
        }
        return {};
    }

    // set_target_v3_checkentry: mapping only in the mangle table, and priority or queue
    // only after routing (FORWARD, OUTPUT, POSTROUTING).
    bool kernel_accepts(const Rule&, const ExtCtx& ctx) const override {
        if (!map_.given()) return true;
        if (ctx.table != "mangle") return false;
        if (flags_ & (IPSET_FLAG_MAP_SKBPRIO | IPSET_FLAG_MAP_SKBQUEUE))
            for (const auto& h : ctx.hooks)
                if (h != "FORWARD" && h != "OUTPUT" && h != "POSTROUTING") return false;
        return true;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_set_info_target_v3 info{};
        info.add_set = add_.info, info.del_set = del_.info, info.map_set = map_.info;
        info.flags = flags_;
        info.timeout = timeout_;
        return XtInfo::of("SET", 3, info);
    }

    void save(std::string& out) const override { text(out, "--", false); }
    void save_exact(std::string& out) const override { text(out, "--", true); }
    void print(std::string& out, bool) const override { text(out, "", false); }

private:
    ext::SetRef add_, del_, map_;
    uint32_t flags_ = 0, timeout_ = no_timeout;

    // set_target_save_v3 / set_target_print_v3: `sep` is "--" for save, "" for -L.
    void text(std::string& out, std::string_view sep, bool quote) const {
        ext::append_set_ref(out, str(sep, "add-set"), add_, quote);
        if (flags_ & IPSET_FLAG_EXIST) out += str(' ', sep, "exist");
        if (timeout_ != no_timeout) out += str(' ', sep, "timeout ", timeout_);
        ext::append_set_ref(out, str(sep, "del-set"), del_, quote);
        ext::append_set_ref(out, str(sep, "map-set"), map_, quote);
        if (flags_ & IPSET_FLAG_MAP_SKBMARK) out += str(' ', sep, "map-mark");
        if (flags_ & IPSET_FLAG_MAP_SKBPRIO) out += str(' ', sep, "map-prio");
        if (flags_ & IPSET_FLAG_MAP_SKBQUEUE) out += str(' ', sep, "map-queue");
    }
};

}  // namespace

extern const ExtKind target_SET{
    .name = "SET",
    .opts = set_opts,
    .make = make_data<SetData>,
};

}  // namespace xdpt
