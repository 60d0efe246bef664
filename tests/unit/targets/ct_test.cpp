// -j CT and -j NOTRACK, checked against iptables-legacy 1.8.9 (raw table).
#include <doctest/doctest.h>

#include "core/str.hpp"
#include "tests/unit/targets/target_test.hpp"

using namespace xdpt;
using namespace xdpt::test;
using namespace xdpt::test::tgt;

namespace {
bool raw_ok(const ExtKind* kind, const Opts& opts, const Rule& rule = {}, std::string_view chain = "PREROUTING") {
    return kernel_ok(kind, opts, rule, "raw", chain);
}
Rule proto_rule(uint16_t proto, bool inv = false) {
    Rule r;
    r.proto = proto;
    r.inv_proto = inv;
    return r;
}
}  // namespace

TEST_CASE("CT: save and print") {
    struct Case {
        Opts opts;
        const char* save;
    };
    const Case cases[] = {
        {{}, ""},
        {{{"--notrack", ""}}, " --notrack"},
        {{{"--helper", "pptp"}}, " --helper pptp"},
        {{{"--helper", "netbios-ns"}}, " --helper netbios-ns"},
        {{{"--helper", ""}}, ""},
        {{{"--helper", "abcdefghijklmnopqrstu"}}, " --helper abcdefghijklmno"},
        {{{"--ctevents", "new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark"}},
         " --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark"},
        {{{"--ctevents", "new,related,destroy,reply,assured,protoinfo,helper,mark"}},
         " --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark"},
        {{{"--ctevents", "mark,new"}}, " --ctevents new,mark"},
        {{{"--ctevents", "new,new,related"}, {"--expevents", "new,new"}}, " --ctevents new,related --expevents new"},
        {{{"--expevents", "new"}}, " --expevents new"},
        {{{"--zone", "5"}}, " --zone 5"},
        {{{"--zone", "65535"}}, " --zone 65535"},
        {{{"--zone", "0x10"}}, " --zone 16"},
        {{{"--zone", " 7"}}, " --zone 7"},
        {{{"--zone", "0"}}, ""},
        {{{"--zone", "mark"}}, " --zone mark"},
        {{{"--zone", "MARK"}}, " --zone mark"},
        {{{"--zone-orig", "3"}}, " --zone-orig 3"},
        {{{"--zone-orig", "0"}}, ""},
        {{{"--zone-reply", "mark"}}, " --zone-reply mark"},
        {{{"--zone-orig", "3"}, {"--zone-reply", "4"}}, " --zone 4"},
        {{{"--zone", "1"}, {"--zone-orig", "3"}}, " --zone-orig 3"},
        {{{"--zone-orig", "3"}, {"--zone", "1"}}, " --zone-orig 1"},
        {{{"--zone-orig", "mark"}, {"--zone-reply", "4"}}, " --zone mark"},
        {{{"--zone-reply", "0"}, {"--zone", "0"}}, ""},
        {{{"--notrack", ""}, {"--helper", "ftp"}, {"--zone", "2"}}, " --notrack --helper ftp --zone 2"},
        // the kernel gives back 4 characters of the timeout name
        {{{"--notrack", ""}, {"--timeout", "foo"}}, " --notrack --timeout foo"},
        {{{"--notrack", ""}, {"--timeout", "abcdefghijkl"}}, " --notrack --timeout abcd"},
        {{{"--helper", "abc"}, {"--notrack", ""}, {"--timeout", "abcdefghijkl"}}, " --notrack --helper abc --timeout abcd"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.save);
        auto r = run_ext(&target_CT, c.opts);
        REQUIRE(r.ok);
        CHECK(r.save == c.save);
        // -L shows the same words without the dashes
        std::string print = str(" CT", c.save);
        for (size_t at; (at = print.find(" --")) != std::string::npos;) print.erase(at + 1, 2);
        CHECK(r.print == print);
        CHECK(r.print_numeric == print);
    }
}

