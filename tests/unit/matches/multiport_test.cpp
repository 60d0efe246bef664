// -m multiport revision 1: lists of ports and ranges, 15 slots.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

const Rule tcp = proto_rule(6);

TEST_CASE("multiport: save and print") {
    auto r = run(match_multiport, "--sports 53,1024:65535", tcp);
    REQUIRE(r.ok);
    CHECK(r.save == " --sports 53,1024:65535");
    CHECK(r.print_numeric == " multiport sports 53,1024:65535");
    CHECK(r.print == " multiport sports domain,1024:65535");

    r = run(match_multiport, "! --dports 53,1024:65535", tcp);
    CHECK(r.save == " ! --dports 53,1024:65535");
    CHECK(r.print_numeric == " multiport dports  !53,1024:65535");

    r = run(match_multiport, "--destination-ports 80,http,ssh", tcp);
    CHECK(r.save == " --dports 80,80,22");
    CHECK(r.print == " multiport dports http,http,ssh");

    r = run(match_multiport, "--ports 0x10,010", proto_rule(132));
    CHECK(r.save == " --ports 16,8");
    CHECK(run(match_multiport, "--source-ports 1", proto_rule(17)).save == " --sports 1");
}

TEST_CASE("multiport: service names follow the protocol") {
    CHECK(run(match_multiport, "--dports 53,80", proto_rule(136)).print == " multiport dports 53,80");
    CHECK(run(match_multiport, "--dports 123", proto_rule(17)).print == " multiport dports ntp");
}

TEST_CASE("multiport: 15 slots, a range takes two") {
    CHECK(run(match_multiport, "--ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15", tcp).ok);
    CHECK(run(match_multiport, "--ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", tcp).error ==
          "too many ports specified");
    CHECK(run(match_multiport, "--ports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15", tcp).ok);
    CHECK(run(match_multiport, "--ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15", tcp).ok);
    CHECK(run(match_multiport, "--ports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16", tcp).error ==
          "too many ports specified");
    CHECK(run(match_multiport, "--ports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16", tcp).error ==
          "too many ports specified");
}

TEST_CASE("multiport: errors") {
    CHECK(run(match_multiport, "--dports 80:80", tcp).error == "invalid portrange specified");
    CHECK(run(match_multiport, "--dports 81:80", tcp).error == "invalid portrange specified");
    CHECK(run(match_multiport, "--dports 80:", tcp).error == "invalid port/service `' specified");
    CHECK(run(match_multiport, "--dports ,80", tcp).error == "invalid port/service `' specified");
    CHECK(run(match_multiport, "--sports 1024:65536", tcp).error == "invalid port/service `65536' specified");
    CHECK(run(match_multiport, "--dports 1:2:3", tcp).error == "invalid port/service `2:3' specified");
    CHECK(run(match_multiport, "--sports 1 --dports 2", tcp).error ==
          "multiport: option \"--source-ports\" cannot be used together with \"--destination-ports\".\n");
    CHECK(run(match_multiport, "--dports 1 --ports 2", tcp).error ==
          "multiport: option \"--destination-ports\" cannot be used together with \"--ports\".\n");
    CHECK(run(match_multiport, "--sports 1 --sports 2", tcp).error ==
          "multiport: option \"--source-ports\" can only be used once.\n");
    CHECK(run(match_multiport, "--sports 1 --source-ports 2", tcp).error ==
          "multiport: option \"--source-ports\" can only be used once.\n");
    CHECK(run(match_multiport, "", tcp).error == "multiport expection an option");
}

TEST_CASE("multiport: the protocol must be given first") {
    CHECK(run(match_multiport, "--dports 1", {}).error ==
          "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
    CHECK(run(match_multiport, "--dports 1", proto_rule(1)).error ==
          "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP");
    CHECK(run(match_multiport, "--dports 1", proto_rule(6, true)).error ==
          "multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP");
    ExtInst inst(&match_multiport);
    for (uint16_t p : {6, 17, 136, 132, 33}) CHECK(inst.data->kernel_accepts(proto_rule(p), {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(6, true), {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(1), {}));
}

}  // namespace
}  // namespace xdpt::test
