// Drive one extension the way the command-line parser does: options in order, each with
// its `!`, then the final check; report save and print text or the error.
#pragma once
#include <algorithm>
#include <cstring>
#include <optional>
#include <variant>
#include <string>
#include <utility>
#include <vector>

#include "ext/ext.hpp"
#include "model/ruleset.hpp"

namespace xdpt::test {

struct ExtRun {
    bool ok = false;
    std::string save, print, print_numeric, error;
    // What iptables would print to stderr as a warning while parsing.
    std::string notices;
    int exit = 0;
};

// opts: {"--dport", "80"}, {"!", ""} marks the next option inverted. Options without an
// argument get "". `rule` gives the protocol etc. as -p would. `parsed`, when given,
// receives the extension instance (for checks beyond the text). `family`: iptables' or
// ip6tables'.
inline ExtRun run_ext(const ExtKind* kind, std::vector<std::pair<std::string, std::string>> opts,
                      const Rule& rule = {}, std::string_view table = "filter", ExtInst* parsed = nullptr,
                      Family family = Family::ipv4) {
    ExtRun out;
    ExtInst inst(kind);
    std::vector<std::string> argv;
    size_t next = 0;
    ExtCtx ctx;
    ctx.rule = &rule;
    ctx.table = table;
    ctx.family = family;
    ctx.argv = &argv;
    ctx.next = &next;
    ctx.notices = &out.notices;
    bool invert = false;
    for (size_t i = 0; i < opts.size(); ++i) {
        auto& [name, arg] = opts[i];
        if (name == "!") { invert = true; continue; }
        const OptDef* def = nullptr;
        for (auto& o : kind->opts)
            if (name == std::string("--") + std::string(o.name)) def = &o;
        if (!def) { out.error = "no such option " + name; return out; }
        // Extra arguments (e.g. --tcp-flags' second) follow as {"", value} entries.
        argv.clear();
        next = 0;
        while (i + 1 < opts.size() && opts[i + 1].first.empty()) argv.push_back(opts[++i].second);
        auto r = ext_parse_option(inst, *def, arg, invert, ctx);
        invert = false;
        if (!r) { out.error = r.error().msg; out.exit = int(r.error().code); return out; }
    }
    if (auto r = ext_finish(inst, ctx); !r) {
        out.error = r.error().msg; out.exit = int(r.error().code); return out;
    }
    out.ok = true;
    inst.data->save(out.save);
    inst.data->print(out.print, false);
    inst.data->print(out.print_numeric, true);
    if (parsed) *parsed = std::move(inst);
    return out;
}

// The x_tables blob of a parsed extension as the kernel's structure T; `name`, `rev` and
// the zero-padded size are what libxtables would send.
struct XtBlob {
    std::string name;
    int rev = -1;
    size_t size = 0;
};
template <class T>
XtBlob xt_blob(const ExtInst& inst, T& out) {
    XtInfo x = inst.data->to_xt(Rule{});
    std::memset(&out, 0, sizeof out);
    std::memcpy(&out, x.data.data(), std::min(sizeof out, x.data.size()));
    return {x.name, x.rev, x.data.size()};
}

// The x_tables structure `kind` sends for these options, when they parse and it is named
// `name`, revision `rev`, of sizeof(T) bytes padded to 8 (XT_ALIGN).
template <class T>
std::optional<T> xt_blob(const ExtKind* kind, std::vector<std::pair<std::string, std::string>> opts,
                         std::string_view name, uint8_t rev) {
    ExtInst inst;
    if (!run_ext(kind, std::move(opts), {}, "filter", &inst).ok) return std::nullopt;
    const XtInfo x = inst.data->to_xt(Rule{});
    if (x.name != name || x.rev != rev || x.data.size() != (sizeof(T) + 7) / 8 * 8) return std::nullopt;
    T v;
    std::memcpy(&v, x.data.data(), sizeof v);
    return v;
}

// The native nftables form (to_nft) of an extension with these options, one expression a
// line as `nft --debug=netlink` would name it, register contents in hex bytes: "ct state",
// "& 06000000", "cmp neq 00000000". Empty when it has none (the x_tables form is used);
// "unparsed" when the options do not parse.
inline std::string nft_text(const ExtKind* kind, std::vector<std::pair<std::string, std::string>> opts) {
    ExtInst inst;
    if (!run_ext(kind, std::move(opts), {}, "filter", &inst).ok) return "unparsed";
    nftx::Exprs exprs;
    if (!inst.data->to_nft(Rule{}, exprs)) return {};
    auto hexs = [](const nftx::Bytes& b) {
        std::string s;
        for (uint8_t c : b) s += "0123456789abcdef"[c >> 4], s += "0123456789abcdef"[c & 15];
        return s;
    };
    static constexpr const char* ops[] = {"eq", "neq", "lt", "lte", "gt", "gte"};
    std::string out;
    for (const nftx::Expr& x : exprs) {
        if (auto* p = std::get_if<nftx::Payload>(&x))
            out += "payload " + std::to_string(p->len) + "b @ " + std::to_string(p->base) + " + " + std::to_string(p->offset);
        else if (auto* m = std::get_if<nftx::Meta>(&x))
            out += m->key == NFT_META_MARK ? "meta mark" : "meta " + std::to_string(m->key);
        else if (auto* c = std::get_if<nftx::Ct>(&x))
            out += c->key == NFT_CT_STATE ? "ct state" : c->key == NFT_CT_MARK ? "ct mark" : "ct " + std::to_string(c->key);
        else if (auto* w = std::get_if<nftx::Bitwise>(&x))
            out += "& " + hexs(w->mask);
        else if (auto* k = std::get_if<nftx::Cmp>(&x))
            out += std::string("cmp ") + ops[k->op] + " " + hexs(k->data);
        else if (auto* r = std::get_if<nftx::Range>(&x))
            out += std::string("range ") + (r->inside ? "eq " : "neq ") + hexs(r->lo) + " " + hexs(r->hi);
        else if (auto* l = std::get_if<nftx::Limit>(&x))
            out += "limit " + std::to_string(l->rate) + "/" + std::to_string(l->unit) + " burst " + std::to_string(l->burst);
        out += '\n';
    }
    return out;
}

}  // namespace xdpt::test
