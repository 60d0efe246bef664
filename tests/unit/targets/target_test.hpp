// Helpers for the target extension tests: the kinds under test, the kernel-side checks
// (table, hook, checkentry) that iptables only learns about from EINVAL, and a stand-in
// match whose save text is given, for targets that look at the rule's matches.
#pragma once
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ext/ext.hpp"
#include "grammar/values.hpp"
#include "model/ruleset.hpp"
#include "tests/unit/ext_helpers.hpp"

namespace xdpt {
extern const ExtKind target_REJECT, target_LOG, target_NFLOG, target_TCPMSS, target_CT,
    target_CHECKSUM, target_MARK, target_NOTRACK;
}

namespace xdpt::test::tgt {

using Opts = std::vector<std::pair<std::string, std::string>>;

// Every target the registry knows.
inline const ExtKind* target_kind(std::string_view name) { return find_target(name); }

// Whether `item` is in the comma separated `list` (an empty list allows everything).
inline bool list_allows(std::string_view list, std::string_view item) {
    if (list.empty()) return true;
    for (auto e : grammar::split(list, ','))
        if (e == item) return true;
    return false;
}

// Parses the options like run_ext, then asks what the kernel would say about the rule
// in `table`/`chain`: true when iptables -A would succeed.
inline bool kernel_ok(const ExtKind* kind, const Opts& opts, const Rule& rule = {},
                      std::string_view table = "filter", std::string_view chain = "INPUT") {
    ExtInst inst;
    if (!run_ext(kind, opts, rule, table, &inst).ok) return false;
    if (!list_allows(kind->tables, table)) return false;
    if (auto builtins = builtin_chains(table)) {
        bool builtin = false;
        for (auto c : *builtins) builtin = builtin || c == chain;
        if (builtin && !list_allows(kind->hooks, chain)) return false;
    }
    ExtCtx ctx;
    ctx.rule = &rule;
    ctx.table = table;
    return inst.data->kernel_accepts(rule, ctx);
}

// A match that only knows its save text (" --tcp-flags FIN,SYN,RST,ACK SYN").
struct FakeMatchData : ExtData {
    std::string text;
    std::unique_ptr<ExtData> clone() const override { return std::make_unique<FakeMatchData>(*this); }
    Result<void> parse(const OptDef&, std::string_view, bool, const ExtCtx&) override { return {}; }
    void save(std::string& out) const override { out += text; }
    void print(std::string& out, bool) const override { out += text; }
};
inline std::unique_ptr<ExtData> make_fake_match() { return std::make_unique<FakeMatchData>(); }
inline const ExtKind fake_tcp{.name = "tcp", .opts = {}, .make = make_fake_match};
inline const ExtKind fake_other{.name = "other", .opts = {}, .make = make_fake_match};

inline void add_match(Rule& rule, const ExtKind* kind, std::string text) {
    ExtInst m(kind);
    static_cast<FakeMatchData&>(*m.data).text = std::move(text);
    rule.matches.push_back(std::move(m));
}

inline Rule tcp_rule(std::string tcp_match_text = {}) {
    Rule r;
    r.proto = 6;
    if (!tcp_match_text.empty()) add_match(r, &fake_tcp, std::move(tcp_match_text));
    return r;
}

}  // namespace xdpt::test::tgt
