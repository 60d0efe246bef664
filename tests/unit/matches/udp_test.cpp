// -m udp (an x6 extension: port ranges through getaddrinfo, libxtables' messages).
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

const Rule udp = proto_rule(17);

TEST_CASE("udp: ports") {
    auto r = run(match_udp, "--sport 1024: ! --dport 53", udp);
    REQUIRE(r.ok);
    CHECK(r.save == " --sport 1024:65535 ! --dport 53");
    CHECK(r.print_numeric == " udp spts:1024:65535 dpt:!53");
    CHECK(r.print == " udp spts:1024:65535 dpt:!domain");
    CHECK(run(match_udp, "--source-port http", udp).save == " --sport 80");
    CHECK(run(match_udp, "--sport :", udp).save == "");
    CHECK(run_ext(&match_udp, {{"--sport", " 53"}}, udp).save == " --sport 53");
}

TEST_CASE("udp: getaddrinfo's view of numbers") {
    CHECK(run(match_udp, "--sport 65536", udp).save == " --sport 0");  // wraps, as in 1.8.9
    CHECK(run(match_udp, "--dport 5:3", udp).save == " --dport 5:3");  // no order check
    CHECK(run(match_udp, "--sport 0x10", udp).error == "Port \"0x10\" does not resolve to anything.\n");
    CHECK(run(match_udp, "--sport -1", udp).error == "Port \"-1\" does not resolve to anything.\n");
}

TEST_CASE("udp: inverted full range: printed, not saved") {
    auto r = run(match_udp, "! --sport 0:65535", udp);
    CHECK(r.save == "");
    CHECK(r.print_numeric == " udp spts:!0:65535");
}

TEST_CASE("udp: messages name the first option of an alias group") {
    CHECK(run(match_udp, "--dport 1 --dport 2", udp).error ==
          "udp: option \"--destination-port\" can only be used once.\n");
    CHECK(run(match_udp, "--source-port 1 --sport 2", udp).error ==
          "udp: option \"--source-port\" can only be used once.\n");
    CHECK(run(match_udp, "--sport 1 --source-port 2", udp).error ==
          "udp: option \"--source-port\" can only be used once.\n");
    CHECK(run(match_udp, "--sport 1:2:3", udp).error ==
          "udp: Too many components for option \"--source-port\" (max: 2)\n");
}

TEST_CASE("udp: the kernel wants -p udp") {
    ExtInst inst(&match_udp);
    CHECK(inst.data->kernel_accepts(udp, {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(17, true), {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(136), {}));
}

TEST_CASE("udp: no native form (x_tables drops a packet whose header is cut short)") {
    CHECK(nft_text(&match_udp, {{"--dport", "53"}}).empty());
}

}  // namespace
}  // namespace xdpt::test
