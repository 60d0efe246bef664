// The stored-state text (serialize_ruleset / deserialize_ruleset) must give back the very
// same ruleset whatever its names and strings hold; libiptc's policy counter reset;
// iptables-save/-restore command lines.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli/command.hpp"
#include "cli/restore.hpp"
#include "cli/tools.hpp"
#include "dp/compile.hpp"
#include "ext/cond.hpp"
#include "grammar/values.hpp"
#include "model/apply.hpp"
#include "model/print.hpp"
#include "tests/unit/matches/support.hpp"

using namespace xdpt;

namespace {

Ruleset restored(std::string_view text) {
    Ruleset rs;
    RestoreOptions o;
    o.counters = true;
    std::string out;
    auto r = restore_text(rs, text, o, [](const Ruleset&) -> Result<void> { return {}; }, out);
    REQUIRE(r);
    return rs;
}

// Runs one iptables command line on `rs` as `xdptables` would.
Result<Applied> run(Ruleset& rs, std::vector<std::string> argv) {
    ParseOptions po;
    auto parsed = parse_command(argv, po);
    REQUIRE(parsed);
    return apply_command(rs, std::get<Command>(*parsed));
}

std::string save(const Ruleset& rs) {
    std::string out;
    for (const auto& t : rs.tables) out += table_to_save(t, true);
    return out;
}

// serialize -> deserialize -> serialize is the identity, and so is the saved text.
void round_trip(const Ruleset& rs) {
    const std::string stored = serialize_ruleset(rs);
    auto back = deserialize_ruleset(stored, Family::ipv4);
    REQUIRE_MESSAGE(back, stored);
    CHECK(serialize_ruleset(*back) == stored);
    CHECK(save(*back) == save(rs));
}

}  // namespace

TEST_CASE("stored state: a newline inside a comment (unterminated quote in restore input)") {
    Ruleset rs = restored("*filter\n-A INPUT -m comment --comment \"unterminated\nCOMMIT\n");
    // What iptables-legacy-save prints for it: the newline is inside the quotes.
    CHECK(save(rs) ==
          "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
          "[0:0] -A INPUT -m comment --comment \"unterminated\n\"\nCOMMIT\n");
    round_trip(rs);
    // Every stored line is one line of the format: no raw newline inside one.
    const std::string stored = serialize_ruleset(rs);
    CHECK(stored.find("unterminated%0A") != std::string::npos);
}

TEST_CASE("stored state: chain names with blanks, quotes, backslashes, newlines (-E)") {
    for (std::string name : {"a b", "x\"y", "back\\slash", "tab\there", "new\nline", "100%", "%0A", "%25"}) {
        CAPTURE(name);
        Ruleset rs;
        REQUIRE(run(rs, {"-N", "old"}));
        REQUIRE(run(rs, {"-A", "old", "-s", "198.18.0.1", "-j", "DROP"}));
        REQUIRE(run(rs, {"-A", "INPUT", "-j", "old"}));
        REQUIRE(run(rs, {"-A", "FORWARD", "-g", "old"}));
        REQUIRE(run(rs, {"-E", "old", name}));
        // iptables -S prints the name bare, as iptables does.
        CHECK(list_rules(*rs.find("filter"), std::nullopt, 0, false).find("-A INPUT -j " + name + "\n") !=
              std::string::npos);
        round_trip(rs);
        auto back = deserialize_ruleset(serialize_ruleset(rs), Family::ipv4);
        REQUIRE(back);
        const Table& t = *back->find("filter");
        REQUIRE(t.find(name));
        CHECK(t.find(name)->rules.size() == 1);
        CHECK(t.references(name) == 2);
    }
}

TEST_CASE("stored state: strings and interfaces with quotes, percent signs and newlines") {
    Ruleset rs;
    REQUIRE(run(rs, {"-A", "INPUT", "-m", "comment", "--comment", "100% %0A %25 \\n \\\\ \"q\" 's'", "-j", "ACCEPT"}));
    REQUIRE(run(rs, {"-A", "INPUT", "-j", "LOG", "--log-prefix", "%0A\\"}));
    REQUIRE(run(rs, {"-A", "INPUT", "-i", "n\nl", "-j", "ACCEPT"}));
    REQUIRE(run(rs, {"-A", "INPUT", "-i", "a b", "-j", "ACCEPT"}));
    REQUIRE(run(rs, {"-A", "FORWARD", "-o", "q\"x", "-j", "ACCEPT"}));
    round_trip(rs);
}

