// -m ttl: --ttl is an alias of --ttl-eq and behaves exactly like it.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("ttl: modes") {
    struct Case {
        const char *opts, *save, *print;
    };
    const Case cases[] = {
        {"--ttl-eq 0", " --ttl-eq 0", " TTL match TTL == 0"},
        {"! --ttl-eq 255", " ! --ttl-eq 255", " TTL match TTL != 255"},
        {"--ttl-gt 0", " --ttl-gt 0", " TTL match TTL > 0"},
        {"--ttl-lt 10", " --ttl-lt 10", " TTL match TTL < 10"},
        {"--ttl 5", " --ttl-eq 5", " TTL match TTL == 5"},
        {"! --ttl 5", " ! --ttl-eq 5", " TTL match TTL != 5"},
        {"--ttl-gt 0x10", " --ttl-gt 16", " TTL match TTL > 16"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.opts);
        auto r = run(match_ttl, c.opts);
        REQUIRE(r.ok);
        CHECK(r.save == c.save);
        CHECK(r.print == c.print);
    }
}

TEST_CASE("ttl: errors") {
    CHECK(run(match_ttl, "--ttl-eq 256").error == "ttl: bad value for option \"--ttl-eq\", or out of range (0-255).\n");
    CHECK(run(match_ttl, "--ttl -1").error == "ttl: bad value for option \"--ttl-eq\", or out of range (0-255).\n");
    CHECK(run(match_ttl, "! --ttl-lt 10").error == "ttl: option \"--ttl-lt\" cannot be inverted.\n");
    CHECK(run(match_ttl, "--ttl-eq 1 --ttl-lt 2").error ==
          "ttl: option \"--ttl-lt\" cannot be used together with \"--ttl-eq\".\n");
    CHECK(run(match_ttl, "--ttl-gt 1 --ttl-eq 2").error ==
          "ttl: option \"--ttl-gt\" cannot be used together with \"--ttl-eq\".\n");
    CHECK(run(match_ttl, "--ttl-gt 1 --ttl-lt 2").error ==
          "ttl: option \"--ttl-lt\" cannot be used together with \"--ttl-gt\".\n");
    CHECK(run(match_ttl, "--ttl-eq 1 --ttl 2").error == "ttl: option \"--ttl-eq\" can only be used once.\n");
    CHECK(run(match_ttl, "--ttl 1 --ttl-eq 2").error == "ttl: option \"--ttl-eq\" can only be used once.\n");
    CHECK(run(match_ttl, "--ttl-lt 5 --ttl-lt 6").error == "ttl: option \"--ttl-lt\" can only be used once.\n");
    CHECK(run(match_ttl, "").error == "TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt");
}

TEST_CASE("ttl: ip ttl compared") {
    CHECK(nft_text(&match_ttl, {{"--ttl-eq", "64"}}) == "payload 1b @ 1 + 8\ncmp eq 40\n");
    CHECK(nft_text(&match_ttl, {{"!", ""}, {"--ttl-eq", "64"}}) == "payload 1b @ 1 + 8\ncmp neq 40\n");
    CHECK(nft_text(&match_ttl, {{"--ttl-lt", "5"}}) == "payload 1b @ 1 + 8\ncmp lt 05\n");
    CHECK(nft_text(&match_ttl, {{"--ttl-gt", "200"}}) == "payload 1b @ 1 + 8\ncmp gt c8\n");
}

}  // namespace
}  // namespace xdpt::test
