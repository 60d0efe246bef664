// -m conntrack revision 3 and -m state (sent as conntrack with the state alias flag).
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("conntrack: states and statuses") {
    auto r = run(match_conntrack, "--ctstate NEW,RELATED,ESTABLISHED,INVALID,UNTRACKED,SNAT,DNAT");
    REQUIRE(r.ok);
    CHECK(r.save == " --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT");
    CHECK(r.print == " ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED,SNAT,DNAT");

    r = run(match_conntrack, "! --ctstate new,est");
    CHECK(r.save == " ! --ctstate NEW,ESTABLISHED");
    CHECK(r.print_numeric == " ! ctstate NEW,ESTABLISHED");
    CHECK(run(match_conntrack, "--ctstate N").save == " --ctstate NEW");

    CHECK(run(match_conntrack, "--ctstatus CONFIRMED,assured,SEEN_REPLY,EXPECTED").save ==
          " --ctstatus EXPECTED,SEEN_REPLY,ASSURED,CONFIRMED");
    CHECK(run(match_conntrack, "--ctstatus NONE").print == " ctstatus NONE");
    CHECK(run(match_conntrack, "! --ctstatus NONE,ASSURED").save == " ! --ctstatus ASSURED");
}

TEST_CASE("conntrack: state and status errors") {
    CHECK(run(match_conntrack, "--ctstate wrong").error == "Bad ctstate \"wrong\"");
    CHECK(run(match_conntrack, "--ctstate NEW,").error == "Bad ctstate \"\"");
    CHECK(run(match_conntrack, "--ctstate ,NEW").error == "Bad ctstate \",NEW\"");
    CHECK(run(match_conntrack, "--ctstate NEWX").error == "Bad ctstate \"NEWX\"");
    CHECK(run(match_conntrack, "--ctstate new,wrong,foo").error == "Bad ctstate \"wrong,foo\"");
    CHECK(run(match_conntrack, "--ctstatus foo").error == "Bad ctstatus \"foo\"");
    CHECK(run(match_conntrack, "--ctstatus ,").error == "Bad ctstatus \",\"");
    CHECK(run(match_conntrack, "--ctstate NEW --ctstate NEW").error ==
          "conntrack: option \"--ctstate\" can only be used once.\n");
    CHECK(run(match_conntrack, "").error == "conntrack: At least one option is required");
}

TEST_CASE("conntrack: protocol") {
    CHECK(run(match_conntrack, "--ctproto tcp").save == " --ctproto 6");
    auto r = run(match_conntrack, "! --ctproto udp");
    CHECK(r.save == " ! --ctproto 17");
    CHECK(r.print == " ! ctproto 17");
    CHECK(run(match_conntrack, "! --ctproto 0").save == " ! --ctproto 0");
    CHECK(run(match_conntrack, "--ctproto foo").error == "unknown protocol \"foo\" specified");
    CHECK(run(match_conntrack, "--ctproto 256").error == "unknown protocol \"256\" specified");
    // libxtables' quirk: an inverted --ctstatus before --ctproto 0 reads as an inverted protocol.
    CHECK(run(match_conntrack, "! --ctstatus NONE --ctproto all").error == "conntrack: rule would never match protocol");
    CHECK(run(match_conntrack, "--ctproto 0 ! --ctstatus ASSURED").ok);
}

TEST_CASE("conntrack: addresses") {
    auto r = run(match_conntrack, "! --ctorigsrc 1.1.1.1/24");
    CHECK(r.save == " ! --ctorigsrc 1.1.1.1/24");  // the address is not masked
    CHECK(r.print_numeric == " ! ctorigsrc 1.1.1.1/24");
    r = run(match_conntrack, "--ctreplsrc 0.0.0.0/0");
    CHECK(r.save == " --ctreplsrc 0.0.0.0/0");
    CHECK(r.print == " ctreplsrc anywhere");
    CHECK(run(match_conntrack, "--ctorigsrc 127.0.0.1").print == " ctorigsrc localhost");
    CHECK(run(match_conntrack, "--ctrepldst 10.0.0.1/32").save == " --ctrepldst 10.0.0.1");
    CHECK(run(match_conntrack, "--ctorigdst 1.2.3.4/255.255.255.0").save == " --ctorigdst 1.2.3.4/24");
    // Non-contiguous masks and prefixes over 32 read as a dotted mask end up as /32.
    CHECK(run(match_conntrack, "--ctorigdst 1.1.1.0/255.255.0.255").save == " --ctorigdst 1.1.1.0");
    CHECK(run(match_conntrack, "--ctorigsrc 1.1.1.1/33").save == " --ctorigsrc 1.1.1.1");
    // inet_aton forms.
    CHECK(run(match_conntrack, "--ctorigsrc 1.1.1").save == " --ctorigsrc 1.1.0.1");
    CHECK(run(match_conntrack, "--ctorigsrc 10").save == " --ctorigsrc 0.0.0.10");
    CHECK(run(match_conntrack, "--ctorigsrc 1.1.1.1/x").error ==
          "conntrack: bad value for option \"--ctorigsrc\", neither a valid network mask nor valid CIDR (0-32).\n");
}

