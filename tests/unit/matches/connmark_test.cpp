// -m connmark revision 1: value[/mask], shown in hex, checked against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_connmark.h>

#include <cstring>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt {
extern const ExtKind match_connmark;
}

namespace xdpt::test {
namespace {

TEST_CASE("connmark: forms") {
    auto r = run(match_connmark, "--mark 5");
    CHECK(r.save == " --mark 0x5");
    CHECK(r.print == " connmark match  0x5");
    r = run(match_connmark, "! --mark 0x10/0x10");
    CHECK(r.save == " ! --mark 0x10/0x10");
    CHECK(r.print == " connmark match ! 0x10/0x10");
    CHECK(run(match_connmark, "--mark 0xffffffff/0xffffffff").save == " --mark 0xffffffff");
    CHECK(run(match_connmark, "--mark 0/0").save == " --mark 0x0/0x0");
}

TEST_CASE("connmark: errors") {
    const char* bad = "connmark: bad integer value for option \"--mark\", or out of range.\n";
    CHECK(run(match_connmark, "--mark -1").error == bad);
    CHECK(run(match_connmark, "--mark 0xfffffffff").error == bad);
    CHECK(run(match_connmark, "--mark 1/").error == bad);
    CHECK(run(match_connmark, "").error == "connmark: option \"--mark\" must be specified\n");
    CHECK(run(match_connmark, "--mark 1 --mark 2").error == "connmark: option \"--mark\" can only be used once.\n");
}

TEST_CASE("connmark: the blob") {
    auto blob = xt_blob<xt_connmark_mtinfo1>(&match_connmark, {{"!", ""}, {"--mark", "3/7"}}, "connmark", 1);
    REQUIRE(blob);
    const xt_connmark_mtinfo1& info = *blob;
    CHECK(info.mark == 3);
    CHECK(info.mask == 7);
    CHECK(info.invert == 1);
}

TEST_CASE("connmark: ct mark") {
    CHECK(nft_text(&match_connmark, {{"!", ""}, {"--mark", "0x1"}}) == "ct mark\ncmp neq 01000000\n");
}

}  // namespace
}  // namespace xdpt::test
