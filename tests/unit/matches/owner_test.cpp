// -m owner revision 1: ids, names, ranges, --socket-exists, --suppl-groups, checked
// against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_owner.h>

#include <cstring>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt {
extern const ExtKind match_owner;
}

namespace xdpt::test {
namespace {

TEST_CASE("owner: forms") {
    auto r = run(match_owner, "--uid-owner root");
    CHECK(r.save == " --uid-owner 0");
    CHECK(r.print == " owner UID match root");
    CHECK(r.print_numeric == " owner UID match 0");
    r = run(match_owner, "! --gid-owner 1 --suppl-groups ! --socket-exists --uid-owner 5:7");
    CHECK(r.save == " ! --socket-exists --uid-owner 5-7 ! --gid-owner 1 --suppl-groups");
    CHECK(r.print_numeric == " ! owner socket exists owner UID match 5-7 ! owner GID match 1 incl. suppl. groups");
    CHECK(run(match_owner, "--gid-owner root").print == " owner GID match root");
    CHECK(run(match_owner, "--uid-owner 0x10-020").save == " --uid-owner 16");  // base 0: 020 is 16
    CHECK(run(match_owner, "--uid-owner 4294967294").save == " --uid-owner 4294967294");
    CHECK(run(match_owner, "--socket-exists").save == " --socket-exists");
}

TEST_CASE("owner: errors") {
    CHECK(run(match_owner, "").error == "owner: At least one of --uid-owner, --gid-owner or --socket-exists is required");
    CHECK(run(match_owner, "--suppl-groups").error ==
          "owner: Bad value for \"--suppl-groups\" option: \"you need to use --gid-owner first\"");
    CHECK(run(match_owner, "--suppl-groups --gid-owner 0").error ==
          "owner: Bad value for \"--suppl-groups\" option: \"you need to use --gid-owner first\"");
    CHECK(run(match_owner, "--gid-owner 0 ! --suppl-groups").error == "owner: option \"--suppl-groups\" cannot be inverted.\n");
    for (auto bad : {"4294967295", "-1", "1-", "1-x", "1_2", "nosuchuser_xdpt"})
        CHECK(run(match_owner, std::string("--uid-owner ") + bad).error ==
              std::string("owner: Bad value for \"--uid-owner\" option: \"") + bad + "\"");
    CHECK(run(match_owner, "--uid-owner 0 --uid-owner 1").error == "owner: option \"--uid-owner\" can only be used once.\n");
}

TEST_CASE("owner: OUTPUT and POSTROUTING only; a range must not run backwards") {
    CHECK(run_rule("-m owner --uid-owner 0", "filter", "OUTPUT").ok);
    CHECK(run_rule("-m owner --uid-owner 0", "mangle", "POSTROUTING").ok);
    CHECK(run_rule("-m owner --uid-owner 0", "filter", "INPUT").error == "Invalid argument");
    CHECK(run_rule("-m owner --socket-exists", "raw", "PREROUTING").error == "Invalid argument");
    CHECK(run_rule("-m owner --uid-owner 1-0", "filter", "OUTPUT").error == "Invalid argument");
    CHECK(run_rule("-m owner --gid-owner 9-3", "filter", "OUTPUT").error == "Invalid argument");
}

TEST_CASE("owner: the blob") {
    auto blob = xt_blob<xt_owner_match_info>(
        &match_owner, {{"!", ""}, {"--uid-owner", "3-9"}, {"--gid-owner", "4"}, {"--suppl-groups", ""}}, "owner", 1);
    REQUIRE(blob);
    const xt_owner_match_info& info = *blob;
    CHECK(info.uid_min == 3);
    CHECK(info.uid_max == 9);
    CHECK(info.gid_min == 4);
    CHECK(info.gid_max == 4);
    CHECK(info.match == (XT_OWNER_UID | XT_OWNER_GID | XT_OWNER_SUPPL_GROUPS));
    CHECK(info.invert == XT_OWNER_UID);
}

}  // namespace
}  // namespace xdpt::test
