// -j SET revision 3: add, delete and map sets, with a table of sets standing in for the
// kernel's, and the kernel's checkentry (mangle only, priority and queue after routing).
#include <doctest/doctest.h>

#include <linux/netfilter/xt_set.h>

#include "ext/ipset.hpp"
#include "tests/unit/fake_sets.hpp"
#include "tests/unit/targets/target_test.hpp"

namespace xdpt {
extern const ExtKind target_SET;
}

namespace xdpt::test {
namespace {

using Opts = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("SET: forms, save and list text") {
    FakeSets sets;
    auto r = run_ext(&target_SET, {{"--del-set", "foo"}, {"", "src,dst"}, {"--add-set", "map"}, {"", "dst"},
                                   {"--timeout", "0x10"}, {"--exist", ""}, {"--exist", ""}});
    REQUIRE(r.ok);
    CHECK(r.save == " --add-set map dst --exist --timeout 16 --del-set foo src,dst");
    CHECK(r.print == " add-set map dst exist timeout 16 del-set foo src,dst");
    r = run_ext(&target_SET, {{"--map-set", "map"}, {"", "src"}, {"--map-queue", ""}, {"--map-mark", ""},
                              {"--map-prio", ""}, {"!", ""}, {"--add-set", "foo"}, {"", "src"}});
    REQUIRE(r.ok);
    CHECK(r.save == " --add-set foo src --map-set map src --map-mark --map-prio --map-queue");
    CHECK(run_ext(&target_SET, {{"--add-set", "foo"}, {"", "src"}, {"--timeout", "1"}, {"--timeout", "2"}}).save ==
          " --add-set foo src --timeout 2");
}

TEST_CASE("SET: the x_tables blob is xt_set_info_target_v3") {
    FakeSets sets;
    ExtInst inst;
    REQUIRE(run_ext(&target_SET, {{"--add-set", "foo"}, {"", "dst,src"}, {"--map-set", "map"}, {"", "src"},
                                  {"--map-mark", ""}},
                    {}, "mangle", &inst).ok);
    xt_set_info_target_v3 info;
    auto x = xt_blob(inst, info);
    CHECK(x.name == "SET");
    CHECK(x.rev == 3);
    CHECK(x.size == 24);
    CHECK(info.add_set.index == 3);
    CHECK(info.add_set.dim == 2);
    CHECK(info.add_set.flags == 1 << 2);
    CHECK(info.del_set.index == IPSET_INVALID_ID);
    CHECK(info.del_set.dim == 0);
    CHECK(info.map_set.index == 5);
    CHECK(info.flags == IPSET_FLAG_MAP_SKBMARK);
    CHECK(info.timeout == UINT32_MAX);
}

TEST_CASE("SET: refusals, with iptables' messages") {
    FakeSets sets;
    auto err = [](Opts o) { return run_ext(&target_SET, std::move(o)).error; };
    CHECK(err({}) == "You must specify either `--add-set' or `--del-set' or `--map-set'");
    CHECK(err({{"--add-set", "nope"}, {"", "src"}}) == "Set nope doesn't exist.\n");
    CHECK(err({{"--add-set", "foo"}, {"", "src"}, {"--add-set", "foo"}, {"", "dst"}}) ==
          "--add-set can be specified only once");
    CHECK(err({{"--del-set", "foo"}}) == "--del-set requires two args.");
    CHECK(err({{"--del-set", "foo"}, {"", "src"}, {"--exist", ""}}) ==
          "Flag `--exist' can be used with `--add-set' only");
    CHECK(err({{"--del-set", "foo"}, {"", "src"}, {"--timeout", "5"}}) ==
          "Option `--timeout' can be used with `--add-set' only");
    CHECK(err({{"--add-set", "foo"}, {"", "src"}, {"--timeout", "4294967295"}}) ==
          "Invalid value for option --timeout or out of range 0-4294967294");
    CHECK(err({{"--map-set", "map"}, {"", "src"}}) ==
          "You must specify flags `--map-mark' or '--map-prio` or `--map-queue'");
    CHECK(err({{"--del-set", "foo"}, {"", "src"}, {"--map-queue", ""}}) ==
          "Flag `--map-queue' can be used with `--map-set' only");
}

TEST_CASE("SET: the kernel maps only in mangle, priority and queue only after routing") {
    FakeSets sets;
    auto accepts = [](Opts o, std::string_view table, std::vector<std::string> hooks) {
        ExtInst inst;
        REQUIRE(run_ext(&target_SET, std::move(o), {}, table, &inst).ok);
        ExtCtx ctx;
        ctx.table = table;
        ctx.hooks = std::move(hooks);
        return inst.data->kernel_accepts(Rule{}, ctx);
    };
    const Opts mark{{"--map-set", "map"}, {"", "src"}, {"--map-mark", ""}};
    const Opts prio{{"--map-set", "map"}, {"", "src"}, {"--map-prio", ""}};
    const Opts add{{"--add-set", "foo"}, {"", "src"}};
    CHECK(accepts(add, "filter", {"INPUT"}));
    CHECK_FALSE(accepts(mark, "filter", {"OUTPUT"}));
    CHECK(accepts(mark, "mangle", {"PREROUTING", "INPUT"}));
    CHECK_FALSE(accepts(prio, "mangle", {"INPUT"}));
    CHECK_FALSE(accepts(prio, "mangle", {"OUTPUT", "PREROUTING"}));
    CHECK(accepts(prio, "mangle", {"OUTPUT", "FORWARD", "POSTROUTING"}));
    CHECK(accepts(prio, "mangle", {}));
}

}  // namespace
}  // namespace xdpt::test
