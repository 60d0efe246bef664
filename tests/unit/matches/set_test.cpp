// -m set revision 4 (and ext/ipset's name resolution and direction lists), with a table
// of sets standing in for the kernel's.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_set.h>

#include "ext/ipset.hpp"
#include "tests/unit/fake_sets.hpp"
#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

using Opts = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("set: forms, save and list text") {
    FakeSets sets;
    auto r = run_ext(&match_set, {{"--match-set", "foo"}, {"", "src,dst"}});
    REQUIRE(r.ok);
    CHECK(r.save == " --match-set foo src,dst");
    CHECK(r.print == " match-set foo src,dst");
    r = run_ext(&match_set, {{"!", ""}, {"--match-set", "any"}, {"", "dstx,srcy,dst"}, {"--return-nomatch", ""},
                             {"!", ""}, {"--update-counters", ""}, {"!", ""}, {"--update-subcounters", ""},
                             {"!", ""}, {"--packets-eq", "5"}, {"--bytes-gt", "0x10"}});
    REQUIRE(r.ok);
    CHECK(r.save == " ! --match-set any dst,src,dst --return-nomatch ! --update-counters ! --update-subcounters"
                    " ! --packets-eq 5 --bytes-gt 16");
    CHECK(r.print == " ! match-set any dst,src,dst return-nomatch ! update-counters ! update-subcounters"
                     " ! packets-eq 5 bytes-gt 16");
    // Without `!` the counter flags are no-ops.
    r = run_ext(&match_set, {{"--match-set", "foo"}, {"", "src"}, {"--update-counters", ""},
                             {"--packets-lt", "18446744073709551615"}, {"--bytes-eq", "010"}});
    CHECK(r.save == " --match-set foo src --packets-lt 18446744073709551615 --bytes-eq 8");
    r = run_ext(&match_set, {{"--set", "foo"}, {"", "dst"}});
    CHECK(r.save == " --match-set foo dst");
    CHECK(r.notices == "--set option deprecated, please use --match-set\n");
}

TEST_CASE("set: the x_tables blob is xt_set_info_match_v4") {
    FakeSets sets;
    ExtInst inst;
    auto r = run_ext(&match_set, {{"!", ""}, {"--match-set", "foo"}, {"", "src,dst,src"}, {"--packets-gt", "7"},
                                  {"!", ""}, {"--bytes-eq", "9"}, {"!", ""}, {"--update-counters", ""}},
                     {}, "filter", &inst);
    REQUIRE(r.ok);
    xt_set_info_match_v4 info;
    auto x = xt_blob(inst, info);
    CHECK(x.name == "set");
    CHECK(x.rev == 4);
    CHECK(x.size == 48);
    CHECK(info.match_set.index == 3);
    CHECK(info.match_set.dim == 3);
    CHECK(info.match_set.flags == (IPSET_INV_MATCH | 1 << 1 | 1 << 3));
    CHECK(info.packets.op == IPSET_COUNTER_GT);
    CHECK(info.packets.value == 7);
    CHECK(info.bytes.op == IPSET_COUNTER_NE);
    CHECK(info.bytes.value == 9);
    CHECK(info.flags == IPSET_FLAG_SKIP_COUNTER_UPDATE);
}

TEST_CASE("set: refusals, with iptables' messages") {
    FakeSets sets;
    auto err = [](Opts o) { return run_ext(&match_set, std::move(o)).error; };
    CHECK(err({{"--match-set", "nope"}, {"", "src"}}) == "Set nope doesn't exist.\n");
    CHECK(err({{"--match-set", "six"}, {"", "src"}}) ==
          "The protocol family of set six is IPv6, which is not applicable.\n");
    CHECK(err({{"--match-set", std::string(32, 'a')}, {"", "src"}}) ==
          "setname `" + std::string(32, 'a') + "' too long, max 31 characters.");
    CHECK(err({{"--match-set", "foo"}}) == "--match-set requires two args.");
    CHECK(err({{"--match-set", "foo"}, {"", "-j"}}) == "--match-set requires two args.");
    CHECK(err({{"--match-set", "foo"}, {"", "!"}}) == "--match-set requires two args.");
    CHECK(err({{"--match-set", "foo"}, {"", "src,dst,src,dst,src,dst,src"}}) ==
          "Can't be more src/dst options than 6.");
    CHECK(err({{"--match-set", "foo"}, {"", "src,"}}) ==
          "You must spefify (the comma separated list of) 'src' or 'dst'.");
    CHECK(err({{"--match-set", "foo"}, {"", "sr"}}) ==
          "You must spefify (the comma separated list of) 'src' or 'dst'.");
    CHECK(err({{"--match-set", "foo"}, {"", "src"}, {"--match-set", "foo"}, {"", "dst"}}) ==
          "--match-set can be specified only once");
    CHECK(err({{"--return-nomatch", ""}}) == "You must specify `--match-set' with proper arguments");
    CHECK(err({{"--match-set", "foo"}, {"", "src"}, {"--packets-gt", "1"}, {"--packets-lt", "2"}}) ==
          "only one of the --packets-[eq|lt|gt] is allowed");
    CHECK(err({{"--match-set", "foo"}, {"", "src"}, {"!", ""}, {"--bytes-lt", "1"}}) ==
          "--bytes-lt option cannot be inverted");
    CHECK(err({{"--match-set", "foo"}, {"", "src"}, {"--packets-gt", "-1"}}) == "Cannot parse -1 as a counter value");
    CHECK(err({{"--match-set", "foo"}, {"", "src"}, {"--bytes-eq", "18446744073709551616"}}) ==
          "Cannot parse 18446744073709551616 as a counter value");
    CHECK(err({{"--match-set", "foo"}, {"", "src"}, {"!", ""}, {"--return-nomatch", ""}}) ==
          "--return-nomatch flag cannot be inverted");
    CHECK(run_ext(&match_set, {{"--match-set", "nope"}, {"", "src"}}).exit == 2);
}

TEST_CASE("set: the kernel's own lookup answers for its namespace") {
    // Root with ipset in the kernel: an unknown name is refused; without the socket
    // (not root) iptables' resource message and exit 1.
    auto r = ext::kernel_set_lookup("xdpt-unit-no-such-set");
    if (r) CHECK(r->index == IPSET_INVALID_ID);
    else CHECK(r.error().code == Exit::other);
}

}  // namespace
}  // namespace xdpt::test
