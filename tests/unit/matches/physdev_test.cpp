// -m physdev revision 0: options, text, the blob, and where the kernel takes it.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_physdev.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("physdev: forms, blob, the kernel's OUTPUT check") {
    auto r = run(match_physdev, "! --physdev-in eth+ ! --physdev-out x --physdev-is-in ! --physdev-is-out ! --physdev-is-bridged");
    CHECK(r.save == " --physdev-is-in ! --physdev-in eth+ ! --physdev-is-out ! --physdev-out x ! --physdev-is-bridged");
    CHECK(r.print == " PHYSDEV match" + r.save);
    CHECK(run(match_physdev, "").error == "PHYSDEV: no physdev option specified");
    CHECK(run(match_physdev, "--physdev-in aaaaaaaaaaaaaaaa").error ==
          "interface name `aaaaaaaaaaaaaaaa' must be shorter than IFNAMSIZ (15)");
    CHECK(run(match_physdev, "--physdev-in a/b").notices ==
          "Warning: weird character in interface `a/b' ('/' and ' ' are not allowed by the kernel).\n");

    ExtInst inst;
    REQUIRE(run_ext(&match_physdev, {{"--physdev-in", "br+"}, {"!", ""}, {"--physdev-out", "lo"}}, {}, "filter", &inst).ok);
    xt_physdev_info info;
    auto x = xt_blob(inst, info);
    CHECK(x.name == "physdev");
    CHECK(x.rev == 0);
    CHECK(std::string(info.physindev) == "br+");
    CHECK(std::string(info.in_mask, 2) == "\xff\xff");  // the bytes before the plus, then zeros
    CHECK(info.in_mask[2] == 0);
    CHECK(std::string(info.out_mask, 3) == "\xff\xff\xff");  // the name and its NUL
    CHECK(info.bitmask == (XT_PHYSDEV_OP_IN | XT_PHYSDEV_OP_OUT));
    CHECK(info.invert == XT_PHYSDEV_OP_OUT);

    auto accepts = [](std::vector<std::pair<std::string, std::string>> o, std::vector<std::string> hooks) {
        ExtInst i;
        REQUIRE(run_ext(&match_physdev, std::move(o), {}, "filter", &i).ok);
        ExtCtx ctx;
        ctx.hooks = std::move(hooks);
        return i.data->kernel_accepts(Rule{}, ctx);
    };
    CHECK(accepts({{"--physdev-out", "lo"}}, {"FORWARD", "INPUT"}));
    CHECK_FALSE(accepts({{"--physdev-out", "lo"}}, {"FORWARD", "OUTPUT"}));
    CHECK_FALSE(accepts({{"--physdev-is-out", ""}}, {"OUTPUT"}));
    CHECK(accepts({{"--physdev-is-out", ""}, {"--physdev-is-bridged", ""}}, {"OUTPUT"}));
    CHECK_FALSE(accepts({{"--physdev-out", "lo"}, {"!", ""}, {"--physdev-is-bridged", ""}}, {"OUTPUT"}));
    CHECK(accepts({{"--physdev-in", "lo"}}, {"OUTPUT"}));
}

}  // namespace
}  // namespace xdpt::test
