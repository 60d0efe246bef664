// grammar/values: expected values are what iptables-legacy 1.8.9 makes of the same text
// (run in a namespace: `-s`, `-m length --length`, restore lines with --comment).
#include <doctest/doctest.h>

#include "grammar/values.hpp"

using namespace xdpt::grammar;
using Toks = std::vector<std::string>;

TEST_CASE("to_uint reads numbers as xtables_strtoui: base 0, whole string, range") {
    // --length 0x10 -> 16, 010 -> 8, +5 -> 5; 7x and -1 refused.
    CHECK(to_uint("0x10", 0, 65535) == 16u);
    CHECK(to_uint("010", 0, 65535) == 8u);
    CHECK(to_uint("+5", 0, 65535) == 5u);
    CHECK(to_uint("65535", 0, 65535) == 65535u);
    CHECK_FALSE(to_uint("7x", 0, 65535));
    CHECK_FALSE(to_uint("-1", 0, 65535));
    CHECK_FALSE(to_uint("65536", 0, 65535));
    CHECK_FALSE(to_uint("", 0, 65535));
    CHECK_FALSE(to_uint("3", 4, 10));
    CHECK(to_uint("18446744073709551615", 0, 0) == 18446744073709551615ull);
    CHECK_FALSE(to_uint("18446744073709551616", 0, 0));
    CHECK(to_uint("10", 0, 0, 10) == 10u);
    CHECK_FALSE(to_uint("0x10", 0, 0, 10));
    auto p = to_uint_prefix("5:0x20");
    REQUIRE(p);
    CHECK(p->value == 5u);
    CHECK(p->used == 1u);
}

TEST_CASE("plain_decimal reads only what strtoul in base 0 and 10 and sscanf %llu read alike") {
    for (const char* t : {"0", "7", "198", "65535", "4294967296", "9999999999999999999"}) {
        auto p = to_uint_prefix(t);
        REQUIRE(p);
        CHECK(plain_decimal(t) == p->value);
        CHECK(to_uint(t, 0, 0) == p->value);
        CHECK(to_uint(t, 0, 0, 10) == p->value);
    }
    // Left to the general reading: octal, hex, signs, blanks, 20 digits, empty.
    for (const char* t : {"00", "010", "0x10", "+5", " 5", "5 ", "-1", "12345678901234567890", ""})
        CHECK_FALSE(plain_decimal(t));
    CHECK(to_uint("12345678901234567890", 0, 0) == 12345678901234567890ull);
    CHECK(to_uint("010", 0, 0, 10) == 10u);
    CHECK_FALSE(to_uint("198", 0, 197));
}

TEST_CASE("dotted_to_ipv4 as libxtables' numeric_to_ipaddr") {
    // -s 198.18 -> 198.18.0.0; -s 0xc6.18.0.1 and -s 0306.022.0.1 -> 198.18.0.1
    CHECK(dotted_to_ipv4("198.18") == 0xc6120000u);
    CHECK(dotted_to_ipv4("0xc6.18.0.1") == 0xc6120001u);
    CHECK(dotted_to_ipv4("0306.022.0.1") == 0xc6120001u);
    CHECK(dotted_to_ipv4("198.18.0.1") == 0xc6120001u);
    // refused: 198.18.0.256, 198.18.0.1.5, 198.18..1
    CHECK_FALSE(dotted_to_ipv4("198.18.0.256"));
    CHECK_FALSE(dotted_to_ipv4("198.18.0.1.5"));
    CHECK_FALSE(dotted_to_ipv4("198.18..1"));
    CHECK_FALSE(dotted_to_ipv4("198.18.0."));
    CHECK_FALSE(dotted_to_ipv4(""));
    CHECK(dotted_to_ipv4("198") == 0xc6000000u);
    // masks: /255.255.0.0 is /16, /255.255 is an invalid mask
    CHECK(dotted_to_ipv4("255.255.0.0", true) == 0xffff0000u);
    CHECK_FALSE(dotted_to_ipv4("255.255", true));
    CHECK(ipv4_to_dotted(0xc6120001u) == "198.18.0.1");
    CHECK(ipv4_to_dotted(0) == "0.0.0.0");
}