TEST_CASE("stored state: text without the version line (written before it) still reads") {
    auto rs = deserialize_ruleset("*filter\n:INPUT DROP [1:2]\n[3:4] -A INPUT -m comment --comment \"50%0A\" -j ACCEPT\nCOMMIT\n", Family::ipv4);
    REQUIRE(rs);
    CHECK(save(*rs) == "*filter\n:INPUT DROP [1:2]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                       "[3:4] -A INPUT -m comment --comment \"50%0A\" -j ACCEPT\nCOMMIT\n");
}

TEST_CASE("policy counters: every commit of a table zeroes those it does not set") {
    Ruleset rs;
    REQUIRE(run(rs, {"-P", "INPUT", "DROP", "-c", "100", "200"}));
    REQUIRE(run(rs, {"-P", "OUTPUT", "ACCEPT", "-c", "7", "8"}));
    // -P -c sets its chain and zeroes the other policies of the table.
    CHECK(rs.find("filter")->find("INPUT")->ctr == Counters{0, 0});
    CHECK(rs.find("filter")->find("OUTPUT")->ctr == Counters{7, 8});
    REQUIRE(run(rs, {"-t", "raw", "-P", "OUTPUT", "DROP", "-c", "1", "2"}));
    CHECK(rs.find("filter")->find("OUTPUT")->ctr == Counters{7, 8});  // another table
    // Listing and checking commit nothing.
    REQUIRE(run(rs, {"-L", "-n"}));
    REQUIRE(run(rs, {"-S"}));
    CHECK(rs.find("filter")->find("OUTPUT")->ctr == Counters{7, 8});
    // A flush of an empty chain commits.
    REQUIRE(run(rs, {"-F", "FORWARD"}));
    CHECK(rs.find("filter")->find("OUTPUT")->ctr == Counters{0, 0});
    CHECK(rs.find("raw")->find("OUTPUT")->ctr == Counters{1, 2});
    // Rule counters survive.
    REQUIRE(run(rs, {"-A", "INPUT", "-c", "5", "6"}));
    REQUIRE(run(rs, {"-N", "x"}));
    CHECK(rs.find("filter")->find("INPUT")->rules.at(0).ctr == Counters{5, 6});
}

TEST_CASE("policy counters: restore sets those with a chain line, zeroes the rest") {
    Ruleset rs = restored("*filter\n:INPUT DROP [5:6]\n:OUTPUT DROP [7:8]\nCOMMIT\n");
    RestoreOptions o;
    o.noflush = true;
    std::string out;
    REQUIRE(restore_text(rs, "*filter\n:INPUT DROP [1:1]\n-A INPUT -j ACCEPT\nCOMMIT\n", o,
                         [](const Ruleset&) -> Result<void> { return {}; }, out));
    // Without -c a chain line sets zero; a chain without one is zeroed by the commit.
    CHECK(rs.find("filter")->find("INPUT")->ctr == Counters{0, 0});
    CHECK(rs.find("filter")->find("OUTPUT")->ctr == Counters{0, 0});
    o.counters = true;
    REQUIRE(restore_text(rs, "*filter\n:OUTPUT DROP [3:4]\nCOMMIT\n", o,
                         [](const Ruleset&) -> Result<void> { return {}; }, out));
    CHECK(rs.find("filter")->find("OUTPUT")->ctr == Counters{3, 4});
}

