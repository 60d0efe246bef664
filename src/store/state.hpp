// Where a network namespace's xdptables state lives: in BPF maps owned by the xdptables
// XDP program attached to the namespace's loopback interface. Found through the kernel
// (netlink query of lo's XDP program, then its maps by id), never through a path, so it
// works under `ip netns exec` (fresh /sys, no bpffs) and disappears with the namespace.
#pragma once
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/family.hpp"
#include "xdpt_shared.h"

namespace xdpt {

// A file descriptor owner.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// xdptables' XDP program on lo and the maps it owns, by name.
struct Anchor {
    Fd prog;
    uint32_t prog_id = 0;
    std::map<std::string, Fd> maps;
    int map(const std::string& name) const {
        auto it = maps.find(name);
        return it == maps.end() ? -1 : it->second.get();
    }
};

// The anchor of this namespace, or nothing when xdptables has no state here. Refuses a
// foreign XDP program on lo.
Result<std::optional<Anchor>> find_anchor();

// The kinds of outer maps a generation of the classifier has, one of each per family:
// the IPv4 family's are named so, the IPv6 family's with a '6' after the name
// (bpf/xdpt_shared.h, XDPT_FAMILIES).
inline constexpr const char* gen_map_kinds[] = {"xdpt_cfg", "xdpt_values", "xdpt_bitmaps", "xdpt_chunks",
                                                "xdpt_rules", "xdpt_counters", "xdpt_src", "xdpt_dst",
                                                "xdpt_local", "xdpt_ifaces", "xdpt_ifarr", "xdpt_macs"};

// The outer map of kind `kind` of family `f`.
inline std::string gen_map_name(Family f, std::string_view kind) {
    return f == Family::ipv4 ? std::string(kind) : std::string(kind) + '6';
}

// The sizes of a program's inner arrays, per family (index: Family).
using Capacities = std::array<xdpt_capacity, XDPT_FAMILIES>;

// The entries of a value map of capacity `c`: the fixed part, then the address blocks.
inline uint32_t value_entries(const xdpt_capacity& c) {
    return XDPT_SMALL_SIZE + XDPT_WIDE_SIZE + c.addr_blocks * XDPT_ADDR_BLOCK;
}

// Loads the program with inner arrays of the sizes `cap`, not attached yet. The stored
// rulesets of `keep` (the anchor it is to replace) go on in it, and so does the
// classifier of every family but `renew`: its outer maps, generations and counters, taken
// over as they are (their sizes must be the ones `cap` gives that family).
Result<Anchor> load_anchor(const Capacities& cap, const Anchor* keep, Family renew);

// The sizes of the inner arrays the anchor's program was loaded with.
Result<Capacities> anchor_capacity(const Anchor& anchor);

// Makes `to` the anchor: attached to lo, and in place of `from` (when there is one) on
// every interface that carries it. Fails only when lo cannot be given `to`.
Result<void> switch_anchor(const Anchor* from, const Anchor& to);

// The per-namespace writer lock (flock on the namespace's nsfs inode). `wait_seconds`:
// -1 wait forever, 0 wait forever too (xdptables always serialises), N give up after N s.
class NsLock {
public:
    static Result<NsLock> acquire(int wait_seconds);

private:
    Fd fd_;
};

// The stored ruleset text of family `f` (iptables-save -c format of every instantiated
// table), or nothing when the anchor holds none yet. Each family has a store of its own.
Result<std::optional<std::string>> load_state(const Anchor& anchor, Family f);

// Makes a staged ruleset text the current one, in one step: for a text that fits the
// current map, one aligned store that cannot fail.
using Publish = std::move_only_function<Result<void>()>;

// Writes the ruleset text where no load looks yet; dropped unpublished, it changes
// nothing. Until the Publish is dropped (published or not) the current text is marked
// pending: a commit is under way whose netfilter batch may go in before the text it
// matches is published. A process killed meanwhile leaves the mark (state_pending).
Result<Publish> stage_state(const Anchor& anchor, Family f, const std::string& text);

// Whether the stored text is marked pending: a commit was killed between its staging
// and the end of its publishing, and netfilter may hold another ruleset than the store.
Result<bool> state_pending(const Anchor& anchor, Family f);

// Detaches the program from every interface (lo last) and drops every map: the namespace
// is as if xdptables never ran.
Result<void> remove_state();

// Root (or the capabilities that go with it) is needed for anything but --help. Refused
// as iptables-legacy refuses it: at its lock file when that cannot be opened, else at the
// table.
Result<void> require_privileges(const char* table, Family f = Family::ipv4);

}  // namespace xdpt