TEST_CASE("split keeps empty fields") {
    auto v = split("a,,b,", ',');
    REQUIRE(v.size() == 4);
    CHECK(v[0] == "a");
    CHECK(v[1] == "");
    CHECK(v[2] == "b");
    CHECK(v[3] == "");
    CHECK(split("", ',').size() == 1);
}

TEST_CASE("split_range: --length 5:0x20, :9, 9:") {
    auto r = split_range("5:0x20");
    CHECK(r.has_colon);
    CHECK(r.lo == "5");
    CHECK(r.hi == "0x20");
    r = split_range(":9");
    CHECK(r.has_colon);
    CHECK(r.lo.empty());
    CHECK(r.hi == "9");
    r = split_range("9:");
    CHECK(r.lo == "9");
    CHECK(r.hi.empty());
    r = split_range("22");
    CHECK_FALSE(r.has_colon);
    CHECK(r.lo == "22");
    CHECK(r.hi == "22");
    r = split_range("1-2", '-');
    CHECK(r.has_colon);
    CHECK(r.lo == "1");
    CHECK(r.hi == "2");
}

TEST_CASE("tokenize_restore_line as iptables-restore's add_param_to_argv") {
    // --comment "a b  c" keeps the inner blanks
    CHECK(tokenize_restore_line(R"(-A c2 -m comment --comment "a b  c")") ==
          Toks{"-A", "c2", "-m", "comment", "--comment", "a b  c"});
    // "x\"y" -> x"y ; "a\\b" -> a\b ; "a\b" -> ab (a backslash escapes inside quotes)
    CHECK(tokenize_restore_line(R"(--comment "x\"y")") == Toks{"--comment", "x\"y"});
    CHECK(tokenize_restore_line(R"(--comment "a\\b")") == Toks{"--comment", "a\\b"});
    CHECK(tokenize_restore_line(R"(--comment "a\b")") == Toks{"--comment", "ab"});
    // outside quotes a backslash is literal: a\b saved as "a\\b"
    CHECK(tokenize_restore_line(R"(--comment a\b)") == Toks{"--comment", "a\\b"});
    // ab"c d" is one argument "abc d"; "ab"cd is two (Bad argument `cd')
    CHECK(tokenize_restore_line(R"(--comment ab"c d")") == Toks{"--comment", "abc d"});
    CHECK(tokenize_restore_line(R"(--comment "ab"cd)") == Toks{"--comment", "ab", "cd"});
    // "" is an empty argument
    CHECK(tokenize_restore_line(R"(--comment "")") == Toks{"--comment", ""});
    // tabs and runs of blanks separate; leading and trailing blanks vanish
    CHECK(tokenize_restore_line("\t-A\tc2   -m comment   --comment  x  ") ==
          Toks{"-A", "c2", "-m", "comment", "--comment", "x"});
    // '#' is no comment inside a line: "#not a comment" is kept, a bare # is an argument
    CHECK(tokenize_restore_line(R"(--comment "#not a comment")") == Toks{"--comment", "#not a comment"});
    CHECK(tokenize_restore_line("--comment x # trailing") == Toks{"--comment", "x", "#", "trailing"});
    CHECK(tokenize_restore_line("") == Toks{});
}

TEST_CASE("parse_counter_pair reads [pkts:bytes]") {
    auto c = parse_counter_pair("[123456:98765432]");
    REQUIRE(c);
    CHECK(c->pkts == 123456u);
    CHECK(c->bytes == 98765432u);
    c = parse_counter_pair("[0:0]");
    REQUIRE(c);
    CHECK(c->pkts == 0u);
    c = parse_counter_pair("[1234567:4294967296000]");
    REQUIRE(c);
    CHECK(c->bytes == 4294967296000ull);
    CHECK_FALSE(parse_counter_pair("[1:2"));
    CHECK_FALSE(parse_counter_pair("1:2]"));
    CHECK_FALSE(parse_counter_pair("[1 2]"));
    CHECK_FALSE(parse_counter_pair("[1:2] "));
    CHECK_FALSE(parse_counter_pair("[a:2]"));
}
