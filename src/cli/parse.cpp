// iptables' command line, read the way iptables 1.8.9 reads it: glibc getopt_long in
// "return in order" mode over a long-option table that grows as -m / -j / -p load
// extensions, then do_parse()'s checks and ipv4_post_parse()'s address expansion, with the
// same messages in the same order.
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/command.hpp"
#include "cli/getopt.hpp"
#include "core/netdb.hpp"
#include "core/str.hpp"
#include "grammar/values.hpp"
#include "xdpt_config.h"

namespace xdpt {

namespace {

// ---------------------------------------------------------------- option tables

constexpr int ext_code_base = 1000;

constexpr LongOpt base_long_opts[] = {
    {"append", req_arg, 'A'},       {"delete", req_arg, 'D'},
    {"check", req_arg, 'C'},        {"insert", req_arg, 'I'},
    {"replace", req_arg, 'R'},      {"list", opt_arg, 'L'},
    {"list-rules", opt_arg, 'S'},   {"flush", opt_arg, 'F'},
    {"zero", opt_arg, 'Z'},         {"new-chain", req_arg, 'N'},
    {"delete-chain", opt_arg, 'X'}, {"rename-chain", req_arg, 'E'},
    {"policy", req_arg, 'P'},       {"source", req_arg, 's'},
    {"destination", req_arg, 'd'},  {"src", req_arg, 's'},
    {"dst", req_arg, 'd'},          {"protocol", req_arg, 'p'},
    {"in-interface", req_arg, 'i'}, {"jump", req_arg, 'j'},
    {"table", req_arg, 't'},        {"match", req_arg, 'm'},
    {"numeric", no_arg, 'n'},       {"out-interface", req_arg, 'o'},
    {"verbose", no_arg, 'v'},       {"wait", opt_arg, 'w'},
    {"wait-interval", opt_arg, 'W'}, {"exact", no_arg, 'x'},
    {"fragments", no_arg, 'f'},     {"version", no_arg, 'V'},
    {"help", opt_arg, 'h'},         {"line-numbers", no_arg, '0'},
    {"modprobe", req_arg, 'M'},     {"set-counters", req_arg, 'c'},
    {"goto", req_arg, 'g'},         {"ipv4", no_arg, '4'},
    {"ipv6", no_arg, '6'},
};

// IPT_OPTSTRING after its leading "-:".
constexpr std::string_view short_opts = "A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvw::W::nt:m:xc:g:46";

// ---------------------------------------------------------------- do_parse

constexpr std::string_view optflags = "nsdpjvxio0cf";

char opt2char(unsigned option) {
    unsigned i = 0;
    while ((1u << i) != option) ++i;
    return optflags[i];
}

char cmd2char(unsigned option) {
    static constexpr std::string_view cmdflags = "IDDRALFZNXPESZC";
    unsigned i = 0;
    for (; option > 1; option >>= 1) ++i;
    return cmdflags[i];
}

// Which commands each option is legal with (iptables' commands_v_options, by columns).
unsigned legal_commands(unsigned option) {
    const unsigned idrac = CMD_INSERT | CMD_DELETE | CMD_REPLACE | CMD_APPEND | CMD_CHECK;
    switch (option) {
        case OPT_NUMERIC: return CMD_LIST;
        case OPT_SOURCE:
        case OPT_DESTINATION:
        case OPT_PROTOCOL:
        case OPT_JUMP:
        case OPT_VIANAMEIN:
        case OPT_VIANAMEOUT:
        case OPT_FRAGMENT: return idrac;
        case OPT_VERBOSE: return ~0u;
        case OPT_EXPANDED:
        case OPT_LINENUMBERS: return CMD_LIST;
        case OPT_COUNTERS: return CMD_INSERT | CMD_REPLACE | CMD_APPEND | CMD_SET_POLICY;
    }
    return ~0u;
}

bool invertible(unsigned option) {
    return option & (OPT_SOURCE | OPT_DESTINATION | OPT_PROTOCOL | OPT_VIANAMEIN |
                     OPT_VIANAMEOUT | OPT_FRAGMENT);
}

struct ExtSlot {
    ExtInst inst;
    bool is_target;
    int option_slot;  // first code = ext_code_base + option_slot * 64
};

struct Parser {
    const ParseOptions& po;
    Command c;
    GetOpt g;
    std::vector<LongOpt> longs;
    std::vector<ExtSlot> exts;  // loaded matches in order, plus the target if any
    int target_slot = -1;
    bool invert = false;
    bool proto_used = false;
    std::string protocol;  // -p text as given (lowercased)
    std::string shost, dhost;
    bool goto_set = false;
    bool table_set = false;
    bool wait_interval_set = false;
    std::string pcnt, bcnt;

