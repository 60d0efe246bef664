// -j NFQUEUE: hand the packet to a userspace queue (xt_NFQUEUE revision 3, the one
// iptables 1.8.9 picks on this kernel: queue number or balanced range, bypass, CPU fanout).
// The queue's reader decides the verdict, so such rules are left to netfilter.
#include <linux/netfilter/xt_NFQUEUE.h>

#include <array>

#include "ext/matches/common.hpp"
#include "ext/targets/common.hpp"

namespace xdpt {
namespace {

using namespace targets;

enum : int { o_num, o_balance, o_bypass, o_cpu_fanout };

constexpr std::array<OptDef, 4> nfqueue_opts{{
    {.name = "queue-num", .id = o_num, .excl = 1u << o_balance},
    {.name = "queue-balance", .id = o_balance, .excl = 1u << o_num},
    {.name = "queue-bypass", .id = o_bypass, .has_arg = false},
    {.name = "queue-cpu-fanout", .id = o_cpu_fanout, .has_arg = false, .also = 1u << o_balance},
}};

class NfqueueData : public Data<NfqueueData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool, const ExtCtx&) override {
        switch (opt.id) {
        case o_num: {
            auto v = parse_uint("NFQUEUE", opt, arg, 0, 0xffff);
            if (!v) return std::unexpected(v.error());
            info_.queuenum = static_cast<uint16_t>(*v);
            return {};
        }
        case o_balance: {
            // XTTYPE_UINT16RC: its parser bounds each side by the type's maximum, 65535
            // (the table's .max of 65534 is not looked at for ranges).
            auto r = matches::parse_uint_range("NFQUEUE", opt.name, arg, 0xffff);
            if (!r) return std::unexpected(r.error());
            if (r->n != 2) return param_fail(str("Bad range \"", arg.substr(0, arg.find('\0')), "\""));
            if (r->lo >= r->hi) return param_fail(str(r->lo, " should be less than ", r->hi));
            info_.queuenum = static_cast<uint16_t>(r->lo);
            // A u16: 0:65535 wraps to 0 queues, which the kernel refuses.
            info_.queues_total = static_cast<uint16_t>(r->hi - r->lo + 1);
            return {};
        }
        case o_bypass: info_.flags |= NFQ_FLAG_BYPASS; return {};
        default: info_.flags |= NFQ_FLAG_CPU_FANOUT; return {};
        }
    }

    // nfqueue_tg_check: no queue at all is EINVAL (a range past 65535 cannot be given).
    bool kernel_accepts(const Rule&, const ExtCtx&) const override { return info_.queues_total != 0; }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("NFQUEUE", 3, info_); }

    void save(std::string& out) const override { emit(out, " --queue-balance ", " --queue-num ", " --queue-bypass", " --queue-cpu-fanout"); }
    void print(std::string& out, bool) const override {
        emit(out, " NFQUEUE balance ", " NFQUEUE num ", " bypass", " cpu-fanout");
    }

private:
    xt_NFQ_info_v3 info_{.queuenum = 0, .queues_total = 1, .flags = 0};

    void emit(std::string& out, std::string_view balance, std::string_view num, std::string_view bypass,
              std::string_view fanout) const {
        if (info_.queues_total > 1)
            out += str(balance, info_.queuenum, ':', unsigned(info_.queuenum) + info_.queues_total - 1);
        else
            out += str(num, info_.queuenum);
        if (info_.flags & NFQ_FLAG_BYPASS) out += bypass;
        if (info_.flags & NFQ_FLAG_CPU_FANOUT) out += fanout;
    }
};

}  // namespace

extern const ExtKind target_NFQUEUE{
    .name = "NFQUEUE",
    .opts = nfqueue_opts,
    .make = make_data<NfqueueData>,
};

}  // namespace xdpt
