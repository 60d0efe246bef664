// (ruleset, command) -> ruleset: every iptables command as a pure function, with the
// errors libiptc and the kernel would give. No syscalls.
#pragma once
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
// `check_kernel`: run kernel_check_table() on the result (restore defers it to COMMIT).
Result<Applied> apply_command(Ruleset& rs, Command& c, bool check_kernel = true);

// What the kernel would refuse when the table is replaced (EINVAL from an extension's
// checkentry, ELOOP for a jump loop reachable from a builtin chain).
Result<void> kernel_check_table(const Table& t);

}  // namespace xdpt