    Parser(const std::vector<std::string>& argv, const ParseOptions& p) : po(p), g(argv, short_opts, true) {
        longs.assign(std::begin(base_long_opts), std::end(base_long_opts));
        if (po.restore) {
            c.table = po.table;
            table_set = true;  // iptables-restore passes "-t TABLE" first (argv[1], argv[2])
            g.optind = 3;
        }
    }

    ExtCtx ctx() {
        ExtCtx x;
        x.rule = &c.rule;
        x.table = c.table;
        x.family = po.brand.family;
        x.notices = po.notices;
        x.stored = po.stored;
        return x;
    }

    // xtables_merge_options: the base options, then the new extension's, then the rest.
    void merge_options(int ext_index) {
        std::vector<LongOpt> merged(std::begin(base_long_opts), std::end(base_long_opts));
        const auto& k = *exts[ext_index].inst.kind;
        for (const auto& o : k.opts)
            merged.push_back(LongOpt{o.name, o.has_arg ? req_arg : no_arg,
                                     ext_code_base + ext_index * 64 + o.id, ext_index, &o});
        for (size_t i = std::size(base_long_opts); i < longs.size(); ++i) merged.push_back(longs[i]);
        longs = std::move(merged);
    }

    int add_ext(const ExtKind* k, bool is_target) {
        assume_revision(k);
        exts.push_back(ExtSlot{ExtInst(k), is_target, static_cast<int>(exts.size())});
        int idx = static_cast<int>(exts.size()) - 1;
        if (!k->opts.empty()) merge_options(idx);
        return idx;
    }

    // xtables' compatible_revision: when it cannot open the raw socket through which
    // it asks the kernel (EPERM), iptables takes the revision it prefers, the one the
    // extension's x_tables form has (CT's for NOTRACK, conntrack's for state), and says
    // so for any but revision 0, the first time the process loads the extension.
    void assume_revision(const ExtKind* k) {
        if (!po.assumed_revisions || !po.notices || !po.assumed_revisions->insert(k).second) return;
        const XtInfo xt = k->make()->to_xt(Rule{});
        if (xt.rev != 0)
            *po.notices += str(xt.name, ": Could not determine whether revision ", unsigned(xt.rev),
                               " is supported, assuming it is.\n");
    }

    Result<void> set_option(unsigned option) {
        if (c.options & option)
            return param_fail(str("multiple -", opt2char(option), " flags not allowed"));
        c.options |= option;
        if (invert && !invertible(option))
            return param_fail(str("cannot have ! before -", opt2char(option)));
        return {};
    }

    Result<void> add_command(unsigned newcmd, unsigned othercmds) {
        if (invert) return param_fail("unexpected '!' flag");
        if (c.cmd & ~othercmds)
            return param_fail(str("Cannot use -", cmd2char(newcmd), " with -", cmd2char(c.cmd & ~othercmds)));
        c.cmd |= newcmd;
        return {};
    }

    Result<unsigned> parse_rulenumber(std::string_view s) {
        auto v = grammar::to_uint(s, 1, 0x7fffffff);
        if (!v) return param_fail(str("Invalid rule number `", s, "'"));
        return static_cast<unsigned>(*v);
    }

