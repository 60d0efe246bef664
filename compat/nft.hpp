// The netfilter layer: the whole ruleset as one nftables table owned by xdptables, with
// iptables' hooks and priorities, so that the kernel judges every packet XDP passes up
// exactly as iptables 1.8.9 would. The IP header part of a rule becomes native nftables
// expressions, and so do the matches that have an exact native form (ExtData::to_nft);
// the other matches and the targets run as the kernel's own x_tables extensions
// (nft_compat), so their semantics are iptables' by construction.
//
// XDP stays an exact prefilter in front of it: it drops (and counts) only what it can
// decide, and passes the rest up uncounted, to be judged and counted here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "model/ruleset.hpp"

namespace xdpt::nft {

// The nftables table (family ip) that holds iptables table `t` of `rs`: "xdptables-<t>",
// or iptables' own name when a rule of it uses an x_tables extension that the kernel
// allows only in a table of that name (CT in raw, CHECKSUM in mangle) and has no native
// nftables form. Either way xdptables marks the tables it owns and touches no other.
std::string table_name(const Table& t);

// Whether rules with `target` need their table to bear iptables' own name (`table`):
// x_tables checks it (the nftables table's, through nft_compat), and they have no native
// nftables form. CT and NOTRACK in raw, CHECKSUM in mangle, the nat targets in nat.
bool binds_table_name(std::string_view table, std::string_view target);

// A change of at most this many rules and chains to a table is always made as a patch
// (a larger one may make the table anew, when that costs less).
inline constexpr size_t small_patch = 64;

// The handle of a rule the kernel holds that was not read: one this process's batch
// made, or one a load linked without reading the rules back (link_unchanged).
inline constexpr uint64_t unknown_handle = Rule::nft_unread;

// A change of xdptables' tables, built (`prepare`) and not yet sent: dropped unsent, it
// changes nothing.
class Change {
public:
    Change();
    Change(Change&&) noexcept;
    Change& operator=(Change&&) noexcept;
    ~Change();
    // Sends the batch: the kernel applies all of it or nothing. It refuses it when
    // nftables changed since `prepare` read it.
    Result<void> send();
    // What send() would answer, the kernel's checks of the tables included, with nothing
    // changed.
    Result<void> check();
    // The refusal was that one: prepared again, the change may go through.
    bool raced() const;
    // Records in `rs` (the ruleset it was prepared from) what the kernel holds once the
    // change is sent: the rules and counters it kept, those it made anew. Returns what
    // it replaced, for `unsettle` when the change is not sent after all.
    struct Settled;
    Settled settle(Ruleset& rs) const;
    // Makes the kernel refuse the batch (it also deletes a table that does not exist):
    // for tests of what a refusal leaves behind.
    void refuse_for_test();

private:
    friend Result<Change> prepare(const Ruleset& rs, bool patch);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The change that makes xdptables' tables those of `rs` (see `install`), checked and
// built against what the kernel holds now.
Result<Change> prepare(const Ruleset& rs, bool patch = true);

// Makes xdptables' tables those of `rs`, in one netlink batch: the kernel applies all of
// it or nothing. With `patch`, a table loaded from the kernel (add_counters linked its
// rules) is changed rule by rule: the rules it keeps keep their handles and counters;
// otherwise, and when much changed, a table is made anew, every counter zero. Records in
// `rs` what the kernel now holds. Tables xdptables does not own are never touched; a
// name it needs that another owner holds is an error.
Result<void> install(Ruleset& rs, bool patch = true);

// What installing `rs` would answer, with nothing changed: the change prepared, and
// checked by the kernel without being applied (restore --test).
Result<void> check(const Ruleset& rs);

// Moves the kernel's nftables generation on (one batch that makes and deletes a table):
// for tests of a commit racing another nftables user.
Result<void> bump_generation_for_test();

// Whether nftables holds tables of xdptables' (for a namespace where nothing is stored:
// a first commit killed after its batch).
Result<bool> holds_tables(Family f);

// Deletes xdptables' tables of family `f`, if there are any.
Result<void> remove(Family f);

// Adds what the kernel's rules and base chains counted to the counters of `rs` (the
// ruleset they were installed from), and links its rules and chains to theirs (handles,
// the counts added) for a later patching `install`; chains whose rules do not line up
// with `rs` are left out, and unlinked.
Result<void> add_counters(Ruleset& rs);

// As add_counters, without reading the kernel's rules, when nothing changed in nftables
// since the commit that stored `rs` (its nft_genid is still the kernel's generation):
// every chain is linked with its rules' handles unknown (a patching `install` may then
// only append to it) and the policies' counts are added; the rules' counts are left out.
// False, with nothing done, when the generation moved on.
Result<bool> link_unchanged(Ruleset& rs);

// After a command applied to a ruleset linked by link_unchanged: reads the handles (and
// counts) of the kernel's rules that a patch of each changed chain needs, the rules it
// deletes and those its new rules go before, from each chain's start as far as the last
// of them (the kernel's rule dump is quadratic in the length it reads). A -I 1 reads one
// rule, not the chain.
Result<void> read_handles(Ruleset& rs);

// While it lives, the counters of `rs` leave out what the kernel still counts for the
// rules and chains a patching `install` kept (the form the ruleset is stored in: those
// counts are added back when it is loaded again).
// What Change::settle replaced in a ruleset (its netfilter bookkeeping alone: handles,
// the kernel's counts, the generation), a few bytes a rule where a copy of the ruleset
// would be hundreds.
struct Change::Settled {
    std::optional<uint32_t> genid;
    struct ChainState {
        bool linked, counts;
        Counters live;
        std::string name;
        std::vector<uint64_t> rules, copies;
    };
    std::vector<ChainState> chains;
    struct RuleState {
        uint64_t handle, copy;
        uint32_t pos;
        bool dead;
        Counters live;
    };
    std::vector<RuleState> rules;  // each rule's handles and count, in order
    // What a table made anew counted for rules whose counts had not been read, added to
    // their counters (rules by their place in the ruleset).
    struct Added {
        size_t table, chain, rule;
        Counters c;
    };
    std::vector<Added> added;
};
// Puts back what settle replaced: `rs` is again as prepare found it.
void unsettle(Ruleset& rs, Change::Settled&& was);

class LiveOut {
public:
    explicit LiveOut(Ruleset& rs);
    ~LiveOut();
    LiveOut(const LiveOut&) = delete;
    LiveOut& operator=(const LiveOut&) = delete;

private:
    void move(int sign);
    Ruleset& rs_;
};

}  // namespace xdpt::nft
