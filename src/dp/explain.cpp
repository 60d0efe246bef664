#include "dp/explain.hpp"

#include <map>
#include <set>

#include "core/str.hpp"
#include "dp/compile.hpp"
#include "model/print.hpp"
#include "model/tables.hpp"

namespace xdpt::dp {
namespace {

using ChainKey = std::pair<std::string, std::string>;

// The chains XDP walks: its entry chains and every user chain they reach.
std::set<ChainKey> walked_chains(const Ruleset& rs) {
    std::set<ChainKey> seen;
    std::vector<ChainKey> todo;
    for (const XdpEntry& e : xdp_entries())
        if (rs.find(e.table)) todo.push_back({std::string(e.table), std::string(e.chain)});
    while (!todo.empty()) {
        ChainKey k = todo.back();
        todo.pop_back();
        if (!seen.insert(k).second) continue;
        const Chain* ch = rs.find(k.first)->find(k.second);
        if (!ch) continue;
        for (size_t i = 0, live = ch->live_end(); i < live; ++i) {  // (the dead rules: not walked)
            const Rule& r = ch->rules[i];
            if (!r.target.kind && !r.target_name.empty() && !is_standard_verdict(r.target_name))
                todo.push_back({k.first, r.target_name});
        }
    }
    return seen;
}

}  // namespace

std::string explain(const Ruleset& rs, const std::vector<Iface>& ifaces, const std::vector<Prefix>& local,
                    const std::string& only_table) {
    auto program = flatten(rs);
    std::map<std::tuple<std::string, std::string, int>, std::string> kernel;
    std::string whole;  // why nothing of the filter table is decided in XDP, if so
    std::string filter_note;  // which packets the filter rules decided in XDP are, if not all
    if (program) {
        for (const KernelRule& k : program->kernel_rules) kernel.try_emplace({k.table, k.chain, k.rule}, k.why);
        if (program->flags & XDPT_CFG_LATER_ONLY)
            whole = "the nat or mangle table judges first";
        else if (program->flags & XDPT_CFG_CT_NEW)
            filter_note = rs.family == Family::ipv6
                              ? "for NEW packets (no conntrack entry) without extension headers; the others in netfilter"
                              : "for NEW packets (no conntrack entry); the others in netfilter";
        else if (program->flags & XDPT_CFG_DEFRAG)
            whole = "conntrack sees every packet before filter, and a CT target can change its state";
    } else {
        whole = program.error().msg;
    }
    const auto walked = walked_chains(rs);
    std::string out;
    // What the IPv6 header walk leaves to netfilter whatever the rules (bpf/xdptables.bpf.c,
    // parse6).
    if (rs.family == Family::ipv6)
        out += "# IPv6 packets XDP passes to netfilter as they are: fragments, hop-by-hop options,\n"
               "# more than 4 extension headers, neighbour discovery, multicast, link-local (filter),\n"
               "# ::/64 and truncated headers. Filter is decided in XDP for this host's addresses and,\n"
               "# with forwarding on, for forwarded packets.\n";
    auto line = [&](std::string_view where, const std::string& text, const std::string& why) {
        out += str(where, std::string(where.size() < 11 ? 11 - where.size() : 1, ' '), text);
        if (!why.empty()) out += str("   # ", why);
        out += '\n';
    };
    for (const Table& t : rs.tables) {
        if (!only_table.empty() && t.name != only_table) continue;
        out += str('*', t.name, '\n');
        const bool xdp_table = t.name == "raw" || t.name == "filter";
        for (const Chain& ch : t.chains) {
            std::string chain_why;
            if (!xdp_table)
                chain_why = str("XDP judges the raw and filter tables only");
            else if (!walked.count({t.name, ch.name}))
                chain_why = ch.builtin ? "locally generated packets never pass XDP"
                                       : "not reached from raw PREROUTING, INPUT or FORWARD";
            else if (t.name == "filter" && !whole.empty())
                chain_why = whole;
            // What follows "xdp" (a walked chain of raw or filter has no chain_why).
            const std::string& xdp_note = t.name == "filter" ? filter_note : chain_why;
            if (ch.builtin)
                line(chain_why.empty() ? "xdp" : "netfilter", str(':', ch.name, ' ', ch.policy),
                     chain_why.empty() ? xdp_note : chain_why);
            for (size_t i = 0; i < ch.rules.size(); ++i) {
                std::string why = chain_why;
                if (why.empty())
                    if (auto it = kernel.find({t.name, ch.name, int(i) + 1}); it != kernel.end())
                        why = str(it->second, it->second.starts_with("-j ") ? " acts in the kernel" : " is not visible in XDP");
                const bool xdp = why.empty();
                line(xdp ? "xdp" : "netfilter", rule_to_save(t.family, ch.rules[i], ch.name, CounterStyle::none),
                     xdp ? xdp_note : why);
            }
        }
    }
    if (program && program->flags & (XDPT_CFG_HAS_RAW | XDPT_CFG_HAS_FILTER)) {
        static constexpr const char* names[XDPT_NFIELDS] = {"source",   "destination", "protocol", "tcp flags",
                                                            "ttl",      "source port", "destination port",
                                                            "length",   "input interface", "output interface",
                                                            "mac"};
        const MissBound b = miss_bound(build_tables(*program, ifaces, local, 1, rs.family));
        std::string parts = b.everywhere ? str("rules that test no field ", b.everywhere) : "";
        for (int f = 0; f < XDPT_NFIELDS; ++f)
            if (b.field[f]) parts += str(parts.empty() ? "" : ", ", names[f], ' ', b.field[f]);
        out += str("# XDP's classifier: ", program->rules.size(), " flat rules in ", b.total_words,
                   " words of 64. A packet whose class its cache has not seen reads at most ", b.words,
                   " of those words, whatever its headers (", parts,
                   "), plus one step per rule it meets.\n");
    }
    return out;
}

}  // namespace xdpt::dp
