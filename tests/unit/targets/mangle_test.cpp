// -j TCPMSS, -j CHECKSUM and -j MARK, checked against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include "core/str.hpp"
#include "tests/unit/targets/target_test.hpp"

using namespace xdpt;
using namespace xdpt::test;
using namespace xdpt::test::tgt;

namespace {
const std::string syn = " --tcp-flags FIN,SYN,RST,ACK SYN";
}

TEST_CASE("TCPMSS: options") {
    auto r = run_ext(&target_TCPMSS, {{"--clamp-mss-to-pmtu", ""}});
    CHECK(r.save == " --clamp-mss-to-pmtu");
    CHECK(r.print == " TCPMSS clamp to PMTU");
    r = run_ext(&target_TCPMSS, {{"--set-mss", "1400"}});
    CHECK(r.save == " --set-mss 1400");
    CHECK(r.print == " TCPMSS set 1400");
    CHECK(r.print_numeric == " TCPMSS set 1400");
    CHECK(run_ext(&target_TCPMSS, {{"--set-mss", "0"}}).save == " --set-mss 0");
    CHECK(run_ext(&target_TCPMSS, {{"--set-mss", "65515"}}).save == " --set-mss 65515");
    // not exclusive: the later one wins
    CHECK(run_ext(&target_TCPMSS, {{"--set-mss", "1400"}, {"--clamp-mss-to-pmtu", ""}}).save == " --clamp-mss-to-pmtu");
    CHECK(run_ext(&target_TCPMSS, {{"--clamp-mss-to-pmtu", ""}, {"--set-mss", "1400"}}).save == " --set-mss 1400");

    for (auto bad : {"65516", "65535", "-1", "x"}) {
        r = run_ext(&target_TCPMSS, {{"--set-mss", bad}});
        CHECK(r.exit == 2);
        CHECK(r.error == "TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).\n");
    }
    r = run_ext(&target_TCPMSS, {});
    CHECK(r.exit == 2);
    CHECK(r.error == "TCPMSS target: At least one parameter is required");
    CHECK(run_ext(&target_TCPMSS, {{"--set-mss", "1400"}, {"--set-mss", "1300"}}).error ==
          "TCPMSS: option \"--set-mss\" can only be used once.\n");
}

TEST_CASE("TCPMSS: kernel wants -p tcp and a SYN test") {
    const Opts set{{"--set-mss", "1400"}}, clamp{{"--clamp-mss-to-pmtu", ""}};
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(syn), "mangle", "FORWARD"));
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(" --tcp-flags SYN,RST SYN"), "mangle", "FORWARD"));
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(" --tcp-flags SYN SYN"), "mangle", "FORWARD"));
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(" --tcp-flags FIN,SYN,RST,PSH,ACK,URG SYN"), "mangle", "FORWARD"));
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(" --dport 80 --tcp-flags SYN,ACK SYN,ACK"), "mangle", "FORWARD"));
    CHECK(kernel_ok(&target_TCPMSS, clamp, tcp_rule(syn), "mangle", "POSTROUTING"));
    // no table restriction
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(syn), "filter", "FORWARD"));
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(syn), "raw", "PREROUTING"));
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(syn), "nat", "POSTROUTING"));
    CHECK(kernel_ok(&target_TCPMSS, set, tcp_rule(syn), "mangle", "INPUT"));

    CHECK_FALSE(kernel_ok(&target_TCPMSS, set, tcp_rule(), "mangle", "FORWARD"));
    CHECK_FALSE(kernel_ok(&target_TCPMSS, clamp, tcp_rule(), "mangle", "FORWARD"));
    CHECK_FALSE(kernel_ok(&target_TCPMSS, set, {}, "mangle", "FORWARD"));
    CHECK_FALSE(kernel_ok(&target_TCPMSS, set, tcp_rule(" ! --tcp-flags FIN,SYN,RST,ACK SYN"), "mangle", "FORWARD"));
    CHECK_FALSE(kernel_ok(&target_TCPMSS, set, tcp_rule(" --tcp-flags SYN,RST RST"), "mangle", "FORWARD"));
    CHECK_FALSE(kernel_ok(&target_TCPMSS, set, tcp_rule(" --dport 80"), "mangle", "FORWARD"));
    Rule not_tcp = tcp_rule(syn);
    not_tcp.inv_proto = true;
    CHECK_FALSE(kernel_ok(&target_TCPMSS, set, not_tcp, "mangle", "FORWARD"));
    Rule other;  // a SYN test from another match does not count
    other.proto = 6;
    add_match(other, &fake_other, syn);
    CHECK_FALSE(kernel_ok(&target_TCPMSS, set, other, "mangle", "FORWARD"));
    // the 1.8.11 conformance lines (libxt_TCPMSS.t) for the legacy flavour
    CHECK_FALSE(kernel_ok(&target_TCPMSS, {}, {}, "mangle", "FORWARD"));
    CHECK_FALSE(kernel_ok(&target_TCPMSS, {{"--set-mss", "42"}}, tcp_rule(), "mangle", "FORWARD"));
    for (auto chain : {"FORWARD", "OUTPUT", "POSTROUTING"}) {
        CHECK(kernel_ok(&target_TCPMSS, {{"--set-mss", "42"}}, tcp_rule(syn), "mangle", chain));
        CHECK(kernel_ok(&target_TCPMSS, clamp, tcp_rule(syn), "mangle", chain));
    }
}

