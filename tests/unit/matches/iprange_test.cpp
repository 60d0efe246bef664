// -m iprange revision 1.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("iprange: save and print") {
    auto r = run(match_iprange, "! --src-range 1.1.1.1-1.1.1.10 --dst-range 2.2.2.2-2.2.2.3");
    REQUIRE(r.ok);
    CHECK(r.save == " ! --src-range 1.1.1.1-1.1.1.10 --dst-range 2.2.2.2-2.2.2.3");
    CHECK(r.print == " source IP range ! 1.1.1.1-1.1.1.10 destination IP range 2.2.2.2-2.2.2.3");
    CHECK(r.print_numeric == r.print);
}

TEST_CASE("iprange: address forms") {
    CHECK(run(match_iprange, "--dst-range 1.1.1.1").save == " --dst-range 1.1.1.1-1.1.1.1");
    CHECK(run(match_iprange, "--dst-range 1.1.1-1.1.1.1").save == " --dst-range 1.1.1.0-1.1.1.1");
    CHECK(run(match_iprange, "--dst-range 10-11").save == " --dst-range 10.0.0.0-11.0.0.0");
    CHECK(run(match_iprange, "--dst-range 0x10.1.1.1").save == " --dst-range 16.1.1.1-16.1.1.1");
}

TEST_CASE("iprange: a reversed range is accepted with a warning") {
    auto r = run_rule("-m iprange --dst-range 1.1.1.10-1.1.1.1", "filter", "INPUT");
    REQUIRE(r.ok);
    CHECK(r.save == "-m iprange --dst-range 1.1.1.10-1.1.1.1");
    CHECK(r.notices == "xt_iprange: range 1.1.1.10-1.1.1.1 is reversed and will never match\n");
    CHECK(run_rule("-m iprange --dst-range 1.1.1.1-1.1.1.1", "filter", "INPUT").notices.empty());
}

TEST_CASE("iprange: errors") {
    CHECK(run(match_iprange, "--dst-range foo").error == "iprange: Bad value for \"--dst-range\" option: \"foo\"");
    CHECK(run(match_iprange, "--src-range 1.1.1.1-foo").error ==
          "iprange: Bad value for \"--src-range\" option: \"foo\"");
    CHECK(run(match_iprange, "--dst-range 1.1.1.1-").error == "iprange: Bad value for \"--dst-range\" option: \"\"");
    CHECK(run(match_iprange, "--dst-range 1.1.1.1-2.2.2.2-3.3.3.3").error ==
          "iprange: Bad value for \"--dst-range\" option: \"2.2.2.2-3.3.3.3\"");
    CHECK(run(match_iprange, "--src-range 1.2.3.456").error ==
          "iprange: Bad value for \"--src-range\" option: \"1.2.3.456\"");
    CHECK(run(match_iprange, "").error == "iprange match: You must specify `--src-range' or `--dst-range'");
    CHECK(run(match_iprange, "--src-range 1.1.1.1 --src-range 1.1.1.2").error ==
          "iprange: option \"--src-range\" can only be used once.\n");
}

}  // namespace
}  // namespace xdpt::test
