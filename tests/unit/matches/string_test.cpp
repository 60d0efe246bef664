// -m string revision 1: the --hex-string syntax, how patterns print back (hex when a byte
// is not printable or the last is a backslash), the blob, and the kernel's refusals.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_string.h>

#include <cerrno>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

using Opts = std::vector<std::pair<std::string, std::string>>;

ExtRun hex(std::string_view pattern) { return run_ext(&match_string, {{"--algo", "bm"}, {"--hex-string", std::string(pattern)}}); }
ExtRun text(std::string_view pattern) { return run_ext(&match_string, {{"--algo", "bm"}, {"--string", std::string(pattern)}}); }

TEST_CASE("string: how patterns read and print back") {
    CHECK(text("test").save == " --string \"test\" --algo bm");
    CHECK(text("test").print == " STRING match  \"test\" ALGO name bm");
    CHECK(text("a\"b\\c d").save == " --string \"a\\\"b\\\\c d\" --algo bm");
    CHECK(text("ab\\").save == " --hex-string \"|61625c|\" --algo bm");
    CHECK(text("tab\tx").save == " --hex-string \"|7461620978|\" --algo bm");
    CHECK(text("\xc3\xa9").save == " --hex-string \"|c3a9|\" --algo bm");
    CHECK(text(std::string(128, 'x')).ok);
    CHECK(hex("ab|41 42|c").save == " --string \"abABc\" --algo bm");
    CHECK(hex("|00|").save == " --hex-string \"|00|\" --algo bm");
    CHECK(hex("a\\|b").save == " --string \"a|b\" --algo bm");
    CHECK(hex("|41|\\|").save == " --hex-string \"|415c|\" --algo bm");
    CHECK(hex("|4142 |x").save == " --string \"ABx\" --algo bm");
    CHECK(hex("|  41|").save == " --string \"A\" --algo bm");
    CHECK(hex("|41|  |42|").save == " --string \"A  B\" --algo bm");
    CHECK(hex("|41|||42|").save == " --string \"A|B\" --algo bm");
    CHECK(hex("x|").save == " --string \"x\" --algo bm");
    CHECK(hex("|fF7f|").save == " --hex-string \"|ff7f|\" --algo bm");
    auto r = run_ext(&match_string, {{"--algo", "kmp"}, {"!", ""}, {"--hex-string", "|41|"}, {"--from", "0x10"},
                                     {"--to", "30"}, {"--icase", ""}});
    CHECK(r.save == " ! --string \"A\" --algo kmp --from 16 --to 30 --icase");
    CHECK(r.print == " STRING match ! \"A\" ALGO name kmp FROM 16 TO 30 ICASE");
    CHECK(run_ext(&match_string, {{"--algo", "bm"}, {"--string", "x"}, {"--from", "0"}, {"--to", "65535"}}).save ==
          " --string \"x\" --algo bm");
}

TEST_CASE("string: refusals, with iptables' messages") {
    CHECK(hex("").error == "STRING must contain at least one char");
    CHECK(hex("\\").error == "Bad literal placement at end of string");
    CHECK(hex("|4|").error == "Invalid hex block");
    CHECK(hex("|41").error == "Invalid hex block");
    CHECK(hex("||").error == "Odd number of hex digits");
    CHECK(hex("|4g|").error == "Invalid hex char 'g'");
    CHECK(hex("|41  42|").error == "Invalid hex char ' '");
    CHECK(hex("|4\\1|").error == "Invalid hex char '\\'");
    CHECK(hex("|41\\|").error == "Cannot include literals in hex data");
    CHECK(hex(std::string(129, 'x')).error == "STRING too long \"" + std::string(129, 'x') + "\"");
    CHECK(text(std::string(129, 'x')).error == "STRING too long \"" + std::string(129, 'x') + "\"");
    CHECK(run_ext(&match_string, {}).error == "STRING match: You must specify `--string' or `--hex-string'");
    CHECK(run_ext(&match_string, {{"--string", "x"}}).error == "string: option \"--algo\" must be specified\n");
    CHECK(run_ext(&match_string, {{"--algo", "bm"}, {"--string", "x"}, {"--hex-string", "y"}}).error ==
          "string: option \"--string\" cannot be used together with \"--hex-string\".\n");
    CHECK(run_ext(&match_string, {{"--algo", "bm"}, {"!", ""}, {"--icase", ""}, {"--string", "x"}}).error ==
          "string: option \"--icase\" cannot be inverted.\n");
    CHECK(run_ext(&match_string, {{"--algo", "bm"}, {"--string", "x"}, {"--from", "65536"}}).error ==
          "string: bad value for option \"--from\", or out of range (0-65535).\n");
}