TEST_CASE("CHECKSUM") {
    auto r = run_ext(&target_CHECKSUM, {{"--checksum-fill", ""}});
    CHECK(r.save == " --checksum-fill");
    CHECK(r.print == " CHECKSUM fill");
    CHECK(r.print_numeric == " CHECKSUM fill");
    r = run_ext(&target_CHECKSUM, {});
    CHECK(r.exit == 2);
    CHECK(r.error == "CHECKSUM: option \"--checksum-fill\" must be specified\n");
    CHECK(run_ext(&target_CHECKSUM, {{"--checksum-fill", ""}, {"--checksum-fill", ""}}).error ==
          "CHECKSUM: option \"--checksum-fill\" can only be used once.\n");
    CHECK(target_CHECKSUM.tables == "mangle");
    const Opts fill{{"--checksum-fill", ""}};
    for (auto chain : {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"})
        CHECK(kernel_ok(&target_CHECKSUM, fill, {}, "mangle", chain));
    CHECK_FALSE(kernel_ok(&target_CHECKSUM, fill, {}, "filter", "INPUT"));
    CHECK_FALSE(kernel_ok(&target_CHECKSUM, fill, {}, "raw", "PREROUTING"));
    CHECK_FALSE(kernel_ok(&target_CHECKSUM, {}, {}, "mangle", "PREROUTING"));
}

TEST_CASE("MARK: every option saves as --set-xmark") {
    struct Case {
        const char *opt, *arg, *save, *print;
    };
    const Case cases[] = {
        {"--set-xmark", "0xfeedcafe/0xfeedcafe", " --set-xmark 0xfeedcafe/0xfeedcafe", " MARK or 0xfeedcafe"},
        {"--set-xmark", "0x0", " --set-xmark 0x0/0xffffffff", " MARK and 0x0"},
        {"--set-xmark", "4294967295", " --set-xmark 0xffffffff/0xffffffff", " MARK or 0xffffffff"},
        {"--set-xmark", "5/0", " --set-xmark 0x5/0x0", " MARK xor 0x5"},
        {"--set-xmark", "0/0", " --set-xmark 0x0/0x0", " MARK and 0xffffffff"},
        {"--set-xmark", "0/5", " --set-xmark 0x0/0x5", " MARK and 0xfffffffa"},
        {"--set-xmark", "5/5", " --set-xmark 0x5/0x5", " MARK or 0x5"},
        {"--set-xmark", "5/7", " --set-xmark 0x5/0x7", " MARK xset 0x5/0x7"},
        {"--set-xmark", "010", " --set-xmark 0x8/0xffffffff", " MARK set 0x8"},
        {"--set-xmark", " 1", " --set-xmark 0x1/0xffffffff", " MARK set 0x1"},
        {"--set-xmark", "1/ 2", " --set-xmark 0x1/0x2", " MARK xset 0x1/0x2"},
        {"--set-mark", "1", " --set-xmark 0x1/0xffffffff", " MARK set 0x1"},
        {"--set-mark", "0x10/0xff", " --set-xmark 0x10/0xff", " MARK xset 0x10/0xff"},
        {"--set-mark", "5/2", " --set-xmark 0x5/0x7", " MARK xset 0x5/0x7"},
        {"--set-mark", "5/5", " --set-xmark 0x5/0x5", " MARK or 0x5"},
        {"--set-mark", "0", " --set-xmark 0x0/0xffffffff", " MARK and 0x0"},
        {"--set-mark", "0/0", " --set-xmark 0x0/0x0", " MARK and 0xffffffff"},
        {"--set-mark", "0/0xff", " --set-xmark 0x0/0xff", " MARK and 0xffffff00"},
        {"--and-mark", "0xff", " --set-xmark 0x0/0xffffff00", " MARK and 0xff"},
        {"--and-mark", "0xffffffff", " --set-xmark 0x0/0x0", " MARK and 0xffffffff"},
        {"--and-mark", " 5", " --set-xmark 0x0/0xfffffffa", " MARK and 0x5"},
        {"--or-mark", "0xf0", " --set-xmark 0xf0/0xf0", " MARK or 0xf0"},
        {"--or-mark", "0", " --set-xmark 0x0/0x0", " MARK and 0xffffffff"},
        {"--xor-mark", "3", " --set-xmark 0x3/0x0", " MARK xor 0x3"},
        {"--xor-mark", "0", " --set-xmark 0x0/0x0", " MARK and 0xffffffff"},
    };
    for (auto c : cases) {
        CAPTURE(c.opt);
        CAPTURE(c.arg);
        auto r = run_ext(&target_MARK, {{c.opt, c.arg}});
        REQUIRE(r.ok);
        CHECK(r.save == c.save);
        CHECK(r.print == c.print);
        CHECK(r.print_numeric == c.print);
        CHECK(kernel_ok(&target_MARK, {{c.opt, c.arg}}, {}, "nat", "PREROUTING"));
    }
}

TEST_CASE("MARK: errors") {
    for (auto bad : {"4294967296", "-1", "-0", "1/", "/1", "1/x", "x", "1/4294967296", ""}) {
        CAPTURE(bad);
        auto r = run_ext(&target_MARK, {{"--set-xmark", bad}});
        CHECK(r.exit == 2);
        CHECK(r.error == "MARK: bad integer value for option \"--set-xmark\", or out of range.\n");
    }
    for (auto bad : {"1x", "1/2/3", "1/2x", "0x"}) {
        CAPTURE(bad);
        CHECK(run_ext(&target_MARK, {{"--set-mark", bad}}).error ==
              "MARK: trailing garbage after value for option \"--set-mark\".\n");
    }
    for (auto bad : {"4294967296", "x", "-0", "5 ", "1/2"})
        CHECK(run_ext(&target_MARK, {{"--and-mark", bad}}).error ==
              "MARK: bad value for option \"--and-mark\", or out of range (0-4294967295).\n");
    CHECK(run_ext(&target_MARK, {{"--xor-mark", "x"}}).error ==
          "MARK: bad value for option \"--xor-mark\", or out of range (0-4294967295).\n");

    auto r = run_ext(&target_MARK, {});
    CHECK(r.exit == 2);
    CHECK(r.error == "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required");
    CHECK(run_ext(&target_MARK, {{"--set-mark", "1"}, {"--or-mark", "2"}}).error ==
          "MARK: option \"--set-mark\" cannot be used together with \"--or-mark\".\n");
    CHECK(run_ext(&target_MARK, {{"--or-mark", "1"}, {"--set-mark", "2"}}).error ==
          "MARK: option \"--set-mark\" cannot be used together with \"--or-mark\".\n");
    CHECK(run_ext(&target_MARK, {{"--and-mark", "1"}, {"--set-xmark", "2"}}).error ==
          "MARK: option \"--set-xmark\" cannot be used together with \"--and-mark\".\n");
    CHECK(run_ext(&target_MARK, {{"--xor-mark", "1"}, {"--or-mark", "2"}, {"--and-mark", "3"}}).error ==
          "MARK: option \"--and-mark\" cannot be used together with \"--or-mark\".\n");
    CHECK(run_ext(&target_MARK, {{"--set-mark", "1"}, {"--set-mark", "2"}}).error ==
          "MARK: option \"--set-mark\" can only be used once.\n");
    CHECK(run_ext(&target_MARK, {{"!", ""}, {"--set-mark", "1"}}).error ==
          "MARK: option \"--set-mark\" cannot be inverted.\n");
}
