// -m mac: Ethernet source address; PREROUTING, INPUT and FORWARD only.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("mac: forms") {
    auto r = run(match_mac, "! --mac-source 42:01:02:03:04:05");
    CHECK(r.save == " ! --mac-source 42:01:02:03:04:05");
    CHECK(r.print == " MAC ! 42:01:02:03:04:05");
    CHECK(run(match_mac, "--mac-source 42:01:02:03:04:05").print == " MAC 42:01:02:03:04:05");
    CHECK(run(match_mac, "--mac-source 4:1:2:3:4:5").save == " --mac-source 04:01:02:03:04:05");
    CHECK(run(match_mac, "--mac-source AA:BB:CC:DD:EE:FF").save == " --mac-source aa:bb:cc:dd:ee:ff");
    CHECK(run(match_mac, "--mac-source :::::").save == " --mac-source 00:00:00:00:00:00");
    CHECK(run(match_mac, "--mac-source -1:2:3:4:5:6").save == " --mac-source ff:02:03:04:05:06");
}

TEST_CASE("mac: errors") {
    for (const char* bad : {"42:01:02:03:04", "42:01:02:03:04:05:06", "0AA:BB:CC:DD:EE:FF", "42-01-02-03-04-05",
                            "0x1:2:3:4:5:6", "1:2:3:4:5:6x"}) {
        CAPTURE(bad);
        CHECK(run_ext(&match_mac, {{"--mac-source", bad}}).error == "Invalid MAC address specified.");
    }
    CHECK(run(match_mac, "").error == "mac: option \"--mac-source\" must be specified\n");
}

TEST_CASE("mac: allowed hooks") {
    CHECK(match_mac.hooks == "PREROUTING,INPUT,FORWARD");
    CHECK(match_mac.tables.empty());
}

}  // namespace
}  // namespace xdpt::test
