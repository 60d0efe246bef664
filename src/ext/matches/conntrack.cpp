// -m conntrack (xt_conntrack revision 3) and -m state, which iptables 1.8.9 sends to the
// kernel as conntrack with the "state alias" flag and shows back as -m state.
#include <arpa/inet.h>
#include <linux/netfilter/xt_conntrack.h>

#include <array>
#include <cstring>
#include <optional>

#include "core/netdb.hpp"
#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int {
    o_state, o_proto, o_origsrc, o_origdst, o_replsrc, o_repldst,
    o_origsrcport, o_origdstport, o_replsrcport, o_repldstport,
    o_status, o_expire, o_dir,
};

constexpr std::array<OptDef, 13> conntrack_opts{{
    {.name = "ctstate", .id = o_state, .flags = opt_invert},
    {.name = "ctproto", .id = o_proto, .flags = opt_invert},
    {.name = "ctorigsrc", .id = o_origsrc, .flags = opt_invert},
    {.name = "ctorigdst", .id = o_origdst, .flags = opt_invert},
    {.name = "ctreplsrc", .id = o_replsrc, .flags = opt_invert},
    {.name = "ctrepldst", .id = o_repldst, .flags = opt_invert},
    {.name = "ctstatus", .id = o_status, .flags = opt_invert},
    {.name = "ctexpire", .id = o_expire, .flags = opt_invert},
    {.name = "ctorigsrcport", .id = o_origsrcport, .flags = opt_invert},
    {.name = "ctorigdstport", .id = o_origdstport, .flags = opt_invert},
    {.name = "ctreplsrcport", .id = o_replsrcport, .flags = opt_invert},
    {.name = "ctrepldstport", .id = o_repldstport, .flags = opt_invert},
    {.name = "ctdir", .id = o_dir},
}};

constexpr std::array<OptDef, 1> state_opts{{
    {.name = "state", .id = 0, .flags = opt_invert | opt_mand},
}};

struct NameBit {
    std::string_view name;
    unsigned bit;
};

// Parse order (a prefix takes the first name it fits) and print order differ.
enum : unsigned {
    st_invalid = 1u << 0, st_new = 1u << 1, st_related = 1u << 2, st_established = 1u << 3,
    st_untracked = 1u << 4, st_snat = 1u << 5, st_dnat = 1u << 6,
};
constexpr std::array<NameBit, 7> ctstate_names{{
    {"INVALID", st_invalid}, {"NEW", st_new}, {"ESTABLISHED", st_established},
    {"RELATED", st_related}, {"UNTRACKED", st_untracked}, {"SNAT", st_snat}, {"DNAT", st_dnat},
}};
// -m state knows no SNAT/DNAT.
constexpr std::array<NameBit, 5> plain_state_names{{
    {"INVALID", st_invalid}, {"NEW", st_new}, {"ESTABLISHED", st_established},
    {"RELATED", st_related}, {"UNTRACKED", st_untracked},
}};
constexpr std::array<NameBit, 7> state_print_names{{
    {"INVALID", st_invalid}, {"NEW", st_new}, {"RELATED", st_related},
    {"ESTABLISHED", st_established}, {"UNTRACKED", st_untracked}, {"SNAT", st_snat}, {"DNAT", st_dnat},
}};
// The status bits are the kernel's IPS_* bits; NONE is a valid name for no bit.
constexpr std::array<NameBit, 5> status_names{{
    {"NONE", 0}, {"EXPECTED", 1u << 0}, {"SEEN_REPLY", 1u << 1}, {"ASSURED", 1u << 2}, {"CONFIRMED", 1u << 3},
}};

std::optional<unsigned> lookup(std::span<const NameBit> names, std::string_view token) {
    for (const auto& n : names)
        if (prefix_of(token, n.name)) return n.bit;
    return std::nullopt;
}

// A comma list of names (any case, any prefix). An empty item or an unknown name fails
// with `bad` and the rest of the list from that item on; `empty_last`, when given, is the
// message for a list that ends in an empty item (-m state's).
Result<unsigned> parse_names(std::span<const NameBit> names, std::string_view arg,
                             std::string_view bad, std::string_view empty_last = {}) {
    arg = arg.substr(0, arg.find('\0'));
    unsigned mask = 0;
    for (;;) {
        auto comma = arg.find(',');
        std::string_view token = arg.substr(0, comma);
        if (comma == std::string_view::npos && token.empty() && !empty_last.empty())
            return param_fail(std::string(empty_last));
        auto bit = lookup(names, token);
        if (!bit) return param_fail(str(bad, " \"", arg, "\""));
        mask |= *bit;
        if (comma == std::string_view::npos) return mask;
        arg = arg.substr(comma + 1);
    }
}

