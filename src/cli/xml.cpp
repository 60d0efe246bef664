#include "cli/xml.hpp"

#include <cstdio>
#include <optional>

#include "cli/getopt.hpp"
#include "cli/restore.hpp"
#include "core/str.hpp"
#include "xdpt_config.h"

namespace xdpt {

namespace {

// One argument of a rule line and whether a double quote opened in it (iptables-xml
// keeps quoted arguments, comments say, from being read as options).
struct Arg {
    std::string text;
    bool quoted = false;
};

struct Fatal {
    int status;
    std::string err;
};

bool is_target(const std::string& a) { return a == "-j" || a == "--jump" || a == "-g" || a == "--goto"; }
bool is_terminating(const std::string& a) { return a == "ACCEPT" || a == "DROP" || a == "QUEUE" || a == "RETURN"; }
bool is_module(const std::string& a) { return a == "-m" || a == "--module"; }
char first_char(const std::string& a) { return a.empty() ? '\0' : a[0]; }

// XML text: bytes from 127 up as character references, & < > " as entities.
std::string encode(std::string_view s) {
    std::string out;
    for (unsigned char ch : s) {
        if (ch >= 127) out += str("&#", int(ch), ';');
        else if (ch == '&') out += "&amp;";
        else if (ch == '<') out += "&lt;";
        else if (ch == '>') out += "&gt;";
        else if (ch == '"') out += "&quot;";
        else out += char(ch);
    }
    return out;
}

// Comment text: every hyphen gets a '*' before it, and every second one a blank before
// that (the count runs over the whole text); a newline that ends the text is dropped.
std::string comment_escape(std::string_view s) {
    std::string out;
    int hyphens = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '-') {
            if (++hyphens >= 2) hyphens = 0, out += ' ';
            out += '*';
        }
        if (!(s[i] == '\n' && i + 1 == s.size())) out += s[i];
    }
    return out;
}

std::string comment(std::string_view s) { return str("<!-- ", comment_escape(s), " -->\n"); }
std::string attr(std::string_view name, std::string_view value) { return str(name, "=\"", encode(value), "\" "); }

class Converter {
public:
    Converter(std::string_view prog, bool combine, bool verbose) : prog_(prog), combine_(combine), verbose_(verbose) {}

    // Converts the input; a failure leaves what was printed before it in out().
    std::optional<Fatal> run(std::string_view text) {
        out_ += "<iptables-rules version=\"1.0\">\n";
        int line = 0;
        for (std::string_view buf : restore_input_lines(text)) {
            ++line;
            const char first = buf.empty() ? '\0' : buf[0];
            if (first == '\n') continue;
            if (first == '#') {
                out_ += comment(buf);
                continue;
            }
            if (verbose_) out_ += str("<!-- line ", line, ' ', comment_escape(buf), " -->\n");
            bool ok = false;
            if (buf == "COMMIT\n" && !table_.empty()) {
                close_table();
                ok = true;
            } else if (first == '*') {
                auto w = words(buf.substr(1));
                if (w.empty()) return param_problem(str(prog_, ": line ", line, " table name invalid"), line);
                open_table(w[0]);
                ok = true;
            } else if (first == ':' && !table_.empty()) {
                auto w = words(buf.substr(1));
                if (w.empty()) return param_problem(str(prog_, ": line ", line, " chain name invalid"), line);
                if (w.size() < 2) return param_problem(str(prog_, ": line ", line, " policy invalid"), line);
                // An unreadable counter leaves the one before in place (iptables reads
                // into a variable it does not reset).
                if (w.size() >= 3) {
                    unsigned long long p = 0, b = 0;
                    int n = std::sscanf(std::string(w[2]).c_str(), "[%llu:%llu]", &p, &b);
                    if (n >= 1) counts_.first = p;
                    if (n >= 2) counts_.second = b;
                }
                // iptables keeps at most 10240 chains of a table.
                if (saved_.size() >= 10240) return param_problem(str(prog_, ": line ", line, " chain name invalid"), line);
                saved_.push_back({std::string(w[0]), std::string(w[1]), counts_.first, counts_.second, false});
                ok = true;
            } else if (!table_.empty()) {
                std::string_view rest = buf;
                auto ctr = tokenize_rule_counters(rest, line);
                if (!ctr) return param_problem(ctr.error().msg, line);
                std::vector<Arg> args;
                if (auto bad = tokenize(rest, args)) return param_problem(*bad, line);
                const std::string* chain = nullptr;
                for (size_t a = 1; a < args.size(); ++a)
                    if (args[a - 1].text == "-A") {
                        chain = &args[a].text;
                        break;
                    }
                if (!chain) return Fatal{1, str(prog_, ": line ", line, " failed - no chain found\n")};
                need_chain(*chain);
                std::optional<std::string> pcnt, bcnt;
                if (*ctr) pcnt = std::string((*ctr)->pcnt), bcnt = std::string((*ctr)->bcnt);
                rule(pcnt, bcnt, args);
                last_ = std::move(args);
                ok = true;
            }
            if (!ok) return Fatal{1, str(prog_, ": line ", line, " failed\n")};
        }
        if (!table_.empty()) return Fatal{1, str(prog_, ": COMMIT expected at line ", line + 1, '\n')};
        out_ += "</iptables-rules>\n";
        return std::nullopt;
    }

