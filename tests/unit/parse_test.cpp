// The command line parser (src/cli/parse.cpp): what it says on stderr while loading
// extensions.
#include <doctest/doctest.h>

#include <set>

#include "cli/command.hpp"

using namespace xdpt;

namespace {

// The notices parsing `argv` leaves, with or without a kernel to ask for revisions.
std::string notices_of(std::vector<std::string> argv, bool can_ask) {
    std::string notices;
    std::set<const ExtKind*> assumed;
    ParseOptions po;
    po.notices = &notices;
    if (!can_ask) po.assumed_revisions = &assumed;
    (void)parse_command(argv, po);
    return notices;
}

}  // namespace

TEST_CASE("unable to ask the kernel, iptables assumes the revision it prefers, once per extension loaded") {
    // As iptables-legacy 1.8.9 prints it run by nobody: state and conntrack are two
    // extensions of one x_tables name, a second -m mark loads nothing, NOTRACK is CT,
    // revision 0 (tcp, comment, SNAT) is assumed without a word.
    CHECK(notices_of({"-p", "tcp", "-m", "state", "-m", "conntrack", "-m", "mark", "-m", "mark", "-m", "comment",
                      "-j", "NOTRACK", "--help"},
                     false) ==
          "conntrack: Could not determine whether revision 3 is supported, assuming it is.\n"
          "conntrack: Could not determine whether revision 3 is supported, assuming it is.\n"
          "mark: Could not determine whether revision 1 is supported, assuming it is.\n"
          "CT: Could not determine whether revision 2 is supported, assuming it is.\n");
    CHECK(notices_of({"-j", "SNAT", "--help"}, false).empty());
    CHECK(notices_of({"-j", "DNAT", "--help"}, false) ==
          "DNAT: Could not determine whether revision 2 is supported, assuming it is.\n");
    // Said while loading: before a later error, nothing for what comes after -h.
    CHECK(notices_of({"-m", "multiport", "--bogus", "-m", "set"}, false) ==
          "multiport: Could not determine whether revision 1 is supported, assuming it is.\n");
    CHECK(notices_of({"-h", "-m", "mark"}, false).empty());
    // With a kernel to ask, nothing.
    CHECK(notices_of({"-m", "conntrack", "-j", "DNAT", "--help"}, true).empty());
}
