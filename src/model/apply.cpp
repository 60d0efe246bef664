#include "model/apply.hpp"

#include <algorithm>
#include <optional>
#include <map>
#include <set>

#include "core/str.hpp"
#include "grammar/values.hpp"
#include "model/print.hpp"

namespace xdpt {

namespace {

const char* const no_chain = "No chain/target/match by that name";

std::unexpected<Error> einval() {
    return fail(Exit::other, "Invalid argument", Error::Style::runtime_dmesg);
}

bool list_contains(std::string_view list, std::string_view item) {
    if (list.empty()) return true;
    for (auto part : grammar::split(list, ','))
        if (part == item) return true;
    return false;
}

}  // namespace

std::map<std::string, std::set<std::string>> reaching_hooks(const Table& t) {
    std::map<std::string, std::set<std::string>> hooks;
    for (const auto& c : t.chains) {
        if (!c.builtin) continue;
        std::vector<const Chain*> todo{&c};
        std::set<std::string> seen{c.name};
        while (!todo.empty()) {
            const Chain* cur = todo.back();
            todo.pop_back();
            hooks[cur->name].insert(c.name);
            for (size_t i = 0, live = cur->live_end(); i < live; ++i) {
                const Rule& r = cur->rules[i];
                if (r.target.kind || r.target_name.empty()) continue;
                const Chain* next = t.find(r.target_name);
                if (next && !next->builtin && seen.insert(next->name).second) todo.push_back(next);
            }
        }
    }
    return hooks;
}

bool fits_hooks(const ExtInst& e, const std::set<std::string>& hooks) {
    if (!e.kind || e.kind->hooks.empty()) return true;
    for (const auto& h : hooks)
        if (!list_contains(e.kind->hooks, h)) return false;
    return true;
}

namespace {

// A jump loop reachable from a builtin chain (the kernel's mark_source_chains).
bool has_reachable_loop(const Table& t) {
    std::map<std::string, int> state;  // 0 new, 1 on stack, 2 done
    auto dfs = [&](auto&& self, const Chain& c) -> bool {
        state[c.name] = 1;
        for (size_t i = 0, live = c.live_end(); i < live; ++i) {
            const Rule& r = c.rules[i];
            if (r.target.kind || r.target_name.empty()) continue;
            const Chain* next = t.find(r.target_name);
            if (!next || next->builtin) continue;
            int s = state[next->name];
            if (s == 1) return true;
            if (s == 0 && self(self, *next)) return true;
        }
        state[c.name] = 2;
        return false;
    };
    for (const auto& c : t.chains)
        if (c.builtin && state[c.name] == 0 && dfs(dfs, c)) return true;
    return false;
}

Chain* need_chain(Table& t, const std::string& name, Result<void>& err) {
    Chain* c = t.find(name);
    if (!c) err = runtime_fail(no_chain);
    return c;
}

// The rules one command line stands for: one per source x destination address.
std::vector<Rule> expand(const Command& c) {
    std::vector<Rule> out;
    for (const auto& s : c.srcs)
        for (const auto& d : c.dsts) {
            Rule r = c.rule;
            r.src = s;
            r.dst = d;
            out.push_back(std::move(r));
        }
    return out;
}

// Resolves the target named by -j/-g against the table (do_command4's target logic).
Result<void> resolve_target(const Table& t, Command& c) {
    const std::string& j = c.jumpto;
    if (c.rule.target.kind) return {};
    if (j.empty() || is_standard_verdict(j) || t.find(j)) {
        if (c.rule.is_goto && (j.empty() || !t.find(j) || is_standard_verdict(j)))
            return param_fail(str("goto '", j, "' is not a chain"));
        if (t.find(j) && t.find(j)->builtin) return einval();  // jumping to a builtin chain
        return {};
    }
    if (c.rule.is_goto) return param_fail(str("goto '", j, "' is not a chain"));
    return param_fail(str("Couldn't load target `", j, "':No such file or directory\n"));
}

std::vector<const Chain*> selected_chains(const Table& t, const std::optional<std::string>& name,
                                          bool builtins_too) {
    std::vector<const Chain*> out;
    for (const auto& c : t.chains)
        if ((!name || c.name == *name) && (builtins_too || !c.builtin)) out.push_back(&c);
    return out;
}

}  // namespace

void reset_policy_counters(Table& t, std::string_view except) {
    for (auto& ch : t.chains)
        if (ch.builtin && ch.name != except) ch.set_counters({});
}

Result<void> kernel_check_table(const Table& t) {
    // translate_table: the loop check (mark_source_chains) comes before the entries'.
    if (has_reachable_loop(t)) return runtime_fail("Too many levels of symbolic links");
    auto hooks = reaching_hooks(t);
    // Kernel objects that rules share by name (ExtData::kernel_shared): the first rule
    // creates the object and fixes its kind, later ones must agree.
    std::map<std::pair<std::string_view, std::string>, std::string> shared;
    for (const auto& c : t.chains)
        for (size_t i = 0, live = c.live_end(); i < c.rules.size(); ++i) {
            const Rule& r = c.rules[i];
            // A dead rule is checked as the kernel checks one it never walked to: for no
            // hook.
            static const std::set<std::string> none;
            const std::set<std::string>& at = i < live ? hooks[c.name] : none;
            ExtCtx ctx;
            ctx.rule = &r;
            ctx.table = t.name;
            ctx.family = t.family;
            ctx.hooks.assign(at.begin(), at.end());
            auto check = [&](const ExtInst& e) -> Result<void> {
                if (!list_contains(e.kind->tables, t.name)) return einval();
                if (!fits_hooks(e, at)) return einval();
                if (!e.data->kernel_accepts(r, ctx)) {
                    switch (e.data->refusal_errno()) {
                        case ERANGE: return runtime_fail("Numerical result out of range");
                        case ENOENT: return runtime_fail(no_chain);
                        default: return einval();
                    }
                }
                if (auto obj = e.data->kernel_shared()) {
                    auto [it, fresh] = shared.try_emplace({e.kind->name, obj->first}, obj->second);
                    if (!fresh && it->second != obj->second) return einval();
                }
                return {};
            };
            for (const auto& m : r.matches)
                if (auto ok = check(m); !ok) return ok;
            if (r.target.kind)
                if (auto ok = check(r.target); !ok) return ok;
        }
    return {};
}

namespace {

// apply_command's work; what it prints goes to `a` even when it fails afterwards.
Result<void> apply_into(Ruleset& rs, Command& c, bool standalone, Applied& a) {
    if (!builtin_chains(c.table))
        return fail(Exit::version,
                    str("can't initialize ", spec_of(rs.family).iptables, " table `", c.table, "': ",
                        // libiptc's TC_INIT refuses a name too long for the kernel with EINVAL.
                        c.table.size() >= 32 ? "Module is wrong version" : "Table does not exist (do you need to insmod?)"));
    // Refused before libiptc loads the table (what fails later leaves it loaded).
    if (c.cmd == CMD_REPLACE && (c.srcs.size() != 1 || c.dsts.size() != 1))
        return param_fail("Replacement rule does not specify a unique address");
    const bool existed = rs.find(c.table) != nullptr;
    Table& t = rs.instantiate(c.table);
    a.changed = !existed;
    Result<void> err;
    const bool verbose = c.verbose > 0;
    // -F, -Z and -X name a chain (-v) before libiptc finds it missing.
    auto missing_chain = [&](std::string_view doing) {
        if (verbose) a.out += str(doing, " chain `", *c.chain, "'\n");
        return runtime_fail(no_chain);
    };

    if (c.rule_command()) {
        // iptables echoes each rule (-v) before libiptc looks at its chain and target.
        if (verbose) {
            auto rules = expand(c);
            if (c.cmd == CMD_REPLACE) rules.resize(1);
            for (const auto& r : rules) a.out += rule_echo(rs.family, r);
        }
        if (auto r = resolve_target(t, c); !r) return std::unexpected(r.error());
    }

    switch (c.cmd) {
        case CMD_APPEND:
        case CMD_INSERT:
        case CMD_REPLACE: {
            auto rules = expand(c);
            Chain* ch = need_chain(t, *c.chain, err);
            if (!ch) return std::unexpected(err.error());
            if (!standalone)
                for (auto& r : rules) {
                    r.uncommitted = true;
                    if (!c.rule.target.kind && !is_standard_verdict(c.jumpto) && t.find(c.jumpto))
                        r.uncommitted_jump = c.jumpto;
                }
            if (c.cmd == CMD_APPEND) {
                for (auto& r : rules) ch->rules.push_back(std::move(r));
            } else if (c.cmd == CMD_INSERT) {
                if (c.rulenum - 1 > ch->rules.size()) return runtime_fail("Index of insertion too big");
                for (auto& r : rules) ch->rules.insert(ch->rules.begin() + (c.rulenum - 1), std::move(r));
            } else {
                if (c.rulenum > ch->rules.size()) return runtime_fail("Index of replacement too big");
                ch->rules[c.rulenum - 1] = std::move(rules.front());
            }
            a.changed = true;
            break;
        }
        case CMD_DELETE:
        case CMD_CHECK: {
            // Every address combination is tried (and echoed) even after one failed.
            Chain* ch = t.find(*c.chain);
            for (const auto& r : expand(c)) {
                auto it = ch ? std::find_if(ch->rules.begin(), ch->rules.end(),
                                            [&](const Rule& x) { return x.same_as(r); })
                             : std::vector<Rule>::iterator{};
                if (!ch || it == ch->rules.end()) {
                    if (err) {  // the first failure is the one reported
                        // libiptc looks a chain or extension target up with iptc_builtin(),
                        // which leaves ENOENT to be explained as a missing name.
                        const bool named = ch && !r.target_name.empty() && !is_standard_verdict(r.target_name);
                        err = runtime_fail(named ? no_chain : "Bad rule (does a matching rule exist in that chain?)");
                    }
                    continue;
                }
                if (c.cmd == CMD_DELETE) {
                    ch->rules.erase(it);
                    a.changed = true;
                }
            }
            if (!err) return err;
            break;
        }
        case CMD_DELETE_NUM: {
            Chain* ch = need_chain(t, *c.chain, err);
            if (!ch) return std::unexpected(err.error());
            if (c.rulenum > ch->rules.size()) return runtime_fail("Index of deletion too big");
            ch->rules.erase(ch->rules.begin() + (c.rulenum - 1));
            a.changed = true;
            break;
        }
        case CMD_FLUSH: {
            if (c.chain && !t.find(*c.chain)) return missing_chain("Flushing");
            for (const Chain* sel : selected_chains(t, c.chain, true)) {
                if (verbose) a.out += str("Flushing chain `", sel->name, "'\n");
                t.find(sel->name)->rules.clear();
            }
            a.changed = true;  // libiptc commits a flush even of empty chains
            break;
        }
        case CMD_ZERO:
        case CMD_ZERO_NUM:
        case CMD_LIST:
        case CMD_LIST_RULES:
        case CMD_LIST | CMD_ZERO:
        case CMD_LIST | CMD_ZERO_NUM:
        case CMD_LIST_RULES | CMD_ZERO:
        case CMD_LIST_RULES | CMD_ZERO_NUM: {
            if (c.chain && !t.find(*c.chain)) return c.cmd == CMD_ZERO ? missing_chain("Zeroing") : runtime_fail(no_chain);
            if (c.cmd & CMD_LIST) {
                ListFormat f{verbose, c.numeric(), (c.options & OPT_EXPANDED) != 0,
                             (c.options & OPT_LINENUMBERS) != 0};
                a.out += list_entries(t, c.chain, c.rulenum, f);
            }
            if (c.cmd & CMD_LIST_RULES) {
                std::string unknown;
                a.out += list_rules(t, c.chain, c.rulenum, verbose, &unknown);
                if (!unknown.empty())  // print_rule4's exit(1), not a libiptc failure
                    return fail(Exit::other, str("Can't find library for target `", unknown, "'\n"), Error::Style::bare);
            }
            // libiptc zeroes what it read from the kernel, at the commit. In a restore
            // the COMMIT resets the policy counters the block did not set (and keeps
            // those it did), and the rules the block added keep theirs; the others are
            // zeroed by the COMMIT (see zero_at_commit).
            auto zero = [&](Rule& r) {
                if (standalone) r.set_counters({});
                else if (!r.uncommitted) r.zero_at_commit = true;
            };
            if (c.cmd & CMD_ZERO) {
                for (const Chain* sel : selected_chains(t, c.chain, true)) {
                    if (verbose) a.out += str("Zeroing chain `", sel->name, "'\n");
                    Chain* ch = t.find(sel->name);
                    if (standalone) ch->set_counters({});
                    for (auto& r : ch->rules) zero(r);
                }
                a.changed = true;
            }
            if (c.cmd & CMD_ZERO_NUM) {
                Chain* ch = t.find(*c.chain);
                if (c.rulenum > ch->rules.size()) return runtime_fail("Index of counter too big");
                zero(ch->rules[c.rulenum - 1]);
                a.changed = true;
            }
            break;
        }
        case CMD_NEW_CHAIN:
            if (t.find(*c.chain)) return runtime_fail("Chain already exists");
            t.add_user_chain(*c.chain);
            a.changed = true;
            break;
        case CMD_DELETE_CHAIN: {
            if (c.chain && !t.find(*c.chain)) return missing_chain("Deleting");
            // Like libiptc: try every selected chain, report the last failure, and
            // change nothing if any failed.
            std::optional<Error> last;
            std::vector<std::string> doomed;
            for (const Chain* sel : selected_chains(t, c.chain, c.chain.has_value())) {
                if (verbose) a.out += str("Deleting chain `", sel->name, "'\n");
                if (sel->builtin) last = einval().error();
                else if (t.references(sel->name)) last = runtime_fail("Too many links").error();
                else if (!sel->rules.empty()) last = runtime_fail("Directory not empty").error();
                else doomed.push_back(sel->name);
            }
            if (last) return std::unexpected(*last);
            for (const auto& n : doomed) {
                const Chain* ch = t.find(n);
                t.chains.erase(t.chains.begin() + (ch - t.chains.data()));
                a.changed = true;
            }
            break;
        }
        case CMD_RENAME_CHAIN: {
            // TC_RENAME_CHAIN's order: the new name, the old chain, then the length.
            if (t.find(c.newname) || is_standard_verdict(c.newname)) return runtime_fail("File exists");
            Chain* ch = t.find(*c.chain);
            if (!ch || ch->builtin) return runtime_fail(no_chain);
            if (c.newname.size() > 31) return einval();
            // The kernel's chain head holds 29 characters: a longer name (30 or 31, which
            // libiptc lets through) is cut there.
            if (c.newname.size() > 29) c.newname.resize(29);
            Chain moved = std::move(*ch);
            t.chains.erase(t.chains.begin() + (ch - t.chains.data()));
            for (auto& other : t.chains)
                for (auto& r : other.rules)
                    if (!r.target.kind && r.target_name == *c.chain) r.retarget(c.newname);
            for (auto& r : moved.rules)
                if (!r.target.kind && r.target_name == *c.chain) r.retarget(c.newname);
            t.add_user_chain(c.newname).rules = std::move(moved.rules);
            a.changed = true;
            break;
        }
        case CMD_SET_POLICY: {
            Chain* ch = t.find(*c.chain);
            if (!ch || !ch->builtin) return runtime_fail("Bad built-in chain name");
            if (c.policy != "ACCEPT" && c.policy != "DROP")
                return fail(Exit::other, "Bad policy name", Error::Style::runtime_dmesg);
            ch->policy = c.policy;
            if (c.options & OPT_COUNTERS) ch->set_counters(c.rule.ctr), ch->counters_set = !standalone;
            a.changed = true;
            break;
        }
        default:
            return fail(Exit::parameter, "", Error::Style::bare);
    }
    if (a.changed && standalone) {
        if (auto r = kernel_check_table(t); !r) return std::unexpected(r.error());
        // Commands that only instantiated the table (-L, -S, -C) commit nothing.
        if (c.cmd & ~(CMD_LIST | CMD_LIST_RULES | CMD_CHECK))
            reset_policy_counters(t, c.cmd == CMD_SET_POLICY && (c.options & OPT_COUNTERS) ? *c.chain : "");
    }
    return {};
}

}  // namespace

namespace {

// TC_STRERROR names an errno after the libiptc function that ran last. Once -v -v has
// dumped the table that function is TC_DUMP_ENTRIES, for which only the generic names
// are left, or strerror().
std::string generic_message(const std::string& m) {
    static constexpr std::pair<std::string_view, std::string_view> by_function[] = {
        {"Chain already exists", "File exists"},
        {"Index of insertion too big", "Argument list too long"},
        {"Index of replacement too big", "Argument list too long"},
        {"Index of deletion too big", "Argument list too long"},
        {"Index of counter too big", "Argument list too long"},
        {"Bad rule (does a matching rule exist in that chain?)", no_chain},
        {"Bad built-in chain name", no_chain},
        {"Bad policy name", "Invalid argument"},
    };
    for (auto [name, generic] : by_function)
        if (m == name) return std::string(generic);
    return m;
}

}  // namespace

Result<Applied> apply_command(Ruleset& rs, Command& c, bool standalone, const Table* loaded) {
    Applied a;
    std::optional<Table> before;
    if (c.verbose > 1 && !loaded && builtin_chains(c.table))
        before = rs.find(c.table) ? *rs.find(c.table) : make_table(c.table, rs.family);
    auto r = apply_into(rs, c, standalone, a);
    // do_command4 dumps libiptc's table (-v -v) after the command, whether libiptc
    // failed or not; what fails before the table is read leaves none.
    const bool libiptc_ran = r || r.error().style == Error::Style::runtime || r.error().style == Error::Style::runtime_dmesg;
    const bool dumped = c.verbose > 1 && libiptc_ran && (loaded || before);
    if (dumped) a.out += dump_entries(loaded ? *loaded : *before);
    if (!r) {
        // What iptables printed before libiptc failed (parameter problems come first).
        Error e = r.error();
        if (dumped) e.msg = generic_message(e.msg);
        if (e.code != Exit::parameter) e.out = std::move(a.out);
        return std::unexpected(std::move(e));
    }
    return a;
}

}  // namespace xdpt
