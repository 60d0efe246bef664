// (ruleset, command) -> ruleset: every iptables command as a pure function, with the
// errors libiptc and the kernel would give. No syscalls.
#pragma once
#include <map>
#include <set>
#include <string>

#include "cli/command.hpp"
#include "model/ruleset.hpp"

namespace xdpt {

struct Applied {
    std::string out;       // what the command prints on stdout
    std::string warnings;  // what it prints on stderr without failing
    bool changed = false;  // whether the ruleset differs from before
};

// Applies `c` to `rs` in place. On error `rs` may be partly modified: callers work on a
// copy and keep it only on success (all-or-nothing, as libiptc's commit).
// `standalone`: the command is committed on its own (iptables), not inside a restore
// transaction (which does both at its COMMIT): run kernel_check_table() on the result
// and reset the policy counters as libiptc's commit does (reset_policy_counters).
// `loaded`: the table as libiptc read it from the kernel, which -v -v dumps after the
// command (restore: at the block's start; null: the table before this command).
Result<Applied> apply_command(Ruleset& rs, Command& c, bool standalone = true, const Table* loaded = nullptr);

// libiptc reads each builtin chain's policy counters as "zeroed" at the start of a
// transaction, so its commit leaves them at what the kernel counted meanwhile (nothing,
// in practice), unless the transaction set them (-P -c, restore's ":CHAIN P [p:b]").
// Every commit of a table, even one that changes nothing else, does that to all of its
// builtin chains but `except`.
void reset_policy_counters(Table& t, std::string_view except = {});

// What the kernel would refuse when the table is replaced (EINVAL from an extension's
// checkentry, ELOOP for a jump loop reachable from a builtin chain).
Result<void> kernel_check_table(const Table& t);

// The builtin chains whose packets can reach each chain, through the jumps and gotos of
// live rules (Chain::live_end), by chain name.
std::map<std::string, std::set<std::string>> reaching_hooks(const Table& t);

// Whether extension `e` may stand in a chain that packets of builtin chains `hooks`
// reach (x_tables' check of its hooks).
bool fits_hooks(const ExtInst& e, const std::set<std::string>& hooks);

}  // namespace xdpt
