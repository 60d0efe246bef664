// -j CONNMARK revision 2, checked against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_connmark.h>

#include <cstring>

#include "tests/unit/targets/target_test.hpp"

namespace xdpt {
extern const ExtKind target_CONNMARK;
}

using namespace xdpt;
using namespace xdpt::test;
using namespace xdpt::test::tgt;

namespace {
std::pair<std::string, std::string> texts(const Opts& o) {
    auto r = run_ext(&target_CONNMARK, o);
    return {r.save, r.print};
}
}  // namespace

TEST_CASE("CONNMARK: every form, saved and listed") {
    using P = std::pair<std::string, std::string>;
    CHECK(texts({{"--set-xmark", "0x10/0x30"}}) == P{" --set-xmark 0x10/0x30", " CONNMARK xset 0x10/0x30"});
    CHECK(texts({{"--set-mark", "0x10"}}) == P{" --set-xmark 0x10/0xffffffff", " CONNMARK set 0x10"});
    CHECK(texts({{"--set-mark", "3/0xf"}}) == P{" --set-xmark 0x3/0xf", " CONNMARK xset 0x3/0xf"});
    CHECK(texts({{"--and-mark", "0xf0"}}) == P{" --set-xmark 0x0/0xffffff0f", " CONNMARK and 0xf0"});
    CHECK(texts({{"--or-mark", "4"}}) == P{" --set-xmark 0x4/0x4", " CONNMARK or 0x4"});
    CHECK(texts({{"--xor-mark", "4"}}) == P{" --set-xmark 0x4/0x0", " CONNMARK xor 0x4"});
    CHECK(texts({{"--set-mark", "0/0"}}) == P{" --set-xmark 0x0/0x0", " CONNMARK and 0xffffffff"});
    CHECK(texts({{"--save-mark", ""}}) ==
          P{" --save-mark --nfmask 0xffffffff --ctmask 0xffffffff", " CONNMARK save"});
    CHECK(texts({{"--save-mark", ""}, {"--mask", "0xff"}}) ==
          P{" --save-mark --nfmask 0xff --ctmask 0xff", " CONNMARK save mask 0xff"});
    CHECK(texts({{"--save-mark", ""}, {"--nfmask", "0xf0"}}) ==
          P{" --save-mark --nfmask 0xf0 --ctmask 0xffffffff", " CONNMARK save nfmask 0xf0 ctmask ~0xffffffff"});
    CHECK(texts({{"--restore-mark", ""}, {"--ctmask", "0xf0"}, {"--nfmask", "0xf"}}) ==
          P{" --restore-mark --nfmask 0xf --ctmask 0xf0", " CONNMARK restore ctmask 0xf0 nfmask ~0xf"});
    CHECK(texts({{"--restore-mark", ""}, {"--mask", "7"}}) ==
          P{" --restore-mark --nfmask 0x7 --ctmask 0x7", " CONNMARK restore mask 0x7"});
    CHECK(texts({{"--save-mark", ""}, {"--left-shift-mark", "3"}}) ==
          P{" --save-mark --nfmask 0xffffffff --ctmask 0xffffffff --left-shift-mark 3", " CONNMARK save left-shift-mark 3"});
    CHECK(texts({{"--left-shift-mark", "2"}, {"--right-shift-mark", "1"}, {"--restore-mark", ""}}) ==
          P{" --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 1", " CONNMARK restore right-shift-mark 1"});
    // Later options overwrite the fields earlier ones set.
    CHECK(texts({{"--set-xmark", "1/2"}, {"--ctmask", "7"}}).first == " --set-xmark 0x1/0x7");
    CHECK(texts({{"--set-mark", "1"}, {"--mask", "3"}}).first == " --set-xmark 0x1/0x3");
    CHECK(texts({{"--mask", "3"}, {"--save-mark", ""}}).first == " --save-mark --nfmask 0x3 --ctmask 0x3");
}

TEST_CASE("CONNMARK: errors; its own check before the exclusions") {
    CHECK(run_ext(&target_CONNMARK, {}).error == "CONNMARK target: No operation specified");
    CHECK(run_ext(&target_CONNMARK, {{"--nfmask", "3"}}).error == "CONNMARK target: No operation specified");
    CHECK(run_ext(&target_CONNMARK, {{"--mask", "3"}, {"--ctmask", "4"}}).error == "CONNMARK target: No operation specified");
    CHECK(run_ext(&target_CONNMARK, {{"--save-mark", ""}, {"--mask", "3"}, {"--ctmask", "4"}}).error ==
          "CONNMARK: option \"--ctmask\" cannot be used together with \"--mask\".\n");
    CHECK(run_ext(&target_CONNMARK, {{"--save-mark", ""}, {"--restore-mark", ""}}).error ==
          "CONNMARK: option \"--save-mark\" cannot be used together with \"--restore-mark\".\n");
    CHECK(run_ext(&target_CONNMARK, {{"--set-mark", "1"}, {"--set-xmark", "2"}}).error ==
          "CONNMARK: option \"--set-xmark\" cannot be used together with \"--set-mark\".\n");
    // The other option is named by id order (libxt ids: set-mark 0, save-mark 1, ...).
    CHECK(run_ext(&target_CONNMARK, {{"--set-xmark", "1"}, {"--and-mark", "1"}, {"--save-mark", ""}}).error ==
          "CONNMARK: option \"--set-xmark\" cannot be used together with \"--save-mark\".\n");
    CHECK(run_ext(&target_CONNMARK, {{"--and-mark", "x"}}).error ==
          "CONNMARK: bad value for option \"--and-mark\", or out of range (0-4294967295).\n");
    CHECK(run_ext(&target_CONNMARK, {{"--set-mark", "1/x"}}).error ==
          "CONNMARK: bad integer value for option \"--set-mark\", or out of range.\n");
    CHECK(run_ext(&target_CONNMARK, {{"--save-mark", ""}, {"--left-shift-mark", "33"}}).error ==
          "CONNMARK: bad value for option \"--left-shift-mark\", or out of range (0-32).\n");
    CHECK(run_ext(&target_CONNMARK, {{"!", ""}, {"--save-mark", ""}}).error ==
          "CONNMARK: option \"--save-mark\" cannot be inverted.\n");
}

TEST_CASE("CONNMARK: the kernel refuses a 32-bit shift; the blob") {
    CHECK(kernel_ok(&target_CONNMARK, {{"--save-mark", ""}, {"--right-shift-mark", "31"}}));
    CHECK_FALSE(kernel_ok(&target_CONNMARK, {{"--save-mark", ""}, {"--left-shift-mark", "32"}}));
    auto blob = xt_blob<xt_connmark_tginfo2>(
        &target_CONNMARK, {{"--restore-mark", ""}, {"--nfmask", "0xf"}, {"--right-shift-mark", "4"}}, "CONNMARK", 2);
    REQUIRE(blob);
    const xt_connmark_tginfo2& info = *blob;
    CHECK(info.mode == XT_CONNMARK_RESTORE);
    CHECK(info.nfmask == 0xf);
    CHECK(info.ctmask == 0xffffffff);
    CHECK(info.shift_dir == D_SHIFT_RIGHT);
    CHECK(info.shift_bits == 4);
}