TEST_CASE("iptables-save command line: getopt clusters, prefixes, permutation, messages") {
    auto s = parse_save_args("xdptables-save", {"-ctraw"});
    REQUIRE(std::holds_alternative<SaveArgs>(s));
    CHECK(std::get<SaveArgs>(s).counters);
    CHECK(std::get<SaveArgs>(s).table == "raw");
    s = parse_save_args("xdptables-save", {"--tab", "nat", "--co"});
    REQUIRE(std::holds_alternative<SaveArgs>(s));
    CHECK(std::get<SaveArgs>(s).table == "nat");
    s = parse_save_args("xdptables-save", {"-h"});
    REQUIRE(std::holds_alternative<ToolExit>(s));
    CHECK(std::get<ToolExit>(s).status == 1);
    CHECK(std::get<ToolExit>(s).err ==
          "xdptables-save: invalid option -- 'h'\nLook at manual page `xdptables-save.8' for more information.\n");
    s = parse_save_args("xdptables-save", {"--co=1"});
    CHECK(std::get<ToolExit>(s).err.starts_with("xdptables-save: option '--counters' doesn't allow an argument\n"));
    s = parse_save_args("xdptables-save", {"--tab"});
    CHECK(std::get<ToolExit>(s).err.starts_with("xdptables-save: option '--table' requires an argument\n"));
    s = parse_save_args("xdptables-save", {"raw"});
    CHECK(std::get<ToolExit>(s).err == "Unknown arguments found on commandline\n");
}

TEST_CASE("iptables-restore command line: -cn, -w forms, ambiguous prefixes, the file anywhere") {
    auto r = parse_restore_args("xdptables-restore", {"-cnv", "in.txt", "-T", "raw"});
    REQUIRE(r);
    REQUIRE(std::holds_alternative<RestoreArgs>(*r));
    const auto& a = std::get<RestoreArgs>(*r);
    CHECK(a.o.counters);
    CHECK(a.o.noflush);
    CHECK(a.o.verbose == 1);
    CHECK(a.file == "in.txt");
    CHECK(a.o.only_table == "raw");
    r = parse_restore_args("xdptables-restore", {"--t"});
    REQUIRE(r);
    CHECK(std::get<ToolExit>(*r).err.starts_with(
        "xdptables-restore: option '--t' is ambiguous; possibilities: '--test' '--table'\n"));
    r = parse_restore_args("xdptables-restore", {"-w1"});
    REQUIRE(r);
    CHECK(std::get<ToolExit>(*r).err.starts_with("xdptables-restore: invalid option -- '1'\n"));
    r = parse_restore_args("xdptables-restore", {"-w", "0x2"});
    REQUIRE(r);
    CHECK(std::get<RestoreArgs>(*r).wait == 2);
    r = parse_restore_args("xdptables-restore", {"-w", "-W", "x"});
    REQUIRE(!r);
    CHECK(r.error().msg == "wait interval not numeric");
    CHECK(r.error().line == 0);
}

namespace {

// What the kernel is given for a rule: each match's and the target's x_tables form.
std::vector<XtInfo> blobs(const Rule& r) {
    std::vector<XtInfo> out;
    for (const auto& m : r.matches) out.push_back(m.data->to_xt(r));
    if (r.target.kind) out.push_back(r.target.data->to_xt(r));
    return out;
}

std::string hex_bytes(const std::vector<uint8_t>& d) {
    std::string out;
    char b[4];
    for (uint8_t x : d) std::snprintf(b, sizeof b, "%02x", x), out += b;
    return out;
}

// Stores `rs` and reloads it; every rule must come back with the same kernel blobs.
void check_reload(const Ruleset& rs) {
    auto back = deserialize_ruleset(serialize_ruleset(rs), rs.family);
    REQUIRE(back);
    for (const Table& t : rs.tables)
        for (const Chain& a : t.chains) {
            const Chain* b = back->find(t.name)->find(a.name);
            REQUIRE((b && a.rules.size() == b->rules.size()));
            for (size_t i = 0; i < a.rules.size(); ++i) {
                const auto x = blobs(a.rules[i]), y = blobs(b->rules[i]);
                REQUIRE(x.size() == y.size());
                INFO("stored as: ", rule_to_save(t.family, a.rules[i], a.name, CounterStyle::none, true));
                for (size_t k = 0; k < x.size(); ++k) {
                    INFO(x[k].name, " before ", hex_bytes(x[k].data), "\n after ", hex_bytes(y[k].data));
                    CHECK(x[k].name == y[k].name);
                    CHECK(x[k].rev == y[k].rev);
                    CHECK(x[k].data == y[k].data);
                }
                CHECK(a.rules[i].same_as(b->rules[i]));
            }
        }
}

// One rule command (argv without the program name) into an empty ruleset; false when it
// is refused (a case that checks an error).
bool one_rule(Ruleset& rs, const std::vector<std::string>& argv) {
    ParseOptions po;
    po.brand.family = rs.family;
    auto parsed = parse_command(argv, po);
    if (!parsed || !std::holds_alternative<Command>(*parsed)) return false;
    return bool(apply_command(rs, std::get<Command>(*parsed)));
}

}  // namespace