TEST_CASE("string: the blob is xt_string_info revision 1; the kernel's checks") {
    auto parsed = [](Opts o) {
        ExtInst inst;
        REQUIRE(run_ext(&match_string, std::move(o), {}, "filter", &inst).ok);
        return inst;
    };
    ExtInst inst = parsed({{"!", ""}, {"--string", "GET /"}, {"--algo", "kmpxxxxxxxxxxxxxxxxxxx"}, {"--from", "2"},
                           {"--icase", ""}});
    xt_string_info info;
    auto x = xt_blob(inst, info);
    CHECK(x.name == "string");
    CHECK(x.rev == 1);
    CHECK(x.size == sizeof info);
    CHECK(info.from_offset == 2);
    CHECK(info.to_offset == 0xffff);
    CHECK(std::string(info.algo) == "kmpxxxxxxxxxxxx");  // cut to the field
    CHECK(std::string(info.pattern, info.patlen) == "GET /");
    CHECK(info.u.v1.flags == (XT_STRING_FLAG_INVERT | XT_STRING_FLAG_IGNORECASE));

    auto refusal = [&](Opts o) {
        ExtInst i = parsed(std::move(o));
        return i.data->kernel_accepts(Rule{}, ExtCtx{}) ? 0 : i.data->refusal_errno();
    };
    CHECK(refusal({{"--algo", "bm"}, {"--string", "x"}}) == 0);
    CHECK(refusal({{"--algo", "kmp"}, {"--string", "x"}, {"--from", "5"}, {"--to", "5"}}) == 0);
    CHECK(refusal({{"--algo", "kmp"}, {"--string", "x"}, {"--from", "6"}, {"--to", "5"}}) == EINVAL);
    CHECK(refusal({{"--algo", "kmp"}, {"--string", ""}}) == EINVAL);
    CHECK(refusal({{"--algo", "BM"}, {"--string", "x"}}) == ENOENT);
    CHECK(refusal({{"--algo", ""}, {"--string", "x"}}) == ENOENT);
    CHECK(refusal({{"--algo", "fsm"}, {"--hex-string", "|00000141|"}}) == 0);
    CHECK(refusal({{"--algo", "fsm"}, {"--hex-string", "|0d000441 00000141|"}}) == 0);
    CHECK(refusal({{"--algo", "fsm"}, {"--string", "x"}}) == EINVAL);
    CHECK(refusal({{"--algo", "fsm"}, {"--hex-string", "|00000141|"}, {"--icase", ""}}) == EINVAL);
    CHECK(refusal({{"--algo", "fsm"}, {"--hex-string", "|0e000141|"}}) == EINVAL);
    CHECK(refusal({{"--algo", "fsm"}, {"--hex-string", "|00000541|"}}) == EINVAL);
    CHECK(refusal({{"--algo", "fsm"}, {"--hex-string", "|00000441|"}}) == EINVAL);
    CHECK(refusal({{"--algo", "fsm"}, {"--hex-string", "|00000141 00000441|"}}) == EINVAL);
}

}  // namespace
}  // namespace xdpt::test