    Result<std::string> parse_target_name(std::string_view name) {
        if (name.empty()) return param_fail("Invalid target name (too short)");
        if (name.size() >= 29 && !po.stored)
            return param_fail(str("Invalid target name `", name, "' (28 chars max)"));
        // The stored state keeps what -E allowed (blanks in a chain name).
        if (!po.stored)
            for (char ch : name)
                if (std::isspace(static_cast<unsigned char>(ch)))
                    return param_fail(str("Invalid target name `", name, "'"));
        return std::string(name);
    }

    Result<void> assert_valid_chain_name(std::string_view name) {
        if (name.size() >= 29)
            return param_fail(str("chain name `", name, "' too long (must be under 29 chars)"));
        if (!name.empty() && (name[0] == '-' || name[0] == '!'))
            return param_fail(str("chain name not allowed to start with `", name[0], "'"));
        if (name.empty() || find_target(name, po.brand.family) || is_standard_verdict(name))  // "" is the standard target
            return param_fail("chain name may not clash with target name");
        for (char ch : name)
            if (std::isspace(static_cast<unsigned char>(ch)))
                return param_fail(str("Invalid chain name `", name, "'"));
        return {};
    }

    Result<void> parse_interface(std::string_view arg, std::string& out) {
        if (arg.size() >= 16)
            return param_fail(str("interface name `", arg, "' must be shorter than IFNAMSIZ (15)"));
        out = std::string(arg);
        // xtables_parse_interface warns (once) about what the kernel will not match.
        if (arg.find_first_of("/ ") != std::string_view::npos && po.notices)
            *po.notices += str("Warning: weird character in interface `", arg,
                               "' ('/' and ' ' are not allowed by the kernel).\n");
        return {};
    }

    // The optional argument of -L/-S/-F/-Z/-X: attached, or the next word.
    std::optional<std::string> optional_chain() {
        if (g.has_optarg) return g.optarg;
        if (g.next_is_arg()) return g.argv[g.optind++];
        return std::nullopt;
    }

    Result<void> command_default(int code, const LongOpt* lo) {
        if (lo && lo->ext >= 0) {
            auto& slot = exts[lo->ext];
            ExtCtx x = ctx();
            x.argv = &g.argv;
            x.next = &g.optind;
            return ext_parse_option(slot.inst, *lo->def, g.optarg, invert, x);
        }
        // Implicit protocol match: -p tcp --dport 80.
        if (!protocol.empty() && !proto_used) {
            proto_used = true;
            const ExtKind* k = nullptr;
            if (auto n = grammar::to_uint(protocol, 0, 255)) {
                std::optional<std::string> name;
                if (c.options & OPT_NUMERIC) {
                    if (auto b = netdb::builtin_protocol_name(static_cast<uint16_t>(*n))) name = std::string(*b);
                } else {
                    name = netdb::protocol_name(static_cast<uint16_t>(*n));
                }
                if (name) k = find_match(*name, po.brand.family);
            } else {
                k = find_match(protocol, po.brand.family);
            }
            if (k) {
                add_ext(k, false);
                --g.optind;  // rerun getopt on the same argument (inside a cluster, the same place)
                return {};
            }
        }
        if (code == ':') return param_fail(str("option \"", g.last_element(), "\" requires an argument"));
        if (code == '?') return param_fail(str("unknown option \"", g.last_element(), "\""));
        // An option of the optstring that do_parse has no case for (-b): printf of a NULL optarg.
        return param_fail(str("Unknown arg \"", g.has_optarg ? g.optarg : std::string("(null)"), "\""));
    }

    Result<void> command_match(std::string_view name) {
        if (invert) return param_fail("unexpected ! flag before --match");
        if (name.size() >= 29) return param_fail(str("Invalid match name \"", name, "\" (28 chars max)"));
        const ExtKind* k = find_match(name, po.brand.family);
        if (!k) return param_fail(str("Couldn't load match `", match_load_name(name), "':No such file or directory\n"));
        add_ext(k, false);
        return {};
    }

