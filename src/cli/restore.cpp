#include "cli/restore.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "cli/command.hpp"
#include "core/str.hpp"
#include "grammar/values.hpp"
#include "model/apply.hpp"
#include "model/print.hpp"

namespace xdpt {

namespace {

std::unexpected<Error> at_line(Error e, int line) {
    e.line = line;
    return std::unexpected(std::move(e));
}

std::unexpected<Error> line_failed(const RestoreOptions& o, int line) {
    return fail(Exit::other, str(o.prog, ": line ", line, " failed\n"), Error::Style::bare);
}

// strtok(" \t\n") over a chain line.
std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
        size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// sscanf("[%llu:%llu]") on the policy counters (a sign is taken, "-1" wraps).
std::optional<Counters> scan_counters(std::string_view s) {
    unsigned long long p = 0, b = 0;
    if (std::sscanf(std::string(s).c_str(), "[%llu:%llu]", &p, &b) != 2) return std::nullopt;
    return Counters{p, b};
}

}  // namespace

namespace {

// iptables-restore reads with fgets(buffer, 10240): a line longer than 10239 bytes comes
// in pieces, each a line of its own (and counted as one); every piece is then used as a C
// string, so it ends at its first NUL byte.
constexpr size_t fgets_chunk = 10240 - 1;

// The input cut into lines, each with its newline (the last one may have none); `as_fgets`:
// the lines that iptables-restore's fgets() hands over (above), else whole lines (the
// stored state, which has no such limits).
std::vector<std::string_view> input_lines(std::string_view text, bool as_fgets) {
    std::vector<std::string_view> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
        if (as_fgets) end = std::min(end, pos + fgets_chunk);
        std::string_view piece = text.substr(pos, end - pos);
        lines.push_back(as_fgets ? piece.substr(0, piece.find('\0')) : piece);
        pos = end;
    }
    return lines;
}

// add_param_to_argv's limits (xshared.c): an argument is gathered in a 1024-byte buffer
// and refused when it reaches 1024 characters; the argument vector holds MAX_ARGC (255)
// pointers, the last one NULL, and its first three are the program name, "-t" and the
// table. The first limit met, in the order the line is read, is the error.
constexpr size_t param_buffer = 1024;
constexpr size_t max_argc = 255;
constexpr size_t implicit_args = 3;

Result<void> check_restore_limits(size_t before, const std::vector<std::string>& toks) {
    for (size_t k = 0; k < toks.size(); ++k) {
        if (toks[k].size() >= param_buffer) return param_fail("Parameter too long!");
        if (implicit_args + before + k + 1 >= max_argc) return param_fail("Parser cannot handle more arguments");
    }
    return {};
}

}  // namespace