Result<unsigned> parse_state_list(std::string_view arg) {
    return parse_names(plain_state_names, arg, "Bad state",
                       "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED");
}

// print_state / print_status: " NAME,NAME"; with no bit set, the name of the zero bit
// if the table has one (" NONE").
std::string names_text(std::span<const NameBit> names, unsigned mask) {
    std::string s;
    for (const auto& n : names)
        if (n.bit && (mask & n.bit)) s += str(s.empty() ? " " : ",", n.name);
    if (s.empty())
        for (const auto& n : names)
            if (!n.bit) s = str(' ', n.name);
    return s;
}

// Our state bits as the kernel's XT_CONNTRACK_STATE_* bits.
uint16_t kernel_states(unsigned mask) {
    static constexpr std::array<std::pair<unsigned, uint16_t>, 7> map{{
        {st_invalid, XT_CONNTRACK_STATE_INVALID},
        {st_new, XT_CONNTRACK_STATE_BIT(IP_CT_NEW)},
        {st_related, XT_CONNTRACK_STATE_BIT(IP_CT_RELATED)},
        {st_established, XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED)},
        {st_untracked, XT_CONNTRACK_STATE_UNTRACKED},
        {st_snat, XT_CONNTRACK_STATE_SNAT},
        {st_dnat, XT_CONNTRACK_STATE_DNAT},
    }};
    uint16_t out = 0;
    for (auto [ours, kernel] : map)
        if (mask & ours) out |= kernel;
    return out;
}

// The same states as nftables' ct state bits (NF_CT_STATE_*): the kernel's x_tables and
// nft_ct derive both from the packet's ctinfo alike (an entry: its ctinfo's bit, none
// because untracked: UNTRACKED, none otherwise: INVALID); only UNTRACKED's bit differs.
// SNAT and DNAT are x_tables' own (the entry's status): none for them.
std::optional<uint32_t> nft_states(unsigned mask) {
    if (mask & (st_snat | st_dnat)) return std::nullopt;
    static constexpr std::array<std::pair<unsigned, uint32_t>, 5> map{{
        {st_invalid, NF_CT_STATE_INVALID_BIT},
        {st_new, NF_CT_STATE_BIT(IP_CT_NEW)},
        {st_related, NF_CT_STATE_BIT(IP_CT_RELATED)},
        {st_established, NF_CT_STATE_BIT(IP_CT_ESTABLISHED)},
        {st_untracked, NF_CT_STATE_UNTRACKED_BIT},
    }};
    uint32_t out = 0;
    for (auto [ours, kernel] : map)
        if (mask & ours) out |= kernel;
    return out;
}

// ct state & STATES != 0 (== 0 inverted): conntrack_mt's test of the state bit against
// the mask, as nft_ct loads it.
bool ct_state_nft(unsigned mask, bool inverted, nftx::Exprs& out) {
    auto bits = nft_states(mask);
    if (!bits) return false;
    out.push_back(nftx::Ct{NFT_CT_STATE});
    out.push_back(nftx::Bitwise{nftx::host32(*bits)});
    out.push_back(nftx::Cmp{inverted ? uint32_t(NFT_CMP_EQ) : uint32_t(NFT_CMP_NEQ), nftx::host32(0)});
    return true;
}

// The state bits a packet may carry for a state test of `mask` (kernel bits) to hold.
uint16_t ct_states_of(uint16_t mask, bool inverted) { return inverted ? uint16_t(~mask) : mask; }

struct Addr {
    AddrMask hm;
    Family fam = Family::ipv4;

    std::string text(bool numeric) const {
        if (!numeric && hm.addr.zero()) return " anywhere";
        std::string a = numeric ? grammar::addr_to_text(fam, hm.addr) : netdb::addr_to_anyname(fam, hm.addr);
        return str(' ', a, grammar::mask_suffix(fam, hm.mask));
    }
};