TEST_CASE("CT: errors") {
    auto r = run_ext(&target_CT, {{"--ctevents", "bogus"}});
    CHECK(r.exit == 2);
    CHECK(r.error == "Unknown event type \"bogus\"");
    CHECK(run_ext(&target_CT, {{"--ctevents", "new,"}}).error == "Unknown event type \"\"");
    CHECK(run_ext(&target_CT, {{"--ctevents", ""}}).error == "Unknown event type \"\"");
    CHECK(run_ext(&target_CT, {{"--ctevents", "NEW"}}).error == "Unknown event type \"NEW\"");
    CHECK(run_ext(&target_CT, {{"--expevents", "related"}}).error == "Unknown event type \"related\"");
    for (auto bad : {"65536", "-1", "-0", "1x", "", "marks"}) {
        CAPTURE(bad);
        auto e = run_ext(&target_CT, {{"--zone", bad}});
        CHECK(e.exit == 2);
        CHECK(e.error == str("Cannot parse ", bad, " as a zone ID"));
    }
    CHECK(run_ext(&target_CT, {{"--zone-orig", "x"}}).error == "Cannot parse x as a zone ID");
    CHECK(run_ext(&target_CT, {{"--notrack", ""}, {"--notrack", ""}}).error ==
          "CT: option \"--notrack\" can only be used once.\n");
    CHECK(run_ext(&target_CT, {{"--zone", "1"}, {"--zone", "2"}}).error == "CT: option \"--zone\" can only be used once.\n");
    CHECK(run_ext(&target_CT, {{"--helper", "ftp"}, {"--helper", "ftp"}}).error ==
          "CT: option \"--helper\" can only be used once.\n");
}

TEST_CASE("CT: kernel") {
    CHECK(target_CT.tables == "raw");
    CHECK(raw_ok(&target_CT, {}));
    CHECK(raw_ok(&target_CT, {{"--notrack", ""}}, {}, "OUTPUT"));
    CHECK_FALSE(kernel_ok(&target_CT, {{"--notrack", ""}}, {}, "mangle", "PREROUTING"));
    CHECK_FALSE(kernel_ok(&target_CT, {}, {}, "filter", "INPUT"));
    // helpers exist per protocol
    CHECK(raw_ok(&target_CT, {{"--helper", "ftp"}}, proto_rule(6)));
    CHECK(raw_ok(&target_CT, {{"--helper", "pptp"}}, proto_rule(6)));
    CHECK(raw_ok(&target_CT, {{"--helper", "netbios-ns"}}, proto_rule(17)));
    CHECK(raw_ok(&target_CT, {{"--helper", "sip"}}, proto_rule(17)));
    CHECK(raw_ok(&target_CT, {{"--helper", "sip"}}, proto_rule(6)));
    CHECK(raw_ok(&target_CT, {{"--helper", "H.245"}}, proto_rule(17)));
    CHECK(raw_ok(&target_CT, {{"--helper", ""}}, proto_rule(6)));
    CHECK_FALSE(raw_ok(&target_CT, {{"--helper", "ftp"}}));
    CHECK_FALSE(raw_ok(&target_CT, {{"--helper", "ftp"}}, proto_rule(17)));
    CHECK_FALSE(raw_ok(&target_CT, {{"--helper", "ftp"}}, proto_rule(6, true)));
    CHECK_FALSE(raw_ok(&target_CT, {{"--helper", "FTP"}}, proto_rule(6)));
    CHECK_FALSE(raw_ok(&target_CT, {{"--helper", "foo"}}, proto_rule(6)));
    CHECK_FALSE(raw_ok(&target_CT, {{"--helper", "H.245"}}, proto_rule(6)));
    // timeout policies come from nfct: none exists
    CHECK_FALSE(raw_ok(&target_CT, {{"--timeout", "foo"}}));
    CHECK_FALSE(raw_ok(&target_CT, {{"--timeout", "foo"}}, proto_rule(6)));
    // --notrack skips all of that
    CHECK(raw_ok(&target_CT, {{"--notrack", ""}, {"--helper", "foo"}, {"--timeout", "foo"}}));
}

TEST_CASE("NOTRACK") {
    auto r = run_ext(&target_NOTRACK, {});
    REQUIRE(r.ok);
    CHECK(r.save == "");
    CHECK(r.print == " NOTRACK");
    CHECK(r.print_numeric == " NOTRACK");
    CHECK(target_NOTRACK.opts.empty());
    CHECK(raw_ok(&target_NOTRACK, {}, {}, "PREROUTING"));
    CHECK(raw_ok(&target_NOTRACK, {}, {}, "OUTPUT"));
    CHECK_FALSE(kernel_ok(&target_NOTRACK, {}, {}, "filter", "INPUT"));
}
