// -m statistic revision 0: random and nth modes, checked against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_statistic.h>

#include <cstring>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt {
extern const ExtKind match_statistic;
}

namespace xdpt::test {
namespace {

TEST_CASE("statistic: forms") {
    auto r = run(match_statistic, "--mode random ! --probability 0.5");
    CHECK(r.save == " --mode random ! --probability 0.50000000000");
    CHECK(r.print == " statistic mode random ! probability 0.50000000000");
    CHECK(run(match_statistic, "--mode random --probability 1e-1").save == " --mode random --probability 0.10000000009");
    CHECK(run(match_statistic, "--mode random --probability 1").save == " --mode random --probability 1.00000000000");
    CHECK(run(match_statistic, "--mode random --probability nan").save == " --mode random --probability 0.00000000000");
    r = run(match_statistic, "--mode nth --every 3 --packet 0");
    CHECK(r.save == " --mode nth --every 3 --packet 0");
    CHECK(r.print == " statistic mode nth every 3");
    r = run(match_statistic, "--mode nth ! --every 4294967295 --packet 4294967294");
    CHECK(r.save == " --mode nth ! --every 4294967295 --packet 4294967294");
    CHECK(r.print == " statistic mode nth ! every 4294967295 packet 4294967294");
}

TEST_CASE("statistic: errors, in libxt_statistic's order (its check before the generic ones)") {
    CHECK(run(match_statistic, "").error == "--probability must be specified when using random mode");
    CHECK(run(match_statistic, "--every 2 --packet 1").error == "--probability must be specified when using random mode");
    CHECK(run(match_statistic, "--mode nth").error == "--every and --packet must be specified when using nth mode");
    CHECK(run(match_statistic, "--mode nth --packet 2").error == "the --packet p must be 0 <= p <= n-1");
    CHECK(run(match_statistic, "--mode nth --every 5 --packet 5").error == "the --packet p must be 0 <= p <= n-1");
    CHECK(run(match_statistic, "--mode nth --every 3").error == "statistic: option \"--every\" also requires \"--packet\".\n");
    CHECK(run(match_statistic, "--mode foo").error == "Bad mode \"foo\"");
    CHECK(run(match_statistic, "--mode random --probability 1.1").error ==
          "statistic: bad value for option \"--probability\", or out of range (0-1).\n");
    CHECK(run(match_statistic, "--mode random --probability 0.5x").error ==
          "statistic: bad value for option \"--probability\", or out of range (0-1).\n");
    CHECK(run(match_statistic, "--mode nth --every 0 --packet 0").error ==
          "statistic: bad value for option \"--every\", or out of range (1-4294967295).\n");
    // --probability and --every share the kernel's union: the later one overwrites.
    CHECK(run(match_statistic, "--mode random --probability 0.5 --every 3 --packet 2").error ==
          "statistic: option \"--probability\" cannot be used together with \"--every\".\n");
    CHECK(run(match_statistic, "--mode random --probability 0.5 --every 1 --packet 5").error ==
          "the --packet p must be 0 <= p <= n-1");
    CHECK(run(match_statistic, "! --mode random --probability 0.5").error ==
          "statistic: option \"--mode\" cannot be inverted.\n");
    CHECK(run(match_statistic, "--mode nth --every 2 ! --packet 1").error ==
          "statistic: option \"--packet\" cannot be inverted.\n");
}

TEST_CASE("statistic: the kernel's structure, its nth counter started at every - packet") {
    auto blob = xt_blob<xt_statistic_info>(
        &match_statistic, {{"--mode", "nth"}, {"!", ""}, {"--every", "5"}, {"--packet", "2"}}, "statistic", 0);
    REQUIRE(blob);
    const xt_statistic_info& info = *blob;
    CHECK(info.mode == XT_STATISTIC_MODE_NTH);
    CHECK(info.flags == XT_STATISTIC_INVERT);
    CHECK(info.u.nth.every == 4);
    CHECK(info.u.nth.packet == 2);
    CHECK(info.u.nth.count == 2);
    ExtInst inst;
    REQUIRE(run_ext(&match_statistic, {{"--mode", "random"}, {"--probability", "0.5"}}, {}, "filter", &inst).ok);
    XdpCond cond;
    CHECK_FALSE(inst.data->to_xdp(Rule{}, cond));  // left to netfilter
}

}  // namespace
}  // namespace xdpt::test