TEST_CASE("conntrack: ports, expiry, direction") {
    auto r = run(match_conntrack, "! --ctorigdstport 22:80 --ctreplsrcport ssh --ctrepldstport 80:");
    CHECK(r.save == " ! --ctorigdstport 22:80 --ctreplsrcport 22 --ctrepldstport 80:65535");
    CHECK(run(match_conntrack, "--ctrepldstport 80:22").save == " --ctrepldstport 80:22");
    CHECK(run(match_conntrack, "--ctrepldstport 0:80").save == " --ctrepldstport 0:80");
    CHECK(run(match_conntrack, "--ctrepldstport foo").error == "Port \"foo\" does not resolve to anything.\n");

    CHECK(run(match_conntrack, "--ctexpire 5:").save == " --ctexpire 5:4294967295");
    CHECK(run(match_conntrack, "--ctexpire :5").save == " --ctexpire 0:5");
    CHECK(run(match_conntrack, "--ctexpire 5:5").save == " --ctexpire 5");
    CHECK(run(match_conntrack, "! --ctexpire 0:4294967295").print == " ! ctexpire 0:4294967295");
    CHECK(run(match_conntrack, "--ctexpire 42949672956").error ==
          "conntrack: bad value for option \"--ctexpire\" near \"42949672956\", or out of range (0-4294967295).\n");
    CHECK(run(match_conntrack, "--ctexpire 1:2:3").error ==
          "conntrack: Too many components for option \"--ctexpire\" (max: 2)\n");
    CHECK(run(match_conntrack, "--ctexpire 1x").error ==
          "conntrack: Argument to \"--ctexpire\" has unexpected characters near \"x\".\n");

    CHECK(run(match_conntrack, "--ctdir reply").save == " --ctdir REPLY");
    CHECK(run(match_conntrack, "--ctdir foo").error == "conntrack: Bad value for \"--ctdir\" option: \"foo\"");
    CHECK(run(match_conntrack, "! --ctdir REPLY").error == "conntrack: option \"--ctdir\" cannot be inverted.\n");
}

TEST_CASE("conntrack: everything, in the save order") {
    auto r = run(match_conntrack,
                 "--ctdir REPLY --ctexpire 5 --ctstatus ASSURED --ctrepldstport 4 --ctreplsrcport 3 "
                 "--ctorigdstport 2 --ctorigsrcport 1 --ctrepldst 4.5.6.7 --ctreplsrc 3.4.5.6 "
                 "--ctorigdst 2.3.4.5 --ctorigsrc 1.2.3.4 --ctproto 6 --ctstate NEW");
    CHECK(r.save ==
          " --ctstate NEW --ctproto 6 --ctorigsrc 1.2.3.4 --ctorigdst 2.3.4.5 --ctreplsrc 3.4.5.6"
          " --ctrepldst 4.5.6.7 --ctorigsrcport 1 --ctorigdstport 2 --ctreplsrcport 3 --ctrepldstport 4"
          " --ctstatus ASSURED --ctexpire 5 --ctdir REPLY");
    CHECK(r.print_numeric ==
          " ctstate NEW ctproto 6 ctorigsrc 1.2.3.4 ctorigdst 2.3.4.5 ctreplsrc 3.4.5.6"
          " ctrepldst 4.5.6.7 ctorigsrcport 1 ctorigdstport 2 ctreplsrcport 3 ctrepldstport 4"
          " ctstatus ASSURED ctexpire 5 ctdir REPLY");
}

TEST_CASE("state: saved and shown as -m state") {
    auto r = run(match_state, "--state NEW");
    CHECK(r.save == " --state NEW");
    CHECK(r.print == " state NEW");
    r = run(match_state, "! --state NEW,ESTABLISHED");
    CHECK(r.save == " ! --state NEW,ESTABLISHED");
    CHECK(r.print_numeric == " ! state NEW,ESTABLISHED");
    CHECK(run(match_state, "--state new,est,rel,inv,untr").save == " --state INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED");
}

TEST_CASE("state: errors") {
    const char* no_list = "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED";
    CHECK(run_ext(&match_state, {{"--state", ""}}).error == no_list);
    CHECK(run(match_state, "--state NEW,").error == no_list);
    CHECK(run(match_state, "--state ,NEW").error == "Bad state \",NEW\"");
    CHECK(run(match_state, "--state SNAT").error == "Bad state \"SNAT\"");
    CHECK(run(match_state, "--state NEW,foo,bar").error == "Bad state \"foo,bar\"");
    CHECK(run(match_state, "").error == "state: option \"--state\" must be specified\n");
    CHECK(run(match_state, "--state NEW --state NEW").error == "state: option \"--state\" can only be used once.\n");
}

TEST_CASE("conntrack and state: --ctstate alone is nftables' ct state, UNTRACKED's bit renumbered") {
    // nf_conntrack_common.h: INVALID 1, ESTABLISHED 2, RELATED 4, NEW 8, UNTRACKED 64 (host order).
    CHECK(nft_text(&match_conntrack, {{"--ctstate", "RELATED,ESTABLISHED"}}) == "ct state\n& 06000000\ncmp neq 00000000\n");
    CHECK(nft_text(&match_conntrack, {{"!", ""}, {"--ctstate", "NEW,UNTRACKED,INVALID"}}) ==
          "ct state\n& 49000000\ncmp eq 00000000\n");
    CHECK(nft_text(&match_state, {{"--state", "UNTRACKED"}}) == "ct state\n& 40000000\ncmp neq 00000000\n");
    CHECK(nft_text(&match_state, {{"!", ""}, {"--state", "NEW"}}) == "ct state\n& 08000000\ncmp eq 00000000\n");
    // SNAT and DNAT are the entry's status, other options need the entry: x_tables.
    CHECK(nft_text(&match_conntrack, {{"--ctstate", "NEW,SNAT"}}).empty());
    CHECK(nft_text(&match_conntrack, {{"--ctstate", "NEW"}, {"--ctproto", "tcp"}}).empty());
    CHECK(nft_text(&match_conntrack, {{"--ctstatus", "ASSURED"}}).empty());
}

}  // namespace
}  // namespace xdpt::test
