// -j TEE revision 1 (IPv4), checked against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <linux/netfilter/xt_TEE.h>

#include <cstring>

#include "tests/unit/targets/target_test.hpp"

namespace xdpt {
extern const ExtKind target_TEE;
}

using namespace xdpt;
using namespace xdpt::test;
using namespace xdpt::test::tgt;

TEST_CASE("TEE: forms") {
    auto r = run_ext(&target_TEE, {{"--gateway", "10.0.0.1"}, {"--oif", "eth0"}});
    CHECK(r.save == " --gateway 10.0.0.1 --oif eth0");
    CHECK(r.print_numeric == " TEE gw:10.0.0.1 oif=eth0");
    r = run_ext(&target_TEE, {{"--gateway", "127.0.0.1"}});
    CHECK(r.save == " --gateway 127.0.0.1");
    CHECK(r.print == " TEE gw:localhost");
    // --oif is cut to 15 characters without a word, as libxtables' string type does.
    CHECK(run_ext(&target_TEE, {{"--gateway", "1.2.3.4"}, {"--oif", "xxxxxxxxxxxxxxxxxxxx"}}).save ==
          " --gateway 1.2.3.4 --oif xxxxxxxxxxxxxxx");
    CHECK(run_ext(&target_TEE, {{"--gateway", "1.2.3.4"}, {"--oif", ""}}).save == " --gateway 1.2.3.4");
}

TEST_CASE("TEE: errors and the kernel's zero-gateway refusal") {
    CHECK(run_ext(&target_TEE, {}).error == "TEE: option \"--gateway\" must be specified\n");
    CHECK(run_ext(&target_TEE, {{"--oif", "lo"}}).error == "TEE: option \"--gateway\" must be specified\n");
    CHECK(run_ext(&target_TEE, {{"--gateway", "1.1.1.1/24"}}).error == "getaddrinfo: Name or service not known\n");
    CHECK(run_ext(&target_TEE, {{"--gateway", "1.1.1.1"}, {"--gateway", "2.2.2.2"}}).error ==
          "TEE: option \"--gateway\" can only be used once.\n");
    CHECK(run_ext(&target_TEE, {{"!", ""}, {"--gateway", "1.1.1.1"}}).error ==
          "TEE: option \"--gateway\" cannot be inverted.\n");
    CHECK(kernel_ok(&target_TEE, {{"--gateway", "1.1.1.1"}}, {}, "nat", "POSTROUTING"));
    CHECK_FALSE(kernel_ok(&target_TEE, {{"--gateway", "0.0.0.0"}}));
}

TEST_CASE("TEE: the blob") {
    auto blob = xt_blob<xt_tee_tginfo>(&target_TEE, {{"--gateway", "10.1.2.3"}, {"--oif", "veth0"}}, "TEE", 1);
    REQUIRE(blob);
    const xt_tee_tginfo& info = *blob;
    CHECK(info.gw.ip == htonl(0x0a010203));
    CHECK(std::string(info.oif) == "veth0");
    CHECK(info.priv == nullptr);
}