class ConntrackData : public Data<ConntrackData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx& ctx) override {
        auto r = parse_value(opt, arg, ctx.family);
        if (!r) return r;
        given_ |= 1u << opt.id;
        if (invert) inverted_ |= 1u << opt.id;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("conntrack: At least one option is required");
        return {};
    }

    // xt_conntrack_mtinfo3 (revision 3): option ids map to the XT_CONNTRACK_* flag bits
    // by position (state, proto, 4 addresses, status, expire, 4 ports, dir).
    XtInfo to_xt(const Rule&) const override {
        xt_conntrack_mtinfo3 info{};
        static constexpr std::array<std::pair<int, uint16_t>, 13> flag_of{{
            {o_state, XT_CONNTRACK_STATE}, {o_proto, XT_CONNTRACK_PROTO},
            {o_origsrc, XT_CONNTRACK_ORIGSRC}, {o_origdst, XT_CONNTRACK_ORIGDST},
            {o_replsrc, XT_CONNTRACK_REPLSRC}, {o_repldst, XT_CONNTRACK_REPLDST},
            {o_status, XT_CONNTRACK_STATUS}, {o_expire, XT_CONNTRACK_EXPIRES},
            {o_origsrcport, XT_CONNTRACK_ORIGSRC_PORT}, {o_origdstport, XT_CONNTRACK_ORIGDST_PORT},
            {o_replsrcport, XT_CONNTRACK_REPLSRC_PORT}, {o_repldstport, XT_CONNTRACK_REPLDST_PORT},
            {o_dir, XT_CONNTRACK_DIRECTION},
        }};
        for (auto [id, flag] : flag_of) {
            if (has(id)) info.match_flags |= flag;
            if (inv(id)) info.invert_flags |= flag;
        }
        // --ctdir REPLY is the inverted direction test.
        if (has(o_dir) && reply_) info.invert_flags |= XT_CONNTRACK_DIRECTION;
        info.state_mask = kernel_states(state_);
        info.status_mask = uint16_t(status_);
        info.l4proto = proto_;
        nf_inet_addr* addr[4][2] = {{&info.origsrc_addr, &info.origsrc_mask}, {&info.origdst_addr, &info.origdst_mask},
                                    {&info.replsrc_addr, &info.replsrc_mask}, {&info.repldst_addr, &info.repldst_mask}};
        uint16_t* port[4][2] = {{&info.origsrc_port, &info.origsrc_port_high}, {&info.origdst_port, &info.origdst_port_high},
                                {&info.replsrc_port, &info.replsrc_port_high}, {&info.repldst_port, &info.repldst_port_high}};
        for (int i = 0; i < 4; ++i) {
            if (has(o_origsrc + i)) {
                // The address of its family: IPv4's in the first word, the rest zero.
                std::memcpy(addr[i][0], addrs_[i].hm.addr.b.data(), sizeof *addr[i][0]);
                std::memcpy(addr[i][1], addrs_[i].hm.mask.b.data(), sizeof *addr[i][1]);
            }
            if (has(o_origsrcport + i)) *port[i][0] = ports_[i].lo, *port[i][1] = ports_[i].hi;
        }
        if (has(o_expire)) info.expires_min = expire_.lo, info.expires_max = expire_.hi;
        return XtInfo::of("conntrack", 3, info);
    }

    // --ctstate alone: a set of states (conntrack_mt tests the state bit of the packet's
    // ctinfo against the mask, inverted with !). Any other option needs the entry.
    bool to_xdp(const Rule&, XdpCond& cond) const override {
        if (given_ != 1u << o_state) return false;
        cond.ct_states &= ct_states_of(kernel_states(state_), inv(o_state));
        return true;
    }

    // --ctstate alone is ct state; the other options keep the x_tables form.
    bool to_nft(const Rule&, nftx::Exprs& out) const override {
        return given_ == 1u << o_state && ct_state_nft(state_, inv(o_state), out);
    }

    void save(std::string& out) const override { dump(out, "--", true); }
    void print(std::string& out, bool numeric) const override { dump(out, "", numeric); }

