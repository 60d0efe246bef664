// -m length: XTTYPE_UINT16RC ranges.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("length: ranges") {
    auto r = run(match_length, "! --length 0:65535");
    CHECK(r.save == " ! --length 0:65535");
    CHECK(r.print == " length !0:65535");
    CHECK(run(match_length, "--length 1").print == " length 1");
    CHECK(run(match_length, "--length :2").save == " --length 0:2");
    CHECK(run(match_length, "--length 4:").save == " --length 4:65535");
    CHECK(run(match_length, "--length :").save == " --length 0:65535");
    CHECK(run(match_length, "--length 5:3").save == " --length 5:3");
    CHECK(run(match_length, "--length 0x10").save == " --length 16");
    CHECK(run_ext(&match_length, {{"--length", ""}}).save == " --length 0");
}

TEST_CASE("length: errors") {
    CHECK(run(match_length, "--length 0:65536").error ==
          "length: bad value for option \"--length\" near \"65536\", or out of range (0-65535).\n");
    CHECK(run(match_length, "--length -1:65535").error ==
          "length: bad value for option \"--length\" near \"-1:65535\", or out of range (0-65535).\n");
    CHECK(run(match_length, "--length 1:2:3").error == "length: Too many components for option \"--length\" (max: 2)\n");
    CHECK(run(match_length, "--length 5x").error ==
          "length: Argument to \"--length\" has unexpected characters near \"x\".\n");
    CHECK(run(match_length, "").error == "length: option \"--length\" must be specified\n");
}

TEST_CASE("length: the IP header's total length, a range or one value") {
    CHECK(nft_text(&match_length, {{"--length", "100:200"}}) == "payload 2b @ 1 + 2\nrange eq 0064 00c8\n");
    CHECK(nft_text(&match_length, {{"!", ""}, {"--length", "28"}}) == "payload 2b @ 1 + 2\ncmp neq 001c\n");
    CHECK(nft_text(&match_length, {{"--length", "5:3"}}).empty());  // matches nothing: xt_length's
}

}  // namespace
}  // namespace xdpt::test
