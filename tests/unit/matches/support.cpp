#include "tests/unit/matches/support.hpp"

#include <array>
#include <cstdlib>
#include <fstream>

#include "core/netdb.hpp"
#include "core/str.hpp"
#include "ext/ext.hpp"
#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt::test {

extern const char* const configured_iptables_tests_dir;
extern const char* const configured_source_dir;

namespace {

// Every match the registry knows.
const ExtKind* find_kind(std::string_view name) { return find_match(name); }

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// What a shell makes of a vector's rule (iptables-test.py runs it through one): words
// split at blanks outside double quotes, the quotes removed.
std::vector<std::string> shell_words(std::string_view s) {
    std::vector<std::string> out;
    std::string word;
    bool quoted = false, any = false;
    for (char c : s) {
        if (c == '"') {
            quoted = !quoted, any = true;
        } else if (!quoted && (c == ' ' || c == '\t')) {
            if (any) out.push_back(std::move(word));
            word.clear(), any = false;
        } else {
            word += c, any = true;
        }
    }
    if (any) out.push_back(std::move(word));
    return out;
}

const OptDef* find_opt(const ExtKind& kind, std::string_view name) {
    for (const auto& o : kind.opts)
        if (o.name == name) return &o;
    return nullptr;
}

bool listed(std::string_view list, std::string_view item) {
    if (list.empty()) return true;
    for (auto part : grammar::split(list, ','))
        if (part == item) return true;
    return false;
}

// The rule runner's state: what has been parsed so far.
struct RuleParser {
    std::string_view table, chain;
    std::vector<std::string> argv;
    size_t next = 0;
    Rule rule;
    std::vector<ExtInst> matches;
    std::string addr_text, notices;
    bool invert = false, proto_loaded = false;

    RuleRun fail(std::string msg) { return RuleRun{false, {}, std::move(msg), notices}; }

    ExtCtx context(bool parsing) {
        ExtCtx c;
        c.rule = &rule;
        c.table = table;
        if (parsing) {
            c.argv = &argv;
            c.next = &next;
        }
        c.notices = &notices;
        c.hooks = {std::string(chain)};
        return c;
    }

    // The option in the most recently loaded match that has it (libxtables merges newer
    // option tables first); loads the protocol's match on demand like iptables.
    std::pair<ExtInst*, const OptDef*> option(std::string_view name) {
        for (auto it = matches.rbegin(); it != matches.rend(); ++it)
            if (const OptDef* o = find_opt(*it->kind, name)) return {&*it, o};
        if (rule.proto == 0 || proto_loaded) return {nullptr, nullptr};
        auto pname = netdb::builtin_protocol_name(rule.proto);
        const ExtKind* k = pname ? find_kind(*pname) : nullptr;
        if (!k) return {nullptr, nullptr};
        proto_loaded = true;
        matches.emplace_back(k);
        return option(name);
    }

    std::optional<RuleRun> step() {
        const std::string a = argv[next++];
        if (a == "!") {
            invert = true;
            return std::nullopt;
        }
        if (a == "-s" || a == "-d" || a == "-p" || a == "-m") {
            if (next >= argv.size()) return fail(str("option \"", a, "\" requires an argument"));
            const std::string v = argv[next++];
            if (a == "-m") {
                const ExtKind* k = find_kind(v);
                if (!k) return fail(str("Couldn't load match `", v, "'"));
                matches.emplace_back(k);
            } else if (a == "-p") {
                auto p = netdb::parse_protocol(v);
                if (!p) return fail(str("unknown protocol \"", v, "\" specified"));
                rule.proto = *p;
                rule.inv_proto = invert;
            } else {
                addr_text += str(invert ? "! " : "", a, ' ', v, ' ');
            }
            invert = false;
            return std::nullopt;
        }
        if (a.rfind("--", 0) != 0) return fail(str("Bad argument `", a, "'"));
        auto [inst, opt] = option(std::string_view(a).substr(2));
        if (!inst) return fail(str("unknown option \"", a, "\""));
        std::string arg;
        if (opt->has_arg) {
            if (next >= argv.size()) return fail(str("option \"", a, "\" requires an argument"));
            arg = argv[next++];
        }
        auto r = ext_parse_option(*inst, *opt, arg, invert, context(true));
        invert = false;
        if (!r) return fail(r.error().msg);
        return std::nullopt;
    }

