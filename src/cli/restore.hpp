// iptables-restore's input format, applied to a ruleset block by block: "*table",
// ":CHAIN POLICY [p:b]", rule lines parsed as command lines, "COMMIT". Pure: the commit
// callback decides what a COMMIT does (store it in the kernel, or nothing for --test).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/brand.hpp"
#include "core/error.hpp"
#include "model/ruleset.hpp"

namespace xdpt {

struct RestoreOptions {
    bool counters = false;   // -c: take [p:b] counters
    int verbose = 0;         // -v
    bool test = false;       // -t: parse and check, commit nothing
    bool noflush = false;    // -n
    std::optional<std::string> only_table;  // -T
    std::string prog = "xdptables-restore";  // for "PROG: line N failed"
    Brand brand = xdptables_brand;           // for the rule lines' messages
    // Every table named by a "*table" line, in order (iptables instantiates each one
    // even when its block fails or --test is given).
    std::vector<std::string>* tables_seen = nullptr;
    std::string* notices = nullptr;  // warnings for stderr; null: drop them
    bool stored = false;  // reading the stored state (see ParseOptions::stored)
    // --test: runs at every COMMIT in place of the commit, with the ruleset as it then
    // is: what the commit would refuse where iptables-legacy's kernel would not
    // (xdptables' own limits). Empty: nothing.
    std::function<Result<void>(const Ruleset&)> check;
};

// Applies `text` to `rs`. `commit` runs at every COMMIT with the ruleset as it then is
// (`rs`, which it may update: the next table block goes on from it); `out` collects what
// restore prints on stdout (-v).
Result<void> restore_text(Ruleset& rs, std::string_view text, const RestoreOptions& o,
                          const std::function<Result<void>(Ruleset&)>& commit,
                          std::string& out);

// The lines iptables-restore's fgets() hands over: pieces of at most 10239 bytes, each
// ending at its first NUL byte (iptables-xml reads the same way).
std::vector<std::string_view> restore_input_lines(std::string_view text);

// xshared.c's tokenize_rule_counters: "[pkts:bytes]" at the start of a rule line, cut as
// iptables cuts it; `rest` then starts after the ']'. Nothing when the line has none.
struct RuleCounterText {
    std::string_view pcnt, bcnt;
};
Result<std::optional<RuleCounterText>> tokenize_rule_counters(std::string_view& rest, int line);

// The state format: iptables-save -c of every table, in the ruleset's table order.
std::string serialize_ruleset(const Ruleset& rs);
Result<Ruleset> deserialize_ruleset(std::string_view text, Family f);

}  // namespace xdpt