    const std::string& out() const { return out_; }

private:
    struct SavedChain {
        std::string name, policy;
        unsigned long long pkts, bytes;
        bool created;
    };

    Fatal param_problem(std::string_view msg, int line) const {
        return Fatal{2, str(prog_, " v", XDPT_IPTABLES_VERSION, ": ", msg, "\nError occurred at line: ", line,
                            "\nTry `", prog_, " -h' or '", prog_, " --help' for more information.\n")};
    }

    // strtok(" \t\n").
    static std::vector<std::string_view> words(std::string_view s) {
        std::vector<std::string_view> out;
        size_t i = 0;
        while (i < s.size()) {
            i = s.find_first_not_of(" \t\n", i);
            if (i == std::string_view::npos) break;
            size_t j = std::min(s.find_first_of(" \t\n", i), s.size());
            out.push_back(s.substr(i, j - i));
            i = j;
        }
        return out;
    }

    // add_param_to_argv: blanks separate, a double quote opens a group in which a
    // backslash takes the next character as it is, the closing quote ends the argument
    // (even an empty one); the last argument, when no blank follows it, is not marked
    // quoted. An argument reaching 1024 characters, or a 255th entry in the vector (254
    // arguments and the NULL), is an error.
    static std::optional<std::string> tokenize(std::string_view s, std::vector<Arg>& args) {
        std::string param;
        bool open = false, escaped = false, quoted = false;
        auto add_char = [&](char ch) -> bool {
            param += ch;
            return param.size() < 1024;
        };
        auto add_arg = [&](bool q) -> bool {
            if (args.size() + 1 >= 255) return false;
            args.push_back({param, q});
            return true;
        };
        for (char ch : s) {
            if (open) {
                if (escaped) {
                    escaped = false;
                    if (!add_char(ch)) return "Parameter too long!";
                    continue;
                }
                if (ch == '\\') {
                    escaped = true;
                    continue;
                }
                if (ch != '"') {
                    if (!add_char(ch)) return "Parameter too long!";
                    continue;
                }
                open = false;  // the closing quote ends the argument below
            } else if (ch == '"') {
                open = quoted = true;
                continue;
            } else if (ch == ' ' || ch == '\t' || ch == '\n') {
                if (param.empty()) continue;
            } else {
                if (!add_char(ch)) return "Parameter too long!";
                continue;
            }
            if (!add_arg(quoted)) return "Parser cannot handle more arguments";
            param.clear();
            quoted = false;
        }
        if (!param.empty() && !add_arg(false)) return "Parser cannot handle more arguments";
        return std::nullopt;
    }

    void close_chain() {
        if (chain_.empty()) return;
        if (!close_action_.empty()) out_ += close_action_ + '\n';
        close_action_.clear();
        if (!close_rule_.empty()) out_ += close_rule_ + '\n';
        close_rule_.clear();
        out_ += "    </chain>\n";
        chain_.clear();
    }

