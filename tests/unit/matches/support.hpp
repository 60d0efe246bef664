// Helpers for the match extension tests: a short way to drive one extension from an
// option string, and a small rule runner for the iptables conformance vectors (*.t).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "ext/ext.hpp"
#include "model/ruleset.hpp"
#include "tests/unit/ext_helpers.hpp"

namespace xdpt::test {

// A rule with just a protocol (as -p would give it).
Rule proto_rule(uint16_t proto, bool inverted = false);

// Drives `kind` with options written as on a command line, split at blanks:
// "! --dport 80 --tcp-flags SYN,ACK SYN". Arguments are taken by the options that have
// one; --tcp-flags takes two.
ExtRun run(const ExtKind& kind, std::string_view options, const Rule& rule = {},
           std::string_view table = "filter");

// What `iptables -A CHAIN <args>` does with a rule made of -s/-d/-p and match options:
// parse (implicit protocol match included), final checks, the kernel's checks for that
// table and chain, and the iptables-save text of the rule after "-A CHAIN ".
struct RuleRun {
    bool ok = false;
    std::string save;
    std::string error;
    std::string notices;  // what iptables would print on stderr besides the error
};
RuleRun run_rule(std::string_view args, std::string_view table, std::string_view chain);

// The directory holding iptables 1.8.9's extensions/*.t: $XDPT_IPT_TESTS_DIR, else the
// path meson configured (tests/unit/matches/vectors_dir.cpp.in).
std::string iptables_tests_dir();
// The repository's source directory (its tests/diff/cases), as meson configured it.
std::string source_dir();

// One rule line of a .t file with the table and chains in force for it.
struct Vector {
    int line = 0;
    std::string table, args, expected, result;
    std::vector<std::string> chains;
};
// Reads extensions/<file>; an empty result means the file could not be read.
std::vector<Vector> read_vectors(std::string_view file);

}  // namespace xdpt::test
