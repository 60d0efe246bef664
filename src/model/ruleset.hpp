// The canonical ruleset: what iptables-save would print, held as values. No syscalls.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/family.hpp"
#include "ext/ext.hpp"

namespace xdpt {

// An interface name as libiptc compares it: under the mask xtables_parse_interface gives
// it (the name and its NUL, or the bytes before a trailing '+'). "+" alone has an empty
// mask: it is no name at all, though -S and save keep its text where asked to.
inline std::string_view iface_under_mask(const std::string& name) {
    return name == "+" ? std::string_view() : std::string_view(name);
}

struct Counters {
    uint64_t pkts = 0;
    uint64_t bytes = 0;
    bool operator==(const Counters&) const = default;
    // Modulo 2^64, as the kernel's counters and the offsets stored against them.
    Counters& operator+=(const Counters& o) { return pkts += o.pkts, bytes += o.bytes, *this; }
    Counters& operator-=(const Counters& o) { return pkts -= o.pkts, bytes -= o.bytes, *this; }
};

struct Rule {
    IpNet src, dst;  // of the ruleset's family
    bool inv_src = false, inv_dst = false;
    std::string in_iface, out_iface;  // "" = any; trailing '+' = prefix
    bool inv_in = false, inv_out = false;
    uint16_t proto = 0;  // 0 = all
    bool inv_proto = false;
    // ip6tables keeps in the rule that -p was given (IP6T_F_PROTO), also as `-p all` or
    // `-p 0`: such a rule is another rule than one without -p (-D and -C tell them apart)
    // and not unconditional for the kernel's loop check, though -S and save show neither
    // -p. Never set in IPv4, where iptables keeps no such flag.
    bool proto_given = false;
    bool frag = false, inv_frag = false;
    std::vector<ExtInst> matches;
    // Target: empty name = no target (the rule only counts). `target.kind` is set for
    // extension targets, null for verdicts and chain jumps.
    std::string target_name;
    ExtInst target;
    bool is_goto = false;
    Counters ctr;
    // The dataplane counter slot this rule's live count comes from (-1: none). Setting
    // the counters by hand (-Z, -c, restore) detaches it, so in-flight packets counted
    // by the old generation are not added on top.
    int32_t slot = -1;
    // The rule in the netfilter layer: its nftables handle (0: none known), and what the
    // kernel had counted there when the ruleset was loaded (included in ctr). A commit
    // keeps the kernel rule (and its counter) while the handle stays.
    uint64_t nft = 0;
    // Its x_tables copy's handle, in the table's shadow chains (nft.cpp, guarded
    // transport matches; 0: none). It comes and goes with `nft`, and nft_live holds the
    // counts of both.
    uint64_t nft_copy = 0;
    Counters nft_live;
    // A rule whose handle was not read (nft_unread): its place in its kernel chain (past
    // the guards), where its count is read should its table be made anew; nft_nowhere
    // when unknown.
    static constexpr uint32_t nft_nowhere = ~uint32_t(0);
    uint32_t nft_pos = nft_nowhere;
    // Its kernel rule was made dead (inert: nft.cpp, kernel_form); one made otherwise than
    // the rule now stands (Chain::live_end) is made anew.
    bool nft_dead = false;
    // Added by iptables-restore in the table block under way: libiptc's rule was not read
    // from the kernel, and -Z leaves its counters alone (TC_ZERO_ENTRIES zeroes only the
    // kernel's). When it jumps or goes to a user chain, libiptc keeps the chain's name, as
    // given, in its target (iptcc_map_target), and -S looks that name up as an extension
    // and fails (print_rule4): `uncommitted_jump`, which stays when -E renames the chain.
    bool uncommitted = false;
    std::string uncommitted_jump;
    // -Z in iptables-restore marks what libiptc read from the kernel to be zeroed by the
    // COMMIT (COUNTER_MAP_ZEROED): until then it lists with its counters.
    bool zero_at_commit = false;

    // The handle of a kernel rule that was not read (its count unknown).
    static constexpr uint64_t nft_unread = ~uint64_t(0);