    Result<void> command_jump(std::string_view name) {
        auto t = parse_target_name(name);
        if (!t) return std::unexpected(t.error());
        c.jumpto = *t;
        if (const ExtKind* k = find_target(c.jumpto, po.brand.family)) target_slot = add_ext(k, true);
        return {};
    }

    using Outcome = std::variant<Command, EarlyExit>;

    Result<std::optional<EarlyExit>> step(int code, const LongOpt* lo) {
        using R = std::optional<EarlyExit>;
        auto chk = [](Result<void> r) { return r; };
        switch (code) {
            case 'A':
                if (auto r = add_command(CMD_APPEND, CMD_NONE); !r) return std::unexpected(r.error());
                c.chain = g.optarg;
                break;
            case 'C':
                if (auto r = add_command(CMD_CHECK, CMD_NONE); !r) return std::unexpected(r.error());
                c.chain = g.optarg;
                break;
            case 'D':
                if (auto r = add_command(CMD_DELETE, CMD_NONE); !r) return std::unexpected(r.error());
                c.chain = g.optarg;
                if (g.next_is_arg()) {
                    auto n = parse_rulenumber(g.argv[g.optind++]);
                    if (!n) return std::unexpected(n.error());
                    c.rulenum = *n;
                    c.cmd = CMD_DELETE_NUM;
                }
                break;
            case 'R':
                if (auto r = add_command(CMD_REPLACE, CMD_NONE); !r) return std::unexpected(r.error());
                c.chain = g.optarg;
                if (!g.next_is_arg()) return param_fail("-R requires a rule number");
                if (auto n = parse_rulenumber(g.argv[g.optind++]); !n) return std::unexpected(n.error());
                else c.rulenum = *n;
                break;
            case 'I':
                if (auto r = add_command(CMD_INSERT, CMD_NONE); !r) return std::unexpected(r.error());
                c.chain = g.optarg;
                c.rulenum = 1;
                if (g.next_is_arg()) {
                    auto n = parse_rulenumber(g.argv[g.optind++]);
                    if (!n) return std::unexpected(n.error());
                    c.rulenum = *n;
                }
                break;
            case 'L':
            case 'S': {
                auto r = add_command(code == 'L' ? CMD_LIST : CMD_LIST_RULES, CMD_ZERO | CMD_ZERO_NUM);
                if (!r) return std::unexpected(r.error());
                if (auto ch = optional_chain()) c.chain = *ch;
                if (g.next_is_arg()) {
                    auto n = parse_rulenumber(g.argv[g.optind++]);
                    if (!n) return std::unexpected(n.error());
                    c.rulenum = *n;
                }
                break;
            }
            case 'F':
                if (auto r = add_command(CMD_FLUSH, CMD_NONE); !r) return std::unexpected(r.error());
                if (auto ch = optional_chain()) c.chain = *ch;
                break;
            case 'Z':
                if (auto r = add_command(CMD_ZERO, CMD_LIST | CMD_LIST_RULES); !r) return std::unexpected(r.error());
                if (auto ch = optional_chain()) c.chain = *ch;
                if (g.next_is_arg()) {
                    auto n = parse_rulenumber(g.argv[g.optind++]);
                    if (!n) return std::unexpected(n.error());
                    c.rulenum = *n;
                    // iptables sets the command outright: a -L or -S given before is
                    // forgotten (-L -Z FORWARD 1 only zeroes rule 1), one given after
                    // joins it (add_command allows it).
                    c.cmd = CMD_ZERO_NUM;
                }
                break;
            case 'N':
                if (auto r = assert_valid_chain_name(g.optarg); !r) return std::unexpected(r.error());
                if (auto r = add_command(CMD_NEW_CHAIN, CMD_NONE); !r) return std::unexpected(r.error());
                c.chain = g.optarg;
                break;
            case 'X':
                if (auto r = add_command(CMD_DELETE_CHAIN, CMD_NONE); !r) return std::unexpected(r.error());
                if (auto ch = optional_chain()) c.chain = *ch;
                break;
            case 'E':
                if (auto r = add_command(CMD_RENAME_CHAIN, CMD_NONE); !r) return std::unexpected(r.error());
                c.chain = g.optarg;
                if (!g.next_is_arg()) return param_fail("-E requires old-chain-name and new-chain-name");
                c.newname = g.argv[g.optind++];  // unchecked in 1.8.9: libiptc judges it
                break;
            case 'P':
                if (auto r = add_command(CMD_SET_POLICY, CMD_NONE); !r) return std::unexpected(r.error());
                if (!g.next_is_arg()) return param_fail("-P requires a chain and a policy");
                c.chain = g.optarg;
                c.policy = g.argv[g.optind++];
                break;
            case 'h': {
                std::string text = help_text(po.restore ? str(po.brand.name, "-restore") : std::string(po.brand.name), po.brand);
                if (!po.restore && po.brand.name == xdptables_brand.name) text += subcommands_text(po.brand);
                if (target_slot >= 0) text += extension_help(exts[target_slot].inst.kind->name, true, po.brand.family);
                else if (is_standard_verdict(c.jumpto)) text += extension_help(c.jumpto, true, po.brand.family);
                bool any_match = false;
                for (const auto& e : exts)
                    if (!e.is_target) text += extension_help(e.inst.kind->name, false, po.brand.family), any_match = true;
                // iptables -p icmp -h: the protocol's match when no match is loaded.
                if (!any_match && !protocol.empty())
                    if (const ExtKind* k = find_match(protocol, po.brand.family)) text += extension_help(k->name, false, po.brand.family);
                return R(EarlyExit{std::move(text), 0});
            }
            // -p, -s, -d, -j, -i and -o read argv[optind - 1], not optarg (do_parse in
            // 1.8.9): an argument attached to its option ("-pudp", "--source=x") keeps
            // the option in it.
            case 'p': {
                if (auto r = set_option(OPT_PROTOCOL); !r) return std::unexpected(r.error());
                c.rule.inv_proto = invert;
                protocol = g.last_element();
                for (auto& ch : protocol) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                auto p = netdb::parse_protocol(protocol);
                if (!p) return param_fail(str("unknown protocol \"", protocol, "\" specified"));
                c.rule.proto = *p;
                c.rule.proto_given = po.brand.family == Family::ipv6;  // ipv6_proto_parse: IP6T_F_PROTO
                if (c.rule.proto == 0 && c.rule.inv_proto)
                    return param_fail("rule would never match protocol");
                // ip6tables: an extension header is never the upper-layer protocol
                // (ipv6_proto_parse).
                if (po.brand.family == Family::ipv6 && !c.rule.inv_proto && po.notices &&
                    (c.rule.proto == IPPROTO_ROUTING || c.rule.proto == IPPROTO_FRAGMENT || c.rule.proto == IPPROTO_AH ||
                     c.rule.proto == IPPROTO_DSTOPTS))
                    *po.notices += str("Warning: never matched protocol: ", protocol, ". use extension match instead.\n");
                break;
            }
            case 's':
                if (auto r = set_option(OPT_SOURCE); !r) return std::unexpected(r.error());
                c.rule.inv_src = invert;
                shost = g.last_element();
                break;
            case 'd':
                if (auto r = set_option(OPT_DESTINATION); !r) return std::unexpected(r.error());
                c.rule.inv_dst = invert;
                dhost = g.last_element();
                break;
            case 'g': {
                if (auto r = set_option(OPT_JUMP); !r) return std::unexpected(r.error());
                goto_set = true;
                auto t = parse_target_name(g.optarg);
                if (!t) return std::unexpected(t.error());
                c.jumpto = *t;
                break;
            }
            case 'j':
                if (auto r = set_option(OPT_JUMP); !r) return std::unexpected(r.error());
                if (auto r = command_jump(g.last_element()); !r) return std::unexpected(r.error());
                break;
            case 'i':
                if (g.optarg.empty()) return param_fail("Empty interface is likely to be undesired");
                if (auto r = set_option(OPT_VIANAMEIN); !r) return std::unexpected(r.error());
                c.rule.inv_in = invert;
                if (auto r = parse_interface(g.last_element(), c.rule.in_iface); !r) return std::unexpected(r.error());
                break;
            case 'o':
                if (g.optarg.empty()) return param_fail("Empty interface is likely to be undesired");
                if (auto r = set_option(OPT_VIANAMEOUT); !r) return std::unexpected(r.error());
                c.rule.inv_out = invert;
                if (auto r = parse_interface(g.last_element(), c.rule.out_iface); !r) return std::unexpected(r.error());
                break;
            case 'f':
                if (po.brand.family == Family::ipv6)
                    return param_fail("`-f' is not supported in IPv6, use -m frag instead");
                if (auto r = set_option(OPT_FRAGMENT); !r) return std::unexpected(r.error());
                c.rule.frag = true;
                c.rule.inv_frag = invert;
                break;
            case 'v':
                if (!c.verbose)
                    if (auto r = set_option(OPT_VERBOSE); !r) return std::unexpected(r.error());
                ++c.verbose;
                break;
            case 'm':
                if (auto r = command_match(g.optarg); !r) return std::unexpected(r.error());
                break;
            case 'n':
                if (auto r = set_option(OPT_NUMERIC); !r) return std::unexpected(r.error());
                break;
            case 't':
                if (invert) return param_fail("unexpected ! flag before --table");
                if (po.restore && table_set)
                    return param_fail(str("The -t option cannot be used in ", po.brand.name, "-restore.\n"));
                c.table = g.optarg;
                table_set = true;
                break;
            case 'x':
                if (auto r = set_option(OPT_EXPANDED); !r) return std::unexpected(r.error());
                break;
            case 'V':
                if (invert) return R(EarlyExit{str("Not ", XDPT_IPTABLES_VERSION, " (", po.brand.flavour, ") ;-)\n"), 0});
                return R(EarlyExit{str(po.brand.name, po.restore ? "-restore" : "", " v", XDPT_IPTABLES_VERSION, " (",
                                       po.brand.flavour, ")\n"), 0});
            case 'w': {
                if (po.restore) return param_fail("You cannot use `-w' from iptables-restore");
                c.wait = -1;
                std::optional<std::string> w;
                if (g.has_optarg) w = g.optarg;
                else if (g.next_is_arg()) w = g.argv[g.optind++];
                // parse_wait_time reads it with sscanf("%i"): hex, octal, trailing text.
                if (w && std::sscanf(w->c_str(), "%i", &c.wait) != 1) return param_fail("wait seconds not numeric");
                break;
            }
            case 'W': {
                if (po.restore) return param_fail("You cannot use `-W' from iptables-restore");
                std::optional<std::string> w;
                if (g.has_optarg) w = g.optarg;
                else if (g.next_is_arg()) w = g.argv[g.optind++];
                if (!w) return param_fail("wait interval value required");
                unsigned usec = 0;  // parse_wait_interval reads it with sscanf("%u")
                if (std::sscanf(w->c_str(), "%u", &usec) != 1) return param_fail("wait interval not numeric");
                if (usec > 999999) return param_fail(str("too long usec wait ", usec, " > 999999 usec"));
                wait_interval_set = true;
                if (po.notices) *po.notices += "Ignoring deprecated --wait-interval option.\n";
                break;
            }
            case '0':
                if (auto r = set_option(OPT_LINENUMBERS); !r) return std::unexpected(r.error());
                break;
            case 'M':
                break;
            case 'c': {
                if (auto r = set_option(OPT_COUNTERS); !r) return std::unexpected(r.error());
                pcnt = g.optarg;
                auto comma = pcnt.find(',');
                bool have_b = false;
                if (comma != std::string::npos) {
                    bcnt = pcnt.substr(comma + 1);
                    pcnt.resize(comma);
                    have_b = true;
                } else if (g.next_is_arg()) {
                    bcnt = g.argv[g.optind++];
                    have_b = true;
                }
                if (!have_b) return param_fail("-c requires packet and byte counter");
                // sscanf("%llu"): leading blanks, a sign ("-1" wraps), digits, rest ignored.
                auto scan = [](const std::string& s) -> std::optional<uint64_t> {
                    if (auto v = grammar::plain_decimal(s)) return v;
                    unsigned long long v = 0;
                    if (std::sscanf(s.c_str(), "%llu", &v) != 1) return std::nullopt;
                    return v;
                };
                auto p = scan(pcnt);
                if (!p) return param_fail("-c packet counter not numeric");
                auto b = scan(bcnt);
                if (!b) return param_fail("-c byte counter not numeric");
                c.rule.ctr = {*p, *b};
                break;
            }
            case '4':
            case '6':
                // The family's own option does nothing; the other one's line is ignored by
                // restore, refused otherwise (exit_tryhelp(2)).
                if ((code == '4') == (po.brand.family == Family::ipv4)) break;
                if (po.restore) {
                    ignore_line = true;
                    return R(std::nullopt);
                }
                return fail(Exit::parameter, "", Error::Style::bare);
            case 1:
                if (g.optarg == "!") {
                    if (invert) return param_fail("multiple consecutive ! not allowed");
                    invert = true;
                    keep_invert = true;
                    return R(std::nullopt);
                }
                return fail(Exit::parameter, str("Bad argument `", g.optarg, "'\n"), Error::Style::bare);
            default: {
                size_t before = exts.size();
                if (auto r = command_default(code, lo); !r) return std::unexpected(r.error());
                if (exts.size() != before) {
                    keep_invert = true;  // an implicit protocol match was loaded: rerun
                    return R(std::nullopt);
                }
                break;
            }
        }
        (void)chk;
        return R(std::nullopt);
    }

