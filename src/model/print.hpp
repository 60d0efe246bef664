// Text forms of a ruleset, byte for byte as iptables 1.8.9 (legacy) prints them:
// iptables-save, iptables -S and iptables -L in all their variants.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/ruleset.hpp"

namespace xdpt {

// How rule counters appear in a saved rule.
enum class CounterStyle {
    none,    // iptables-save, iptables -S
    prefix,  // iptables-save -c: "[pkts:bytes] -A ..."
    inline_, // iptables -S -v: "... -c pkts bytes -j ..."
};

// One rule, "-A CHAIN ..." without the newline. `exact`: also what iptables-save leaves
// out because it does not change the match (an interface of just "+"), and quotes the
// interface and chain names that would not read back as one argument (blanks, quotes,
// "" after -E), so that the text restores to the very same rule (the stored-state
// format).
std::string rule_to_save(Family f, const Rule& r, std::string_view chain, CounterStyle cs, bool exact = false);

// The body of one table in iptables-save form, from "*table" to "COMMIT\n".
std::string table_to_save(const Table& t, bool counters, bool exact = false);
// The same, one line per element, without newlines (a line may hold one, inside a
// quoted argument: a comment, a log prefix, a name given by -E or -i).
std::vector<std::string> table_save_lines(const Table& t, bool counters, bool exact = false);

// iptables -S [chain [rulenum]]. Nothing when the chain does not exist (the caller reports).
// A rule with an uncommitted_jump ends the text after its matches (print_rule4 exits
// there): its name goes to `unknown_target`, which must then be given.
std::string list_rules(const Table& t, const std::optional<std::string>& chain,
                       unsigned rulenum, bool verbose, std::string* unknown_target = nullptr);

// libiptc's dump_entries, which iptables prints after a command given -v twice: the table
// as the kernel holds it (libiptc's layout), entry by entry with offsets and verdicts.
std::string dump_entries(const Table& t);

struct ListFormat {
    bool verbose = false, numeric = false, exact = false, linenumbers = false;
};
// iptables -L [chain [rulenum]].
std::string list_entries(const Table& t, const std::optional<std::string>& chain,
                         unsigned rulenum, const ListFormat& f);

// The line iptables -v prints for a rule it adds, inserts, replaces, deletes or checks
// (print_firewall_line), newline included.
std::string rule_echo(Family f, const Rule& r);

// The name iptables shows for a protocol number (save and -L without -n).
std::string protocol_text(uint16_t proto);

}  // namespace xdpt