static Result<void> restore_lines(Ruleset& rs, const std::vector<std::string_view>& lines, const RestoreOptions& o,
                           const std::function<Result<void>(Ruleset&)>& commit, std::string& out) {
    int line = 0;
    bool in_table = false;
    std::string curtable;
    Table* table = nullptr;
    // The new user chains of consecutive chain lines go into the table together, before
    // any other line (one merge instead of an insertion into the sorted chains per line:
    // 100,000 chains would be quadratic).
    std::vector<std::string> pending;
    std::optional<Table> loaded;
    std::unordered_set<std::string> pending_names;
    auto add_pending = [&] {
        if (pending.empty()) return;
        table->add_user_chains(std::move(pending));
        pending.clear();
        pending_names.clear();
    };
    // The -A lines of the table block under way, per chain, counted when it starts: each
    // chain's rules are reserved at once (a Rule is large, and a vector grown by doubling
    // copies and touches twice the memory: 10,000 stored rules read per command).
    std::unordered_map<std::string_view, size_t> appends;
    auto count_appends = [&](size_t from) {
        appends.clear();
        for (size_t i = from; i < lines.size() && lines[i] != "COMMIT\n"; ++i) {
            std::string_view l = lines[i];
            if (l.starts_with('[')) l.remove_prefix(std::min(l.size(), l.find(' ') + 1));
            if (!l.starts_with("-A ")) continue;
            l.remove_prefix(3);
            ++appends[l.substr(0, l.find_first_of(" \n"))];
        }
    };
    auto reserve_appends = [&] {
        if (appends.empty() || !table) return;
        for (auto& c : table->chains)
            if (auto it = appends.find(c.name); it != appends.end()) c.rules.reserve(c.rules.size() + it->second + 64);
        appends.clear();
    };
    for (std::string_view buf : lines) {
        ++line;
        bool ok = false;
        if (buf == "\n") continue;
        // A line that starts with a NUL byte is empty: a rule line without arguments.
        const char first = buf.empty() ? '\0' : buf[0];
        if (first != ':') {
            add_pending();
            reserve_appends();
        }
        if (first == '#') {
            if (o.verbose) out += std::string(buf);
            continue;
        }
        if (buf == "COMMIT\n" && in_table) {
            // libiptc's handle ends here: the policy counters the block did not set are
            // reset, what -Z marked is zeroed, and the next block of the table reads it
            // anew.
            for (auto& c : table->chains) {
                if (c.builtin && !c.counters_set) c.set_counters({});
                c.counters_set = false;
                for (auto& r : c.rules) {
                    if (r.zero_at_commit) r.set_counters({});
                    r.uncommitted = false, r.zero_at_commit = false, r.uncommitted_jump.clear();
                }
            }
            // --test never hands the table to iptables' kernel checks (as iptables-legacy's
            // libiptc, which meets them only at its commit), but it answers as the commit
            // would to what only xdptables refuses (nftables' limits).
            if (!o.test) {
                if (auto r = kernel_check_table(*table); !r) return line_failed(o, line);
                if (auto r = commit(rs); !r) return std::unexpected(r.error());
            } else if (o.check && kernel_check_table(*table)) {
                if (auto r = o.check(rs); !r) return std::unexpected(r.error());
            }
            in_table = false;
            table = nullptr;
            ok = true;
        } else if (first == '*' && !in_table) {
            auto w = words(buf.substr(1));
            if (w.empty()) return at_line(Error{Exit::parameter, str(o.prog, ": line ", line, " table name invalid")}, line);
            // The rule lines get the name cut to XT_TABLE_MAXNAMELEN; -T and the kernel
            // see it whole.
            const std::string_view name = w[0];
            curtable = std::string(name.substr(0, 32));
            if (o.only_table && *o.only_table != name) continue;
            if (!builtin_chains(name))
                return at_line(Error{Exit::parameter, str(o.prog, ": unable to initialize table '", name, "'")}, line);
            table = &rs.instantiate(curtable);
            // libiptc's copy of the kernel's table, which -v -v dumps.
            if (!o.stored) loaded = *table;
            if (o.tables_seen) o.tables_seen->push_back(curtable);
            if (!o.noflush) {
                if (o.verbose) {
                    for (const auto& c : table->chains) out += str("Flushing chain `", c.name, "'\n");
                    for (const auto& c : table->chains)
                        if (!c.builtin) out += str("Deleting chain `", c.name, "'\n");
                }
                for (auto& c : table->chains) c.rules.clear();
                std::erase_if(table->chains, [](const Chain& c) { return !c.builtin; });
            }
            in_table = true;
            count_appends(size_t(line));
            ok = true;
        } else if (first == ':' && in_table) {
            // The stored state quotes a chain name that has blanks (iptables -E allows them).
            std::optional<std::vector<std::string>> quoted;
            if (o.stored) quoted = grammar::tokenize_restore_line(buf.substr(1));
            auto w = quoted ? std::vector<std::string_view>(quoted->begin(), quoted->end()) : words(buf.substr(1));
            if (w.empty()) return at_line(Error{Exit::parameter, str(o.prog, ": line ", line, " chain name invalid")}, line);
            std::string chain(w[0]);
            if (chain.size() >= 29 && !o.stored)
                return at_line(Error{Exit::parameter, str("Invalid chain name `", chain, "' (28 chars max)")}, line);
            Chain* ch = table->find(chain);
            const bool exists = ch || pending_names.contains(chain);
            if (!ch || !ch->builtin) {
                if (o.noflush && exists) {
                    if (ch) ch->rules.clear();
                } else if (exists || is_standard_verdict(chain)) {  // iptc_create_chain: EEXIST
                    return at_line(Error{Exit::parameter, str("error creating chain '", chain, "':File exists")}, line);
                } else {
                    pending.push_back(chain);
                    pending_names.insert(chain);
                }
            }
            if (w.size() < 2) return at_line(Error{Exit::parameter, str(o.prog, ": line ", line, " policy invalid")}, line);
            std::string_view policy = w[1];
            if (policy != "-") {
                // Without -c the counters text is not even looked at, and the policy
                // counters restart from zero.
                Counters cnt{};
                if (o.counters) {
                    auto parsed = w.size() >= 3 ? scan_counters(w[2]) : std::nullopt;
                    if (!parsed)
                        return at_line(Error{Exit::parameter, str("invalid policy counters for chain '", chain, "'")}, line);
                    cnt = *parsed;
                }
                if (!ch || !ch->builtin)
                    return fail(Exit::other, str("Can't set policy `", policy, "' on `", chain, "' line ", line, ": Bad built-in chain name"));
                if (policy != "ACCEPT" && policy != "DROP")
                    return fail(Exit::other, str("Can't set policy `", policy, "' on `", chain, "' line ", line, ": Bad policy name"));
                ch->policy = std::string(policy);
                ch->set_counters(cnt);
                ch->counters_set = true;
            }
            ok = true;
        } else if (in_table) {
            std::string_view rest = buf;
            std::vector<std::string> argv;
            for (int i = 0; !o.noflush && i < o.verbose; ++i) argv.push_back("-v");
            auto ctr = tokenize_rule_counters(rest, line);
            if (!ctr) return std::unexpected(ctr.error());
            if (*ctr && o.counters) {
                argv.push_back("--set-counters");
                argv.push_back(std::string((*ctr)->pcnt));
                argv.push_back(std::string((*ctr)->bcnt));
            }
            auto toks = grammar::tokenize_restore_line(rest);
            if (!toks) return at_line(Error{Exit::parameter, "Parameter problem"}, line);
            if (!o.stored)
                if (auto r = check_restore_limits(argv.size(), *toks); !r) return at_line(r.error(), line);
            argv.insert(argv.end(), std::make_move_iterator(toks->begin()), std::make_move_iterator(toks->end()));
            ParseOptions po;
            po.restore = true;
            po.table = curtable;
            po.notices = o.notices;
            po.stored = o.stored;
            po.brand = o.brand;
            auto parsed = parse_command(argv, po);
            if (!parsed) return at_line(parsed.error(), line);
            if (auto* early = std::get_if<EarlyExit>(&*parsed)) {
                out += early->out;
                return fail(Exit::ok, "", Error::Style::bare);
            }
            auto& cmd = std::get<Command>(*parsed);
            if (cmd.cmd != CMD_NONE) {
                auto applied = apply_command(rs, cmd, false, loaded ? &*loaded : nullptr);
                if (!applied) {
                    // libiptc's failures; print_rule4's exit(1) comes out as it is.
                    if (applied.error().code == Exit::other && applied.error().style != Error::Style::bare) {
                        out += applied.error().out;  // -v echoed the rule before libiptc refused it
                        return line_failed(o, line);
                    }
                    return at_line(applied.error(), line);
                }
                out += applied->out;
                table = rs.find(curtable);
            }
            ok = true;
        }
        if (o.only_table && *o.only_table != curtable) continue;
        if (!ok) return line_failed(o, line);
    }
    add_pending();
    if (in_table)
        return fail(Exit::other, str(o.prog, ": COMMIT expected at line ", line + 1, "\n"), Error::Style::bare);
    return {};
}