// The stored text must give back what the kernel was given, not only what iptables-save
// prints: iptables-save leaves out parts of a match that still count (`! --sport 0:65535`
// prints as nothing and never matches), and a rule that lost them after a reload would
// be judged otherwise. Every accepted rule of iptables' extension vectors, and every rule
// command of the differential cases (tests/diff/cases), goes through a store and a
// reload, and must come back with the same kernel blobs.
TEST_CASE("stored state keeps every rule's kernel form (iptables' vectors, the diff cases)") {
    namespace fs = std::filesystem;
    size_t checked = 0;
    const fs::path dir = fs::path(xdpt::test::iptables_tests_dir()) / "extensions";
    if (fs::is_directory(dir))
        for (const auto& entry : fs::directory_iterator(dir)) {
            const std::string file = entry.path().filename().string();
            if (!(file.starts_with("libxt_") || file.starts_with("libipt_")) || !file.ends_with(".t")) continue;
            for (const auto& v : xdpt::test::read_vectors(file)) {
                if (v.result == "FAIL" || v.chains.empty()) continue;
                auto words = grammar::tokenize_restore_line(v.args);
                if (!words) continue;
                std::vector<std::string> argv{"-t", v.table, "-A", v.chains.front()};
                argv.insert(argv.end(), words->begin(), words->end());
                Ruleset rs;
                if (!one_rule(rs, argv)) continue;
                INFO(file, ":", v.line, " ", v.args);
                check_reload(rs);
                ++checked;
            }
        }
    // The diff cases: every line that is one plain iptables or ip6tables rule command.
    const fs::path cases = fs::path(xdpt::test::source_dir()) / "tests" / "diff" / "cases";
    REQUIRE(fs::is_directory(cases));
    size_t from_cases = 0;
    for (const auto& entry : fs::directory_iterator(cases)) {
        std::ifstream in(entry.path());
        for (std::string line; std::getline(in, line);) {
            const bool v6 = line.starts_with("ip6tables ");
            if (!(line.starts_with("iptables ") || v6) || line.find_first_of("|<>;&$`") != std::string::npos) continue;
            auto words = grammar::tokenize_restore_line(line);
            if (!words || words->size() < 3) continue;
            words->erase(words->begin());
            if (std::none_of(words->begin(), words->end(), [](const std::string& w) {
                    return w == "-A" || w == "-I" || w == "--append" || w == "--insert";
                }))
                continue;
            Ruleset rs;
            rs.family = v6 ? Family::ipv6 : Family::ipv4;
            if (!one_rule(rs, *words)) continue;
            INFO(entry.path().filename().string(), ": ", line);
            check_reload(rs);
            ++from_cases;
        }
    }
    CHECK(from_cases > 300);
    MESSAGE(checked, " vector rules and ", from_cases, " diff case rules stored and reloaded");
}

TEST_CASE("stored state: an inverted full port range (never matches) survives a reload") {
    Ruleset rs;
    REQUIRE(run(rs, {"-A", "FORWARD", "-p", "tcp", "-m", "tcp", "!", "--sport", ":65535", "-j", "ACCEPT"}));
    REQUIRE(run(rs, {"-A", "FORWARD", "-p", "udp", "!", "--dport", "0:65535", "-j", "ACCEPT"}));
    // iptables-save prints neither range, as iptables-legacy-save does
    CHECK(save(rs).find("-A FORWARD -p tcp -m tcp -j ACCEPT\n") != std::string::npos);
    auto back = deserialize_ruleset(serialize_ruleset(rs), Family::ipv4);
    REQUIRE(back);
    const auto& rules = back->find("filter")->find("FORWARD")->rules;
    REQUIRE(rules.size() == 2);
    // and XDP compiles both as never matching
    std::string why;
    CHECK(dp::rule_cond(rules[0], Family::ipv4, why).sport.empty());
    CHECK(dp::rule_cond(rules[1], Family::ipv4, why).dport.empty());
    CHECK(why.empty());
}
