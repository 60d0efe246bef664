// -m sctp: ports and chunk types of SCTP packets (xt_sctp). An old-style libxtables
// extension: it checks repeats and takes `!` itself, with its own messages. XDP does not
// look into SCTP chunks: rules with it are left to netfilter (no to_xdp).
#include <netinet/in.h>

// The header's inline helpers are C (_Bool); only its structure is used here.
#define _Bool bool
#include <linux/netfilter/xt_sctp.h>
#undef _Bool

#include <array>
#include <cctype>

#include "ext/matches/common.hpp"
#include "ext/ports.hpp"
#include "grammar/values.hpp"
#include "model/ruleset.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_sport, o_dport, o_chunks };
constexpr unsigned own = opt_invert | opt_multi;  // the driver leaves these to us

constexpr std::array<OptDef, 5> sctp_opts{{
    {.name = "source-port", .id = o_sport, .flags = own},
    {.name = "sport", .id = o_sport, .flags = own},
    {.name = "destination-port", .id = o_dport, .flags = own},
    {.name = "dport", .id = o_dport, .flags = own},
    {.name = "chunk-types", .id = o_chunks, .flags = own},
}};

// Chunk names in iptables' table order, with the flag letters each takes from bit 7
// down ('-' where a bit has no name, and iptables then takes '-' for that bit).
struct ChunkName {
    std::string_view name;
    uint8_t type;
    std::string_view flags;
};
constexpr std::array<ChunkName, 22> chunk_names{{
    {"DATA", 0, "----IUBE"},          {"INIT", 1, "--------"},
    {"INIT_ACK", 2, "--------"},      {"SACK", 3, "--------"},
    {"HEARTBEAT", 4, "--------"},     {"HEARTBEAT_ACK", 5, "--------"},
    {"ABORT", 6, "-------T"},         {"SHUTDOWN", 7, "--------"},
    {"SHUTDOWN_ACK", 8, "--------"},  {"ERROR", 9, "--------"},
    {"COOKIE_ECHO", 10, "--------"},  {"COOKIE_ACK", 11, "--------"},
    {"ECN_ECNE", 12, "--------"},     {"ECN_CWR", 13, "--------"},
    {"SHUTDOWN_COMPLETE", 14, "-------T"},
    {"I_DATA", 64, "----IUBE"},       {"RE_CONFIG", 130, "--------"},
    {"PAD", 132, "--------"},         {"ASCONF", 193, "--------"},
    {"ASCONF_ACK", 128, "--------"},  {"FORWARD_TSN", 192, "--------"},
    {"I_FORWARD_TSN", 194, "--------"},
}};

using Chunkmap = std::array<uint32_t, sizeof(xt_sctp_info::chunkmap) / sizeof(uint32_t)>;

class SctpData : public Data<SctpData> {
public:
    SctpData() {
        for (auto& f : flag_info_) f.chunktype = 0xff;  // sctp_init: -1 in a u8
    }

    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        switch (opt.id) {
            case o_sport: return parse_ports(XT_SCTP_SRC_PORTS, spts_, arg, invert, "Only one `--source-port' allowed");
            case o_dport:
                return parse_ports(XT_SCTP_DEST_PORTS, dpts_, arg, invert, "Only one `--destination-port' allowed");
            default: return parse_chunk_types(arg, invert, ctx);
        }
    }

    // xt_sctp is registered for SCTP only; its own check passes whatever the options make.
    bool kernel_accepts(const Rule& rule, const ExtCtx&) const override {
        return rule.proto == IPPROTO_SCTP && !rule.inv_proto;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_sctp_info info{};
        info.spts[0] = spts_.lo, info.spts[1] = spts_.hi;
        info.dpts[0] = dpts_.lo, info.dpts[1] = dpts_.hi;
        std::copy(chunkmap_.begin(), chunkmap_.end(), info.chunkmap);
        info.chunk_match_type = match_type_;
        for (size_t i = 0; i < flag_info_.size(); ++i) info.flag_info[i] = flag_info_[i];
        info.flag_count = flag_count_;
        info.flags = flags_, info.invflags = invflags_;
        return XtInfo::of("sctp", 0, info);
    }

    void save(std::string& out) const override { save_as(out, false); }
    // The stored form gives the chunk list back as the kernel holds it: iptables-save
    // prints no flags filed under an index that is not their chunk's type (I_DATA:IE), nor
    // the order of the flag entries.
    void save_exact(std::string& out) const override { save_as(out, true); }
    void save_as(std::string& out, bool exact) const {
        for (auto [bit, opt, p] : {std::tuple{XT_SCTP_SRC_PORTS, "sport", &spts_},
                                   std::tuple{XT_SCTP_DEST_PORTS, "dport", &dpts_}}) {
            if (!(flags_ & bit)) continue;
            if (invflags_ & bit) out += " !";
            out += str(" --", opt, ' ', p->lo);
            if (p->lo != p->hi) out += str(':', p->hi);
        }
        if (flags_ & XT_SCTP_CHUNK_TYPES) {
            if (invflags_ & XT_SCTP_CHUNK_TYPES) out += " !";
            out += " --chunk-types";
            if (exact && flag_count_) chunks_exact(out);
            else chunks(out, false);
        }
    }

    void print(std::string& out, bool numeric) const override {
        out += " sctp";
        for (auto [bit, name, p] : {std::tuple{XT_SCTP_SRC_PORTS, "spt", &spts_},
                                    std::tuple{XT_SCTP_DEST_PORTS, "dpt", &dpts_}})
            if (flags_ & bit) ext::PortMatch{*p, bool(invflags_ & bit)}.print(out, name, numeric, "sctp");
        if (flags_ & XT_SCTP_CHUNK_TYPES) {
            if (invflags_ & XT_SCTP_CHUNK_TYPES) out += " !";
            chunks(out, numeric);
        }
    }

