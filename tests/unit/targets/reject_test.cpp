// -j REJECT, checked against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include "core/str.hpp"
#include "tests/unit/targets/target_test.hpp"

using namespace xdpt;
using namespace xdpt::test;
using namespace xdpt::test::tgt;

TEST_CASE("REJECT: default is saved explicitly") {
    auto r = run_ext(&target_REJECT, {});
    REQUIRE(r.ok);
    CHECK(r.save == " --reject-with icmp-port-unreachable");
    CHECK(r.print == " reject-with icmp-port-unreachable");
    CHECK(r.print_numeric == " reject-with icmp-port-unreachable");
}

TEST_CASE("REJECT: names, aliases and abbreviations") {
    const std::pair<const char*, const char*> cases[] = {
        {"icmp-net-unreachable", "icmp-net-unreachable"},
        {"net-unreach", "icmp-net-unreachable"},
        {"icmp-host-unreachable", "icmp-host-unreachable"},
        {"host-unreach", "icmp-host-unreachable"},
        {"icmp-proto-unreachable", "icmp-proto-unreachable"},
        {"proto-unreach", "icmp-proto-unreachable"},
        {"icmp-port-unreachable", "icmp-port-unreachable"},
        {"port-unreach", "icmp-port-unreachable"},
        {"icmp-net-prohibited", "icmp-net-prohibited"},
        {"net-prohib", "icmp-net-prohibited"},
        {"icmp-host-prohibited", "icmp-host-prohibited"},
        {"host-prohib", "icmp-host-prohibited"},
        {"tcp-reset", "tcp-reset"},
        {"tcp-rst", "tcp-reset"},
        {"icmp-admin-prohibited", "icmp-admin-prohibited"},
        {"admin-prohib", "icmp-admin-prohibited"},
        // any case-insensitive prefix, first in the kernel's order
        {"", "icmp-net-unreachable"},
        {"icmp", "icmp-net-unreachable"},
        {"ICMP-HOST-PROHIB", "icmp-host-prohibited"},
        {"icmp-net-prohib", "icmp-net-prohibited"},
        {"h", "icmp-host-unreachable"},
        {"icmp-p", "icmp-proto-unreachable"},
        {"tcp", "tcp-reset"},
        {"t", "tcp-reset"},
        {"admin", "icmp-admin-prohibited"},
    };
    for (auto [arg, name] : cases) {
        CAPTURE(arg);
        auto r = run_ext(&target_REJECT, {{"--reject-with", arg}});
        REQUIRE(r.ok);
        CHECK(r.save == std::string(" --reject-with ") + name);
        CHECK(r.print == std::string(" reject-with ") + name);
    }
}

TEST_CASE("REJECT: errors") {
    auto r = run_ext(&target_REJECT, {{"--reject-with", "foo"}});
    CHECK_FALSE(r.ok);
    CHECK(r.exit == 2);
    CHECK(r.error == "unknown reject type \"foo\"");
    CHECK(run_ext(&target_REJECT, {{"--reject-with", "net-unreachx"}}).error == "unknown reject type \"net-unreachx\"");
    // iptables first writes a line of its own to stderr for the old echo-reply
    for (auto arg : {"echo-reply", "echoreply", "ECHO"}) {
        ExtRun e = run_ext(&target_REJECT, {{"--reject-with", arg}});
        CHECK(e.notices == "--reject-with echo-reply no longer supported\n");
        CHECK(e.error == str("unknown reject type \"", arg, "\""));
    }
    CHECK(run_ext(&target_REJECT, {{"--reject-with", "foo"}}).notices.empty());
    CHECK(run_ext(&target_REJECT, {{"!", ""}, {"--reject-with", "tcp-reset"}}).error ==
          "REJECT: option \"--reject-with\" cannot be inverted.\n");
    CHECK(run_ext(&target_REJECT, {{"--reject-with", "icmp-host-prohibited"}, {"--reject-with", "icmp-host-prohibited"}})
              .error == "REJECT: option \"--reject-with\" can only be used once.\n");
    // the value is checked before the repeat is noticed
    CHECK(run_ext(&target_REJECT, {{"--reject-with", "foo"}, {"--reject-with", "bar"}}).error ==
          "unknown reject type \"foo\"");
}

TEST_CASE("REJECT: kernel restrictions") {
    CHECK(target_REJECT.tables == "filter");
    CHECK(target_REJECT.hooks == "INPUT,FORWARD,OUTPUT");
    for (auto chain : {"INPUT", "FORWARD", "OUTPUT", "user"}) CHECK(kernel_ok(&target_REJECT, {}, {}, "filter", chain));
    CHECK_FALSE(kernel_ok(&target_REJECT, {}, {}, "mangle", "PREROUTING"));
    CHECK_FALSE(kernel_ok(&target_REJECT, {}, {}, "mangle", "INPUT"));
    CHECK_FALSE(kernel_ok(&target_REJECT, {}, {}, "raw", "PREROUTING"));

    const Opts rst{{"--reject-with", "tcp-reset"}};
    CHECK(kernel_ok(&target_REJECT, rst, tcp_rule()));
    CHECK_FALSE(kernel_ok(&target_REJECT, rst));
    Rule udp;
    udp.proto = 17;
    CHECK_FALSE(kernel_ok(&target_REJECT, rst, udp));
    Rule not_tcp = tcp_rule();
    not_tcp.inv_proto = true;
    CHECK_FALSE(kernel_ok(&target_REJECT, rst, not_tcp));
    CHECK(kernel_ok(&target_REJECT, {{"--reject-with", "icmp-host-prohibited"}}, udp));
}
