// -j LOG and -j NFLOG, checked against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include "core/str.hpp"
#include "tests/unit/targets/target_test.hpp"

using namespace xdpt;
using namespace xdpt::test;
using namespace xdpt::test::tgt;

TEST_CASE("LOG: defaults") {
    auto r = run_ext(&target_LOG, {});
    REQUIRE(r.ok);
    CHECK(r.save == "");
    CHECK(r.print == " LOG level warn");
    CHECK(r.print_numeric == " LOG flags 0 level 4");
    CHECK(kernel_ok(&target_LOG, {}, {}, "raw", "PREROUTING"));
    CHECK(kernel_ok(&target_LOG, {}, {}, "nat", "POSTROUTING"));
}

TEST_CASE("LOG: levels") {
    struct Case {
        const char* arg;
        int level;
    };
    const Case cases[] = {
        {"0", 0}, {"1", 1}, {"2", 2}, {"3", 3}, {"4", 4}, {"5", 5}, {"6", 6}, {"7", 7},
        {"emerg", 0}, {"panic", 0}, {"alert", 1}, {"crit", 2}, {"error", 3}, {"warning", 4},
        {"notice", 5}, {"info", 6}, {"debug", 7}, {"07", 7}, {"0x7", 7}, {" 3", 3}, {"+3", 3},
    };
    const char* print_names[] = {"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"};
    for (auto c : cases) {
        CAPTURE(c.arg);
        auto r = run_ext(&target_LOG, {{"--log-level", c.arg}});
        REQUIRE(r.ok);
        CHECK(r.save == (c.level == 4 ? std::string() : str(" --log-level ", c.level)));
        CHECK(r.print == str(" LOG level ", print_names[c.level]));
        CHECK(r.print_numeric == str(" LOG flags 0 level ", c.level));
    }
    for (auto bad : {"8", "err", "warn", "WARNING", "3 ", "", "-1", "-0", "bad"}) {
        CAPTURE(bad);
        auto r = run_ext(&target_LOG, {{"--log-level", bad}});
        CHECK_FALSE(r.ok);
        CHECK(r.exit == 2);
        CHECK(r.error == str("log level \"", bad, "\" unknown\n"));
    }
}

TEST_CASE("LOG: prefix") {
    auto r = run_ext(&target_LOG, {{"--log-prefix", "x: "}});
    CHECK(r.save == " --log-prefix \"x: \"");
    CHECK(r.print == " LOG level warn prefix \"x: \"");
    CHECK(r.print_numeric == " LOG flags 0 level 4 prefix \"x: \"");

    r = run_ext(&target_LOG, {{"--log-prefix", "abc_-9"}});
    CHECK(r.save == " --log-prefix abc_-9");
    CHECK(r.print == " LOG level warn prefix \"abc_-9\"");

    r = run_ext(&target_LOG, {{"--log-prefix", "a\"b\\c'd"}});
    CHECK(r.save == " --log-prefix \"a\\\"b\\\\c\\'d\"");
    CHECK(r.print == " LOG level warn prefix \"a\"b\\c'd\"");

    // 29 characters fit; more are cut without a word
    const std::string a29(29, 'a');
    CHECK(run_ext(&target_LOG, {{"--log-prefix", a29}}).save == " --log-prefix " + a29);
    CHECK(run_ext(&target_LOG, {{"--log-prefix", a29 + "a"}}).save == " --log-prefix " + a29);
    CHECK(run_ext(&target_LOG, {{"--log-prefix", std::string(40, 'a')}}).print_numeric ==
          " LOG flags 0 level 4 prefix \"" + a29 + "\"");

    r = run_ext(&target_LOG, {{"--log-prefix", ""}});
    CHECK(r.exit == 2);
    CHECK(r.error == "Argument must have a minimum length of 1 characters\n");
    CHECK(run_ext(&target_LOG, {{"--log-prefix", "a\nb"}}).error == "Newlines not allowed in --log-prefix");
    CHECK(run_ext(&target_LOG, {{"--log-prefix", std::string(35, 'a') + "\n"}}).error ==
          "Newlines not allowed in --log-prefix");
}

TEST_CASE("LOG: flags") {
    auto r = run_ext(&target_LOG, {{"--log-prefix", "a b"},
                                   {"--log-tcp-sequence", ""},
                                   {"--log-tcp-options", ""},
                                   {"--log-ip-options", ""},
                                   {"--log-uid", ""},
                                   {"--log-macdecode", ""},
                                   {"--log-level", "7"}});
    REQUIRE(r.ok);
    CHECK(r.save ==
          " --log-prefix \"a b\" --log-level 7 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid "
          "--log-macdecode");
    CHECK(r.print == " LOG level debug tcp-sequence tcp-options ip-options uid macdecode prefix \"a b\"");
    CHECK(r.print_numeric == " LOG flags 47 level 7 prefix \"a b\"");

    r = run_ext(&target_LOG, {{"--log-macdecode", ""}, {"--log-uid", ""}});
    CHECK(r.save == " --log-uid --log-macdecode");
    CHECK(r.print == " LOG level warn uid macdecode");
    CHECK(r.print_numeric == " LOG flags 40 level 4");

    CHECK(run_ext(&target_LOG, {{"--log-uid", ""}, {"--log-uid", ""}}).error ==
          "LOG: option \"--log-uid\" can only be used once.\n");
    CHECK(run_ext(&target_LOG, {{"!", ""}, {"--log-uid", ""}}).error == "LOG: option \"--log-uid\" cannot be inverted.\n");
}

