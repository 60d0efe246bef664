// iptables' tables, written once: each table's builtin chains in hook order, with the
// netfilter hook and priority its iptable_* module registers them at, the nftables chain
// type that mirrors them, and the chains the XDP program judges (as which entry). The
// model's table list, the netfilter layer's hooks, the compiler's entry chains and
// `explain` all read this.
#pragma once
#include <linux/netfilter.h>

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "xdpt_shared.h"

namespace xdpt {

struct BuiltinChain {
    std::string_view name;
    uint32_t hooknum;  // NF_INET_*
    int prio;          // NF_IP_PRI_* of the table's module
    const char* type;  // nftables chain type: filter, nat, route
    // The XDP program's entry for it (enum xdpt_entry), if XDP judges it.
    std::optional<xdpt_entry> xdp = std::nullopt;
};

struct TableSpec {
    std::string_view name;
    std::array<BuiltinChain, 5> chains_;
    size_t n;
    constexpr std::span<const BuiltinChain> chains() const { return {chains_.data(), n}; }
};

// In the order iptables knows them (xtables' table list); chains in hook order.
inline constexpr std::array<TableSpec, 5> tables{{
    {"filter",
     {{{"INPUT", NF_INET_LOCAL_IN, 0, "filter", XDPT_FILTER_INPUT},
       {"FORWARD", NF_INET_FORWARD, 0, "filter", XDPT_FILTER_FORWARD},
       {"OUTPUT", NF_INET_LOCAL_OUT, 0, "filter"}}},
     3},
    {"nat",
     {{{"PREROUTING", NF_INET_PRE_ROUTING, -100, "nat"},
       {"INPUT", NF_INET_LOCAL_IN, 100, "nat"},
       {"OUTPUT", NF_INET_LOCAL_OUT, -100, "nat"},
       {"POSTROUTING", NF_INET_POST_ROUTING, 100, "nat"}}},
     4},
    {"mangle",
     {{{"PREROUTING", NF_INET_PRE_ROUTING, -150, "filter"},
       {"INPUT", NF_INET_LOCAL_IN, -150, "filter"},
       {"FORWARD", NF_INET_FORWARD, -150, "filter"},
       // iptable_mangle reroutes a packet whose mark or addresses its OUTPUT changed.
       {"OUTPUT", NF_INET_LOCAL_OUT, -150, "route"},
       {"POSTROUTING", NF_INET_POST_ROUTING, -150, "filter"}}},
     5},
    {"raw",
     {{{"PREROUTING", NF_INET_PRE_ROUTING, -300, "filter", XDPT_RAW_PREROUTING},
       {"OUTPUT", NF_INET_LOCAL_OUT, -300, "filter"}}},
     2},
    // NF_IP_PRI_SECURITY: after filter (SELinux labels the packets filter let through).
    {"security",
     {{{"INPUT", NF_INET_LOCAL_IN, 50, "filter"},
       {"FORWARD", NF_INET_FORWARD, 50, "filter"},
       {"OUTPUT", NF_INET_LOCAL_OUT, 50, "filter"}}},
     3},
}};

constexpr const TableSpec* find_table_spec(std::string_view table) {
    for (const TableSpec& t : tables)
        if (t.name == table) return &t;
    return nullptr;
}

constexpr const BuiltinChain* find_builtin(std::string_view table, std::string_view chain) {
    if (const TableSpec* t = find_table_spec(table))
        for (const BuiltinChain& c : t->chains())
            if (c.name == chain) return &c;
    return nullptr;
}

// A chain the XDP program judges: its table, its name, its entry.
struct XdpEntry {
    std::string_view table, chain;
    xdpt_entry entry;
};

// The chains XDP judges, in the order of their entries (the order a packet meets them).
constexpr std::array<XdpEntry, XDPT_NENTRIES> xdp_entries() {
    std::array<XdpEntry, XDPT_NENTRIES> out{};
    for (const TableSpec& t : tables)
        for (const BuiltinChain& c : t.chains())
            if (c.xdp) out[*c.xdp] = {t.name, c.name, *c.xdp};
    return out;
}

static_assert(find_builtin("raw", "PREROUTING")->xdp == XDPT_RAW_PREROUTING);
static_assert(xdp_entries()[XDPT_FILTER_FORWARD].chain == "FORWARD");

}  // namespace xdpt