private:
    uint32_t flags_ = 0, invflags_ = 0;
    ext::PortRange spts_{0, 0}, dpts_{0, 0};
    Chunkmap chunkmap_{};
    uint32_t match_type_ = 0;
    std::array<xt_sctp_flag_info, XT_NUM_SCTP_FLAGS> flag_info_{};
    int flag_count_ = 0;

    Result<void> parse_ports(uint32_t bit, ext::PortRange& dest, std::string_view arg, bool invert,
                             std::string_view once) {
        if (flags_ & bit) return param_fail(std::string(once));
        auto r = ext::parse_port_range(arg, "sctp");
        if (!r) return failure(r);
        dest = *r;
        flags_ |= bit;
        if (invert) invflags_ |= bit;
        return {};
    }

    Result<void> parse_chunk_types(std::string_view type, bool invert, const ExtCtx& ctx) {
        if (flags_ & XT_SCTP_CHUNK_TYPES) return param_fail("Only one `--chunk-types' allowed");
        if (!ctx.argv || !ctx.next || *ctx.next >= ctx.argv->size())
            return param_fail("--chunk-types requires two args");
        const std::string& list = (*ctx.argv)[*ctx.next];
        if (!list.empty() && (list.front() == '-' || list.front() == '!'))
            return param_fail("--chunk-types requires two args");
        if (equals_nocase(type, "ANY")) match_type_ = SCTP_CHUNK_MATCH_ANY;
        else if (equals_nocase(type, "ALL")) match_type_ = SCTP_CHUNK_MATCH_ALL;
        else if (equals_nocase(type, "ONLY")) match_type_ = SCTP_CHUNK_MATCH_ONLY;
        else return param_fail("Match type has to be one of \"ALL\", \"ANY\" or \"ONLY\"");
        if (auto r = parse_chunk_list(list); !r) return r;
        ++*ctx.next;
        flags_ |= XT_SCTP_CHUNK_TYPES;
        if (invert) invflags_ |= XT_SCTP_CHUNK_TYPES;
        return {};
    }

    // "ALL", "NONE", or a comma list of NAME[:FLAGS] (empty items skipped, strtok). A
    // flag letter in upper case must be set, in lower case clear. As in iptables, the
    // flags are filed under the chunk's index in the name table, not its type: the same
    // for DATA..SHUTDOWN_COMPLETE, while those of the later names never match a type.
    Result<void> parse_chunk_list(std::string_view list) {
        chunkmap_.fill(0);
        list = list.substr(0, list.find('\0'));
        if (equals_nocase(list, "ALL")) {
            chunkmap_.fill(0xffffffff);
            return {};
        }
        if (equals_nocase(list, "NONE")) return {};
        for (auto item : grammar::split(list, ',')) {
            if (item.empty()) continue;
            const size_t colon = item.find(':');
            const std::string_view name = item.substr(0, colon);
            size_t i = 0;
            while (i < chunk_names.size() && !equals_nocase(name, chunk_names[i].name)) ++i;
            if (i == chunk_names.size()) return param_fail(str("Unknown sctp chunk `", name, "'"));
            const uint8_t type = chunk_names[i].type;
            chunkmap_[type / 32] |= 1u << (type % 32);
            if (colon == std::string_view::npos) continue;
            for (char c : item.substr(colon + 1)) {
                const auto at = chunk_names[i].flags.find(char(std::toupper(static_cast<unsigned char>(c))));
                if (at == std::string_view::npos) return param_fail(str("Invalid flags for chunk type ", i));
                if (auto r = add_flag(uint8_t(i), uint8_t(7 - at), std::isupper(static_cast<unsigned char>(c))); !r)
                    return r;
            }
        }
        return {};
    }

    Result<void> add_flag(uint8_t chunk, uint8_t bit, bool set) {
        int k = 0;
        while (k < flag_count_ && flag_info_[k].chunktype != chunk) ++k;
        if (k == flag_count_) {
            if (flag_count_ == XT_NUM_SCTP_FLAGS)
                return param_fail(
                    "Number of chunk types with flags exceeds currently allowed limit. Increasing this limit "
                    "involves changing IPT_NUM_SCTP_FLAGS and recompiling both the kernel space and user space "
                    "modules");
            flag_info_[k].chunktype = chunk;
            ++flag_count_;
        }
        flag_info_[k].flag_mask |= uint8_t(1u << bit);
        if (set) flag_info_[k].flag |= uint8_t(1u << bit);
        return {};
    }

    bool chunk_set(unsigned type) const { return chunkmap_[type / 32] & (1u << (type % 32)); }

    // The match type and a chunk list that parses back to the same chunk map and flag
    // entries in the same order: first each flag entry, under the name whose index it is
    // filed at, then the other chunks by name.
    void chunks_exact(std::string& out) const {
        out += match_type_ == SCTP_CHUNK_MATCH_ANY ? " any" : match_type_ == SCTP_CHUNK_MATCH_ALL ? " all" : " only";
        std::array<bool, 256> named{};
        char sep = ' ';
        for (int k = 0; k < flag_count_; ++k) {
            const auto& f = flag_info_[k];
            const ChunkName& n = chunk_names[f.chunktype];
            out += sep;
            sep = ',';
            out += str(n.name, ':');
            for (int bit = 7; bit >= 0; --bit) {
                if (!(f.flag_mask & (1u << bit))) continue;
                const char c = n.flags[7 - bit];
                out += (f.flag & (1u << bit)) ? c : char(std::tolower(static_cast<unsigned char>(c)));
            }
            named[n.type] = true;
        }
        for (const ChunkName& n : chunk_names)
            if (chunk_set(n.type) && !named[n.type]) out += str(sep, n.name), sep = ',', named[n.type] = true;
    }

    // print_chunks: the match type, then NONE, ALL, or the chunks present in type order
    // (numbered 0x%04X when numeric), each with its flags.
    void chunks(std::string& out, bool numeric) const {
        switch (match_type_) {
            case SCTP_CHUNK_MATCH_ANY: out += " any"; break;
            case SCTP_CHUNK_MATCH_ALL: out += " all"; break;
            default: out += " only"; break;
        }
        bool none = true, all = true;
        for (uint32_t w : chunkmap_) none = none && w == 0, all = all && w == 0xffffffff;
        if (none) {
            out += " NONE";
            return;
        }
        if (all) {
            out += " ALL";
            return;
        }
        char sep = ' ';
        for (unsigned type = 0; type < 256; ++type) {
            if (!chunk_set(type)) continue;
            out += sep;
            sep = ',';
            if (numeric) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "0x%04X", type);
                out += buf;
            } else {
                for (const auto& n : chunk_names)
                    if (n.type == type) out += n.name;
            }
            for (int k = 0; k < flag_count_; ++k) {
                const auto& f = flag_info_[k];
                if (f.chunktype != type || type >= chunk_names.size()) continue;
                out += ':';
                for (int bit = 7; bit >= 0; --bit) {
                    if (!(f.flag_mask & (1u << bit))) continue;
                    const char c = chunk_names[type].flags[7 - bit];
                    out += (f.flag & (1u << bit)) ? c : char(std::tolower(static_cast<unsigned char>(c)));
                }
            }
        }
    }
};

}  // namespace

const ExtKind match_sctp{"sctp", sctp_opts, make_data<SctpData>};

}  // namespace xdpt
