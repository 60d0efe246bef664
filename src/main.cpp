// The xdptables binary: one program, applet chosen by argv[0] (xdptables,
// xdptables-save, xdptables-restore, or iptables' names iptables, iptables-save,
// iptables-restore) or by `xdptables-multi APPLET ...`.
#include <malloc.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "accel/accel.hpp"
#include "cli/command.hpp"
#include "cli/migrate.hpp"
#include "cli/restore.hpp"
#include "cli/status.hpp"
#include "cli/tools.hpp"
#include "cli/xml.hpp"
#include "compat/nft.hpp"
#include "core/str.hpp"
#include "core/timing.hpp"
#include "dp/dataplane.hpp"
#include "dp/explain.hpp"
#include "model/apply.hpp"
#include "model/print.hpp"
#include "store/state.hpp"
#include "xdpt_config.h"

namespace xdpt {
namespace {

// How the applet was called: the brand its names and messages follow, and argv[0] as given
// (getopt's messages name it).
struct Invocation {
    Brand brand;
    std::string argv0;
};

std::string flavour(const Brand& b) { return str(XDPT_IPTABLES_VERSION, " (", b.flavour, ")"); }

int report(const Error& e, std::string_view prog, const Brand& brand) {
    std::string s;
    switch (e.style) {
        case Error::Style::prefixed:
            s = str(prog, " v", flavour(brand), ": ", e.msg, '\n');
            break;
        case Error::Style::runtime:
            s = str(prog, ": ", e.msg, ".\n");
            break;
        case Error::Style::runtime_dmesg:
            s = str(prog, ": ", e.msg, ". Run `dmesg' for more information.\n");
            break;
        case Error::Style::bare:
            s = e.msg;
            break;
    }
    if (e.code == Exit::parameter) {
        if (e.line != -1) s += str("Error occurred at line: ", e.line, '\n');
        s += str("Try `", prog, " -h' or '", prog, " --help' for more information.\n");
    } else if (e.code == Exit::version && e.style == Error::Style::prefixed) {
        s += str("Perhaps ", prog, " or your kernel needs to be upgraded.\n");
    }
    std::fwrite(e.out.data(), 1, e.out.size(), stdout);
    std::fputs(s.c_str(), stderr);
    return static_cast<int>(e.code);
}

void write_out(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// The namespace's ruleset with the live counters of the dataplane added, and the anchor
// it was found through (none before the first change).
struct Loaded {
    std::optional<Anchor> anchor;
    Ruleset rs;
    dp::Live live;
};

// `rule_counts`: the rules' counts are wanted (listings, save, and any change but adding
// at the end of a chain, which needs the kernel rules' handles). Without, and when
// nftables did not change since the last commit, the kernel's rules are not read back.
Result<void> recommit(Loaded& l, Ruleset& rs);

// A commit killed between its staging and its publishing (stage_state marks the store
// pending meanwhile) may have left netfilter (and maybe XDP) holding its ruleset while
// the store holds the one before, or the reverse: the stored one is made whole again in
// both layers (what they counted since the last completed commit is lost). Nothing
// stored (a first commit killed): the netfilter tables go. Neither costs a command more
// than reading the mark: a marker that each batch replaced in nftables would make every
// batch release something, and the closing of the nftables socket then waits for an RCU
// grace period.
Result<bool> recover(Loaded& l) {
    const bool stored = l.anchor && !l.rs.tables.empty();
    auto broken = stored ? state_pending(*l.anchor, l.rs.family) : nft::holds_tables(l.rs.family);
    if (!broken) return std::unexpected(broken.error());
    if (!*broken) return false;
    if (!stored) {
        if (auto r = nft::remove(l.rs.family); !r) return std::unexpected(r.error());
        return true;
    }
    if (auto r = recommit(l, l.rs); !r) return std::unexpected(r.error());
    return true;
}

// The stored ruleset of family `f`, with what XDP and netfilter counted since.
Result<Loaded> load_ruleset(Family f, bool rule_counts = true) {
    Loaded l;
    l.rs.family = f;
    auto anchor = find_anchor();
    if (!anchor) return std::unexpected(anchor.error());
    auto recovered = [&]() -> Result<Loaded> {
        if (auto r = recover(l); !r) return std::unexpected(r.error());
        return std::move(l);
    };
    if (!*anchor) return recovered();
    l.anchor = std::move(*anchor);
    Phase load("load");
    auto text = load_state(*l.anchor, f);
    if (!text) return std::unexpected(text.error());
    if (!*text) return recovered();
    {
        Phase parse("load: parse the stored ruleset");
        auto rs = deserialize_ruleset(**text, f);
        if (!rs) return std::unexpected(rs.error());
        l.rs = std::move(*rs);
    }
    {
        auto r = recover(l);
        if (!r) return std::unexpected(r.error());
        if (*r) return l;
    }
    {
        Phase xdp("load: XDP counters");
        auto live = dp::add_live_counters(*l.anchor, l.rs);
        if (!live) return std::unexpected(live.error());
        l.live = std::move(*live);
    }
    Phase nft("load: netfilter counters");
    if (!rule_counts) {
        auto linked = nft::link_unchanged(l.rs);
        if (!linked) return std::unexpected(linked.error());
        if (*linked) return l;
    }
    if (auto r = nft::add_counters(l.rs); !r) return std::unexpected(r.error());
    return l;
}

// Stores `rs` and makes the dataplane enforce it, loading the anchor program first when
// the namespace has none. `prev` is the ruleset before the change; the counter snapshot
// in `l` is used up by the first commit (later ones in the same process start from the
// text alone).
Result<void> save_ruleset(Loaded& l, Ruleset& rs, const dp::Previous& prev, std::string* notices) {
    auto r = dp::commit(l.anchor, rs, prev, l.live,
                        [](const Anchor& a, const Ruleset& now) { return stage_state(a, now.family, serialize_ruleset(now)); },
                        notices);
    l.live = {};
    return r;
}

// The ruleset as the store holds it, with what XDP counted since: what was committed last.
// The store publishes a commit's text only after its flip, so during a commit this is the
// ruleset before it (what a failed flip puts back into netfilter).
Ruleset stored_ruleset(const Loaded& l, Family f) {
    Ruleset was;
    was.family = f;
    if (!l.anchor) return was;
    auto text = load_state(*l.anchor, f);
    if (!text || !*text) return was;
    if (auto rs = deserialize_ruleset(**text, f)) was = std::move(*rs);
    (void)dp::add_live_counters(*l.anchor, was);
    return was;
}

// Commits `rs` as it stands (after a table was instantiated, or for new interfaces) and
// prints what the dataplane has to say.
Result<void> recommit(Loaded& l, Ruleset& rs) {
    const Ruleset prev = rs;
    std::string notices;
    auto r = save_ruleset(l, rs, [&] { return prev; }, &notices);
    std::fputs(notices.c_str(), stderr);
    return r;
}

// ------------------------------------------------------------------ xdptables

// `xdptables version`: the xdptables release. -V prints iptables' version line (the
// iptables release whose behaviour this one reproduces), which tools parse.
std::string version_text() {
    return str("xdptables ", XDPT_VERSION, " (iptables v", XDPT_IPTABLES_VERSION, " compatible)\n");
}

// Whether the kernel can be asked which revisions of an extension it has: iptables asks
// through a raw socket (xtables' compatible_revision), which a process without
// CAP_NET_RAW cannot open (EPERM); any other failure is not that.
bool can_ask_revisions() {
    Fd fd(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
    return fd || errno != EPERM;
}

int main_xdptables(const Invocation& inv, const std::vector<std::string>& args) {
    const std::string prog(inv.brand.name);
    auto exit_with = [&](const Error& e) { return report(e, prog, inv.brand); };
    if (!args.empty() && args[0] == "detach") {
        if (args.size() > 1) return exit_with(Error{Exit::parameter, "detach takes no arguments"});
        if (auto r = require_privileges("filter"); !r) return exit_with(r.error());
        auto lock = NsLock::acquire(0);
        if (!lock) return exit_with(lock.error());
        if (auto r = remove_state(); !r) return exit_with(r.error());
        for (const FamilySpec& f : families)
            if (auto r = nft::remove(f.family); !r) return exit_with(r.error());
        return 0;
    }
    if (!args.empty() && (args[0] == "version" || args[0] == "help")) {
        if (args.size() > 1) return exit_with(Error{Exit::parameter, str(args[0], " takes no arguments")});
        write_out(args[0] == "version" ? version_text() : help_text(inv.brand.name, inv.brand) + subcommands_text(inv.brand));
        return 0;
    }
    if (!args.empty() && args[0] == "status") {
        if (args.size() > 1) return exit_with(Error{Exit::parameter, "status takes no arguments"});
        if (auto r = require_privileges("filter"); !r) return exit_with(r.error());
        auto r = status_report();
        if (!r) return exit_with(r.error());
        write_out(*r);
        return 0;
    }
    if (!args.empty() && args[0] == "socket-accel") {
        auto r = accel::run(std::vector<std::string>(args.begin() + 1, args.end()));
        if (!r) return exit_with(r.error());
        write_out(*r);
        return 0;
    }
    if (!args.empty() && args[0] == "attach") {
        // Recompiles the stored ruleset for the interfaces there are now and attaches to
        // the new ones (for a udev rule or a unit that runs when an interface appears).
        if (args.size() > 1) return exit_with(Error{Exit::parameter, "attach takes no arguments"});
        if (auto r = require_privileges("filter"); !r) return exit_with(r.error());
        auto lock = NsLock::acquire(0);
        if (!lock) return exit_with(lock.error());
        // Each family's classifier holds its own interface records.
        for (const FamilySpec& f : families) {
            auto loaded = load_ruleset(f.family);
            if (!loaded) return exit_with(loaded.error());
            if (!loaded->rs.tables.empty())
                if (auto r = recommit(*loaded, loaded->rs); !r) return exit_with(r.error());
        }
        return 0;
    }
    if (!args.empty() && args[0] == "migrate") {
        if (auto r = require_privileges("filter"); !r) return exit_with(r.error());
        return main_migrate(std::vector<std::string>(args.begin() + 1, args.end()), "/proc/self/exe", inv.brand.family);
    }
    if (!args.empty() && args[0] == "explain") {
        // Where each rule and policy is judged, XDP or netfilter, and why.
        std::string table;
        if (args.size() == 3 && (args[1] == "-t" || args[1] == "--table"))
            table = args[2];
        else if (args.size() != 1)
            return exit_with(Error{Exit::parameter, "explain takes only -t TABLE"});
        if (auto r = require_privileges("filter"); !r) return exit_with(r.error());
        auto lock = NsLock::acquire(0);
        if (!lock) return exit_with(lock.error());
        auto loaded = load_ruleset(inv.brand.family);
        if (!loaded) return exit_with(loaded.error());
        write_out(dp::explain(loaded->rs, dp::list_ifaces(), dp::local_addresses(loaded->rs.family), table));
        return 0;
    }
    std::string notices;
    ParseOptions po;
    po.notices = &notices;
    po.brand = inv.brand;
    std::set<const ExtKind*> assumed_revisions;
    if (!can_ask_revisions()) po.assumed_revisions = &assumed_revisions;
    auto parsed = parse_command(args, po);
    std::fputs(notices.c_str(), stderr);
    if (!parsed) return exit_with(parsed.error());
    if (auto* early = std::get_if<EarlyExit>(&*parsed)) {
        write_out(early->out);
        return early->status;
    }
    auto& cmd = std::get<Command>(*parsed);
    if (auto r = require_privileges(cmd.table.c_str(), inv.brand.family); !r) return exit_with(r.error());
    auto lock = NsLock::acquire(cmd.wait);
    if (!lock) return exit_with(lock.error());
    // Appending, adding a chain, a policy and checking touch no rule the kernel holds, and
    // a listing without -v shows no count. Inserting, deleting and replacing read the
    // handles they need once applied (nft::read_handles). A table such a command makes
    // anew (or renames) reads the counts of its rules then (nft::prepare).
    unsigned reads_no_rule = CMD_APPEND | CMD_NEW_CHAIN | CMD_SET_POLICY | CMD_CHECK | CMD_INSERT | CMD_DELETE |
                             CMD_DELETE_NUM | CMD_REPLACE;
    if (!cmd.verbose) reads_no_rule |= CMD_LIST | CMD_LIST_RULES;
    const bool rule_counts = cmd.cmd & ~reads_no_rule;
    const Family fam = inv.brand.family;
    auto loaded = load_ruleset(fam, rule_counts);
    if (!loaded) return exit_with(loaded.error());
    // The command applies to the loaded ruleset in place: a copy of it per command would
    // cost more than the rest of an append at 10,000 rules (a copy is ~4 MiB there, each
    // page of it a fault). What was there before is read again where it is needed.
    const bool had_table = loaded->rs.find(cmd.table) != nullptr;
    Ruleset& next = loaded->rs;
    auto applied = apply_command(next, cmd);
    if (!applied) {
        // libiptc had loaded the table before the command failed: it exists from now on,
        // in the ruleset as it was (loaded again: the command may have changed it in part).
        if (!had_table && next.find(cmd.table)) {
            auto again = load_ruleset(fam, true);
            if (!again) return exit_with(again.error());
            again->rs.instantiate(cmd.table);
            if (auto r = recommit(*again, again->rs); !r) return exit_with(r.error());
        }
        return exit_with(applied.error());
    }
    // The ruleset before the command, should netfilter have to be put back: the stored
    // one (the store publishes the new text only after the flip) with what XDP counted.
    auto before = [&] { return stored_ruleset(*loaded, fam); };
    std::string dp_notices;
    if (applied->changed) {
        if (auto r = nft::read_handles(next); !r) return exit_with(r.error());
        if (auto r = save_ruleset(*loaded, next, before, &dp_notices); !r) return exit_with(r.error());
    }
    std::fputs(applied->warnings.c_str(), stderr);
    std::fputs(dp_notices.c_str(), stderr);
    write_out(applied->out);
    return 0;
}

// ------------------------------------------------------------------ xdptables-save

std::string now_text() {
    std::time_t t = std::time(nullptr);
    char buf[64];
    ctime_r(&t, buf);
    return buf;  // ends in '\n'
}

int main_save(const Invocation& inv, const std::vector<std::string>& args) {
    const std::string prog = str(inv.brand.name, "-save");
    auto exit_with = [&](const Error& e) { return report(e, prog, inv.brand); };
    auto parsed = parse_save_args(inv.argv0, args, inv.brand);
    if (auto* done = std::get_if<ToolExit>(&parsed)) {
        std::fputs(done->err.c_str(), stderr);
        write_out(done->out);
        return done->status;
    }
    auto& sa = std::get<SaveArgs>(parsed);
    std::fputs(sa.notices.c_str(), stderr);
    const bool counters = sa.counters;
    const std::optional<std::string>& table = sa.table;
    const std::optional<std::string>& file = sa.file;
    // iptables-save reads the kernel's table list (no table given) or initialises the
    // table, and fails as an unprivileged user with exit 1.
    if (auto r = require_privileges("filter", inv.brand.family); !r) {
        std::fputs(table ? str(prog, " v", flavour(inv.brand), ": Cannot initialize: Permission denied (you must be root)\n").c_str()
                         : str("Failed to list table names in /proc/net/", inv.brand.family == Family::ipv4 ? "ip" : "ip6",
                               "_tables_names: Permission denied\n").c_str(),
                   stderr);
        return 1;
    }
    // Held while the ruleset is read, not while it is written out: iptables-legacy-save
    // takes no lock, and a slow reader of the output (a pipe) must not hold up writers.
    std::optional<Result<NsLock>> lock(NsLock::acquire(0));
    if (!*lock) return exit_with(lock->error());
    auto loaded = load_ruleset(inv.brand.family);
    if (!loaded) return exit_with(loaded.error());
    Ruleset* rs = &loaded->rs;
    if (table) {
        if (!builtin_chains(*table))
            return exit_with(Error{Exit::other, str("Cannot initialize: Table does not exist (do you need to insmod?)")});
        if (!rs->find(*table)) {
            rs->instantiate(*table);
            if (auto r = recommit(*loaded, *rs); !r) return exit_with(r.error());
        }
    }
    std::string out;
    for (const auto& t : rs->tables) {
        if (table && t.name != *table) continue;
        out += str("# Generated by ", prog, " v", XDPT_IPTABLES_VERSION, " on ", now_text());
        out += table_to_save(t, counters);
        out += str("# Completed on ", now_text());
    }
    lock.reset();
    if (file) {
        std::ofstream f(*file, std::ios::trunc);
        if (!f) {
            std::fputs(str("Failed to open file, error: ", std::strerror(errno), '\n').c_str(), stderr);
            return 1;
        }
        f << out;
        return 0;
    }
    write_out(out);
    return 0;
}

// ------------------------------------------------------------------ xdptables-restore

int main_restore(const Invocation& inv, const std::vector<std::string>& args) {
    const std::string prog = str(inv.brand.name, "-restore");
    auto exit_with = [&](const Error& e) { return report(e, prog, inv.brand); };
    auto parsed = parse_restore_args(inv.argv0, args, inv.brand);
    if (!parsed) return exit_with(parsed.error());
    if (auto* done = std::get_if<ToolExit>(&*parsed)) {
        std::fputs(done->err.c_str(), stderr);
        write_out(done->out);
        return done->status;
    }
    auto& ra = std::get<RestoreArgs>(*parsed);
    std::fputs(ra.notices.c_str(), stderr);
    RestoreOptions& o = ra.o;
    const int wait = ra.wait;
    const std::optional<std::string>& file = ra.file;
    std::string text;
    if (file) {
        std::ifstream f(*file);
        if (!f) {
            std::fputs(str("Can't open ", *file, ": ", std::strerror(errno), '\n').c_str(), stderr);
            return 1;
        }
        std::stringstream ss;
        ss << f.rdbuf();
        text = ss.str();
    } else {
        std::stringstream ss;
        ss << std::cin.rdbuf();
        text = ss.str();
    }
    if (ra.interval_without_wait) {
        std::fputs("Option --wait-interval requires option --wait\n", stderr);
        return 1;
    }
    if (geteuid() != 0) {
        // iptables-legacy-restore needs its privileges at the first table line (its lock
        // file, then the table); input without content (blank lines, comments) changes
        // nothing and succeeds, and anything else before a table fails without them.
        std::istringstream in(text);
        std::string line;
        int n = 0;
        bool content = false;
        while (!content && std::getline(in, line)) ++n, content = !line.empty() && line[0] != '#';
        if (!content) return 0;
        if (line[0] != '*') return exit_with(Error{Exit::other, str(prog, ": line ", n, " failed\n"), Error::Style::bare});
        auto r = require_privileges("filter", inv.brand.family);
        if (!r && r.error().code != Exit::version) return exit_with(r.error());  // the lock file
        Error e{Exit::parameter, str(prog, ": unable to initialize table '", line.substr(1), "'")};
        e.line = n;
        return exit_with(e);
    }
    if (auto r = require_privileges("filter", inv.brand.family); !r) return exit_with(r.error());
    auto lock = NsLock::acquire(wait);
    if (!lock) return exit_with(lock.error());
    const Family fam = inv.brand.family;
    auto loaded = load_ruleset(fam);
    if (!loaded) return exit_with(loaded.error());
    // The blocks apply to the loaded ruleset in place (no copy of a large ruleset); what
    // was committed last is read back from the store where it is needed.
    Ruleset& work = loaded->rs;
    std::string out;
    std::vector<std::string> seen;
    o.tables_seen = &seen;
    std::string notices;
    // `now` is `work`, committed in place: the next table block goes on from what the
    // kernel then holds (the netfilter handles this commit made or kept, the counts it
    // folded in).
    auto commit = [&](Ruleset& now) -> Result<void> {
        return save_ruleset(*loaded, now, [&] { return stored_ruleset(*loaded, fam); }, &notices);
    };
    o.notices = &notices;
    o.check = [](const Ruleset& now) { return nft::check(now); };
    auto r = restore_text(work, text, o, commit, out);
    std::fputs(notices.c_str(), stderr);
    write_out(out);
    // Tables named in the input exist afterwards even if their block failed or nothing
    // was committed (--test), as with iptables. What was committed is `work` when every
    // block was; otherwise it is loaded again.
    bool missing = false;
    for (const auto& name : seen) missing = missing || (builtin_chains(name) && !work.find(name));
    if (missing || o.test || !r) {
        auto committed = (o.test || !r) ? load_ruleset(fam) : std::move(loaded);
        if (!committed) return exit_with(committed.error());
        bool grew = false;
        for (const auto& name : seen)
            if (builtin_chains(name) && !committed->rs.find(name)) committed->rs.instantiate(name), grew = true;
        if (grew)
            if (auto s = recommit(*committed, committed->rs); !s) return exit_with(s.error());
    }
    if (!r) {
        if (r.error().code == Exit::ok) return 0;
        return exit_with(r.error());
    }
    return 0;
}

// ------------------------------------------------------------------ iptables-xml

XmlInput read_xml_input(const std::string* path) {
    std::stringstream ss;
    if (!path) {
        ss << std::cin.rdbuf();
        return {ss.str(), ""};
    }
    std::ifstream f(*path);
    if (!f) return {"", str("Can't open ", *path, ": ", std::strerror(errno))};
    ss << f.rdbuf();
    return {ss.str(), ""};
}

int run_xml(std::string_view prog, const std::vector<std::string>& args) {
    ToolExit r = iptables_xml(prog, args, read_xml_input);
    write_out(r.out);
    std::fputs(r.err.c_str(), stderr);
    return r.status;
}
int main_xml(const Invocation& inv, const std::vector<std::string>& args) {
    return run_xml(str(inv.brand.name, "-xml"), args);
}

std::string base_name(std::string_view p) {
    auto slash = p.rfind('/');
    return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

struct Applet {
    std::string_view name;
    int (*main)(const Invocation&, const std::vector<std::string>&);
    Brand brand;
};

// The subcommands of xdptables-multi, in the order its error message lists them. iptables'
// and ip6tables' names (and xtables-legacy-multi's short ones, main4, save4, restore4,
// main6, save6, restore6) answer as iptables 1.8.9 does; iptables-legacy* are not ours
// to take.
constexpr Applet applets[] = {
    {"xdptables", main_xdptables, xdptables_brand},       {"main", main_xdptables, xdptables_brand},
    {"xdptables-save", main_save, xdptables_brand},       {"save", main_save, xdptables_brand},
    {"xdptables-restore", main_restore, xdptables_brand}, {"restore", main_restore, xdptables_brand},
    {"iptables", main_xdptables, iptables_brand},         {"main4", main_xdptables, iptables_brand},
    {"iptables-save", main_save, iptables_brand},         {"save4", main_save, iptables_brand},
    {"iptables-restore", main_restore, iptables_brand},   {"restore4", main_restore, iptables_brand},
    {"xdptables-xml", main_xml, xdptables_brand},        {"iptables-xml", main_xml, iptables_brand},
    {"ip6tables", main_xdptables, ip6tables_brand},       {"main6", main_xdptables, ip6tables_brand},
    {"ip6tables-save", main_save, ip6tables_brand},       {"save6", main_save, ip6tables_brand},
    {"ip6tables-restore", main_restore, ip6tables_brand}, {"restore6", main_restore, ip6tables_brand},
    {"xdp6tables", main_xdptables, xdp6tables_brand},     {"xdp6tables-save", main_save, xdp6tables_brand},
    {"xdp6tables-restore", main_restore, xdp6tables_brand},
};

const Applet* find_applet(std::string_view name) {
    for (const auto& a : applets)
        if (a.name == name) return &a;
    return nullptr;
}

// iptables' subcmd_main: the applet named by argv[0]'s base name, else the one named by
// the first argument as given (`xdptables-multi xdptables -L`), else a list and exit 1.
int dispatch(std::string_view argv0, std::vector<std::string> args) {
    Invocation inv{xdptables_brand, std::string(argv0)};
    const Applet* a = find_applet(base_name(argv0));
    if (!a && !args.empty()) {
        a = find_applet(args.front());
        if (a) {
            // As xtables-legacy-multi shifts argv: the applet's name is its argv[0].
            inv.argv0 = args.front();
            args.erase(args.begin());
        }
    }
    if (a) {
        inv.brand = a->brand;
        return a->main(inv, args);
    }
    std::string msg = "ERROR: No valid subcommand given.\nValid subcommands:\n";
    for (const auto& x : applets) msg += str(" * ", x.name, '\n');
    std::fputs(msg.c_str(), stderr);
    return 1;
}

}  // namespace

// The heap in transparent huge pages: a command's memory is mostly fresh pages that it
// touches once, and each first touch of a 4 KiB page is a fault (microseconds on a VM:
// a fifth of an append at 10k rules). The heap grows once, by `reach` of address space
// (untouched, it costs nothing), which is marked MADV_HUGEPAGE: a fault then brings 2 MiB.
// Below the first 2 MiB boundary, blocks that are never touched past their header fill the
// gap, so that what is allocated from then on lies in the huge pages. Left to 4 KiB pages
// where the kernel has no transparent huge pages, or with XDPT_SMALL_PAGES set. Needs a
// trim threshold above `reach` (main sets 1 GiB first): else the first free gives the
// grown heap back.
void heap_in_huge_pages() {
    if (std::getenv("XDPT_SMALL_PAGES")) return;
    constexpr size_t reach = size_t(512) << 20, huge = size_t(2) << 20, piece = size_t(96) << 10;
    const auto up = [](uintptr_t a) { return (a + huge - 1) & ~(huge - 1); };
    mallopt(M_TOP_PAD, int(reach));
    auto* from = static_cast<char*>(sbrk(0));
    std::vector<void*> held;
    held.reserve(64);
    while (sbrk(0) == from && held.size() < 64) held.push_back(std::malloc(piece));
    auto* to = static_cast<char*>(sbrk(0));
    for (void* p : held) std::free(p);
    const uintptr_t b = up(reinterpret_cast<uintptr_t>(from)), e = reinterpret_cast<uintptr_t>(to) & ~(huge - 1);
    if (e <= b || madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE) != 0) return;
    // The fillers are kept (never freed, never touched); the one that would reach the
    // boundary goes back.
    for (size_t i = 0; i <= huge / piece; ++i) {
        void* filler = std::malloc(piece);
        if (!filler || reinterpret_cast<uintptr_t>(filler) + piece + 64 >= b) {
            std::free(filler);
            break;
        }
    }
}

}  // namespace xdpt

int main(int argc, char** argv) {
    // Memory a phase frees stays with the process for the next one (no heap trimming):
    // every command is a short process, and each page it touches first costs a fault
    // (microseconds on a VM), so reusing beats returning. Big blocks keep their own
    // mappings: in the heap, a freed one cannot hold a bigger one, and the peak grows
    // (restore of 10k rules: 38 -> 48 MiB for 10% fewer faults). The heap itself is in huge
    // pages (heap_in_huge_pages).
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    xdpt::heap_in_huge_pages();
    mallopt(M_TOP_PAD, 16 << 20);
    std::vector<std::string> args(argv + 1, argv + argc);
    int rc = xdpt::dispatch(argc > 0 ? argv[0] : "xdptables", std::move(args));
    std::fflush(stdout);
    return rc;
}