    bool keep_invert = false;
    bool ignore_line = false;

    Result<Outcome> run() {
        for (;;) {
            const LongOpt* lo = nullptr;
            int code = g.next(longs, &lo);
            if (code == -1) break;
            keep_invert = false;
            auto r = step(code, lo);
            if (!r) return std::unexpected(r.error());
            if (*r) return Outcome(**r);
            if (ignore_line) return Outcome(Command{});
            if (!keep_invert) invert = false;
        }
        return finish();
    }

    Result<Outcome> finish() {
        if (c.table == "nat" && (c.policy == "DROP" || c.jumpto == "DROP"))
            return param_fail(
                "\nThe \"nat\" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n");
        if (!c.wait && wait_interval_set) return param_fail("--wait-interval only makes sense with --wait\n");

        for (auto& e : exts) {
            ExtCtx x = ctx();
            if (auto r = ext_finish(e.inst, x); !r) return std::unexpected(r.error());
        }
        if (g.optind < g.argv.size()) return param_fail("unknown arguments found on commandline");
        if (!c.cmd) return param_fail("no command specified");
        if (invert) return param_fail("nothing appropriate following !");

        // Post-parse: addresses.
        if (c.rule_command()) {
            if (!(c.options & OPT_DESTINATION)) dhost = "0.0.0.0/0";
            if (!(c.options & OPT_SOURCE)) shost = "0.0.0.0/0";
        }
        if (!shost.empty() || (c.options & OPT_SOURCE)) {
            auto r = parse_addresses(shost);
            if (!r) return std::unexpected(r.error());
            c.srcs = std::move(*r);
        }
        if (!dhost.empty() || (c.options & OPT_DESTINATION)) {
            auto r = parse_addresses(dhost);
            if (!r) return std::unexpected(r.error());
            c.dsts = std::move(*r);
        }
        if ((c.srcs.size() > 1 || c.dsts.size() > 1) && (c.rule.inv_src || c.rule.inv_dst))
            return param_fail("! not allowed with multiple source or destination IP addresses");

        // generic_opt_check
        for (unsigned bit = 1; bit <= OPT_FRAGMENT; bit <<= 1)
            if ((c.options & bit) && !(legal_commands(bit) & c.cmd))
                return param_fail(str("Illegal option `-", opt2char(bit), "' with this command"));

        if (c.chain && c.chain->size() >= 29 && !po.stored)
            return param_fail(str("chain name `", *c.chain, "' too long (must be under 29 chars)"));

        if (c.cmd == CMD_APPEND || c.cmd == CMD_DELETE || c.cmd == CMD_CHECK || c.cmd == CMD_INSERT ||
            c.cmd == CMD_REPLACE) {
            if ((*c.chain == "PREROUTING" || *c.chain == "INPUT") && (c.options & OPT_VIANAMEOUT))
                return param_fail(str("Can't use -o with ", *c.chain, "\n"));
            if ((*c.chain == "POSTROUTING" || *c.chain == "OUTPUT") && (c.options & OPT_VIANAMEIN))
                return param_fail(str("Can't use -i with ", *c.chain, "\n"));
        }

        // The rule's matches and target.
        for (auto& e : exts) {
            if (e.is_target) continue;
            c.rule.matches.push_back(std::move(e.inst));
        }
        if (target_slot >= 0) c.rule.target = std::move(exts[target_slot].inst);
        c.rule.target_name = c.jumpto;
        c.rule.is_goto = goto_set;
        return Outcome(std::move(c));
    }