private:
    unsigned given_ = 0, inverted_ = 0;
    unsigned state_ = 0, status_ = 0;
    uint16_t proto_ = 0;
    std::array<Addr, 4> addrs_{};        // origsrc, origdst, replsrc, repldst
    std::array<PortPair, 4> ports_{};    // the same order
    UintRange expire_;
    bool reply_ = false;

    bool has(int id) const { return given_ & (1u << id); }
    bool inv(int id) const { return inverted_ & (1u << id); }

    Result<void> parse_value(const OptDef& opt, std::string_view arg, Family fam) {
        switch (opt.id) {
        case o_state: return assign(state_, parse_names(ctstate_names, arg, "Bad ctstate"));
        case o_status: return assign(status_, parse_names(status_names, arg, "Bad ctstatus"));
        case o_proto: return parse_proto(arg);
        case o_origsrc: case o_origdst: case o_replsrc: case o_repldst:
            addrs_[opt.id - o_origsrc].fam = fam;
            return assign(addrs_[opt.id - o_origsrc].hm, parse_host_mask(fam, "conntrack", opt.name, arg));
        case o_origsrcport: case o_origdstport: case o_replsrcport: case o_repldstport:
            return assign(ports_[opt.id - o_origsrcport], parse_port_pair("conntrack", opt.name, arg));
        case o_expire: return assign(expire_, parse_uint_range("conntrack", opt.name, arg, 0xffffffff));
        default: return parse_dir(arg);
        }
    }

    template <class T, class R>
    static Result<void> assign(T& dest, const Result<R>& r) {
        if (!r) return failure(r);
        dest = *r;
        return {};
    }

    Result<void> parse_proto(std::string_view arg) {
        std::string_view name = arg.substr(0, arg.find('\0'));
        auto p = netdb::parse_protocol(name);
        if (!p) return param_fail(str("unknown protocol \"", name, "\" specified"));
        // libxtables tests the inverted-protocol bit of an ipt_entry against the conntrack
        // invert flags, where that bit is --ctstatus's.
        if (*p == 0 && inv(o_status)) return param_fail("conntrack: rule would never match protocol");
        proto_ = *p;
        return {};
    }

    Result<void> parse_dir(std::string_view arg) {
        if (equals_nocase(arg, "ORIGINAL"))
            reply_ = false;
        else if (equals_nocase(arg, "REPLY"))
            reply_ = true;
        else
            return param_fail(str("conntrack: Bad value for \"--ctdir\" option: \"", arg, "\""));
        return {};
    }

    void dump(std::string& out, std::string_view pfx, bool numeric) const {
        auto bang = [&](int id) {
            if (inv(id)) out += " !";
        };
        if (has(o_state)) {
            bang(o_state);
            out += str(' ', pfx, "ctstate", names_text(state_print_names, state_));
        }
        if (has(o_proto)) {
            bang(o_proto);
            out += str(' ', pfx, "ctproto ", proto_);
        }
        static constexpr std::array<std::string_view, 4> addr_names{"ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst"};
        for (int i = 0; i < 4; ++i)
            if (has(o_origsrc + i)) {
                bang(o_origsrc + i);
                out += str(' ', pfx, addr_names[i], addrs_[i].text(numeric));
            }
        static constexpr std::array<std::string_view, 4> port_names{"ctorigsrcport", "ctorigdstport", "ctreplsrcport", "ctrepldstport"};
        for (int i = 0; i < 4; ++i)
            if (has(o_origsrcport + i)) {
                bang(o_origsrcport + i);
                const auto& p = ports_[i];
                out += str(' ', pfx, port_names[i], ' ', p.lo);
                if (p.hi != 0 && p.hi != p.lo) out += str(':', p.hi);
            }
        if (has(o_status)) {
            bang(o_status);
            out += str(' ', pfx, "ctstatus", names_text(status_names, status_));
        }
        if (has(o_expire)) {
            bang(o_expire);
            out += str(' ', pfx, "ctexpire ", expire_.lo);
            if (expire_.hi != expire_.lo) out += str(':', expire_.hi);
        }
        if (has(o_dir)) out += str(' ', pfx, "ctdir ", reply_ ? "REPLY" : "ORIGINAL");
    }
};

class StateData : public Data<StateData> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        auto m = parse_state_list(arg);
        if (!m) return failure(m);
        state_ = *m;
        inv_ = invert;
        return {};
    }

    // iptables sends -m state as conntrack revision 3 marked as the state alias.
    XtInfo to_xt(const Rule&) const override {
        xt_conntrack_mtinfo3 info{};
        info.match_flags = XT_CONNTRACK_STATE | XT_CONNTRACK_STATE_ALIAS;
        if (inv_) info.invert_flags = XT_CONNTRACK_STATE;
        info.state_mask = kernel_states(state_);
        return XtInfo::of("conntrack", 3, info);
    }

    bool to_xdp(const Rule&, XdpCond& cond) const override {
        cond.ct_states &= ct_states_of(kernel_states(state_), inv_);
        return true;
    }

    bool to_nft(const Rule&, nftx::Exprs& out) const override { return ct_state_nft(state_, inv_, out); }

    void save(std::string& out) const override {
        out += str(inv_ ? " !" : "", " --state", names_text(state_print_names, state_));
    }

    void print(std::string& out, bool) const override {
        out += str(inv_ ? " !" : "", " state", names_text(state_print_names, state_));
    }

private:
    unsigned state_ = 0;
    bool inv_ = false;
};

}  // namespace

const ExtKind match_conntrack{"conntrack", conntrack_opts, make_data<ConntrackData>};
const ExtKind match_state{"state", state_opts, make_data<StateData>};

}  // namespace xdpt
