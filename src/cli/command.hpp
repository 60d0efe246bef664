// One iptables command line, parsed: what do_parse() + ipv4_post_parse() produce.
#pragma once
#include <optional>
#include <set>
#include <variant>
#include <string>
#include <vector>

#include "core/brand.hpp"
#include "core/error.hpp"
#include "model/ruleset.hpp"

namespace xdpt {

// Command bits, in iptables' order (cmd2char: I D D R A L F Z N X P E S Z C).
enum Cmd : unsigned {
    CMD_NONE = 0,
    CMD_INSERT = 1u << 0,
    CMD_DELETE = 1u << 1,
    CMD_DELETE_NUM = 1u << 2,
    CMD_REPLACE = 1u << 3,
    CMD_APPEND = 1u << 4,
    CMD_LIST = 1u << 5,
    CMD_FLUSH = 1u << 6,
    CMD_ZERO = 1u << 7,
    CMD_NEW_CHAIN = 1u << 8,
    CMD_DELETE_CHAIN = 1u << 9,
    CMD_SET_POLICY = 1u << 10,
    CMD_RENAME_CHAIN = 1u << 11,
    CMD_LIST_RULES = 1u << 12,
    CMD_ZERO_NUM = 1u << 13,
    CMD_CHECK = 1u << 14,
};

// Option bits (iptables' OPT_*), in the order of its optflags[] "nsdpjvxio0cf".
enum Opt : unsigned {
    OPT_NUMERIC = 1u << 0,
    OPT_SOURCE = 1u << 1,
    OPT_DESTINATION = 1u << 2,
    OPT_PROTOCOL = 1u << 3,
    OPT_JUMP = 1u << 4,
    OPT_VERBOSE = 1u << 5,
    OPT_EXPANDED = 1u << 6,
    OPT_VIANAMEIN = 1u << 7,
    OPT_VIANAMEOUT = 1u << 8,
    OPT_LINENUMBERS = 1u << 9,
    OPT_COUNTERS = 1u << 10,
    OPT_FRAGMENT = 1u << 11,
};

struct Command {
    unsigned cmd = CMD_NONE;
    unsigned options = 0;  // OPT_* given
    std::string table = "filter";
    std::optional<std::string> chain;
    std::string newname;   // -E
    std::string policy;    // -P
    unsigned rulenum = 0;  // -I/-R/-D/-L/-S/-Z number (1-based), 0 = none
    int verbose = 0;
    int wait = 0;          // -w: -1 forever, N seconds; 0 not given
    Rule rule;             // -A/-I/-D/-C/-R: the rule, addresses filled per expansion
    std::vector<IpNet> srcs, dsts;  // expanded -s/-d lists (at least one each for rules)
    std::string jumpto;    // -j/-g name as given ("" none)

    bool numeric() const { return options & OPT_NUMERIC; }
    bool rule_command() const {
        return cmd & (CMD_APPEND | CMD_DELETE | CMD_CHECK | CMD_INSERT | CMD_REPLACE);
    }
};

// What parsing may end in besides a command: text to print and an exit status (-h, -V).
struct EarlyExit {
    std::string out;
    int status = 0;
};

struct ParseOptions {
    bool restore = false;     // parsing a line of xdptables-restore
    std::string table;        // restore: the table of the current block
    std::string* notices = nullptr;  // where stderr notices go (printed even on failure)
    // Reading xdptables' own stored state: names longer than the command line allows
    // (chains renamed with -E to up to 31 characters) are taken as they are.
    bool stored = false;
    Brand brand = xdptables_brand;  // the names in help, -V and messages
    // Set when the kernel cannot be asked which revision of an extension it has (see
    // can_ask_revisions in main.cpp): iptables then assumes the revision it prefers and
    // says so on stderr, once per extension it loads; those it has spoken of are kept
    // here. Null: the kernel can be asked, and nothing is said.
    std::set<const ExtKind*>* assumed_revisions = nullptr;
};

// Parses argv (without argv[0]). On success either a Command or an EarlyExit.
Result<std::variant<Command, EarlyExit>> parse_command(const std::vector<std::string>& argv,
                                                       const ParseOptions& po);

// The help text of `xdptables -h` (`prog`: xdptables-restore names itself in it), iptables'
// own with the names and flavour of `brand`.
std::string help_text(std::string_view prog, const Brand& brand);
// The subcommands of xdptables, as a section after the help text: what -h adds under the
// name xdptables (under iptables' names -h is iptables' alone), and `help` under any.
std::string subcommands_text(const Brand& brand);
// What -h adds for a target (or verdict) given before it, then for each match loaded.
std::string extension_help(std::string_view name, bool target, Family f = Family::ipv4);

}  // namespace xdpt
