// The classifier compiler: ruleset -> flat rules -> per-field bitmap tables, in the
// layouts of bpf/xdpt_shared.h. Deterministic and free of syscalls: the loader
// (dp/loader.cpp) writes what this produces into one generation of the maps.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "ext/cond.hpp"
#include "model/ruleset.hpp"
#include "xdpt_shared.h"

namespace xdpt::dp {

// Where a counter slot's packets are counted in the ruleset: a rule, or a builtin
// chain's policy (rule == -1).
struct SlotRef {
    std::string table, chain;
    int rule = -1;
    bool operator==(const SlotRef&) const = default;
};

// Every counter slot of the tables XDP counts (raw, filter), in a fixed order: per chain,
// the policy (builtins) then the rules. Both the compiler and the counter reader use it.
std::vector<SlotRef> enumerate_slots(const Ruleset& rs);

struct FlatRule {
    XdpCond cond;
    uint8_t action = XDPT_A_CONTINUE;
    uint32_t next = 0;
    uint32_t slot = 0;
};

// A rule XDP cannot decide, and why (for the warning and `xdptables explain`).
struct KernelRule {
    std::string table, chain;
    int rule = 0;  // 1-based
    std::string why;
};

struct Program {
    std::vector<FlatRule> rules;
    uint32_t entry[XDPT_NENTRIES] = {};
    uint32_t flags = 0;
    std::vector<SlotRef> slots;
    std::vector<KernelRule> kernel_rules;
};

// Flattens the entry chains with their user chains. Fails (resource) past
// XDPT_MAX_RULES flat rules.
Result<Program> flatten(const Ruleset& rs);

// A program that decides nothing (every packet goes to the kernel), with the slots of
// `rs`: what XDP holds for a ruleset flatten() cannot expand (netfilter judges it all).
Program pass_through(const Ruleset& rs);

// What a rule asks of a packet, as far as XDP can see; `why` is set when some part of it
// is not decidable in XDP (the condition then holds what is).
// `f` is the family of the rule's ruleset.
XdpCond rule_cond(const Rule& r, Family f, std::string& why);

// An interface of the namespace at compile time.
struct Iface {
    uint32_t ifindex = 0;
    std::string name;
    std::array<uint8_t, 6> mac{};
    uint16_t flags = 0;  // XDPT_IF_*
};

// The content of one generation's maps.
// The value map's domains: the field each serves, where it starts, how many values.
struct ValueDomain {
    int field;  // XDPT_F_*
    uint32_t base, size;
    // The destination port field has two: ICMP (ICMPv6) packets' types and codes, and
    // every other packet's ports (xdpt_shared.h, XDPT_WIDE_ICMP).
    bool icmp = false;
};
inline constexpr ValueDomain value_domains[] = {
    {XDPT_F_PROTO, XDPT_SMALL_PROTO, 512},
    {XDPT_F_FLAGS, XDPT_SMALL_FLAGS, 256},
    {XDPT_F_TTL, XDPT_SMALL_TTL, 256},
    {XDPT_F_SPORT, XDPT_SMALL_SIZE + XDPT_WIDE_SPORT, 65536},
    {XDPT_F_DPORT, XDPT_SMALL_SIZE + XDPT_WIDE_DPORT, 65536},
    {XDPT_F_DPORT, XDPT_SMALL_SIZE + XDPT_WIDE_ICMP, 65536, true},
    {XDPT_F_LEN, XDPT_SMALL_SIZE + XDPT_WIDE_LEN, 65536},
};
// The IPv4 address fields' first level in the value map (xdpt_shared.h), built from
// their tries' entries.
inline constexpr ValueDomain addr16_domains[] = {
    {XDPT_F_SRC, XDPT_SMALL_SIZE + XDPT_WIDE_SRC16, 65536},
    {XDPT_F_DST, XDPT_SMALL_SIZE + XDPT_WIDE_DST16, 65536},
};

struct Tables {
    xdpt_config cfg{};
    // The address tries' entries (keyed by family: xdpt_lpm_key or xdpt_lpm6_key).
    std::vector<std::pair<Prefix, uint32_t>> src, dst, local;
    // The value map's XDPT_SMALL_SIZE + XDPT_WIDE_SIZE bitmap ids, as runs: (first
    // index, id), sorted, each holding up to the next run's first index (the last one to
    // the end). A few runs per rule, not 197k ids: the map is written from them, in the
    // domains of the active fields only (the program reads no other).
    std::vector<std::pair<uint32_t, uint32_t>> value_runs;
    // The bitmap id (or link) at index `i` of the value map, blocks included.
    uint32_t value(uint32_t i) const;
    // The value map holds the address fields' first level (addr16_domains; IPv4).
    bool addr16 = false;
    // The address blocks the first level links to (XDPT_ADDR_BLOCK entries each), at
    // XDPT_SMALL_SIZE + XDPT_WIDE_SIZE of the value map on.
    std::vector<uint32_t> addr_blocks;
    std::vector<xdpt_bitmap> bitmaps;
    std::vector<xdpt_chunk> chunks;
    std::vector<xdpt_rule> rules;
    std::vector<std::pair<uint32_t, xdpt_iface>> ifaces;
    std::vector<xdpt_iface> ifarr;  // XDPT_IFARRAY slots: those of ifaces below it
    std::vector<std::pair<uint64_t, uint32_t>> macs;
    // Bit w (of word w / 64): word w holds a rule that constrains no field, at home in
    // every field (miss_bound counts such words once).
    std::vector<uint64_t> everywhere;
};

// `local`: the namespace's local addresses (as the local routing table holds them) of
// the ruleset's family `f`.
Tables build_tables(const Program& p, const std::vector<Iface>& ifaces, const std::vector<Prefix>& local,
                    uint32_t ncpus, Family f);

// What a walk the class cache has not seen (a miss) can cost, whatever the packet: the
// walk visits only words a looked-up field's home marks (xdpt_shared.h), so at most the
// sum over fields of the most words one of the field's bitmaps marks (the words of rules
// at home everywhere counted once, in `everywhere`). `words` is that bound (never above
// `total_words`, the words of all flat rules); `field` each field's part of it. Each
// visited word costs one step, as does each rule the walk meets and each chunk it passes.
struct MissBound {
    uint32_t words = 0, total_words = 0, everywhere = 0;
    std::array<uint32_t, XDPT_NFIELDS> field{};
};
MissBound miss_bound(const Tables& t);

// The key of a MAC address in the mac map (its six bytes in memory order).
uint64_t mac_key(const std::array<uint8_t, 6>& mac);

}  // namespace xdpt::dp