Result<std::optional<RuleCounterText>> tokenize_rule_counters(std::string_view& rest, int line) {
    if (rest.empty() || rest[0] != '[') return std::nullopt;
    // strtok(":") then strtok("]") after the '['. Each writes a NUL over the delimiter that
    // ends its token: one that lies after the first ']' ends the rest of the line there
    // ("[:5] -A X -j LOG --log-prefix "X: "" loses everything from the prefix's ':' on).
    auto close = rest.find(']');
    if (close == std::string_view::npos) return at_line(Error{Exit::parameter, str("Bad line ", line, ": need ]")}, line);
    size_t p0 = rest.find_first_not_of(':', 1);
    if (p0 == std::string_view::npos) return at_line(Error{Exit::parameter, str("Bad line ", line, ": need :")}, line);
    size_t p1 = rest.find(':', p0);
    std::string_view pcnt = rest.substr(p0, p1 == std::string_view::npos ? rest.npos : p1 - p0);
    size_t b0 = p1 == std::string_view::npos ? rest.npos : rest.find_first_not_of(']', p1 + 1);
    if (b0 == std::string_view::npos) return at_line(Error{Exit::parameter, str("Bad line ", line, ": need ]")}, line);
    size_t b1 = rest.find(']', b0);
    std::string_view bcnt = rest.substr(b0, b1 == std::string_view::npos ? rest.npos : b1 - b0);
    size_t end = rest.size();
    if (p1 > close) end = p1;
    else if (b1 != std::string_view::npos && b1 > close) end = b1;
    rest = rest.substr(close + 1, end - (close + 1));
    return RuleCounterText{pcnt, bcnt};
}

