#include "model/print.hpp"

#include <array>
#include <cstdio>
#include <unordered_map>

#include "core/netdb.hpp"
#include "core/str.hpp"
#include "grammar/values.hpp"

namespace xdpt {

namespace {

// printf-style padding without printf.
std::string pad_left(std::string_view s, size_t w) {  // "%-Ns"
    std::string out(s);
    if (out.size() < w) out.append(w - out.size(), ' ');
    return out;
}
std::string pad_right(std::string_view s, size_t w) {  // "%Ns"
    std::string out;
    if (s.size() < w) out.append(w - s.size(), ' ');
    out.append(s);
    return out;
}

// save_ipv4_addr / save_ipv6_addr: nothing for any address, else the address, '/' and
// the prefix length, or the mask as an address when it is not contiguous (the address is
// masked: a zero mask means the zero address).
void save_addr(std::string& out, Family f, char letter, const IpNet& n, bool inv) {
    const int len = n.mask.prefix_len(spec_of(f).addr_bytes);
    if (!inv && len == 0) return;
    out += str(inv ? " !" : "", " -", letter, ' ', grammar::addr_to_text(f, n.addr), '/',
               len < 0 ? grammar::addr_to_text(f, n.mask) : std::to_string(len));
}

// A name as one restore argument: bare when that reads back the same, else quoted with
// '"' and '\\' escaped (the exact form only: iptables-save prints every name bare).
void save_name(std::string& out, std::string_view name, bool exact) {
    if (!exact || (!name.empty() && name.find_first_of(" \t\n\"\\") == std::string_view::npos)) {
        out += name;
        return;
    }
    out += '"';
    for (char ch : name) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    out += '"';
}

void save_iface(std::string& out, char letter, const std::string& iface, bool inv, bool exact) {
    if (iface.empty() || (iface_under_mask(iface).empty() && !exact)) return;
    out += str(inv ? " !" : "", " -", letter, ' ');
    save_name(out, iface, exact);
}

// The address column of -L (and of the -v echo): IPv4 "anywhere" for a zero mask, IPv6
// for the unspecified address (ipv6_addr_to_string), then the mask unless it is full.
std::string addr_to_list(Family f, const IpNet& n, bool numeric) {
    if (!numeric && (f == Family::ipv4 ? n.mask.zero() : n.addr.zero())) return "anywhere";
    return (numeric ? grammar::addr_to_text(f, n.addr) : netdb::addr_to_anyname(f, n.addr)) +
           grammar::mask_suffix(f, n.mask);
}

// xtables_print_num in table form.
std::string num_text(uint64_t n, bool kmg) {
    if (!kmg) return pad_right(std::to_string(n), 8) + ' ';
    if (n <= 99999) return pad_right(std::to_string(n), 5) + ' ';
    const char units[] = "KMGT";
    for (int i = 0; i < 4; ++i) {
        n = (n + 500) / 1000;
        if (n <= 9999 || i == 3) return pad_right(std::to_string(n), 4) + units[i] + ' ';
    }
    return {};
}

// xtables_print_num with FMT_NOTABLE (used in the policy header).
std::string num_text_notable(uint64_t n, bool kmg) {
    if (!kmg || n <= 99999) return std::to_string(n) + ' ';
    const char units[] = "KMGT";
    for (int i = 0; i < 4; ++i) {
        n = (n + 500) / 1000;
        if (n <= 9999 || i == 3) return std::to_string(n) + units[i] + ' ';
    }
    return {};
}

bool chain_selected(const Chain& c, const std::optional<std::string>& chain) {
    return !chain || *chain == c.name;
}

std::string list_header(const Chain& c, const Table& t, const ListFormat& f) {
    std::string out = "Chain " + c.name;
    const bool kmg = !f.exact;
    if (c.builtin) {
        out += " (policy " + c.policy;
        if (f.verbose)
            out += ' ' + num_text_notable(c.ctr.pkts, kmg) + "packets, " +
                   num_text_notable(c.ctr.bytes, kmg) + "bytes";
        out += ")\n";
    } else {
        out += str(" (", t.references(c.name), " references)\n");
    }
    if (f.linenumbers) out += pad_left("num", 4) + ' ';
    if (f.verbose) {
        if (kmg) out += pad_right("pkts", 5) + ' ' + pad_right("bytes", 5) + ' ';
        else out += pad_right("pkts", 8) + ' ' + pad_right("bytes", 10) + ' ';
    }
    out += pad_left("target", 9) + ' ';
    out += " prot ";
    out += "opt";
    if (f.verbose) out += ' ' + pad_left("in", 6) + ' ' + pad_left("out", 6) + ' ';
    out += ' ' + pad_left("source", 19) + ' ';
    out += ' ' + pad_left("destination", 19) + ' ';
    out += '\n';
    return out;
}

std::string_view list_target_name(const Rule& r) {
    if (r.target.kind && !r.target.kind->list_name.empty()) return r.target.kind->list_name;
    return r.target_name;
}

std::string list_rule(Family fam, const Rule& r, unsigned num, const ListFormat& f) {
    std::string out;
    if (f.linenumbers) out += pad_left(std::to_string(num), 4) + ' ';
    if (f.verbose) out += num_text(r.ctr.pkts, !f.exact) + num_text(r.ctr.bytes, !f.exact);
    out += pad_left(list_target_name(r), 9) + ' ';
    out += r.inv_proto ? '!' : ' ';
    out += pad_left(f.numeric ? std::to_string(r.proto) : protocol_text(r.proto), 4) + ' ';
    out += r.inv_frag ? '!' : '-';
    out += r.frag ? 'f' : '-';
    out += ' ';
    if (f.verbose) {
        const char* any = f.numeric ? "*" : "any";
        out += ' ' + pad_left(str(r.inv_in ? "!" : "", r.in_iface.empty() ? any : r.in_iface), 6) + ' ';
        out += pad_left(str(r.inv_out ? "!" : "", r.out_iface.empty() ? any : r.out_iface), 6) + ' ';
    }
    out += r.inv_src ? '!' : ' ';
    out += pad_left(addr_to_list(fam, r.src, f.numeric), 19) + ' ';
    out += r.inv_dst ? '!' : ' ';
    out += pad_left(addr_to_list(fam, r.dst, f.numeric), 19) + ' ';
    if (r.is_goto) out += "[goto] ";
    for (const auto& m : r.matches) m.data->print(out, f.numeric);
    if (r.target.kind) r.target.data->print(out, f.numeric);
    out += '\n';
    return out;
}

}  // namespace

std::string rule_echo(Family f, const Rule& r) {
    std::string out = std::string(list_target_name(r)) + ' ';
    out += r.inv_proto ? '!' : ' ';
    auto pname = netdb::builtin_protocol_name(r.proto);
    out += (pname ? std::string(*pname) : std::to_string(r.proto)) + ' ';
    out += "opt ";
    out += r.inv_frag ? '!' : '-';
    out += r.frag ? 'f' : '-';
    out += ' ';
    out += str("in ", r.inv_in ? "!" : "", r.in_iface.empty() ? "*" : r.in_iface, ' ');
    out += str("out ", r.inv_out ? "!" : "", r.out_iface.empty() ? "*" : r.out_iface, ' ');
    out += r.inv_src ? '!' : ' ';
    out += addr_to_list(f, r.src, true) + ' ';
    out += r.inv_dst ? '!' : ' ';
    out += "-> " + addr_to_list(f, r.dst, true);
    out += "  ";
    if (r.is_goto) out += "[goto] ";
    for (const auto& m : r.matches) m.data->print(out, true);
    if (r.target.kind) r.target.data->print(out, true);
    out += '\n';
    return out;
}

std::string protocol_text(uint16_t proto) {
    if (auto n = netdb::protocol_name(proto)) return *n;
    return std::to_string(proto);
}

std::string rule_to_save(Family f, const Rule& r, std::string_view chain, CounterStyle cs, bool exact) {
    std::string out;
    if (cs == CounterStyle::prefix) out += str('[', r.ctr.pkts, ':', r.ctr.bytes, "] ");
    out += "-A ";
    save_name(out, chain, exact);
    save_addr(out, f, 's', r.src, r.inv_src);
    save_addr(out, f, 'd', r.dst, r.inv_dst);
    save_iface(out, 'i', r.in_iface, r.inv_in, exact);
    save_iface(out, 'o', r.out_iface, r.inv_out, exact);
    if (r.proto > 0) out += str(r.inv_proto ? " !" : "", " -p ", protocol_text(r.proto));
    // The stored form keeps ip6tables' `-p all` (Rule::proto_given), which save leaves out.
    else if (exact && r.proto_given) out += " -p all";
    if (r.frag) out += str(r.inv_frag ? " !" : "", " -f");
    for (const auto& m : r.matches) {
        out += str(" -m ", m.kind->name);
        if (exact) m.data->save_exact(out);
        else m.data->save(out);
    }
    if (cs == CounterStyle::inline_) out += str(" -c ", r.ctr.pkts, ' ', r.ctr.bytes);
    if (r.target.kind) {
        out += str(" -j ", r.target.kind->name);
        if (exact) r.target.data->save_exact(out);
        else r.target.data->save(out);
    } else if (!r.target_name.empty()) {
        out += r.is_goto ? " -g " : " -j ";
        save_name(out, r.target_name, exact);
    }
    return out;
}

std::vector<std::string> table_save_lines(const Table& t, bool counters, bool exact) {
    std::vector<std::string> lines{"*" + t.name};
    for (const auto& c : t.chains) {
        std::string line = ":";
        save_name(line, c.name, exact);
        lines.push_back(str(line, ' ', c.builtin ? c.policy : std::string("-"), " [", c.ctr.pkts, ':', c.ctr.bytes, ']'));
    }
    for (const auto& c : t.chains)
        for (const auto& r : c.rules)
            lines.push_back(rule_to_save(t.family, r, c.name, counters ? CounterStyle::prefix : CounterStyle::none, exact));
    lines.push_back("COMMIT");
    return lines;
}

std::string table_to_save(const Table& t, bool counters, bool exact) {
    std::string out;
    for (const auto& line : table_save_lines(t, counters, exact)) out += line + '\n';
    return out;
}

std::string list_rules(const Table& t, const std::optional<std::string>& chain, unsigned rulenum,
                       bool verbose, std::string* unknown_target) {
    std::string out;
    if (!rulenum)
        for (const auto& c : t.chains) {
            if (!chain_selected(c, chain)) continue;
            if (c.builtin) {
                out += str("-P ", c.name, ' ', c.policy);
                if (verbose) out += str(" -c ", c.ctr.pkts, ' ', c.ctr.bytes);
                out += '\n';
            } else {
                out += str("-N ", c.name, '\n');
            }
        }
    for (const auto& c : t.chains) {
        if (!chain_selected(c, chain)) continue;
        unsigned num = 0;
        for (const auto& r : c.rules) {
            ++num;
            if (rulenum && num != rulenum) continue;
            const CounterStyle cs = verbose ? CounterStyle::inline_ : CounterStyle::none;
            if (!r.uncommitted_jump.empty() && unknown_target) {
                Rule cut = r;
                cut.target_name.clear();
                *unknown_target = r.uncommitted_jump;
                return out + rule_to_save(t.family, cut, c.name, cs);
            }
            out += rule_to_save(t.family, r, c.name, cs) + '\n';
        }
    }
    return out;
}

std::string list_entries(const Table& t, const std::optional<std::string>& chain, unsigned rulenum,
                         const ListFormat& f) {
    std::string out;
    bool found = false;
    for (const auto& c : t.chains) {
        if (!chain_selected(c, chain)) continue;
        if (found) out += '\n';
        if (!rulenum) out += list_header(c, t, f);
        unsigned num = 0;
        for (const auto& r : c.rules) {
            ++num;
            if (!rulenum || num == rulenum) out += list_rule(t.family, r, num, f);
        }
        found = true;
    }
    return out;
}

namespace {

// x_tables' sizes (x86_64): struct ipt_entry, xt_entry_match/target headers, a standard
// target (verdict) and an error target (a chain's name), all XT_ALIGNed.
// (struct ip6t_entry: 168.)
constexpr uint32_t entry_size4 = 112, entry_size6 = 168, ext_header = 32, standard_size = 40, error_size = 64;
constexpr int verdict_accept = -2, verdict_drop = -1, verdict_queue = -4, verdict_return = -5;

struct DumpEntry {
    const Rule* rule = nullptr;    // null for a policy, a chain's head or tail, the end
    std::string target;            // extension target name, "" standard, "ERROR" error
    std::string error;             // an error target's text
    int verdict = 0;               // standard target: a verdict (< 0) or an offset
    std::string jump;              // standard target to a user chain (resolved later)
    const Counters* ctr = nullptr;
    uint32_t tsize = standard_size;  // the target's size
    uint32_t size = 0, offset = 0;
};

const Counters no_counts{};

DumpEntry standard_entry(uint32_t entry_size, int verdict, const Counters* ctr) {
    DumpEntry e;
    e.verdict = verdict, e.ctr = ctr, e.size = entry_size + standard_size;
    return e;
}

DumpEntry error_entry(uint32_t entry_size, std::string text) {
    DumpEntry e;
    e.target = "ERROR", e.error = std::move(text), e.ctr = &no_counts, e.tsize = error_size;
    e.size = entry_size + error_size;
    return e;
}

// libip6tc's form of an address and its mask: each on a line of its own after the label.
std::string dump_addr6(std::string_view label, const IpNet& n) {
    const int len = n.mask.prefix_len(16);
    return str(label, " \n", grammar::ipv6_to_text(n.addr), "\n/",
               len < 0 ? grammar::ipv6_to_text(n.mask) + '\n' : std::to_string(len), '\n');
}

std::string dotted(uint32_t a) {
    return str(a >> 24, '.', (a >> 16) & 255, '.', (a >> 8) & 255, '.', a & 255);
}

// xtables_parse_interface's mask: the name and its NUL, or the name before a final '+'.
std::string iface_mask(const std::string& name) {
    size_t n = name.empty() ? 0 : name.back() == '+' ? name.size() - 1 : name.size() + 1;
    n = std::min<size_t>(n, 16);
    return std::string(n, 'X') + std::string(16 - n, '.');
}

}  // namespace

std::string dump_entries(const Table& t) {
    // libiptc's layout: each builtin chain's rules then its policy; each user chain (in
    // name order) an ERROR entry naming it, its rules, a RETURN; an ERROR entry at the end.
    const bool v6 = t.family == Family::ipv6;
    const uint32_t entry_size = v6 ? entry_size6 : entry_size4;
    std::vector<DumpEntry> es;
    std::array<int64_t, 5> hook{-1, -1, -1, -1, -1}, under{-1, -1, -1, -1, -1};
    std::unordered_map<std::string_view, size_t> starts;  // chain -> its first rule's entry
    static constexpr std::array<std::string_view, 5> hooks{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
    for (const auto& c : t.chains) {
        const size_t first = es.size();
        if (!c.builtin) es.push_back(error_entry(entry_size, c.name));
        starts.emplace(c.name, es.size());
        for (const auto& r : c.rules) {
            DumpEntry e;
            e.rule = &r, e.ctr = &r.ctr;
            if (r.target.kind) {
                XtInfo x = r.target.data->to_xt(r);
                e.target = x.name;
                e.tsize = ext_header + uint32_t(x.data.size());
            }
            e.size = entry_size + e.tsize;
            for (const auto& m : r.matches) e.size += ext_header + uint32_t(m.data->to_xt(r).data.size());
            if (r.target.kind) {
                // an extension's target carries no verdict here
            } else if (r.target_name == "ACCEPT") e.verdict = verdict_accept;
            else if (r.target_name == "DROP") e.verdict = verdict_drop;
            else if (r.target_name == "QUEUE") e.verdict = verdict_queue;
            else if (r.target_name == "RETURN") e.verdict = verdict_return;
            else if (!r.target_name.empty()) e.jump = r.target_name;
            else e.verdict = 1;  // falls through: the next entry's offset (below)
            es.push_back(std::move(e));
        }
        if (c.builtin) {
            es.push_back(standard_entry(entry_size, c.policy == "DROP" ? verdict_drop : verdict_accept, &c.ctr));
            for (size_t h = 0; h < hooks.size(); ++h)
                if (hooks[h] == c.name) hook[h] = int64_t(first), under[h] = int64_t(es.size() - 1);
        } else {
            es.push_back(standard_entry(entry_size, verdict_return, &no_counts));
        }
    }
    es.push_back(error_entry(entry_size, "ERROR"));
    uint32_t off = 0;
    for (auto& e : es) e.offset = off, off += e.size;
    for (size_t i = 0; i + 1 < es.size(); ++i)
        if (es[i].rule && !es[i].rule->target.kind && es[i].rule->target_name.empty()) es[i].verdict = int(es[i + 1].offset);
    for (auto& e : es)
        if (!e.jump.empty())
            if (auto it = starts.find(e.jump); it != starts.end()) e.verdict = int(es[it->second].offset);
    auto hex = [&](const std::array<int64_t, 5>& at, size_t h) {
        char b[16];
        std::snprintf(b, sizeof b, "%x", at[h] < 0 ? 0xffffffffu : es[size_t(at[h])].offset);
        return std::string(b);
    };
    std::string out = str("libiptc vlibxtables.so.12. ", off, " bytes.\n", "Table `", t.name, "'\n");
    out += str("Hooks: pre/in/fwd/out/post = ", hex(hook, 0), '/', hex(hook, 1), '/', hex(hook, 2), '/', hex(hook, 3), '/',
               hex(hook, 4), '\n');
    out += str("Underflows: pre/in/fwd/out/post = ", hex(under, 0), '/', hex(under, 1), '/', hex(under, 2), '/',
               hex(under, 3), '/', hex(under, 4), '\n');
    for (size_t i = 0; i < es.size(); ++i) {
        const auto& e = es[i];
        static const Rule none{};
        const Rule& r = e.rule ? *e.rule : none;
        char flags[32];
        // IPv4: IPT_F_FRAG, IPT_F_GOTO. IPv6: IP6T_F_PROTO, IP6T_F_GOTO.
        const unsigned fl = v6 ? (r.proto || r.proto_given ? 0x01 : 0) | (r.is_goto ? 0x04 : 0) : (r.frag ? 0x01 : 0) | (r.is_goto ? 0x02 : 0);
        std::snprintf(flags, sizeof flags, "Flags: %02X\nInvflags: %02X\n", fl,
                      (r.inv_in ? 0x01 : 0) | (r.inv_out ? 0x02 : 0) | (r.inv_src ? 0x08 : 0) | (r.inv_dst ? 0x10 : 0) |
                          (r.inv_frag ? 0x20 : 0) | (r.inv_proto ? 0x40 : 0));
        out += str("Entry ", i, " (", e.offset, "):\n");
        if (v6)
            out += dump_addr6("SRC IP:", r.src) + dump_addr6("DST IP:", r.dst);
        else
            out += str("SRC IP: ", dotted(r.src.addr4()), '/', dotted(r.src.mask4()), '\n', "DST IP: ", dotted(r.dst.addr4()),
                       '/', dotted(r.dst.mask4()), '\n');
        out += str("Interface: `", r.in_iface, "'/",
                   iface_mask(r.in_iface), "to `", r.out_iface, "'/", iface_mask(r.out_iface), '\n', "Protocol: ", r.proto,
                   '\n', flags, "Counters: ", e.ctr->pkts, " packets, ", e.ctr->bytes, " bytes\n", "Cache: 00000000\n");
        for (const auto& m : r.matches) out += str("Match name: `", m.data->to_xt(r).name, "'\n");
        out += str("Target name: `", e.target, "' [", e.tsize, "]\n");
        if (e.target == "ERROR") {
            out += str("error=`", e.error, "'\n");
        } else if (e.target.empty()) {
            out += "verdict=";
            switch (e.verdict) {
                case verdict_accept: out += "NF_ACCEPT"; break;
                case verdict_drop: out += "NF_DROP"; break;
                case verdict_queue: out += "NF_QUEUE"; break;
                case verdict_return: out += "RETURN"; break;
                default: out += std::to_string(e.verdict);
            }
            out += '\n';
        }
        out += '\n';
    }
    return out;
}

}  // namespace xdpt
