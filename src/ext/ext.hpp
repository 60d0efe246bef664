// The extension interface: every match (-m NAME) and target (-j NAME) that xdptables
// understands is one ExtKind with a declarative option table, plus an ExtData subclass
// that holds the parsed values and knows how to save (iptables-save form) and print
// (iptables -L form) them. The generic option driver in ext.cpp enforces what libxtables'
// x6 option parser enforces (repeats, `!`, mandatory and exclusive options) with the same
// messages, so an extension only parses values.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/family.hpp"
#include "ext/nftexpr.hpp"

namespace xdpt {

struct Rule;
struct XdpCond;

// A match or target as the kernel's x_tables takes it (nft_compat's match and target
// expressions): its name, revision, and its info structure byte for byte.
struct XtInfo {
    std::string name;
    uint8_t rev = 0;
    std::vector<uint8_t> data;

    // The info structure `v` as its bytes, zero padded to XT_ALIGN(sizeof v) as
    // libxtables sends it.
    template <class T>
    static XtInfo of(std::string_view name, uint8_t rev, const T& v) {
        struct XtAlign { uint8_t a; uint16_t b; uint32_t c; uint64_t d; };  // struct _xt_align
        constexpr size_t align = alignof(XtAlign);
        XtInfo x{std::string(name), rev, std::vector<uint8_t>((sizeof(T) + align - 1) / align * align)};
        std::memcpy(x.data.data(), &v, sizeof(T));
        return x;
    }
};

// Option flags, as in libxtables' XTOPT_*.
enum OptFlag : unsigned {
    opt_invert = 1u << 0,  // may be preceded by `!`
    opt_multi = 1u << 1,   // may be given more than once
    opt_mand = 1u << 2,    // must be given
};

struct OptDef {
    std::string_view name;  // without the leading "--"
    int id;                 // 0..31, unique within the extension
    bool has_arg = true;
    unsigned flags = 0;
    unsigned excl = 0;  // bit mask of option ids that cannot be combined with this one
    unsigned also = 0;  // bit mask of option ids this one requires
};

// What an extension may look at while parsing or checking: the rule's base fields as
// given so far, and where it is going.
struct ExtCtx {
    const Rule* rule = nullptr;
    std::string_view table;
    Family family = Family::ipv4;
    // The command line being parsed and the index of the next unread argument, for the
    // few options that take more than one argument (tcp --tcp-flags MASK COMP): read
    // argv[*next] and advance *next. Null when not parsing a command line.
    const std::vector<std::string>* argv = nullptr;
    size_t* next = nullptr;
    // Where warnings that iptables prints to stderr go; null when re-reading stored
    // state (nothing is printed then).
    std::string* notices = nullptr;
    // Re-reading xdptables' own stored state: an extension takes back the text it saves
    // even where iptables would refuse that text (a value iptables prints but cannot read).
    bool stored = false;
    // For kernel_accepts(): the builtin chains (hooks) from which the rule's chain is
    // reachable; empty for an unreachable user chain.
    std::vector<std::string> hooks;
};

class ExtData {
public:
    virtual ~ExtData() = default;
    virtual std::unique_ptr<ExtData> clone() const = 0;
    // One option of this extension. `arg` is empty for options without argument.
    virtual Result<void> parse(const OptDef& opt, std::string_view arg, bool invert,
                               const ExtCtx& ctx) = 0;
    // After the whole command line: cross-option checks (the extension's x6_fcheck or
    // final_check). `seen` has bit `id` set for every option given. It runs before the
    // driver's mandatory / also / exclusive checks, as xtables_option_mfcall runs
    // x6_fcheck before xtables_options_fcheck.
    virtual Result<void> finish(unsigned seen, const ExtCtx& ctx) {
        (void)seen, (void)ctx;
        return {};
    }
    // What the kernel's checkentry would refuse with EINVAL once the rule is placed in
    // `ctx.table` (protocol requirements, value ranges it rejects). Return false to refuse.
    virtual bool kernel_accepts(const Rule& rule, const ExtCtx& ctx) const {
        (void)rule, (void)ctx;
        return true;
    }
    // A kernel object that rules share by name (hashlimit's table): {name, kind}. Within
    // a table the kernel refuses a rule whose kind differs from that of the first rule
    // with the name (which created the object).
    virtual std::optional<std::pair<std::string, std::string>> kernel_shared() const { return std::nullopt; }
    // The errno with which the kernel refuses what kernel_accepts() refuses: EINVAL, or
    // ERANGE (xt_limit's overflow check), ENOENT (xt_string's unknown algorithm).
    virtual int refusal_errno() const { return EINVAL; }
    // Adds what this match asks of a packet to `cond` when the XDP classifier can
    // decide it exactly, as the kernel's match function would; false when it cannot
    // (the rule is then left to the kernel).
    virtual bool to_xdp(const Rule& rule, XdpCond& cond) const {
        (void)rule, (void)cond;
        return false;
    }
    // The kernel's x_tables form of this match or target, for the netfilter layer.
    // An empty name: the extension has none (the netfilter layer then refuses the rule).
    virtual XtInfo to_xt(const Rule& rule) const {
        (void)rule;
        return {};
    }
    // The native nftables form of this match, for the netfilter layer, appended to
    // `out`: only where the kernel judges every packet through it as through the x_tables
    // form (see ext/nftexpr.hpp). False, with nothing appended: the x_tables form is used.
    virtual bool to_nft(const Rule& rule, nftx::Exprs& out) const {
        (void)rule, (void)out;
        return false;
    }
    // iptables-save form, each option with a leading space: " --dport 80".
    virtual void save(std::string& out) const = 0;
    // The stored-state form (see rule_to_save's `exact`): also what iptables-save leaves
    // out although the kernel's structure holds it, so that the text reads back to the
    // same structure. Rules are the same rule when their exact forms are.
    virtual void save_exact(std::string& out) const { save(out); }
    // iptables -L form with its leading space: " tcp dpt:80" (`numeric` is -n).
    virtual void print(std::string& out, bool numeric) const = 0;
};

struct ExtKind {
    std::string_view name;
    std::span<const OptDef> opts;
    std::unique_ptr<ExtData> (*make)();
    // Tables the kernel allows this extension in (comma separated; empty: all).
    std::string_view tables = {};
    // Chains (hooks) of builtin chains the kernel allows it in (comma separated; empty: all).
    std::string_view hooks = {};
    // The name iptables -L shows in the target column when it differs (NOTRACK is CT).
    std::string_view list_name = {};
    // The families it exists in (bits 1 << Family): a libxt_* extension is in both (those
    // that hold addresses take the family from ExtCtx), a libipt_* one in IPv4's alone, a
    // libip6t_* one in IPv6's. Two of one name (ah, REJECT) are told apart by family.
    unsigned families = 3;
    bool in(Family f) const { return families & (1u << unsigned(f)); }
};

inline constexpr unsigned ipv4_only = 1u << unsigned(Family::ipv4);
inline constexpr unsigned ipv6_only = 1u << unsigned(Family::ipv6);  // libip6t_*

// The name libxtables loads a match by: icmp6 also as icmpv6 and ipv6-icmp.
std::string_view match_load_name(std::string_view name);
// Registry (ext/registry.cpp): the match or target of that name in family `f`.
const ExtKind* find_match(std::string_view name, Family f = Family::ipv4);
const ExtKind* find_target(std::string_view name, Family f = Family::ipv4);
bool is_standard_verdict(std::string_view name);  // ACCEPT DROP RETURN QUEUE

// A match or target instance inside a rule.
struct ExtInst {
    const ExtKind* kind = nullptr;
    std::unique_ptr<ExtData> data;
    unsigned seen = 0;  // option ids given (for the driver's checks)

    ExtInst() = default;
    ExtInst(const ExtKind* k) : kind(k), data(k->make()) {}
    ExtInst(const ExtInst& o)
        : kind(o.kind), data(o.data ? o.data->clone() : nullptr), seen(o.seen) {}
    ExtInst& operator=(const ExtInst& o) {
        if (this != &o) {
            kind = o.kind;
            data = o.data ? o.data->clone() : nullptr;
            seen = o.seen;
        }
        return *this;
    }
    ExtInst(ExtInst&&) = default;
    ExtInst& operator=(ExtInst&&) = default;

    std::string save_text() const {
        std::string s;
        if (data) data->save(s);
        return s;
    }
    std::string exact_text() const {
        std::string s;
        if (data) data->save_exact(s);
        return s;
    }
};

// The generic option driver: checks repeat and `!` rules, then hands the value to the
// extension. `ext_label` is the extension name used in messages.
Result<void> ext_parse_option(ExtInst& inst, const OptDef& opt, std::string_view arg,
                              bool invert, const ExtCtx& ctx);
// Mandatory / exclusive / also checks, then ExtData::finish.
Result<void> ext_finish(ExtInst& inst, const ExtCtx& ctx);

}  // namespace xdpt
