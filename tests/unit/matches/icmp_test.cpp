// -m icmp: names, numbers, codes; "any" is type 255.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

const Rule icmp = proto_rule(1);

struct Case {
    const char *arg, *save, *print, *numeric;
};

TEST_CASE("icmp: save and print forms") {
    const Case cases[] = {
        {"any", " --icmp-type any", " icmp any", " icmptype 255"},
        {"echo-request", " --icmp-type 8", " icmp echo-request", " icmptype 8"},
        {"ping", " --icmp-type 8", " icmp echo-request", " icmptype 8"},
        {"Echo-Req", " --icmp-type 8", " icmp echo-request", " icmptype 8"},
        {"8", " --icmp-type 8", " icmp echo-request", " icmptype 8"},
        {"0x8", " --icmp-type 8", " icmp echo-request", " icmptype 8"},
        {"8/0", " --icmp-type 8/0", " icmptype 8 code 0", " icmptype 8 code 0"},
        {"3/0", " --icmp-type 3/0", " icmp network-unreachable", " icmptype 3 code 0"},
        {"network-unreachable", " --icmp-type 3/0", " icmp network-unreachable", " icmptype 3 code 0"},
        {"destination-unreachable", " --icmp-type 3", " icmp destination-unreachable", " icmptype 3"},
        {"3/0:255", " --icmp-type 3", " icmp destination-unreachable", " icmptype 3"},
        {"3/1:3", " --icmp-type 3/1", " icmptype 3 codes 1-3", " icmptype 3 codes 1-3"},
        {"200/3:2", " --icmp-type 200/3", " icmptype 200 codes 3-2", " icmptype 200 codes 3-2"},
        {"255", " --icmp-type any", " icmp any", " icmptype 255"},
        {"255/0", " --icmp-type any", " icmptype 255 code 0", " icmptype 255 code 0"},
        {"11/1", " --icmp-type 11/1", " icmp ttl-zero-during-reassembly", " icmptype 11 code 1"},
        {"4/0", " --icmp-type 4/0", " icmptype 4 code 0", " icmptype 4 code 0"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.arg);
        auto r = run_ext(&match_icmp, {{"--icmp-type", c.arg}}, icmp);
        REQUIRE(r.ok);
        CHECK(r.save == c.save);
        CHECK(r.print == c.print);
        CHECK(r.print_numeric == c.numeric);
    }
}

TEST_CASE("icmp: inverted") {
    auto r = run(match_icmp, "! --icmp-type 8", icmp);
    CHECK(r.save == " ! --icmp-type 8");
    CHECK(r.print == " icmp !echo-request");
    CHECK(r.print_numeric == " icmp !type 8");
    r = run(match_icmp, "! --icmp-type 3/7:9", icmp);
    CHECK(r.save == " ! --icmp-type 3/7");
    CHECK(r.print == " icmp !type 3 codes 7-9");
    CHECK(run(match_icmp, "! --icmp-type any", icmp).print_numeric == " icmp !type 255");
}

TEST_CASE("icmp: errors") {
    const std::pair<const char*, const char*> cases[] = {
        {"echo", "Ambiguous ICMP type `echo': `echo-reply' or `echo-request'?"},
        {"", "Ambiguous ICMP type `': `any' or `echo-reply'?"},
        {"foo", "Unknown ICMP type `foo'"},
        {"256", "Unknown ICMP type `256'"},
        {"/8", "Unknown ICMP type `/8'"},
        {"3/x", "Unknown ICMP code `3/x'"},
        {"8/", "Unknown ICMP code `8/'"},
        {"3x", "unknown character x"},
        {"3/1x", "unknown character x"},
        {"3:4", "ICMP type range not supported"},
    };
    for (auto [arg, msg] : cases) {
        CAPTURE(arg);
        CHECK(run_ext(&match_icmp, {{"--icmp-type", arg}}, icmp).error == msg);
    }
    CHECK(run(match_icmp, "", icmp).error == "icmp: option \"--icmp-type\" must be specified\n");
    CHECK(run(match_icmp, "--icmp-type 8 --icmp-type 0", icmp).error ==
          "icmp: option \"--icmp-type\" can only be used once.\n");
}

TEST_CASE("icmp: the kernel wants -p icmp") {
    ExtInst inst(&match_icmp);
    CHECK(inst.data->kernel_accepts(icmp, {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(1, true), {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(0), {}));
}

}  // namespace
}  // namespace xdpt::test