    // xtables_ipparse_multiple / xtables_ip6parse_multiple: comma list of host[/mask];
    // each host may be a name, ignored when the mask is zero ("any/0").
    Result<std::vector<IpNet>> parse_addresses(const std::string& spec) {
        const Family f = po.brand.family;
        std::vector<IpNet> out;
        for (auto item : grammar::split(spec, ',')) {
            std::string_view host = item, mask_text;
            bool has_mask = false;
            while (!host.empty() && std::isspace(static_cast<unsigned char>(host.front()))) host.remove_prefix(1);
            if (host.size() > 255) return param_fail("Hostname too long");
            if (auto slash = host.rfind('/'); slash != std::string_view::npos) {
                mask_text = host.substr(slash + 1);
                host = host.substr(0, slash);
                has_mask = true;
            }
            IpAddr mask = IpAddr::prefix_mask(spec_of(f).addr_bits());
            if (has_mask) {
                if (auto m = grammar::text_to_addr(f, mask_text, true)) {
                    mask = *m;
                } else {
                    auto bits = grammar::to_uint(mask_text, 0, spec_of(f).addr_bits());
                    if (!bits) return param_fail(str("invalid mask `", mask_text, "' specified"));
                    mask = IpAddr::prefix_mask(unsigned(*bits));
                }
            }
            if (mask.zero()) host = f == Family::ipv4 ? "0.0.0.0" : "::";
            std::vector<IpAddr> addrs;
            if (auto a = grammar::text_to_addr(f, host)) {
                addrs.push_back(*a);
            } else {
                addrs = netdb::resolve_host(f, host);
                if (addrs.empty()) return param_fail(str("host/network `", host, "' not found"));
            }
            for (auto a : addrs) out.push_back(IpNet{a & mask, mask});
        }
        return out;
    }
};

}  // namespace

Result<std::variant<Command, EarlyExit>> parse_command(const std::vector<std::string>& args,
                                                       const ParseOptions& po) {
    std::vector<std::string> argv;
    argv.reserve(args.size() + 3);
    argv.push_back(std::string(po.brand.name));
    // iptables-restore's argv starts "PROG -t TABLE": a message naming argv[optind - 1]
    // can name them.
    if (po.restore) argv.insert(argv.end(), {"-t", po.table});
    argv.insert(argv.end(), args.begin(), args.end());
    Parser p(argv, po);
    return p.run();
}

}  // namespace xdpt