std::vector<std::string_view> restore_input_lines(std::string_view text) { return input_lines(text, true); }

Result<void> restore_text(Ruleset& rs, std::string_view text, const RestoreOptions& o,
                          const std::function<Result<void>(Ruleset&)>& commit,
                          std::string& out) {
    return restore_lines(rs, input_lines(text, true), o, commit, out);
}

namespace {

// The stored state's first line. Each line after it is one line of iptables-save -c text
// in its exact form (see rule_to_save) with '%' and newline percent-encoded, so that a
// newline inside an argument (an unterminated quote in restore input, -E with a
// newline) cannot split it.
constexpr std::string_view state_magic = "# xdptables state 2";
// The nftables generation the stored ruleset was committed in (Ruleset::nft_genid).
constexpr std::string_view genid_line = "# nft-genid ";

std::string encode_line(std::string_view line) {
    std::string out;
    for (char ch : line) {
        if (ch == '%') out += "%25";
        else if (ch == '\n') out += "%0A";
        else out += ch;
    }
    return out;
}

std::string decode_line(std::string_view line) {
    std::string out;
    for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '%' && line.substr(i + 1, 2) == "25") out += '%', i += 2;
        else if (line[i] == '%' && line.substr(i + 1, 2) == "0A") out += '\n', i += 2;
        else out += line[i];
    }
    return out;
}

}  // namespace

std::string serialize_ruleset(const Ruleset& rs) {
    std::string out = str(state_magic, '\n');
    if (rs.nft_genid) out += str(genid_line, *rs.nft_genid, '\n');
    for (const auto& t : rs.tables)
        for (const auto& line : table_save_lines(t, true, true)) out += encode_line(line) + '\n';
    return out;
}

Result<Ruleset> deserialize_ruleset(std::string_view text, Family f) {
    Ruleset rs;
    rs.family = f;
    RestoreOptions o;
    o.brand = f == Family::ipv4 ? xdptables_brand : xdp6tables_brand;
    o.counters = true;
    o.prog = "xdptables (stored state)";
    o.stored = true;
    std::string out;
    // Each stored line decoded and given its newline back (the text of earlier versions,
    // without the first line, is read as it is). A line without a '%' is its own
    // decoding: it is read where it stands (a copy per line cost a tenth of the read).
    std::deque<std::string> decoded;
    std::vector<std::string_view> lines;
    const bool encoded = text.substr(0, state_magic.size() + 1) == str(state_magic, '\n');
    std::optional<uint32_t> genid;
    for (auto line : input_lines(text, false)) {
        if (encoded && line.starts_with(genid_line)) {
            auto digits = line.substr(genid_line.size());
            if (digits.ends_with('\n')) digits.remove_suffix(1);
            if (auto v = grammar::to_uint(digits, 0, UINT32_MAX, 10))
                genid = uint32_t(*v);
            continue;
        }
        if (!encoded || (line.ends_with('\n') && line.find('%') == std::string_view::npos)) {
            lines.push_back(line);
            continue;
        }
        if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
        std::string& d = decoded.emplace_back(decode_line(line));
        d += '\n';
        lines.push_back(d);
    }
    auto r = restore_lines(rs, lines, o, [](const Ruleset&) -> Result<void> { return {}; }, out);
    if (!r) return std::unexpected(r.error());
    std::reverse(rs.tables.begin(), rs.tables.end());
    rs.nft_genid = genid;
    return rs;
}

}  // namespace xdpt
