// -m comment: quoting in the save form, 255-byte limit.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("comment: save quoting and print") {
    const std::pair<const char*, const char*> cases[] = {
        {"foo", " --comment foo"},
        {"foo_bar-BAZ09", " --comment foo_bar-BAZ09"},
        {"foo bar", " --comment \"foo bar\""},
        {"a\"b", " --comment \"a\\\"b\""},
        {"a\\b", " --comment \"a\\\\b\""},
        {"a'b", " --comment \"a\\'b\""},
        {"", " --comment \"\""},
    };
    for (auto [text, save] : cases) {
        CAPTURE(text);
        auto r = run_ext(&match_comment, {{"--comment", text}});
        REQUIRE(r.ok);
        CHECK(r.save == save);
        CHECK(r.print == std::string(" /* ") + text + " */");
    }
}

TEST_CASE("comment: longer than 255 bytes is cut") {
    auto r = run_ext(&match_comment, {{"--comment", std::string(300, 'y')}});
    REQUIRE(r.ok);
    CHECK(r.save == " --comment " + std::string(255, 'y'));
}

TEST_CASE("comment: errors") {
    CHECK(run(match_comment, "").error == "comment: option \"--comment\" must be specified\n");
    CHECK(run(match_comment, "! --comment x").error == "comment: option \"--comment\" cannot be inverted.\n");
    CHECK(run(match_comment, "--comment a --comment b").error == "comment: option \"--comment\" can only be used once.\n");
}

}  // namespace
}  // namespace xdpt::test
