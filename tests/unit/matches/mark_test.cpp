// -m mark revision 1: value[/mask], shown in hex.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("mark: forms") {
    auto r = run(match_mark, "--mark 0xfeedcafe/0xfeedcafe");
    CHECK(r.save == " --mark 0xfeedcafe/0xfeedcafe");
    CHECK(r.print == " mark match 0xfeedcafe/0xfeedcafe");
    r = run(match_mark, "! --mark 1/0xffffffff");
    CHECK(r.save == " ! --mark 0x1");
    CHECK(r.print == " mark match ! 0x1");
    CHECK(run(match_mark, "--mark 4294967295").save == " --mark 0xffffffff");
    CHECK(run(match_mark, "--mark 010").save == " --mark 0x8");
    CHECK(run(match_mark, "--mark 0/0").save == " --mark 0x0/0x0");
}

TEST_CASE("mark: errors") {
    const char* bad = "mark: bad integer value for option \"--mark\", or out of range.\n";
    const char* garbage = "mark: trailing garbage after value for option \"--mark\".\n";
    CHECK(run(match_mark, "--mark 4294967296").error == bad);
    CHECK(run(match_mark, "--mark -1").error == bad);
    CHECK(run(match_mark, "--mark 5/").error == bad);
    CHECK(run(match_mark, "--mark 5/x").error == bad);
    CHECK(run(match_mark, "--mark /5").error == bad);
    CHECK(run(match_mark, "--mark 5x").error == garbage);
    CHECK(run(match_mark, "--mark 5/0x10x").error == garbage);
    CHECK(run(match_mark, "").error == "mark: option \"--mark\" must be specified\n");
}

TEST_CASE("mark: meta mark, masked, against the unmasked value") {
    CHECK(nft_text(&match_mark, {{"--mark", "0x1/0xff"}}) == "meta mark\n& ff000000\ncmp eq 01000000\n");
    CHECK(nft_text(&match_mark, {{"!", ""}, {"--mark", "0x3/0x1"}}) == "meta mark\n& 01000000\ncmp neq 03000000\n");
    CHECK(nft_text(&match_mark, {{"--mark", "7"}}) == "meta mark\ncmp eq 07000000\n");
}

}  // namespace
}  // namespace xdpt::test