    RuleRun finish() {
        const ExtCtx ctx = context(false);
        for (auto& m : matches)
            if (auto r = ext_finish(m, ctx); !r) return fail(r.error().msg);
        for (auto& m : matches)
            if (!listed(m.kind->tables, table) || !listed(m.kind->hooks, chain) ||
                !m.data->kernel_accepts(rule, ctx))
                return fail("Invalid argument");
        std::string save = addr_text;
        if (rule.proto != 0 || rule.inv_proto)
            save += str(rule.inv_proto ? "! " : "", "-p ",
                        netdb::protocol_name(rule.proto).value_or(std::to_string(rule.proto)), ' ');
        for (auto& m : matches) save += str("-m ", m.kind->name, m.save_text(), ' ');
        if (!save.empty()) save.pop_back();
        return RuleRun{true, save, {}, notices};
    }
};

}  // namespace

Rule proto_rule(uint16_t proto, bool inverted) {
    Rule r;
    r.proto = proto;
    r.inv_proto = inverted;
    return r;
}

ExtRun run(const ExtKind& kind, std::string_view options, const Rule& rule, std::string_view table) {
    std::vector<std::pair<std::string, std::string>> opts;
    auto w = words(options);
    for (size_t i = 0; i < w.size(); ++i) {
        const OptDef* o = w[i].rfind("--", 0) == 0 ? find_opt(kind, std::string_view(w[i]).substr(2)) : nullptr;
        if (!o) {
            opts.emplace_back(w[i], "");
            continue;
        }
        const std::string name = w[i];
        const std::string arg = o->has_arg && i + 1 < w.size() ? w[++i] : "";
        opts.emplace_back(name, arg);
        if (o->name == "tcp-flags" && i + 1 < w.size()) opts.emplace_back("", w[++i]);
    }
    return run_ext(&kind, opts, rule, table);
}

RuleRun run_rule(std::string_view args, std::string_view table, std::string_view chain) {
    RuleParser p;
    p.table = table;
    p.chain = chain;
    p.argv = shell_words(args);
    while (p.next < p.argv.size())
        if (auto r = p.step()) return *r;
    return p.finish();
}

std::string source_dir() { return configured_source_dir; }

std::string iptables_tests_dir() {
    if (const char* env = std::getenv("XDPT_IPT_TESTS_DIR")) return env;
    return configured_iptables_tests_dir;
}

std::vector<Vector> read_vectors(std::string_view file) {
    std::ifstream in(str(iptables_tests_dir(), "/extensions/", file));
    std::vector<Vector> out;
    std::string line, table = "filter";
    std::vector<std::string> chains;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.empty() || line[0] == '#' || line[0] == '@' || line[0] == '%') continue;
        if (line[0] == ':') {
            chains.clear();
            for (auto c : grammar::split(std::string_view(line).substr(1), ',')) chains.emplace_back(c);
            continue;
        }
        if (line[0] == '*') {
            table = line.substr(1);
            continue;
        }
        auto f = grammar::split(line, ';');
        if (f.size() < 3) continue;
        Vector v{n, table, std::string(f[0]), std::string(f[1]), std::string(f[2]), chains};
        if (v.expected == "=") v.expected = v.args;
        // A line marked NFT holds for nft; for legacy its result flips (or ALT applies).
        if (f.size() > 3 && f[3] == "NFT")
            v.result = f.size() > 4 ? std::string(f[4]) : v.result == "OK" ? "FAIL" : "OK";
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace xdpt::test
