// The iptables 1.8.9 conformance vectors (extensions/*.t) that use the target extensions,
// and the target part of every rule in the saved rulesets (dumps/), read from the shared
// data directory (see its README.md for the formats).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/matches/support.hpp"
#include "tests/unit/targets/target_test.hpp"

using namespace xdpt;
using namespace xdpt::test;
using namespace xdpt::test::tgt;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

// One rule's arguments as iptables -A takes them, reduced to what a target sees.
struct ParsedRule {
    Rule rule;
    const ExtKind* kind = nullptr;  // null: not one of the targets under test
    std::string target;
    Opts opts;
    bool cli_error = false;  // refused by the command line parser (unknown option, no argument)
};

uint16_t proto_number(const std::string& p) {
    if (p == "tcp") return 6;
    if (p == "udp") return 17;
    if (p == "icmp") return 1;
    if (p == "all") return 0;
    return static_cast<uint16_t>(grammar::to_uint(p, 0, 255).value_or(0));
}

ParsedRule parse_rule(const std::vector<std::string>& tok) {
    ParsedRule out;
    bool inv = false;
    size_t i = 0;
    for (; i < tok.size() && tok[i] != "-j"; ++i) {
        const std::string& t = tok[i];
        if (t == "!") {
            inv = true;
            continue;
        }
        if ((t == "-p" || t == "--protocol") && i + 1 < tok.size()) {
            out.rule.proto = proto_number(tok[++i]);
            out.rule.inv_proto = inv;
        } else if (t == "-m" && i + 1 < tok.size()) {
            const std::string name = tok[++i];
            std::string text;
            while (i + 1 < tok.size() && tok[i + 1] != "-m" && tok[i + 1] != "-j") text += " " + tok[++i];
            add_match(out.rule, name == "tcp" ? &fake_tcp : &fake_other, text);
        } else if (t != "-f") {
            ++i;  // -s, -d, -i, -o and their value
        }
        inv = false;
    }
    if (i + 1 >= tok.size()) return out;
    out.target = tok[i + 1];
    out.kind = target_kind(out.target);
    if (!out.kind) return out;
    for (i += 2; i < tok.size(); ++i) {
        const std::string& t = tok[i];
        if (t == "!") {
            out.opts.push_back({"!", ""});
            continue;
        }
        const OptDef* def = nullptr;
        for (const auto& o : out.kind->opts)
            if (t == "--" + std::string(o.name)) def = &o;
        if (!def || (def->has_arg && i + 1 >= tok.size())) {
            out.cli_error = true;
            return out;
        }
        out.opts.push_back({t, def->has_arg ? tok[++i] : std::string()});
    }
    return out;
}

// Text from "-j NAME" on, as iptables-save would print it.
std::string target_text(const ParsedRule& p, const ExtRun& r) { return "-j " + p.target + r.save; }

}  // namespace

TEST_CASE("conformance: extensions/*.t lines for the targets" * doctest::test_suite("vectors")) {
    for (const std::string file : {"libipt_REJECT.t", "libipt_LOG.t", "libxt_NFLOG.t", "libxt_MARK.t",
                                   "libxt_CONNMARK.t", "libxt_NFQUEUE.t", "libxt_TEE.t"}) {
        CAPTURE(file);
        const auto vectors = read_vectors(file);
        REQUIRE_MESSAGE(!vectors.empty(), (std::string("cannot read ") + file + " in " + iptables_tests_dir()));
        int covered = 0;
        for (const Vector& v : vectors) {
            const std::string& args = v.args;
            const std::string& expected = v.expected;
            const std::string& result = v.result;
            const std::string& table = v.table;
            const auto& chains = v.chains;
            CAPTURE(v.line);
            REQUIRE(!result.empty());
            const auto tokens = grammar::tokenize_restore_line(args);
            REQUIRE(tokens);
            const ParsedRule p = parse_rule(*tokens);
            if (!p.kind) continue;
            ++covered;
            const std::string prefix = args.substr(0, args.find("-j "));
            for (const auto& chain : chains) {
                CAPTURE(chain);
                ExtRun r;
                bool kernel = false;
                if (!p.cli_error) {
                    r = run_ext(p.kind, p.opts, p.rule, table);
                    kernel = kernel_ok(p.kind, p.opts, p.rule, table, chain);
                }
                if (result == "FAIL") {
                    CHECK((p.cli_error || !r.ok || !kernel));
                } else {
                    REQUIRE_FALSE(p.cli_error);
                    CHECK(r.ok);
                    CHECK(kernel);
                    if (result == "OK")
                        CHECK(prefix + target_text(p, r) == expected);
                    else
                        CHECK(prefix + target_text(p, r) != expected);
                }
            }
        }
        CHECK(covered > 0);
    }
}

TEST_CASE("conformance: targets in the saved rulesets read back identically" * doctest::test_suite("vectors")) {
    const fs::path dir = iptables_tests_dir();
    REQUIRE(fs::is_directory(dir / "dumps"));
    int covered = 0;
    for (const auto& entry : fs::directory_iterator(dir / "dumps")) {
        const std::string name = entry.path().filename().string();
        if (name.find("ip6") != std::string::npos) continue;  // IPv6 rulesets: ip6tables' targets
        CAPTURE(name);
        std::string table = "filter";
        for (std::string line : read_lines(entry.path())) {
            if (line.starts_with("*")) table = line.substr(1);
            if (line.starts_with("[")) line.erase(0, line.find("] ") + 2);  // "[0:0] -A ..." (save -c)
            if (!line.starts_with("-A ")) continue;
            CAPTURE(line);
            const auto tokens = grammar::tokenize_restore_line(line);
            REQUIRE(tokens);
            const std::vector<std::string> args(tokens->begin() + 2, tokens->end());
            const ParsedRule p = parse_rule(args);
            if (!p.kind) continue;
            ++covered;
            REQUIRE_FALSE(p.cli_error);
            const ExtRun r = run_ext(p.kind, p.opts, p.rule, table);
            REQUIRE(r.ok);
            const auto at = line.find(" -j " + p.target);
            CHECK(line.substr(at + 1) == target_text(p, r));
            CHECK(kernel_ok(p.kind, p.opts, p.rule, table, (*tokens)[1]));
        }
    }
    CHECK(covered == 24);  // REJECT LOG NFLOG TCPMSS CT CHECKSUM lines of the IPv4 dumps
}