TEST_CASE("NFLOG: numbers") {
    auto r = run_ext(&target_NFLOG, {});
    CHECK(r.save == "");
    CHECK(r.print == "");

    r = run_ext(&target_NFLOG, {{"--nflog-group", "65535"}});
    CHECK(r.save == " --nflog-group 65535");
    CHECK(r.print == " nflog-group 65535");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-group", "0"}}).save == "");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-group", "0x10"}}).save == " --nflog-group 16");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-threshold", "0"}}).save == "");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-threshold", "65535"}}).print == " nflog-threshold 65535");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-size", "0"}}).save == " --nflog-size 0");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-size", "4294967295"}}).print == " nflog-size 4294967295");

    for (auto [opt, arg, range] : {std::tuple{"--nflog-group", "65536", "0-65535"}, {"--nflog-group", "abc", "0-65535"},
                                   {"--nflog-group", "-0", "0-65535"}, {"--nflog-threshold", "65536", "0-65535"},
                                   {"--nflog-range", "4294967296", "0-4294967295"},
                                   {"--nflog-range", "-1", "0-4294967295"}, {"--nflog-size", "-1", "0-4294967295"},
                                   {"--nflog-size", "4294967296", "0-4294967295"}}) {
        CAPTURE(opt);
        CAPTURE(arg);
        auto e = run_ext(&target_NFLOG, {{opt, arg}});
        CHECK(e.exit == 2);
        CHECK(e.error == str("NFLOG: bad value for option \"", opt, "\", or out of range (", range, ").\n"));
    }

    r = run_ext(&target_NFLOG,
                {{"--nflog-threshold", "1"}, {"--nflog-group", "3"}, {"--nflog-size", "5"}, {"--nflog-prefix", "abc"}});
    CHECK(r.save == " --nflog-prefix abc --nflog-group 3 --nflog-size 5 --nflog-threshold 1");
    CHECK(r.print == " nflog-prefix abc nflog-group 3 nflog-size 5 nflog-threshold 1");
    CHECK(r.print_numeric == r.print);
}

TEST_CASE("NFLOG: --nflog-range warns") {
    const std::string warning =
        "warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead\n";
    ExtRun r;
    r = run_ext(&target_NFLOG, {{"--nflog-range", "1"}});
    CHECK(r.notices == warning);
    CHECK(r.save == " --nflog-range 1");
    CHECK(r.print == " nflog-range 1");
    r = run_ext(&target_NFLOG, {{"--nflog-range", "0"}});
    CHECK(r.notices == warning);
    CHECK(r.save == "");
    for (Opts o : {Opts{{"--nflog-range", "3"}, {"--nflog-size", "5"}}, Opts{{"--nflog-size", "3"}, {"--nflog-range", "5"}}}) {
        r = run_ext(&target_NFLOG, o);
        CHECK(r.notices == warning);
        CHECK(r.exit == 2);
        CHECK(r.error == "NFLOG: option \"--nflog-range\" cannot be used together with \"--nflog-size\".\n");
    }
    // a repeated option fails before the final check
    r = run_ext(&target_NFLOG, {{"--nflog-range", "3"}, {"--nflog-range", "5"}});
    CHECK(r.notices.empty());  // iptables warns in the final check, never reached
    CHECK(r.error == "NFLOG: option \"--nflog-range\" can only be used once.\n");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-size", "3"}}).notices.empty());
}

TEST_CASE("NFLOG: prefix") {
    const std::string x63(63, 'x');
    CHECK(run_ext(&target_NFLOG, {{"--nflog-prefix", x63}}).save == " --nflog-prefix " + x63);
    CHECK(run_ext(&target_NFLOG, {{"--nflog-prefix", x63 + "xx"}}).save == " --nflog-prefix " + x63);
    CHECK(run_ext(&target_NFLOG, {{"--nflog-prefix", std::string(130, 'x')}}).print == " nflog-prefix " + x63);
    auto r = run_ext(&target_NFLOG, {{"--nflog-prefix", "a \"b"}});
    CHECK(r.save == " --nflog-prefix \"a \\\"b\"");
    CHECK(r.print == " nflog-prefix \"a \\\"b\"");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-prefix", ""}}).error == "Argument must have a minimum length of 1 characters\n");
    CHECK(run_ext(&target_NFLOG, {{"--nflog-prefix", "a\nb"}}).error == "Newlines not allowed in --log-prefix");
    CHECK(kernel_ok(&target_NFLOG, {}, {}, "nat", "POSTROUTING"));
}