    // `self_closing`: an empty chain, written as one tag.
    void open_chain(const SavedChain& c, bool self_closing) {
        close_chain();
        chain_ = c.name.substr(0, 32);
        out_ += "    <chain " + attr("name", chain_);
        if (c.policy != "-") out_ += attr("policy", c.policy);
        out_ += str("packet-count=\"", static_cast<long long>(c.pkts), "\" byte-count=\"",
                    static_cast<long long>(c.bytes), "\" ");
        if (self_closing) out_ += '/', chain_.clear();
        out_ += ">\n";
    }

    bool chain_exists(const std::string& name) const {
        if (chain_ == name) return true;
        for (const auto& c : saved_)
            if (c.name == name) return true;
        return false;
    }

    // Opens the chain a rule belongs to (a chain line declared it), once.
    void need_chain(const std::string& name) {
        if (chain_ == name) return;
        for (auto& c : saved_)
            if (c.name == name) {
                open_chain(c, false);
                c.created = true;
            }
    }

    void close_table() {
        close_chain();
        for (const auto& c : saved_)
            if (!c.created) open_chain(c, true);
        saved_.clear();
        if (!table_.empty()) out_ += "  </table>\n";
        table_.clear();
    }

    void open_table(std::string_view name) {
        close_table();
        table_ = std::string(name.substr(0, 32));
        out_ += "  <table " + attr("name", table_) + ">\n";
    }

    // The same conditions as the rule before, which had a target that does not end the
    // walk (compared word by word up to the targets).
    bool same_conditions(const std::vector<Arg>& now) const {
        for (size_t i = 0; i < now.size() && i < last_.size(); ++i) {
            const std::string& o = last_[i].text;
            if (is_target(o) && is_target(now[i].text)) {
                bool ends = ((o == "-j" || o == "--jump") && i + 1 < last_.size() && is_terminating(last_[i + 1].text)) ||
                            o == "-g" || o == "--goto";
                return !ends;
            }
            if (o != now[i].text) return false;
        }
        return false;
    }

    void rule(const std::optional<std::string>& pcnt, const std::optional<std::string>& bcnt,
              const std::vector<Arg>& args) {
        const bool has_conditions = args.size() > 2 && !is_target(args[2].text);
        if (combine_ && has_conditions && same_conditions(args)) {
            out_ += comment("Combine action from next rule");
        } else {
            if (!close_action_.empty()) out_ += close_action_ + '\n', close_action_.clear();
            if (!close_rule_.empty()) out_ += close_rule_ + '\n', close_rule_.clear();
            out_ += "      <rule ";
            if (pcnt) out_ += attr("packet-count", *pcnt);
            if (bcnt) out_ += attr("byte-count", *bcnt);
            out_ += ">\n";
            close_rule_ = "      </rule>\n";
            if (has_conditions) {
                out_ += "       <conditions>\n";
                rule_part(false, args);
                out_ += "       </conditions>\n";
            }
        }
        if (close_action_.empty()) {
            out_ += "       <actions>\n";
            close_action_ = "       </actions>\n";
        }
        rule_part(true, args);
    }

