// -m limit: rates kept as periods in 1/10000 s, printed back in the largest exact unit.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("limit: defaults") {
    auto r = run(match_limit, "");
    REQUIRE(r.ok);
    CHECK(r.save == " --limit 3/hour");
    CHECK(r.print == " limit: avg 3/hour burst 5");
    CHECK(run(match_limit, "--limit 3/hour --limit-burst 5").save == " --limit 3/hour");
    CHECK(run(match_limit, "--limit-burst 6").save == " --limit 3/hour --limit-burst 6");
}

TEST_CASE("limit: rates") {
    const std::pair<const char*, const char*> cases[] = {
        {"1/sec", "1/sec"},       {"1/min", "1/min"},     {"1000/hour", "1000/hour"},
        {"1000/day", "1000/day"}, {"5", "5/sec"},          {"5/s", "5/sec"},
        {"5/m", "5/min"},         {"5/h", "5/hour"},       {"5/d", "5/day"},
        {"5/SECOND", "5/sec"},    {"5/Hou", "5/hour"},     {"10000/sec", "10000/sec"},
        {"3000/sec", "3333/sec"}, {"90/min", "90/min"},    {"3600/hour", "1/sec"},
        {"86400/day", "1/sec"},   {"86401/day", "1/sec"}, {"7/day", "7/day"},
        {"5x/sec", "5/sec"},      {"2/minute", "2/min"},
    };
    for (auto [arg, rate] : cases) {
        CAPTURE(arg);
        auto r = run_ext(&match_limit, {{"--limit", arg}});
        REQUIRE(r.ok);
        CHECK(r.save == std::string(" --limit ") + rate);
        CHECK(r.print == std::string(" limit: avg ") + rate + " burst 5");
    }
    CHECK(run_ext(&match_limit, {{"--limit", " 5/sec"}}).save == " --limit 5/sec");
}

TEST_CASE("limit: errors") {
    for (const char* bad : {"5/seconds", "5/", "0/sec", "x/sec", "5/x", "/sec", "5/dayx", "4294967296/sec"}) {
        CAPTURE(bad);
        CHECK(run_ext(&match_limit, {{"--limit", bad}}).error == std::string("bad rate \"") + bad + "\"'");
    }
    CHECK(run(match_limit, "--limit 10001/sec").error == "Rate too fast \"10001/sec\"");
    CHECK(run(match_limit, "--limit -5/sec").error == "Rate too fast \"-5/sec\"");
    CHECK(run(match_limit, "--limit-burst 10001").error ==
          "limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n");
    CHECK(run(match_limit, "! --limit 1/sec").error == "limit: option \"--limit\" cannot be inverted.\n");
    CHECK(run(match_limit, "--limit 1/sec --limit 2/sec").error == "limit: option \"--limit\" can only be used once.\n");
}

TEST_CASE("limit: the kernel refuses a zero burst and credit overflow") {
    auto kernel_ok = [](std::vector<std::pair<std::string, std::string>> opts) {
        ExtInst inst(&match_limit);
        for (auto& [name, arg] : opts) {
            const OptDef* def = nullptr;
            for (auto& o : match_limit.opts)
                if ("--" + std::string(o.name) == name) def = &o;
            REQUIRE(def != nullptr);
            REQUIRE(ext_parse_option(inst, *def, arg, false, {}).has_value());
        }
        return inst.data->kernel_accepts({}, {});
    };
    CHECK(kernel_ok({}));
    CHECK_FALSE(kernel_ok({{"--limit-burst", "0"}}));
    CHECK_FALSE(kernel_ok({{"--limit-burst", "10000"}}));
    CHECK(kernel_ok({{"--limit", "10000/sec"}, {"--limit-burst", "10000"}}));
    CHECK(kernel_ok({{"--limit", "1/hour"}, {"--limit-burst", "119"}}));
    CHECK_FALSE(kernel_ok({{"--limit", "1/hour"}, {"--limit-burst", "120"}}));
}

TEST_CASE("limit: nft limit at the rate -L shows") {
    CHECK(nft_text(&match_limit, {{"--limit", "7/sec"}, {"--limit-burst", "3"}}) == "limit 7/1 burst 3\n");
    CHECK(nft_text(&match_limit, {{"--limit", "2/minute"}}) == "limit 2/60 burst 5\n");
    CHECK(nft_text(&match_limit, {}) == "limit 3/3600 burst 5\n");
}

}  // namespace
}  // namespace xdpt::test