    // Counters set by hand (-Z, -c, restore): they no longer follow the slot. A kernel
    // rule whose count was read stays, counting on: ctr is then c plus what it counts
    // from now on (stored as c minus what it had, modulo 2^64), without a change to
    // the kernel rule. One whose count is unknown is made anew, from zero.
    void set_counters(Counters c) {
        ctr = c, slot = -1;
        if (nft == nft_unread) nft = 0, nft_copy = 0, nft_live = {};
    }
    // The rule now jumps to `chain` (-E renamed its target): the kernel rule is made anew
    // (its counts so far stay in ctr).
    void retarget(std::string chain) { target_name = std::move(chain), nft = 0, nft_copy = 0, nft_live = {}; }

    // Same rule for -D/-C/-I matching: everything but the counters.
    bool same_as(const Rule& o) const;
    // ACCEPT, DROP, RETURN or QUEUE with no condition at all (no address, interface,
    // protocol or fragment test, no match): the kernel's x_tables loop check
    // (mark_source_chains) walks a chain no further, and no packet gets past it.
    bool ends_chain() const;
};

struct Chain {
    std::string name;
    bool builtin = false;
    std::string policy;  // builtins only: ACCEPT or DROP
    Counters ctr;        // builtins only: policy counters
    int32_t slot = -1;   // as Rule::slot
    // The chain in the netfilter layer when the ruleset was loaded: the handles of its
    // rules in order (known when `nft_linked`), and its policy counters there
    // (`nft_live`, included in ctr while `nft_counts`).
    bool nft_linked = false;
    std::string nft_name;  // the kernel chain's name then (-E renames the chain here)
    std::vector<uint64_t> nft_rules;
    std::vector<uint64_t> nft_copies;  // the rules' nft_copy, in the same order
    bool nft_counts = false;
    Counters nft_live;
    // As Rule::set_counters: the kernel's policy counters count on (the kernel's
    // counters are never reset for this; see nft::prepare).
    void set_counters(Counters c) { ctr = c, slot = -1; }
    // iptables-restore's block under way set the policy counters (a chain line, -P -c):
    // its COMMIT keeps them and resets the others (reset_policy_counters); until then
    // they list as libiptc read them.
    bool counters_set = false;
    std::vector<Rule> rules;
    // The rules a packet can reach: those up to the first that ends the chain (the rest
    // are dead: never matched, and never walked by the kernel's checks of a table).
    size_t live_end() const;
};

struct Table {
    std::string name;
    Family family = Family::ipv4;  // its ruleset's
    // Builtins in hook order, then user chains sorted by name (find relies on it).
    std::vector<Chain> chains;

    Chain* find(std::string_view chain);
    const Chain* find(std::string_view chain) const;
    // Number of rules in this table that jump or go to `chain`.
    unsigned references(std::string_view chain) const;
    // Inserts a user chain keeping the libiptc order (builtins, then sorted names).
    Chain& add_user_chain(std::string name);
    // Inserts many user chains at once, in the same order, in O(n log n): `names` must be
    // new and distinct.
    void add_user_chains(std::vector<std::string> names);
};

// The builtin chains of a table in hook order, or nothing for an unknown table.
std::optional<std::vector<std::string_view>> builtin_chains(std::string_view table);
Table make_table(std::string_view name, Family family);  // name must be known

struct Ruleset {
    // iptables' ruleset or ip6tables': the width of every address in it, the protocol
    // numbers, the netfilter tables it is installed in.
    Family family = Family::ipv4;
    // Instantiated tables, most recently instantiated first (the kernel's table list order,
    // which is what iptables-save prints).
    std::vector<Table> tables;
    // The nftables generation the netfilter layer had right after the commit that made it
    // hold this ruleset: while the kernel's generation is still that one, nothing changed
    // there since, and its tables are exactly these (their rules in this order).
    std::optional<uint32_t> nft_genid;

    Table* find(std::string_view name);
    const Table* find(std::string_view name) const;
    // Finds or instantiates a known table.
    Table& instantiate(std::string_view name);
};

}  // namespace xdpt