    // The conditions (up to the first target) or the actions (from it) of a rule, past
    // its "-A chain": a <match> element per module (a first one, untitled, for the
    // options before any -m), an element per option holding its words, <call> or <goto>
    // for a jump to a chain of the table.
    void rule_part(bool actions, const std::vector<Arg>& args) {
        const std::string ind1 = "        ", ind2 = "          ";
        std::optional<std::string> level1, level2;
        auto open = [&](std::optional<std::string>& level, const std::string& ind, const std::string& tag) {
            level = tag;
            out_ += ind + '<' + tag + ' ';
        };
        auto close = [&](std::optional<std::string>& level) {
            if (level) out_ += "</" + *level + ">\n";
            level.reset();
        };
        auto close_both = [&] {
            close(level2);
            if (level1) out_ += ind1;
            close(level1);
        };
        size_t arg = 2;
        const size_t n = args.size();
        if (actions)
            while (arg < n && (args[arg].quoted || !is_target(args[arg].text))) ++arg;
        size_t i = arg < n && args[arg].text == "!" ? arg + 1 : arg;
        if (i < n && first_char(args[i].text) == '-' && !is_target(args[i].text) && args[i].text != "-m") {
            open(level1, ind1, "match");
            out_ += ">\n";
        }
        bool invert_next = false;
        std::string spacer;
        for (; arg < n; ++arg) {
            const Arg& a = args[arg];
            if (!actions && !a.quoted && is_target(a.text)) break;
            if (!a.quoted && a.text == "!") {
                if (arg + 1 < n && first_char(args[arg + 1].text) == '-') invert_next = true;
                else out_ += spacer + a.text;
                spacer = " ";
            } else if (!a.quoted && is_target(a.text) && arg + 1 < n && chain_exists(args[arg + 1].text)) {
                close_both();
                spacer.clear();
                invert_next = false;
                open(level1, ind1, a.text == "-g" || a.text == "--goto" ? "goto" : "call");
                out_ += ">\n";
                ++arg;
                open(level2, ind2, args[arg].text);
                out_ += "/>\n";
                level2.reset();
            } else if (!a.quoted && (is_target(a.text) || is_module(a.text))) {
                if (arg + 1 >= n) break;  // -j, -m or -g without its word
                close_both();
                spacer.clear();
                invert_next = false;
                ++arg;
                open(level1, ind1, args[arg].text);
                if (arg + 1 >= n || (!args[arg + 1].quoted && (is_target(args[arg + 1].text) || is_module(args[arg + 1].text)))) {
                    out_ += " />\n";
                    level1.reset();
                } else {
                    out_ += ">\n";
                }
            } else if (!a.quoted && first_char(a.text) == '-') {
                close(level2);
                spacer.clear();
                const size_t name = a.text.find_first_not_of('-');  // the option without its dashes
                open(level2, ind2, name == std::string::npos ? std::string() : a.text.substr(name));
                if (invert_next) out_ += " invert=\"1\"";
                invert_next = false;
                if (arg + 1 >= n || first_char(args[arg + 1].text) == '-') {
                    out_ += " />\n";
                    level2.reset();
                } else {
                    out_ += ">";
                }
            } else {  // a word: quoted when it has a blank or was quoted
                const bool q = a.quoted || a.text.find(' ') != std::string::npos;
                out_ += spacer + (q ? "&quot;" : "") + encode(a.text) + (q ? "&quot;" : "");
                spacer = " ";
            }
        }
        close_both();
    }

    std::string prog_;
    bool combine_, verbose_;
    std::string out_;
    std::string table_, chain_;
    std::string close_action_, close_rule_;
    std::vector<SavedChain> saved_;
    std::pair<unsigned long long, unsigned long long> counts_{0, 0};
    std::vector<Arg> last_;
};

}  // namespace

ToolExit iptables_xml(std::string_view prog, const std::vector<std::string>& args,
                      XmlInput (*read)(const std::string* path)) {
    static const std::vector<LongOpt> longs = {{"verbose", no_arg, 'v'}, {"combine", no_arg, 'c'}, {"help", no_arg, 'h'}};
    std::vector<std::string> argv{std::string(prog)};
    argv.insert(argv.end(), args.begin(), args.end());
    GetOpt g(argv, "cvh", false);
    ToolExit r;
    bool combine = false, verbose = false;
    for (int c; (c = g.next(longs)) != -1;) {
        switch (c) {
            case 'c': combine = true; break;
            case 'v':
                r.out += "xptables-xml\n";  // sic
                verbose = true;
                break;
            case 'h':
                r.err += str("Usage: ", prog, " [-c] [-v] [-h]\n          [--combine ]\n\t   [ --verbose ]\n\t   [ --help ]\n");
                r.status = 1;
                return r;
            default: r.err += g.message; break;  // glibc's complaint; the option is ignored
        }
    }
    const std::string* path = nullptr;
    if (g.positional.size() == 1) {
        path = &g.positional[0];
    } else if (g.positional.size() > 1) {
        r.err += "Unknown arguments found on commandline";
        r.status = 1;
        return r;
    }
    XmlInput in = read(path);
    if (!in.error.empty()) {
        r.err += in.error;
        r.status = 1;
        return r;
    }
    Converter conv(prog, combine, verbose);
    auto fatal = conv.run(in.text);
    r.out += conv.out();
    if (fatal) r.err += fatal->err, r.status = fatal->status;
    return r;
}

}  // namespace xdpt
