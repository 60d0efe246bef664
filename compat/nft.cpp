#include "compat/nft.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <netinet/ip_icmp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <linux/icmpv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <variant>
#include <vector>

#include "core/str.hpp"
#include "grammar/values.hpp"
#include "model/apply.hpp"
#include "model/tables.hpp"

namespace xdpt::nft {
namespace {

// iptables' tables as netfilter hooks them (hook, priority and nftables chain type of
// every builtin chain): the catalogue's.
using Hook = BuiltinChain;
const Hook* find_hook(std::string_view table, std::string_view chain) { return find_builtin(table, chain); }

// The comment on every table xdptables owns.
constexpr std::string_view owner_mark = "managed by xdptables";
constexpr std::string_view own_prefix = "xdptables-";
// The generation after a batch built on `genid` (0 is skipped).
uint32_t next_genid(uint32_t genid) { return genid + 1 == 0 ? 1 : genid + 1; }

// The one buffer every netlink answer is read into. 64 KiB holds the largest message a
// dump sends (the kernel sizes a dump's messages to the reader's buffer, at most 32 KiB).
// It is left uninitialised and kept for the process: a page is faulted in only when an
// answer reaches it, and on a VM a fault costs microseconds (a zero-filled megabyte per
// dump was most of a single command's time).
std::span<char> netlink_buffer() {
    static const std::unique_ptr<char[]> buf(new char[1 << 16]);
    return {buf.get(), 1 << 16};
}

// The message iptables gives for a kernel refusal, as libiptc words the errno.
std::unexpected<Error> kernel_fail(std::string_view what, int err) {
    if (err == ENOENT) return runtime_fail(str(what, ": No chain/target/match by that name"));
    if (err == EINVAL || err == EOPNOTSUPP)
        return fail(Exit::other, str(what, ": ", std::strerror(err)), Error::Style::runtime_dmesg);
    if (err == ENOMEM || err == ENOBUFS) return fail(Exit::resource, str(what, ": ", std::strerror(err)), Error::Style::runtime);
    return runtime_fail(str(what, ": ", std::strerror(err)));
}

struct SocketCloser {
    void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using Socket = std::unique_ptr<mnl_socket, SocketCloser>;

Result<Socket> open_socket() {
    Socket s(mnl_socket_open(NETLINK_NETFILTER));
    if (!s || mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
        return kernel_fail("opening the nftables socket", errno);
    // Errors and the final ack of a large batch arrive in one go.
    int big = 16 << 20;
    setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    return s;
}

// ----------------------------------------------------------------- expressions

struct RuleDeleter {
    void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
using RulePtr = std::unique_ptr<nftnl_rule, RuleDeleter>;

class RuleBuilder {
public:
    RuleBuilder(uint8_t nfproto, const std::string& table, const std::string& chain) : r_(nftnl_rule_alloc()) {
        nftnl_rule_set_u32(r_.get(), NFTNL_RULE_FAMILY, nfproto);
        nftnl_rule_set_str(r_.get(), NFTNL_RULE_TABLE, table.c_str());
        nftnl_rule_set_str(r_.get(), NFTNL_RULE_CHAIN, chain.c_str());
    }

    // What x_tables extensions check the rule's protocol against (ipt_ip.proto and
    // its inversion flag).
    void compat(uint16_t proto, bool inv) {
        nftnl_rule_set_u32(r_.get(), NFTNL_RULE_COMPAT_PROTO, proto);
        nftnl_rule_set_u32(r_.get(), NFTNL_RULE_COMPAT_FLAGS, inv ? NFT_RULE_COMPAT_F_INV : 0);
    }

    void payload(uint32_t offset, uint32_t len, uint32_t base = NFT_PAYLOAD_NETWORK_HEADER) {
        auto e = expr("payload");
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    }
    void meta(uint32_t key) {
        auto e = expr("meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    }
    void ct(uint32_t key) {
        auto e = expr("ct");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
    }
    void bitwise(const void* mask, uint32_t len) {
        auto e = expr("bitwise");
        const uint8_t zero[16] = {};
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    }
    void cmp(bool eq, const void* data, uint32_t len) { cmp_op(eq ? NFT_CMP_EQ : NFT_CMP_NEQ, data, len); }
    void cmp_op(uint32_t op, const void* data, uint32_t len) {
        auto e = expr("cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    }
    void range(bool inside, const nftx::Bytes& lo, const nftx::Bytes& hi) {
        auto e = expr("range");
        nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, inside ? NFT_RANGE_EQ : NFT_RANGE_NEQ);
        nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, lo.data(), uint32_t(lo.size()));
        nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, hi.data(), uint32_t(hi.size()));
    }
    void limit(const nftx::Limit& l) {
        auto e = expr("limit");
        nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, l.rate);
        nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, l.unit);
        nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, l.burst);
        nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
        nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
    }
    // A match's native form (ext/nftexpr.hpp); each loading expression fills register 1,
    // which the following ones read.
    void native(const nftx::Exprs& exprs) {
        for (const nftx::Expr& x : exprs) {
            if (auto* p = std::get_if<nftx::Payload>(&x)) payload(p->offset, p->len, p->base);
            else if (auto* m = std::get_if<nftx::Meta>(&x)) meta(m->key);
            else if (auto* c = std::get_if<nftx::Ct>(&x)) ct(c->key);
            else if (auto* w = std::get_if<nftx::Bitwise>(&x)) bitwise(w->mask.data(), uint32_t(w->mask.size()));
            else if (auto* k = std::get_if<nftx::Cmp>(&x)) cmp_op(k->op, k->data.data(), uint32_t(k->data.size()));
            else if (auto* r = std::get_if<nftx::Range>(&x)) range(r->inside, r->lo, r->hi);
            else if (auto* l = std::get_if<nftx::Limit>(&x)) limit(*l);
        }
    }
    void counter() { expr("counter"); }
    // QUEUE: the verdict NF_QUEUE is queue 0 without bypass, which is what x_tables'
    // NFQUEUE (revision 0, queue 0) returns; nftables takes no bare queue verdict, and
    // kernels without nft_queue still have NFQUEUE.
    void queue0() { xt(true, XtInfo::of("NFQUEUE", 0, xt_NFQ_info{})); }
    // nft_reject does what ipt_REJECT does (nf_send_unreach, nf_send_reset), and is not
    // bound to a table named filter.
    void reject(uint32_t type, uint8_t code) {
        auto e = expr("reject");
        nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
        nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
    }
    void verdict(int v, const std::string& chain = {}) {
        auto e = expr("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, uint32_t(v));
        if (!chain.empty()) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain.c_str());
    }
    // A match (or target) of x_tables; libnftnl takes ownership of the info copy.
    void xt(bool target, const XtInfo& x) {
        auto e = expr(target ? "target" : "match");
        const uint16_t name = target ? uint16_t(NFTNL_EXPR_TG_NAME) : uint16_t(NFTNL_EXPR_MT_NAME);
        const uint16_t rev = target ? uint16_t(NFTNL_EXPR_TG_REV) : uint16_t(NFTNL_EXPR_MT_REV);
        const uint16_t data = target ? uint16_t(NFTNL_EXPR_TG_INFO) : uint16_t(NFTNL_EXPR_MT_INFO);
        nftnl_expr_set_str(e, name, x.name.c_str());
        nftnl_expr_set_u32(e, rev, x.rev);
        void* info = std::calloc(1, x.data.size() ? x.data.size() : 1);
        std::memcpy(info, x.data.data(), x.data.size());
        nftnl_expr_set(e, data, info, uint32_t(x.data.size()));
    }

    nftnl_rule* get() { return r_.get(); }
    RulePtr release() { return std::move(r_); }

private:
    RulePtr r_;
    nftnl_expr* expr(const char* name) {
        nftnl_expr* e = nftnl_expr_alloc(name);
        nftnl_rule_add_expr(r_.get(), e);
        return e;
    }
};

// An interface name as iptables compares it: the bytes up to and including the NUL, or
// only the prefix before a trailing '+'.
void iface(RuleBuilder& b, uint32_t key, const std::string& name, bool inv) {
    if (name.empty()) return;
    char buf[IFNAMSIZ] = {};
    std::memcpy(buf, name.data(), std::min(name.size(), size_t(IFNAMSIZ - 1)));
    size_t len = name.size() + 1;
    if (name.back() == '+') len = name.size() - 1;
    if (len == 0) {
        // "+" matches every interface, "! +" none: no packet has a zero length.
        if (!inv) return;
        b.meta(NFT_META_LEN);
        uint32_t zero = 0;
        b.cmp(true, &zero, sizeof zero);
        return;
    }
    b.meta(key);
    b.cmp(!inv, buf, uint32_t(std::min(len, size_t(IFNAMSIZ))));
}

// The address at `offset` of the network header, of family `fs`, in `net` (or not).
void address(RuleBuilder& b, const FamilySpec& fs, uint32_t offset, const IpNet& net, bool inv) {
    const uint32_t len = fs.addr_bytes;
    if (net.mask.zero() && !inv) return;
    b.payload(offset, len);
    if (net.mask != IpAddr::prefix_mask(fs.addr_bits())) b.bitwise(net.mask.b.data(), len);
    b.cmp(!inv, net.addr.b.data(), len);
}

// ip6t_REJECT's --reject-with as an ICMPv6 code, or the TCP reset.
void reject6(RuleBuilder& b, const XtInfo& x) {
    ip6t_reject_info info{};
    std::memcpy(&info, x.data.data(), std::min(x.data.size(), sizeof info));
    switch (info.with) {
        case IP6T_TCP_RESET: return b.reject(NFT_REJECT_TCP_RST, 0);
        case IP6T_ICMP6_NO_ROUTE: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMPV6_NOROUTE);
        case IP6T_ICMP6_ADM_PROHIBITED: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMPV6_ADM_PROHIBITED);
        case IP6T_ICMP6_NOT_NEIGHBOUR: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMPV6_NOT_NEIGHBOUR);
        case IP6T_ICMP6_ADDR_UNREACH: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMPV6_ADDR_UNREACH);
        case IP6T_ICMP6_POLICY_FAIL: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMPV6_POLICY_FAIL);
        case IP6T_ICMP6_REJECT_ROUTE: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMPV6_REJECT_ROUTE);
        default: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMPV6_PORT_UNREACH);
    }
}

// ipt_REJECT's --reject-with as an ICMP code, or the TCP reset.
void reject(RuleBuilder& b, const FamilySpec& fs, const XtInfo& x) {
    if (fs.family == Family::ipv6) return reject6(b, x);
    ipt_reject_info info{};
    std::memcpy(&info, x.data.data(), std::min(x.data.size(), sizeof info));
    switch (info.with) {
        case IPT_TCP_RESET: return b.reject(NFT_REJECT_TCP_RST, 0);
        case IPT_ICMP_NET_UNREACHABLE: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMP_NET_UNREACH);
        case IPT_ICMP_HOST_UNREACHABLE: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMP_HOST_UNREACH);
        case IPT_ICMP_PROT_UNREACHABLE: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMP_PROT_UNREACH);
        case IPT_ICMP_NET_PROHIBITED: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMP_NET_ANO);
        case IPT_ICMP_HOST_PROHIBITED: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMP_HOST_ANO);
        case IPT_ICMP_ADMIN_PROHIBITED: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMP_PKT_FILTERED);
        default: return b.reject(NFT_REJECT_ICMP_UNREACH, ICMP_PORT_UNREACH);
    }
}

// For the conformance test only: matches kept in their x_tables form although they have
// a native one ("all", or a comma list of names), so that iptables-nft 1.8.9, which
// decodes only some native forms, can read back what xdptables loaded (tests/compat).
bool forced_xt(std::string_view match) {
    const char* list = std::getenv("XDPT_NFT_XT");
    if (!list) return false;
    for (std::string_view name : grammar::split(list, ','))
        if (name == "all" || name == match) return true;
    return false;
}

// One test of a rule as netfilter runs it: a field of the IP header part (as the rule
// states it, or inverted), or an x_tables match.
struct Atom {
    enum Kind : uint8_t { src, dst, in, out, proto, frag, match } kind;
    bool inv = false;
    IpNet net{};
    std::string iface;
    uint16_t protocol = 0;
    XtInfo xt;
    std::string_view ext = {};  // the match's name
    // The match's native nftables form, when it has one (emitted instead of xt, which
    // still names it for the chain layout's checks).
    std::optional<nftx::Exprs> native;

    static Atom field(Kind k, bool inv) {
        Atom a;
        a.kind = k, a.inv = inv;
        return a;
    }
};

// The tests of `r` in the order netfilter makes them: the IP header part
// (ip_packet_match), then the matches. None for a test that every packet passes.
std::vector<Atom> atoms(const Rule& r) {
    std::vector<Atom> out;
    if (!r.src.mask.zero() || r.inv_src) out.push_back(Atom::field(Atom::src, r.inv_src)), out.back().net = r.src;
    if (!r.dst.mask.zero() || r.inv_dst) out.push_back(Atom::field(Atom::dst, r.inv_dst)), out.back().net = r.dst;
    if (!r.in_iface.empty() && (!iface_under_mask(r.in_iface).empty() || r.inv_in))
        out.push_back(Atom::field(Atom::in, r.inv_in)), out.back().iface = r.in_iface;
    if (!r.out_iface.empty() && (!iface_under_mask(r.out_iface).empty() || r.inv_out))
        out.push_back(Atom::field(Atom::out, r.inv_out)), out.back().iface = r.out_iface;
    if (r.proto != 0 || r.inv_proto) out.push_back(Atom::field(Atom::proto, r.inv_proto)), out.back().protocol = r.proto;
    if (r.frag) out.push_back(Atom::field(Atom::frag, r.inv_frag));
    for (const ExtInst& m : r.matches) {
        out.push_back(Atom::field(Atom::match, false));
        out.back().xt = m.data->to_xt(r);
        out.back().ext = m.kind->name;
        if (nftx::Exprs native; !forced_xt(m.kind->name) && m.data->to_nft(r, native))
            out.back().native = std::move(native);
    }
    return out;
}

// ----------------------------------------------------------------- guarded transport matches
//
// xt_tcpudp and payload expressions judge a packet differently when its transport header
// is cut short (x_tables drops it where such a match is first met, uncounted; a payload
// expression fails the rule), and when it is a fragment other than the first (x_tables
// fails the match, or drops a TCP fragment at offset 8; the kernel's fast payload load
// reads the fragment's bytes as a header). A table is "guarded" when each of its base
// chains begins with rules (guards) that send those packets, and every packet with IP
// options or IPv6 extension headers (whose transport header lies further on), by goto
// to the chain's x_tables copy: a shadow chain where every rule is as before, tcp and
// udp matches in their x_tables form, jumping to the shadow copies of user chains. Every
// other packet meets tcp and udp as native expressions, as iptables-nft emits them,
// which cost half as much.
// A goto from a base chain keeps its policy: a packet that RETURNs from the copy, or
// falls off its end, meets the base chain's policy and is counted there. A rule counts
// in both copies: its counters are the sum.

// The shadow copy of chain `chain`: longer than any iptables chain name (28 characters),
// so that it names no chain of iptables'.
std::string shadow_name(std::string_view chain) { return str("~xdptables-x_tables-copy-of~", chain); }
bool is_shadow(std::string_view chain) { return chain.starts_with("~xdptables-x_tables-copy-of~"); }

// Which copy of a rule or chain: its only one, or in a guarded table the one behind the
// guards (tcp and udp native) or the shadow one (all x_tables).
enum class Copy : uint8_t { only, guarded, shadow };
// The copies every chain and rule of a table has.
std::vector<Copy> copies(bool guarded) {
    return guarded ? std::vector<Copy>{Copy::guarded, Copy::shadow} : std::vector<Copy>{Copy::only};
}
// The netfilter chain that holds copy `copy` of chain `chain`.
std::string chain_of(const std::string& chain, Copy copy) { return copy == Copy::shadow ? shadow_name(chain) : chain; }

// The number of guards a guarded base chain of family `f` begins with (see guards()).
size_t guard_rules(Family f) { return f == Family::ipv4 ? 4 : 3; }

// A tcp or udp match (without --tcp-option) as native expressions, for the packets that
// pass the guards: whole headers of first fragments or unfragmented packets.
std::optional<nftx::Exprs> native_transport(const XtInfo& x) {
    if (forced_xt(x.name)) return std::nullopt;
    const bool tcp = x.name == "tcp" && x.rev == 0 && x.data.size() >= sizeof(xt_tcp);
    const bool udp = x.name == "udp" && x.rev == 0 && x.data.size() >= sizeof(xt_udp);
    if (!tcp && !udp) return std::nullopt;
    uint16_t ports[4];
    std::memcpy(ports, x.data.data(), sizeof ports);
    xt_tcp t{};
    if (tcp) std::memcpy(&t, x.data.data(), sizeof t);
    const uint8_t inv = tcp ? t.invflags : x.data[offsetof(xt_udp, invflags)];
    if (t.option || ports[0] > ports[1] || ports[2] > ports[3]) return std::nullopt;
    nftx::Exprs out;
    // port_match(): lo <= port <= hi, or not with the inversion flag.
    auto port = [&](uint32_t offset, uint16_t lo, uint16_t hi, bool inverted) {
        if (lo == 0 && hi == 0xffff && !inverted) return;
        out.push_back(nftx::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, offset, 2});
        if (lo == hi) out.push_back(nftx::Cmp{inverted ? uint32_t(NFT_CMP_NEQ) : uint32_t(NFT_CMP_EQ), nftx::be16(lo)});
        else out.push_back(nftx::Range{!inverted, nftx::be16(lo), nftx::be16(hi)});
    };
    port(0, ports[0], ports[1], inv & XT_TCP_INV_SRCPT);  // the udp bits are the same
    port(2, ports[2], ports[3], inv & XT_TCP_INV_DSTPT);
    // (flags & mask) == cmp, or not with the inversion flag.
    const bool flags_inv = tcp && (inv & XT_TCP_INV_FLAGS);
    if (tcp && (t.flg_mask || t.flg_cmp || flags_inv)) {
        out.push_back(nftx::Payload{NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1});
        out.push_back(nftx::Bitwise{{t.flg_mask}});
        out.push_back(nftx::Cmp{flags_inv ? uint32_t(NFT_CMP_NEQ) : uint32_t(NFT_CMP_EQ), {t.flg_cmp}});
    }
    return out;  // (nothing, when it tests nothing: every packet behind the guards passes)
}

// Whether table `t` is to be guarded: some rule has a tcp or udp match that then
// becomes native (not for the conformance tests' iptables-nft layout).
bool guardable(const Table& t) {
    if (const char* layout = std::getenv("XDPT_NFT_LAYOUT"); layout && std::string_view(layout) == "iptables-nft")
        return false;
    for (const Chain& ch : t.chains)
        for (const Rule& r : ch.rules)
            for (const ExtInst& m : r.matches)
                if ((m.kind->name == "tcp" || m.kind->name == "udp") && native_transport(m.data->to_xt(r))) return true;
    return false;
}

void emit_atom(RuleBuilder& b, const FamilySpec& fs, const Atom& a) {
    switch (a.kind) {
        case Atom::src: return address(b, fs, fs.src_offset, a.net, a.inv);
        case Atom::dst: return address(b, fs, fs.dst_offset, a.net, a.inv);
        case Atom::in: return iface(b, NFT_META_IIFNAME, a.iface, a.inv);
        case Atom::out: return iface(b, NFT_META_OIFNAME, a.iface, a.inv);
        case Atom::proto: {
            const uint8_t p = uint8_t(a.protocol);
            // IPv4: the header's protocol field. IPv6: the upper-layer protocol after the
            // extension headers (ip6_packet_match's ipv6_find_hdr), which nftables keeps
            // as the packet's l4proto.
            if (fs.family == Family::ipv4) b.payload(9, 1);
            else b.meta(NFT_META_L4PROTO);
            return b.cmp(!a.inv, &p, 1);
        }
        case Atom::frag: {
            // -f: a fragment other than the first (offset bits set).
            const uint16_t off = htons(0x1fff), zero = 0;
            b.payload(6, 2);
            b.bitwise(&off, 2);
            return b.cmp(a.inv, &zero, 2);
        }
        case Atom::match:
            if (a.native) return b.native(*a.native);
            return b.xt(false, a.xt);
    }
}

// What a rule laid out in netfilter does once its tests pass.
enum class Act : uint8_t {
    own,    // counts, then the rule's target
    count,  // counts only (a jump into a chain laid out inline, a RETURN from one)
    ret,    // returns from the netfilter chain, uncounted (a goto into an inline chain ended)
    jump,   // counts, then jumps to the rule's chain (a goto from inside an inline chain)
};

// A rule as netfilter runs it, in chain `chain` of nftables table `table`: the tests
// `tests` (the rule's own, after those of the inline chains' jumps it sits in), then what
// `act` says. Nothing when no packet can pass the tests (two protocols).
Result<std::optional<RulePtr>> build_rule(const FamilySpec& fs, const std::string& table, const std::string& chain,
                                          const Rule& r, const std::vector<Atom>& tests, Act act, bool shadow = false) {
    RuleBuilder b(fs.nfproto, table, chain);
    // What x_tables checks the matches and the target against: the protocol a test
    // requires, else the rule's own.
    std::optional<uint16_t> positive;
    for (const Atom& a : tests)
        if (a.kind == Atom::proto && !a.inv) {
            if (positive && *positive != a.protocol) return std::nullopt;
            positive = a.protocol;
        }
    if (positive) b.compat(*positive, false);
    else b.compat(r.proto, r.inv_proto);
    for (const Atom& a : tests) {
        if (a.kind == Atom::match && !a.native && a.xt.name.empty())
            return fail(Exit::other, str("match `", a.ext, "' has no kernel form"));
        emit_atom(b, fs, a);
    }
    if (act == Act::ret) {
        b.verdict(NFT_RETURN);
        return b.release();
    }
    b.counter();
    if (act == Act::count) return b.release();
    if (act == Act::jump) {
        b.verdict(NFT_JUMP, r.target_name);
        return b.release();
    }
    if (r.target.kind) {
        XtInfo x = r.target.data->to_xt(r);
        if (x.name.empty())
            return fail(Exit::other, str("target `", r.target.kind->name, "' has no kernel form"));
        if (x.name == "REJECT" && table != "filter")
            reject(b, fs, x);  // ipt_REJECT itself runs only in a table named filter
        else
            b.xt(true, x);
    } else if (r.target_name == "ACCEPT") {
        b.verdict(NF_ACCEPT);
    } else if (r.target_name == "DROP") {
        b.verdict(NF_DROP);
    } else if (r.target_name == "RETURN") {
        b.verdict(NFT_RETURN);
    } else if (r.target_name == "QUEUE") {
        b.queue0();
    } else if (!r.target_name.empty()) {
        b.verdict(r.is_goto ? NFT_GOTO : NFT_JUMP, shadow ? shadow_name(r.target_name) : r.target_name);
    }
    return b.release();
}

Result<RulePtr> build_rule(const FamilySpec& fs, const std::string& table, const std::string& chain, const Rule& r,
                           Copy copy = Copy::only) {
    std::vector<Atom> tests = atoms(r);
    if (copy == Copy::guarded)
        for (Atom& a : tests)
            if (a.kind == Atom::match && !a.native)
                if (auto n = native_transport(a.xt)) a.native = std::move(n);
    auto built = build_rule(fs, table, chain_of(chain, copy), r, tests, Act::own, copy == Copy::shadow);
    if (!built) return std::unexpected(built.error());
    if (!*built) return fail(Exit::other, "rule with two protocols");
    return std::move(**built);
}

// ----------------------------------------------------------------- batches

class Batch {
public:
    // With `genid`, the kernel applies the batch only while its ruleset generation is
    // still that one (and refuses it with ERESTART otherwise).
    explicit Batch(uint8_t nfproto, std::optional<uint32_t> genid = {})
        : b_(nftnl_batch_alloc(1 << 18, 1 << 16)), nfproto_(nfproto) {
        nlmsghdr* begin = nftnl_batch_begin(buf(), seq_++);
        if (genid) mnl_attr_put_u32(begin, NFNL_BATCH_GENID, htonl(*genid));
        nftnl_batch_update(b_);
    }
    ~Batch() { nftnl_batch_free(b_); }
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    void table(uint16_t type, uint16_t flags, const std::string& name) {
        nftnl_table* t = nftnl_table_alloc();
        nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, nfproto_);
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, name.c_str());
        if (type == NFT_MSG_NEWTABLE) {
            // nft shows it as the table's comment.
            nftnl_udata_buf* ud = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
            nftnl_udata_put_strz(ud, 0 /* NFTNL_UDATA_TABLE_COMMENT */, std::string(owner_mark).c_str());
            nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
            nftnl_udata_buf_free(ud);
        }
        nftnl_table_nlmsg_build_payload(hdr(type, flags), t);
        nftnl_table_free(t);
        nftnl_batch_update(b_);
    }
    void chain(const std::string& table, const std::string& name, const Hook* h, bool drop) {
        nftnl_chain* c = nftnl_chain_alloc();
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, nfproto_);
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table.c_str());
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name.c_str());
        if (h) {
            nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, h->hooknum);
            nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, h->prio);
            nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, h->type);
            // The policy, counted by the chain's own counters: the kernel counts a packet
            // there whenever it falls off the chain, also at the end of a chain entered by
            // goto (which a last rule would miss).
            nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, drop ? NF_DROP : NF_ACCEPT);
            nftnl_chain_set_u64(c, NFTNL_CHAIN_PACKETS, 0);
            nftnl_chain_set_u64(c, NFTNL_CHAIN_BYTES, 0);
        }
        nftnl_chain_nlmsg_build_payload(hdr(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL), c);
        nftnl_chain_free(c);
        nftnl_batch_update(b_);
    }
    // Appends `r` to its chain, or inserts it just before the rule with handle `before`.
    void rule(nftnl_rule* r, uint64_t before = 0) {
        if (before) nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, before);
        nftnl_rule_nlmsg_build_payload(hdr(NFT_MSG_NEWRULE, NLM_F_CREATE | (before ? 0 : NLM_F_APPEND)), r);
        nftnl_batch_update(b_);
    }
    // Deletes the rule with handle `handle`, or every rule of the chain for 0.
    void delete_rule(const std::string& table, const std::string& chain, uint64_t handle) {
        nftnl_rule* r = nftnl_rule_alloc();
        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, nfproto_);
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table.c_str());
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain.c_str());
        if (handle) nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
        nftnl_rule_nlmsg_build_payload(hdr(NFT_MSG_DELRULE, 0), r);
        nftnl_rule_free(r);
        nftnl_batch_update(b_);
    }
    // An existing base chain's policy, and its counters set to zero when `zero`.
    void update_chain(const std::string& table, const std::string& name, bool drop, bool zero) {
        nftnl_chain* c = nftnl_chain_alloc();
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, nfproto_);
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table.c_str());
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name.c_str());
        nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, drop ? NF_DROP : NF_ACCEPT);
        if (zero) {
            nftnl_chain_set_u64(c, NFTNL_CHAIN_PACKETS, 0);
            nftnl_chain_set_u64(c, NFTNL_CHAIN_BYTES, 0);
        }
        nftnl_chain_nlmsg_build_payload(hdr(NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
        nftnl_chain_free(c);
        nftnl_batch_update(b_);
    }
    // Deletes a chain with the rules it still has.
    void delete_chain(const std::string& table, const std::string& name) {
        nftnl_chain* c = nftnl_chain_alloc();
        nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, nfproto_);
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table.c_str());
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name.c_str());
        nftnl_chain_nlmsg_build_payload(hdr(NFT_MSG_DELCHAIN, 0), c);
        nftnl_chain_free(c);
        nftnl_batch_update(b_);
    }

    // Sends the batch; the kernel runs it while we are in sendmsg, so every error (and
    // the final ack) is waiting when it returns. With `check`, the batch goes without its
    // end: the kernel checks every message, and its tables as a commit would (with that
    // end missing, nfnetlink_rcv_batch aborts with NFNL_ABORT_VALIDATE, as for nft
    // --check), then drops all of it.
    Result<void> send(mnl_socket* s, std::string_view what, bool check = false) {
        if (!check) {
            nftnl_batch_end(buf(), seq_++);
            nftnl_batch_update(b_);
        }
        const int n = nftnl_batch_iovec_len(b_);
        std::vector<iovec> iov(static_cast<size_t>(n));
        nftnl_batch_iovec(b_, iov.data(), uint32_t(n));
        size_t total = 0;
        for (const iovec& v : iov) total += v.iov_len;
        int sndbuf = int(total + (1 << 16));
        setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
        sockaddr_nl nl{};
        nl.nl_family = AF_NETLINK;
        msghdr msg{};
        msg.msg_name = &nl;
        msg.msg_namelen = sizeof nl;
        msg.msg_iov = iov.data();
        msg.msg_iovlen = iov.size();
        if (sendmsg(mnl_socket_get_fd(s), &msg, 0) < 0) return kernel_fail(what, errno);
        std::span<char> rbuf = netlink_buffer();
        int first_err = 0;
        for (;;) {
            ssize_t got = recv(mnl_socket_get_fd(s), rbuf.data(), rbuf.size(), MSG_DONTWAIT);
            if (got < 0) break;
            for (auto* nlh = reinterpret_cast<nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(nlh, int(got));
                 nlh = mnl_nlmsg_next(nlh, reinterpret_cast<int*>(&got))) {
                if (nlh->nlmsg_type != NLMSG_ERROR) continue;
                auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                if (e->error && !first_err) first_err = -e->error;
            }
        }
        if (first_err) {
            raced_ = first_err == ERESTART;
            return kernel_fail(what, first_err);
        }
        return {};
    }
    // The last send was refused because the kernel's generation had moved on.
    bool raced() const { return raced_; }
    uint8_t nfproto() const { return nfproto_; }

private:
    nftnl_batch* b_;
    uint8_t nfproto_;
    uint32_t seq_ = 1;
    bool raced_ = false;
    char* buf() { return static_cast<char*>(nftnl_batch_buffer(b_)); }
    nlmsghdr* hdr(uint16_t type, uint16_t flags) {
        return nftnl_nlmsg_build_hdr(buf(), type, nfproto_, flags, seq_++);
    }
};

// For a rule dump: the table, and the chain (all of the table's when empty), whose rules
// alone are wanted.
struct DumpFilter {
    std::string table, chain;
};

// Runs a dump request (with `filter`, of those rules only) and hands every message to
// `each`. A missing table or chain is an empty dump.
template <class F>
Result<void> dump(mnl_socket* s, uint8_t nfproto, uint16_t type, F&& each, std::string_view what,
                  const DumpFilter* filter = nullptr) {
    std::span<char> buf = netlink_buffer();
    const uint32_t seq = 1;
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, nfproto, NLM_F_DUMP, seq);
    if (filter) {
        mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, filter->table.c_str());
        if (!filter->chain.empty()) mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, filter->chain.c_str());
    }
    if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) return kernel_fail(what, errno);
    auto cb = [](const nlmsghdr* h, void* data) -> int { return (*static_cast<std::remove_reference_t<F>*>(data))(h); };
    const uint32_t portid = mnl_socket_get_portid(s);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s, buf.data(), buf.size());
        if (n < 0) return kernel_fail(what, errno);
        int rc = mnl_cb_run(buf.data(), size_t(n), seq, portid, cb, &each);
        if (rc == MNL_CB_STOP) return {};
        if (rc < 0) {
            if (errno == ENOENT) return {};
            return kernel_fail(what, errno);
        }
    }
}

struct Existing {
    std::string name;
    bool ours = false;
};

// The tables of family `nfproto` (ip, ip6), and which of them xdptables owns.
Result<std::vector<Existing>> list_tables(mnl_socket* s, uint8_t nfproto) {
    std::vector<Existing> out;
    auto each = [&out, nfproto](const nlmsghdr* h) -> int {
        nftnl_table* t = nftnl_table_alloc();
        if (nftnl_table_nlmsg_parse(h, t) == 0 && nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == nfproto) {
            Existing e{nftnl_table_get_str(t, NFTNL_TABLE_NAME)};
            uint32_t len = 0;
            const char* ud = nftnl_table_is_set(t, NFTNL_TABLE_USERDATA)
                                 ? static_cast<const char*>(nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len))
                                 : nullptr;
            e.ours = e.name.starts_with(own_prefix) ||
                     (ud && std::string_view(ud, len).find(owner_mark) != std::string_view::npos);
            out.push_back(std::move(e));
        }
        nftnl_table_free(t);
        return MNL_CB_OK;
    };
    if (auto r = dump(s, nfproto, NFT_MSG_GETTABLE, each, "listing the nftables tables"); !r)
        return std::unexpected(r.error());
    return out;
}

// The kernel's nftables ruleset generation: every committed batch moves it on by one.
Result<uint32_t> read_genid(mnl_socket* s) {
    std::span<char> buf = netlink_buffer();
    const uint32_t seq = 1;
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETGEN, AF_UNSPEC, 0, seq);
    if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) return kernel_fail("reading the nftables generation", errno);
    std::optional<uint32_t> id;
    auto cb = [](const nlmsghdr* h, void* data) -> int {
        nftnl_gen* g = nftnl_gen_alloc();
        if (g && nftnl_gen_nlmsg_parse(h, g) == 0 && nftnl_gen_is_set(g, NFTNL_GEN_ID))
            *static_cast<std::optional<uint32_t>*>(data) = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
        nftnl_gen_free(g);
        return MNL_CB_OK;
    };
    ssize_t n = mnl_socket_recvfrom(s, buf.data(), buf.size());
    if (n < 0 || mnl_cb_run(buf.data(), size_t(n), seq, mnl_socket_get_portid(s), cb, &id) < 0 || !id)
        return kernel_fail("reading the nftables generation", n < 0 ? errno : EPROTO);
    return *id;
}

// Deletes every table xdptables owns (in `b`).
Result<void> delete_owned(mnl_socket* s, Batch& b, std::vector<Existing>* tables = nullptr) {
    auto existing = list_tables(s, b.nfproto());
    if (!existing) return std::unexpected(existing.error());
    for (const Existing& e : *existing)
        if (e.ours) b.table(NFT_MSG_DELTABLE, 0, e.name);
    if (tables) *tables = std::move(*existing);
    return {};
}

}  // namespace

bool binds_table_name(std::string_view table, std::string_view target) {
    return (table == "raw" && (target == "CT" || target == "NOTRACK")) || (table == "mangle" && (target == "CHECKSUM" || target == "SET" || target == "HL" || target == "SNPT" || target == "DNPT")) ||
           (table == "nat" &&
            (target == "SNAT" || target == "DNAT" || target == "MASQUERADE" || target == "REDIRECT" || target == "NETMAP"));
}

namespace {

// The first target of `t` that binds its table's name (binds_table_name); empty when
// there is none.
std::string_view bound_target(const Table& t) {
    for (const Chain& ch : t.chains)
        for (const Rule& r : ch.rules)
            if (binds_table_name(t.name, r.target_name)) return r.target_name;
    return {};
}

}  // namespace

std::string table_name(const Table& t) {
    // For the conformance test only: iptables' own table names, so that iptables-nft
    // can decode what xdptables loaded (tests/compat).
    if (const char* layout = std::getenv("XDPT_NFT_LAYOUT"); layout && std::string_view(layout) == "iptables-nft")
        return t.name;
    if (!bound_target(t).empty()) return t.name;
    return str(own_prefix, t.name);
}

namespace {

// A table as nf_tables is given it: its dead rules (Chain::live_end) without what
// nf_tables would check and x_tables does not, since it never walks them: their jumps and
// gotos (a loop, a chain too deep), and matches and targets outside the hooks of their
// chain (MASQUERADE behind an ACCEPT in PREROUTING). The rest stays, as x_tables keeps it:
// a conntrack match there still turns conntrack (and reassembly) on. No packet reaches
// them in either. A rule whose kernel rule was made in the other form is made anew (it
// has no handle here). `t` itself when nothing differs; otherwise a copy, held by `keep`.
const Table& kernel_form(const Table& t, std::optional<Table>& keep) {
    auto differs = [&t] {
        for (const Chain& ch : t.chains) {
            if (ch.live_end() < ch.rules.size()) return true;
            for (const Rule& r : ch.rules)
                if (r.nft && r.nft_dead) return true;
        }
        return false;
    };
    if (!differs()) return t;
    keep = t;
    auto hooks = reaching_hooks(t);
    for (Chain& ch : keep->chains) {
        const std::set<std::string>& at = hooks[ch.name];
        for (size_t i = 0, live = ch.live_end(); i < ch.rules.size(); ++i) {
            Rule& r = ch.rules[i];
            const bool dead = i >= live;
            if (r.nft && r.nft_dead != dead) r.nft = 0, r.nft_copy = 0, r.nft_live = {};
            if (!dead) continue;
            if (!r.target.kind && !is_standard_verdict(r.target_name)) r.target_name.clear(), r.is_goto = false;
            std::erase_if(r.matches, [&](const ExtInst& m) { return !fits_hooks(m, at); });
            if (r.target.kind && !fits_hooks(r.target, at)) r.target = {}, r.target_name.clear();
            r.nft_dead = true;
        }
    }
    return *keep;
}

// Records that the kernel's rules of `t` are made as kernel_form makes them now.
void mark_forms(Table& t) {
    for (Chain& ch : t.chains)
        for (size_t i = 0, live = ch.live_end(); i < ch.rules.size(); ++i) ch.rules[i].nft_dead = i >= live;
}

// What the kernel holds of a chain: a base chain's policy and its counters.
struct KernelChain {
    std::optional<Counters> policy_ctr;
    std::optional<uint32_t> policy;  // NF_ACCEPT or NF_DROP
};
using KernelChains = std::map<std::string, std::map<std::string, KernelChain>>;
// Every chain of family `nfproto`, by table, with its policy and counters when it is a
// base chain.
Result<KernelChains> read_chains(mnl_socket* s, uint8_t nfproto, std::string_view what) {
    KernelChains out;
    auto each = [&out, nfproto](const nlmsghdr* h) -> int {
        nftnl_chain* c = nftnl_chain_alloc();
        if (nftnl_chain_nlmsg_parse(h, c) == 0 && nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY) == nfproto) {
            auto& kc = out[nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE)][nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)];
            if (nftnl_chain_is_set(c, NFTNL_CHAIN_PACKETS))
                kc.policy_ctr = Counters{nftnl_chain_get_u64(c, NFTNL_CHAIN_PACKETS), nftnl_chain_get_u64(c, NFTNL_CHAIN_BYTES)};
            if (nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)) kc.policy = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY);
        }
        nftnl_chain_free(c);
        return MNL_CB_OK;
    };
    if (auto r = dump(s, nfproto, NFT_MSG_GETCHAIN, each, what); !r) return std::unexpected(r.error());
    return out;
}

// What the kernel holds of chain `chain` of table `table`, if it has it.
const KernelChain* kernel_chain(const KernelChains& chains, const std::string& table, const std::string& chain) {
    auto kt = chains.find(table);
    if (kt == chains.end()) return nullptr;
    auto kc = kt->second.find(chain);
    return kc == kt->second.end() ? nullptr : &kc->second;
}

// Adds to `b` what turns the kernel's table `name` (as it was when `t` was loaded from
// it) into `t` rule by rule: the rules without a handle inserted where they stand,
// those the kernel has and `t` has not deleted, new user chains made, gone ones deleted;
// in a `guarded` table, each rule's shadow copy with it. False, with nothing added, when
// the kernel's table is not known well enough for that, is guarded otherwise, or when
// so much changed that making the table anew costs less.
Result<bool> patch_table(Batch& b, const std::string& name, const Table& t,
                         const std::map<std::string, KernelChain>& kernel, bool guarded) {
    size_t rules = 0, ops = 0;
    for (const Chain& ch : t.chains) {
        rules += ch.rules.size();
        if (!kernel.count(ch.name)) {
            if (ch.builtin || ch.nft_linked) return false;  // renamed, or the table is not what was loaded
            for (const Rule& r : ch.rules)
                if (r.nft) return false;
            ops += ch.rules.size() + 1;
            continue;
        }
        if (!ch.nft_linked || kernel.count(shadow_name(ch.name)) != size_t(guarded)) return false;
        if (guarded && ch.nft_copies.size() != ch.nft_rules.size()) return false;
        // Rules whose handles are unknown (made by this process, or not read: the kernel's
        // last ones, read_handles reads those before them that a patch needs): the chain
        // can only have kept them all, in order, with no new rule before any of them (its
        // new rules after them are appended below; it still gets its policy).
        if (auto u = std::find(ch.nft_rules.begin(), ch.nft_rules.end(), unknown_handle); u != ch.nft_rules.end()) {
            if (std::any_of(u, ch.nft_rules.end(), [](uint64_t h) { return h != unknown_handle; })) return false;
            const size_t unknown = size_t(ch.nft_rules.end() - u);
            size_t k = 0;
            while (k < ch.rules.size() && ch.rules[k].nft != unknown_handle) ++k;
            if (k + unknown > ch.rules.size() || (k > 0 && !ch.rules[k - 1].nft)) return false;
            for (size_t m = k; m < ch.rules.size(); ++m)
                if (ch.rules[m].nft != (m < k + unknown ? unknown_handle : 0)) return false;
        }
        // The kept rules, in the kernel's order.
        size_t k = 0;
        for (const Rule& r : ch.rules) {
            if (!r.nft) {
                ++ops;
                continue;
            }
            if (guarded && !r.nft_copy) return false;
            while (k < ch.nft_rules.size() && ch.nft_rules[k] != r.nft) ++k, ++ops;
            if (k == ch.nft_rules.size()) return false;
            ++k;
        }
        ops += ch.nft_rules.size() - k;
    }
    // The kernel's chains other than shadow copies (which come and go with theirs).
    std::vector<std::string> gone;
    for (const auto& [c, _] : kernel)
        if (!is_shadow(c) && !t.find(c)) gone.push_back(c);
    ops += gone.size();
    if (ops > small_patch && ops * 2 > rules) return false;

    const std::vector<Copy> cs = copies(guarded);
    // References first go (with every rule of a chain that goes: a rule jumping to its
    // own chain would keep it), then chains come, then rules that may jump to them.
    for (const std::string& c : gone)
        for (Copy copy : cs) b.delete_rule(name, chain_of(c, copy), 0);
    for (const Chain& ch : t.chains) {
        if (!kernel.count(ch.name)) continue;
        std::set<uint64_t> kept;
        for (const Rule& r : ch.rules) kept.insert(r.nft);
        for (size_t i = 0; i < ch.nft_rules.size(); ++i)
            if (!kept.count(ch.nft_rules[i])) {
                b.delete_rule(name, ch.name, ch.nft_rules[i]);
                if (guarded) b.delete_rule(name, shadow_name(ch.name), ch.nft_copies[i]);
            }
    }
    for (const Chain& ch : t.chains)
        if (!kernel.count(ch.name))
            for (Copy copy : cs) b.chain(name, chain_of(ch.name, copy), nullptr, false);
    for (const Chain& ch : t.chains) {
        for (Copy copy : cs) {
            // Each new rule goes just before the next kept one (in order: one inserted
            // before the same rule lands after those inserted before it), or at the end.
            uint64_t next_kept = 0;
            std::vector<uint64_t> before(ch.rules.size());
            for (size_t i = ch.rules.size(); i-- > 0;) {
                before[i] = next_kept;
                if (ch.rules[i].nft) next_kept = copy == Copy::shadow ? ch.rules[i].nft_copy : ch.rules[i].nft;
            }
            for (size_t i = 0; i < ch.rules.size(); ++i) {
                if (ch.rules[i].nft) continue;
                auto built = build_rule(spec_of(t.family), name, ch.name, ch.rules[i], copy);
                if (!built) return std::unexpected(built.error());
                b.rule(built->get(), before[i]);
            }
        }
        // A base chain's policy, when it changed or its counters are to be set anew. Not
        // otherwise: a chain update is one of the changes whose release the kernel defers
        // past an RCU grace period, which the closing of our socket then waits for (8 to
        // 20 ms here); an append alone releases nothing.
        const uint32_t policy = ch.policy == "DROP" ? NF_DROP : NF_ACCEPT;
        if (ch.builtin && (!ch.nft_counts || kernel.at(ch.name).policy != policy))
            b.update_chain(name, ch.name, policy == NF_DROP, !ch.nft_counts);
    }
    for (const std::string& c : gone)
        for (Copy copy : cs) b.delete_chain(name, chain_of(c, copy));
    return true;
}

// ----------------------------------------------------------------- deep chains

// nftables refuses a table where a chain lies more than this many jumps or gotos below
// a base chain (nft_chain_validate: level NFT_JUMP_STACK_SIZE is EMLINK; a goto counts
// there as a jump though it takes no stack at run time). iptables-legacy has no limit.
constexpr int max_level = 16 - 1;  // NFT_JUMP_STACK_SIZE (include/net/netfilter/nf_tables.h)

// The kernel's refusal of a table nested too deep, which xdptables gives for one it
// cannot lay out within the limit either.
std::unexpected<Error> too_deep() { return kernel_fail("loading the netfilter rules", EMLINK); }

// A rule as laid out in a netfilter chain: the rule of the table it counts for
// (t.chains[chain].rules[index]), its tests and what it does.
struct Emit {
    const Rule* rule;
    size_t chain, index;
    std::vector<Atom> tests;
    Act act;
};

// A table laid out in fewer levels: the netfilter chains (by index in the table) and
// their rules.
using Layout = std::vector<std::pair<size_t, std::vector<Emit>>>;

// The chain rule `r` jumps or goes to, if any.
const Chain* jump_target(const Table& t, const Rule& r) {
    if (r.target.kind || r.target_name.empty() || r.target_name == "ACCEPT" || r.target_name == "DROP" ||
        r.target_name == "RETURN" || r.target_name == "QUEUE")
        return nullptr;
    return t.find(r.target_name);
}

// Tests that give the same answer however often a packet meets them in one traversal:
// they read only the packet's headers and interfaces, which no target a chain laid out
// inline may hold changes (TCPMSS, which may grow the packet, keeps its chain out).
bool pure(const Atom& a) {
    if (a.kind != Atom::match) return true;
    constexpr std::string_view names[] = {"tcp",  "udp", "icmp",    "multiport", "iprange", "comment", "length", "ttl",
                                          "mac",  "addrtype", "pkttype", "dscp", "sctp", "esp", "ah"};
    return std::find(std::begin(names), std::end(names), a.xt.name) != std::end(names);
}
bool pure(const std::vector<Atom>& as) {
    return std::all_of(as.begin(), as.end(), [](const Atom& a) { return pure(a); });
}

using Alternatives = std::vector<std::vector<Atom>>;

// Tests, as disjoint alternatives, that a packet passes exactly when it fails `a`; none
// when netfilter cannot say that.
std::optional<Alternatives> negate(const Atom& a) {
    if (a.kind != Atom::match) {
        Atom n = a;
        n.inv = !a.inv;
        return Alternatives{{n}};
    }
    // tcp and udp with at most one port test (no flags, no option): xt_tcpudp fails a
    // fragment other than the first whatever it tests; for the others the inverted test.
    // (A header too short for it is dropped where the test is first met.)
    const bool tcp = a.xt.name == "tcp" && a.xt.data.size() >= sizeof(xt_tcp);
    if (!tcp && !(a.xt.name == "udp" && a.xt.data.size() >= sizeof(xt_udp))) return std::nullopt;
    uint16_t ports[4];
    std::memcpy(ports, a.xt.data.data(), sizeof ports);
    const bool sport = ports[0] != 0 || ports[1] != 0xffff, dport = ports[2] != 0 || ports[3] != 0xffff;
    if (sport && dport) return std::nullopt;
    size_t inv_at = offsetof(xt_udp, invflags);
    if (tcp) {
        xt_tcp info;
        std::memcpy(&info, a.xt.data.data(), sizeof info);
        if (info.option || info.flg_mask) return std::nullopt;
        inv_at = offsetof(xt_tcp, invflags);
    }
    Alternatives out{{Atom::field(Atom::frag, false)}};
    if (sport || dport) {
        Atom n = a;
        n.xt.data[inv_at] ^= sport ? XT_TCP_INV_SRCPT : XT_TCP_INV_DSTPT;  // the udp bits are the same
        out.push_back({Atom::field(Atom::frag, true), n});
    }
    return out;
}

// The same for the conjunction `as`: a packet fails the first test, or passes it and
// fails the second, ...
std::optional<Alternatives> negate(const std::vector<Atom>& as) {
    Alternatives out;
    std::vector<Atom> prefix;
    for (const Atom& a : as) {
        auto n = negate(a);
        if (!n) return std::nullopt;
        for (auto& alt : *n) {
            out.push_back(prefix);
            out.back().insert(out.back().end(), alt.begin(), alt.end());
        }
        prefix.push_back(a);
    }
    return out;
}

// Whether a packet may pass all of `tests`: not when they require two protocols.
bool satisfiable(const std::vector<Atom>& tests) {
    std::optional<uint16_t> p;
    for (const Atom& a : tests)
        if (a.kind == Atom::proto && !a.inv) {
            if (p && *p != a.protocol) return false;
            p = a.protocol;
        }
    return true;
}

// Lays a table out so that no chain lies more than max_level below a base chain. Each
// chain has a level, the longest path of jumps and gotos to it from a base chain (L the
// largest); with m = L / 16 + 1, the chains at levels 0, m, 2m, ... stay netfilter chains
// (at most L / m <= 15 of them on any path) and the ones between are laid out inline in
// every netfilter chain rule that reaches them, where a packet meets them in the same
// order as in iptables:
// - a jump into an inline chain is a rule that counts, then the callee's rules, each
//   behind the jump's tests (met again, so they must be pure);
// - a RETURN inside it counts, and the rest of the callee follows once for each
//   alternative of the RETURN's tests failing (disjoint, so each packet meets one copy);
// - a goto into it at a netfilter chain's own level is followed by a return behind the
//   goto's tests; deeper, the rest of the caller follows behind their negation, as for
//   RETURN (a goto from there to a netfilter chain becomes a jump for that reason).
// Every copy of a rule counts for it: its counters are the sum. Nothing when the table
// fits as it is; too_deep when it holds a rule the scheme cannot lay out exactly, or
// the copies would pass `budget` rules, or a copy more tests than a rule can hold.
class Planner {
public:
    explicit Planner(const Table& t) : t_(t), level_(t.chains.size(), -1) {}

    Result<std::optional<Layout>> plan() {
        if (!levels()) return too_deep();
        int deepest = 0;
        for (int l : level_) deepest = std::max(deepest, l);
        deepest_ = deepest;
        if (deepest <= max_level) return std::nullopt;
        m_ = deepest / (max_level + 1) + 1;
        Layout out;
        for (size_t c = 0; c < t_.chains.size(); ++c) {
            if (!native(c)) continue;
            out.emplace_back(c, std::vector<Emit>{});
            if (!seq(out.back().second, c, 0, {}, true)) return too_deep();
        }
        return out;
    }

    // After plan(): the longest path of jumps and gotos from a base chain.
    int deepest() const { return deepest_; }

private:
    const Table& t_;
    std::vector<int> level_;  // -1: no base chain reaches it
    int deepest_ = 0;
    int m_ = 1;
    size_t emitted_ = 0;
    static constexpr size_t budget = size_t(1) << 18;

    size_t index(const Chain* c) const { return size_t(c - t_.chains.data()); }
    bool native(size_t c) const { return level_[c] < 0 || level_[c] % m_ == 0; }

    // Longest paths from the base chains, in topological order (iptables refuses loops).
    bool levels() {
        std::vector<size_t> indegree(t_.chains.size()), order;
        std::vector<bool> reached(t_.chains.size());
        for (size_t c = 0; c < t_.chains.size(); ++c)
            if (t_.chains[c].builtin) reached[c] = true, order.push_back(c);
        for (size_t i = 0; i < order.size(); ++i)
            for (const Rule& r : t_.chains[order[i]].rules)
                if (const Chain* to = jump_target(t_, r)) {
                    ++indegree[index(to)];
                    if (!reached[index(to)]) reached[index(to)] = true, order.push_back(index(to));
                }
        std::vector<size_t> ready;
        for (size_t c = 0; c < t_.chains.size(); ++c)
            if (t_.chains[c].builtin) ready.push_back(c), level_[c] = 0;
        size_t done = 0;
        while (!ready.empty()) {
            const size_t c = ready.back();
            ready.pop_back();
            ++done;
            for (const Rule& r : t_.chains[c].rules)
                if (const Chain* to = jump_target(t_, r)) {
                    const size_t d = index(to);
                    level_[d] = std::max(level_[d], level_[c] + 1);
                    if (--indegree[d] == 0) ready.push_back(d);
                }
        }
        return done == order.size();
    }

    // At most the expressions a rule of nf_tables may have (NFT_RULE_MAXEXPRS: more is
    // EINVAL), counting three for a header field (load, mask, compare), a native match's
    // own and one for an x_tables one, and two for the counter and the verdict.
    static constexpr size_t max_exprs = 128;
    static size_t exprs(const std::vector<Atom>& tests) {
        size_t n = 2;
        for (const Atom& a : tests) n += a.kind != Atom::match ? 3 : a.native ? a.native->size() : 1;
        return n;
    }

    // Adds a rule to the layout, unless no packet passes its tests.
    bool add(std::vector<Emit>& out, size_t c, size_t k, std::vector<Atom> tests, Act act) {
        if (!satisfiable(tests)) return true;
        if (exprs(tests) > max_exprs) return false;
        if (++emitted_ > budget) return false;
        out.push_back({&t_.chains[c].rules[k], c, k, std::move(tests), act});
        return true;
    }

    // Lays out the rules of chain `c` from `from` on, behind the tests `guard`; `top`:
    // they are the netfilter chain's own, not inside an inline chain.
    bool seq(std::vector<Emit>& out, size_t c, size_t from, const std::vector<Atom>& guard, bool top) {
        const Chain& ch = t_.chains[c];
        for (size_t k = from; k < ch.rules.size(); ++k) {
            const Rule& r = ch.rules[k];
            const std::vector<Atom> own = atoms(r);
            std::vector<Atom> tests = guard;
            tests.insert(tests.end(), own.begin(), own.end());
            const Chain* to = jump_target(t_, r);
            if (to && !native(index(to))) {
                if (!pure(own) || !add(out, c, k, tests, Act::count) || !seq(out, index(to), 0, tests, false))
                    return false;
                if (!r.is_goto) continue;
                if (top) {
                    if (!add(out, c, k, own, Act::ret)) return false;
                    continue;
                }
                return rest(out, c, k, guard, own);
            }
            if (top) {
                if (!add(out, c, k, std::move(tests), Act::own)) return false;
                continue;
            }
            if (r.target.kind && r.target.kind->name == "TCPMSS") return false;
            if (r.target_name == "RETURN" && !r.target.kind)
                return add(out, c, k, std::move(tests), Act::count) && rest(out, c, k, guard, own);
            if (to && r.is_goto)
                return add(out, c, k, std::move(tests), Act::jump) && rest(out, c, k, guard, own);
            if (!add(out, c, k, std::move(tests), Act::own)) return false;
        }
        return true;
    }

    // The rules of `c` after rule `k`, for the packets that fail its tests `own`.
    bool rest(std::vector<Emit>& out, size_t c, size_t k, const std::vector<Atom>& guard, const std::vector<Atom>& own) {
        if (!pure(own)) return false;
        auto alternatives = negate(own);
        if (!alternatives) return false;
        for (const auto& alt : *alternatives) {
            std::vector<Atom> g = guard;
            g.insert(g.end(), alt.begin(), alt.end());
            if (!seq(out, c, k + 1, g, false)) return false;
        }
        return true;
    }
};

// How a table is laid out in netfilter: in fewer levels (`layout`), guarded (its tcp and
// udp matches native behind guards, with shadow chains), or as it is.
struct Shape {
    std::optional<Layout> layout;
    bool guarded = false;
};
Result<Shape> shape_of(const Table& t) {
    Planner p(t);
    auto layout = p.plan();
    if (!layout) return std::unexpected(layout.error());
    Shape out{std::move(*layout)};
    // A shadow chain lies one goto deeper than the chain it copies.
    out.guarded = !out.layout && p.deepest() < max_level && guardable(t);
    return out;
}

// Appends to base chain `chain` of guarded table `table` its guards: the packets that
// xt_tcpudp may judge otherwise than payload expressions go to the chain's shadow copy.
// IPv4, in order: IP options (or not version 4 with a 20-byte header); a fragment
// other than the first; a TCP packet shorter than its 20-byte header, a UDP one shorter
// than 8 bytes (by the total length, which the skb is trimmed to before any hook).
// IPv6: a next header other than TCP, UDP and ICMPv6 (an extension header: fragments
// among them); then the lengths as for IPv4, by the payload length.
void guards(Batch& b, Family f, const std::string& table, const std::string& chain) {
    const std::string to = shadow_name(chain);
    const uint8_t plain = 0x45, tcp = IPPROTO_TCP, udp = IPPROTO_UDP, icmp6 = IPPROTO_ICMPV6;
    const bool v4 = f == Family::ipv4;
    const uint16_t offset_mask = htons(0x1fff), zero = 0, tcp_min = htons(v4 ? 20 + 20 : 20),
                   udp_min = htons(v4 ? 20 + 8 : 8);
    const uint32_t proto_at = v4 ? 9 : 6, length_at = v4 ? 2 : 4;
    auto guard = [&](auto&& tests) {
        RuleBuilder g(spec_of(f).nfproto, table, chain);
        tests(g);
        g.verdict(NFT_GOTO, to);
        b.rule(g.get());
    };
    auto proto = [&](RuleBuilder& g, const uint8_t& p) { g.payload(proto_at, 1), g.cmp(true, &p, 1); };
    auto shorter = [&](RuleBuilder& g, const uint16_t& len) {
        g.payload(length_at, 2), g.cmp_op(NFT_CMP_LT, &len, 2);
    };
    if (v4) {
        guard([&](RuleBuilder& g) { g.payload(0, 1), g.cmp(false, &plain, 1); });
        guard([&](RuleBuilder& g) { g.payload(6, 2), g.bitwise(&offset_mask, 2), g.cmp(false, &zero, 2); });
    } else {
        guard([&](RuleBuilder& g) {
            g.payload(proto_at, 1);
            for (const uint8_t* p : {&tcp, &udp, &icmp6}) g.cmp(false, p, 1);
        });
    }
    guard([&](RuleBuilder& g) { shorter(g, tcp_min), proto(g, tcp); });
    guard([&](RuleBuilder& g) { shorter(g, udp_min), proto(g, udp); });
}

// Adds to `b` table `t` made anew as `name`, laid out as `shape` says.
Result<void> make_table(Batch& b, const std::string& name, const Table& t, const Shape& shape) {
    const FamilySpec& fs = spec_of(t.family);
    const std::optional<Layout>& layout = shape.layout;
    b.table(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, name);
    // Chains first: rules jump to them by name.
    if (!layout) {
        const std::vector<Copy> cs = copies(shape.guarded);
        for (Copy copy : cs)
            for (const Chain& ch : t.chains) {
                const Hook* hook = ch.builtin && copy != Copy::shadow ? find_hook(t.name, ch.name) : nullptr;
                b.chain(name, chain_of(ch.name, copy), hook, ch.policy == "DROP");
            }
        for (Copy copy : cs) {
            for (const Chain& ch : t.chains) {
                if (copy == Copy::guarded && ch.builtin) guards(b, t.family, name, ch.name);
                for (const Rule& r : ch.rules) {
                    auto built = build_rule(fs, name, ch.name, r, copy);
                    if (!built) return std::unexpected(built.error());
                    b.rule(built->get());
                }
            }
        }
        return {};
    }
    for (const auto& [c, _] : *layout) {
        const Chain& ch = t.chains[c];
        b.chain(name, ch.name, ch.builtin ? find_hook(t.name, ch.name) : nullptr, ch.policy == "DROP");
    }
    for (const auto& [c, rules] : *layout)
        for (const Emit& e : rules) {
            auto built = build_rule(fs, name, t.chains[c].name, *e.rule, e.tests, e.act);
            if (!built) return std::unexpected(built.error());
            if (*built) b.rule((*built)->get());
        }
    return {};
}

}  // namespace

namespace {

// Calls f on every attribute in [begin, end).
template <class F>
void for_each_attr(const void* begin, const void* end, F&& f) {
    const auto* a = static_cast<const nlattr*>(begin);
    while (mnl_attr_ok(a, int(static_cast<const char*>(end) - reinterpret_cast<const char*>(a)))) {
        f(a);
        a = mnl_attr_next(a);
    }
}

// Calls f on every attribute nested in `nest`.
template <class F>
void for_each_nested(const nlattr* nest, F&& f) {
    const char* p = static_cast<const char*>(mnl_attr_get_payload(nest));
    for_each_attr(p, p + mnl_attr_get_payload_len(nest), f);
}

}  // namespace

namespace {

// Handles and counters of the kernel's rules per (table, chain), in rule order.
struct Held {
    uint64_t handle;
    Counters c;
};
using HeldRules = std::map<std::pair<std::string, std::string>, std::vector<Held>>;

// Links `r` to its kernel rule `own` and, in a guarded table, to its shadow copy `copy`:
// their handles, and what both counted, added to its counters.
void link_rule(Rule& r, const Held& own, const Held* copy) {
    r.nft = own.handle, r.nft_copy = copy ? copy->handle : 0, r.nft_live = own.c;
    if (copy) r.nft_live += copy->c;
    r.ctr += r.nft_live;
}

// A rule message of a dump: its table, chain, handle and counter, read straight from the
// attributes (a full parse of every expression of every rule would cost more than the
// kernel's dump). False for a message of another family.
bool read_held(const nlmsghdr* h, uint8_t nfproto, const char*& table, const char*& chain, Held& held) {
    const auto* g = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(h));
    if (g->nfgen_family != nfproto) return false;
    table = nullptr, chain = nullptr, held = {0, {}};
    for_each_attr(mnl_nlmsg_get_payload_offset(h, sizeof(nfgenmsg)), mnl_nlmsg_get_payload_tail(h), [&](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
            case NFTA_RULE_TABLE: table = mnl_attr_get_str(a); break;
            case NFTA_RULE_CHAIN: chain = mnl_attr_get_str(a); break;
            case NFTA_RULE_HANDLE: held.handle = be64toh(mnl_attr_get_u64(a)); break;
            case NFTA_RULE_EXPRESSIONS:
                for_each_nested(a, [&](const nlattr* elem) {
                    const char* name = nullptr;
                    const nlattr* data = nullptr;
                    for_each_nested(elem, [&](const nlattr* x) {
                        if (mnl_attr_get_type(x) == NFTA_EXPR_NAME) name = mnl_attr_get_str(x);
                        else if (mnl_attr_get_type(x) == NFTA_EXPR_DATA) data = x;
                    });
                    if (!name || !data || std::strcmp(name, "counter") != 0) return;
                    for_each_nested(data, [&](const nlattr* x) {
                        if (mnl_attr_get_type(x) == NFTA_COUNTER_PACKETS) held.c.pkts = be64toh(mnl_attr_get_u64(x));
                        else if (mnl_attr_get_type(x) == NFTA_COUNTER_BYTES) held.c.bytes = be64toh(mnl_attr_get_u64(x));
                    });
                });
                break;
        }
    });
    return table && chain;
}

// The handles and counts of the kernel's rules of `tables` (in the kernel's table
// `kernel_name` rather than each one's own name, when given). The kernel's rule dump is
// quadratic in a chain's length: each of its rounds (32 KiB of rules) walks the chain
// from its first rule again. So a table with a long chain is read chain by chain (with
// its shadow copies): two chains of 50,000 rules cost half of what they cost in one dump.
// Other tables are read whole, in one round trip.
Result<HeldRules> read_rules(mnl_socket* s, Family f, std::span<const Table> tables,
                             const std::string* kernel_name = nullptr) {
    const uint8_t nfproto = spec_of(f).nfproto;
    HeldRules counted;
    auto each = [&counted, nfproto](const nlmsghdr* h) -> int {
        const char *table, *chain;
        Held held;
        if (read_held(h, nfproto, table, chain, held)) counted[{table, chain}].push_back(held);
        return MNL_CB_OK;
    };
    constexpr size_t long_chain = 1024;
    for (const Table& t : tables) {
        const std::string name = kernel_name ? *kernel_name : table_name(t);
        const bool by_chain = std::any_of(t.chains.begin(), t.chains.end(),
                                          [](const Chain& ch) { return ch.rules.size() >= long_chain; });
        std::vector<DumpFilter> filters;
        if (!by_chain) filters.push_back({name, ""});
        else
            for (const Chain& ch : t.chains) {
                // The kernel's chain may still have the name it was linked under (-E).
                std::vector<std::string> names{ch.name};
                if (!ch.nft_name.empty() && ch.nft_name != ch.name) names.push_back(ch.nft_name);
                for (const std::string& c : names) {
                    filters.push_back({name, c});
                    filters.push_back({name, shadow_name(c)});
                }
            }
        for (const DumpFilter& f : filters)
            if (auto r = dump(s, nfproto, NFT_MSG_GETRULE, each, "reading the netfilter counters", &f); !r)
                return std::unexpected(r.error());
    }
    return counted;
}

// The first `count` rules of chain `chain` of table `table` (fewer if it has fewer; none
// if it does not exist). The dump stops there: its socket, of its own, is closed under it.
Result<std::vector<Held>> read_chain_prefix(Family f, const std::string& table, const std::string& chain,
                                            size_t count) {
    std::vector<Held> out;
    if (count == 0) return out;
    auto s = open_socket();
    if (!s) return std::unexpected(s.error());
    const uint8_t nfproto = spec_of(f).nfproto;
    auto each = [&](const nlmsghdr* h) -> int {
        const char *t, *c;
        Held held;
        if (read_held(h, nfproto, t, c, held) && table == t && chain == c) out.push_back(held);
        return out.size() < count ? MNL_CB_OK : MNL_CB_STOP;
    };
    const DumpFilter filter{table, chain};
    if (auto r = dump(s->get(), nfproto, NFT_MSG_GETRULE, each, "reading the netfilter rules", &filter); !r)
        return std::unexpected(r.error());
    return out;
}

}  // namespace

// The sent batch and what it decided per table: patched, or made anew.
struct Change::Impl {
    Impl(Socket s, uint8_t nfproto, uint32_t genid) : sock(std::move(s)), batch(nfproto, genid), genid(genid) {}
    Socket sock;
    Batch batch;
    uint32_t genid;  // the kernel's generation the batch was built on
    std::vector<bool> patched;
    std::vector<bool> laid_out;  // made anew in fewer levels (Planner): never patched
    std::vector<bool> guarded;   // with shadow copies of its rules
    // What the kernel counted for the rules of the tables made anew whose handles and
    // counts were not read (counted_unread): settle adds it to their counters.
    std::vector<Change::Settled::Added> unread;
};

namespace {

// A rule whose kernel count was not read, at a known place in its kernel chain.
bool count_unread(const Rule& r) { return r.nft == unknown_handle && r.nft_pos != Rule::nft_nowhere; }

bool has_unread(const Table& t) {
    return std::any_of(t.chains.begin(), t.chains.end(), [](const Chain& ch) {
        return std::any_of(ch.rules.begin(), ch.rules.end(), count_unread);
    });
}

// What the kernel counted, in its table `name` for table `t` (index `ti` in its ruleset)
// that is about to be made anew, for the rules whose counts were not read when they were loaded (a load that
// found nftables unchanged, link_unchanged) or since they were made (in this process):
// their counts would go with the kernel's table. Rules whose chain no longer lines up add
// nothing.
Result<void> counted_unread(mnl_socket* s, const Table& t, const std::string& name, size_t ti,
                            const KernelChains& chains, std::vector<Change::Settled::Added>& out) {
    auto held = read_rules(s, t.family, {&t, 1}, &name);
    if (!held) return std::unexpected(held.error());
    for (size_t ci = 0; ci < t.chains.size(); ++ci) {
        const Chain& ch = t.chains[ci];
        auto own = held->find({name, ch.nft_name});
        if (own == held->end()) continue;
        auto copies = held->find({name, shadow_name(ch.nft_name)});
        const bool guarded = kernel_chain(chains, name, shadow_name(ch.nft_name)) != nullptr;
        const size_t skip = guarded && ch.builtin ? guard_rules(t.family) : 0;
        for (size_t ri = 0; ri < ch.rules.size(); ++ri) {
            const Rule& r = ch.rules[ri];
            if (!count_unread(r) || skip + r.nft_pos >= own->second.size()) continue;
            Counters c = own->second[skip + r.nft_pos].c;
            if (guarded) {
                if (copies == held->end() || r.nft_pos >= copies->second.size()) continue;
                c += copies->second[r.nft_pos].c;
            }
            if (c.pkts || c.bytes) out.push_back({ti, ci, ri, c});
        }
    }
    return {};
}

}  // namespace

Change::Change() = default;
Change::Change(Change&&) noexcept = default;
Change& Change::operator=(Change&&) noexcept = default;
Change::~Change() = default;

Result<Change> prepare(const Ruleset& rs, bool patch) {
    auto s = open_socket();
    if (!s) return std::unexpected(s.error());
    mnl_socket* sock = s->get();  // the Change owns it from below
    // The generation the batch is built on, read before what it is built from: the kernel
    // refuses the batch if anything changed meanwhile.
    auto genid = read_genid(s->get());
    if (!genid) return std::unexpected(genid.error());
    const FamilySpec& fs = spec_of(rs.family);
    auto existing = list_tables(s->get(), fs.nfproto);
    if (!existing) return std::unexpected(existing.error());
    // Read when patching, or when a table with unread counts is made anew.
    std::optional<KernelChains> chains;
    auto read_kernel_chains = [&]() -> Result<void> {
        if (chains) return {};
        auto c = read_chains(sock, fs.nfproto, "listing the nftables chains");
        if (!c) return std::unexpected(c.error());
        chains = std::move(*c);
        return {};
    };
    if (patch)
        if (auto r = read_kernel_chains(); !r) return std::unexpected(r.error());
    Change out;
    out.impl_ = std::make_unique<Change::Impl>(std::move(*s), fs.nfproto, *genid);
    Batch& b = out.impl_->batch;
    std::set<std::string> wanted;
    for (const Table& given : rs.tables) {
        std::optional<Table> keep;
        const Table& t = kernel_form(given, keep);
        const std::string name = table_name(given);
        wanted.insert(name);
        bool ours = false;
        for (const Existing& e : *existing) {
            if (e.name != name) continue;
            if (!e.ours)
                return runtime_fail(str("table ", fs.nft_family, ' ', name, " is not xdptables' (iptables-nft?); the ", t.name,
                                        " table needs that name for its ", bound_target(given), " rules"));
            ours = true;
        }
        auto shape = shape_of(t);
        if (!shape) return std::unexpected(shape.error());
        bool done = false;
        if (patch && ours && !shape->layout) {
            auto p = patch_table(b, name, t, (*chains)[name], shape->guarded);
            if (!p) return std::unexpected(p.error());
            done = *p;
        }
        // The kernel's table its rules are in now: this one, or the one of the other
        // name when the table's name changes (a first or last CT, nat, ... target).
        std::string held_in = ours ? name : "";
        if (!ours) {
            const std::string other = name == t.name ? str(own_prefix, t.name) : t.name;
            for (const Existing& e : *existing)
                if (e.name == other && e.ours) held_in = other;
        }
        if (!done && !held_in.empty() && has_unread(given)) {
            if (auto r = read_kernel_chains(); !r) return std::unexpected(r.error());
            auto r = counted_unread(sock, given, held_in, out.impl_->patched.size(), *chains, out.impl_->unread);
            if (!r) return std::unexpected(r.error());
        }
        if (!done) {
            if (ours) b.table(NFT_MSG_DELTABLE, 0, name);
            if (auto r = make_table(b, name, t, *shape); !r) return std::unexpected(r.error());
        }
        out.impl_->patched.push_back(done);
        out.impl_->laid_out.push_back(bool(shape->layout));
        out.impl_->guarded.push_back(shape->guarded);
    }
    for (const Existing& e : *existing)
        if (e.ours && !wanted.count(e.name)) b.table(NFT_MSG_DELTABLE, 0, e.name);
    return out;
}

Result<bool> holds_tables(Family f) {
    auto s = open_socket();
    if (!s) return std::unexpected(s.error());
    auto existing = list_tables(s->get(), spec_of(f).nfproto);
    if (!existing) return std::unexpected(existing.error());
    return std::any_of(existing->begin(), existing->end(), [](const Existing& e) { return e.ours; });
}

void Change::refuse_for_test() { impl_->batch.table(NFT_MSG_DELTABLE, 0, str(own_prefix, "test-refusal")); }

Result<void> Change::send() { return impl_->batch.send(impl_->sock.get(), "loading the netfilter rules"); }

Result<void> Change::check() { return impl_->batch.send(impl_->sock.get(), "loading the netfilter rules", true); }

Result<void> check(const Ruleset& rs) {
    auto c = prepare(rs);
    if (!c) return std::unexpected(c.error());
    return c->check();
}

bool Change::raced() const { return impl_->batch.raced(); }

Result<void> bump_generation_for_test() {
    auto s = open_socket();
    if (!s) return std::unexpected(s.error());
    Batch b(NFPROTO_IPV4);
    const std::string name = str(own_prefix, "test-race");
    b.table(NFT_MSG_NEWTABLE, NLM_F_CREATE, name);
    b.table(NFT_MSG_DELTABLE, 0, name);
    return b.send(s->get(), "changing nftables for a test");
}

// A table made anew counts from zero: its counts are all in the ruleset's counters. A
// patched one keeps the rules and counters it kept. The handles of the rules a batch
// makes are not read back: they are `unknown_handle`, so that a later commit of this
// process (xdptables-restore, one per table block) leaves such a chain alone while it is
// unchanged, and makes its table anew otherwise.
Change::Settled Change::settle(Ruleset& rs) const {
    Settled was{rs.nft_genid, {}, {}, impl_->unread};
    for (const Table& t : rs.tables)
        for (const Chain& ch : t.chains) {
            was.chains.push_back({ch.nft_linked, ch.nft_counts, ch.nft_live, ch.nft_name, ch.nft_rules, ch.nft_copies});
            for (const Rule& r : ch.rules) was.rules.push_back({r.nft, r.nft_copy, r.nft_pos, r.nft_dead, r.nft_live});
        }
    // What the kernel counted for the unread rules of the tables made anew, now theirs.
    for (const Settled::Added& a : impl_->unread) rs.tables[a.table].chains[a.chain].rules[a.rule].ctr += a.c;
    // The batch is one commit: the generation after it is the next one (0 is skipped).
    rs.nft_genid = next_genid(impl_->genid);
    for (size_t i = 0; i < rs.tables.size() && i < impl_->patched.size(); ++i)
        for (Chain& ch : rs.tables[i].chains) {
            ch.nft_rules.clear(), ch.nft_copies.clear();
            // The kernel's chain now holds the rules in this order, under this name.
            ch.nft_name = ch.name;
            uint32_t pos = 0;
            const size_t live = ch.live_end();
            for (Rule& r : ch.rules) {
                // (kernel_form: a rule dead now and not then, or the reverse, was made anew)
                const bool dead = size_t(&r - ch.rules.data()) >= live;
                if (!impl_->patched[i] || !r.nft || r.nft_dead != dead)
                    r.nft = unknown_handle, r.nft_copy = impl_->guarded[i] ? unknown_handle : 0, r.nft_live = {};
                r.nft_dead = dead;
                r.nft_pos = impl_->laid_out[i] ? Rule::nft_nowhere : pos++;
                ch.nft_rules.push_back(r.nft);
                ch.nft_copies.push_back(r.nft_copy);
            }
            ch.nft_linked = true;
            if (!impl_->patched[i]) ch.nft_counts = false, ch.nft_live = {};
            // Its netfilter chains hold copies of rules: it is made anew next time too.
            if (impl_->laid_out[i]) ch.nft_linked = false, ch.nft_rules.clear(), ch.nft_copies.clear();
        }
    return was;
}

void unsettle(Ruleset& rs, Change::Settled&& was) {
    rs.nft_genid = was.genid;
    size_t c = 0, r = 0;
    for (Table& t : rs.tables)
        for (Chain& ch : t.chains) {
            auto& cs = was.chains[c++];
            ch.nft_linked = cs.linked, ch.nft_counts = cs.counts, ch.nft_live = cs.live;
            ch.nft_name = std::move(cs.name);
            ch.nft_rules = std::move(cs.rules);
            ch.nft_copies = std::move(cs.copies);
            for (Rule& rule : ch.rules) {
                const auto& h = was.rules[r++];
                rule.nft = h.handle, rule.nft_copy = h.copy, rule.nft_pos = h.pos, rule.nft_dead = h.dead;
                rule.nft_live = h.live;
            }
        }
    for (const Change::Settled::Added& a : was.added) rs.tables[a.table].chains[a.chain].rules[a.rule].ctr -= a.c;
}

Result<void> install(Ruleset& rs, bool patch) {
    auto c = prepare(rs, patch);
    if (!c) return std::unexpected(c.error());
    if (auto r = c->send(); !r) return r;
    (void)c->settle(rs);
    return {};
}

LiveOut::LiveOut(Ruleset& rs) : rs_(rs) { move(-1); }
LiveOut::~LiveOut() { move(+1); }

void LiveOut::move(int sign) {
    auto apply = [sign](Counters& c, const Counters& live) {
        c.pkts += uint64_t(sign) * live.pkts;
        c.bytes += uint64_t(sign) * live.bytes;
    };
    for (Table& t : rs_.tables)
        for (Chain& ch : t.chains) {
            if (ch.nft_counts) apply(ch.ctr, ch.nft_live);
            for (Rule& r : ch.rules)
                if (r.nft) apply(r.ctr, r.nft_live);
        }
}

Result<void> remove(Family f) {
    auto s = open_socket();
    if (!s) return std::unexpected(s.error());
    Batch b(spec_of(f).nfproto);
    if (auto r = delete_owned(s->get(), b); !r) return r;
    return b.send(s->get(), "removing the netfilter rules");
}

namespace {

// Forgets what `ch` and its rules were linked to in the kernel.
void unlink(Chain& ch) {
    ch.nft_linked = false, ch.nft_counts = false, ch.nft_live = {}, ch.nft_rules.clear(), ch.nft_copies.clear();
    ch.nft_name = ch.name;
    for (Rule& r : ch.rules) r.nft = 0, r.nft_copy = 0, r.nft_pos = Rule::nft_nowhere, r.nft_live = {};
}

// For a table laid out in fewer levels (Planner): adds what the kernel's rules counted
// to the rules they are copies of (the copies lined up with `layout`, laid out again from
// the same table), and the policies' counts; links nothing, so that the next commit
// makes the table anew with every count in the ruleset.
void link_laid_out(Table& t, const std::string& name, const Layout& layout, const KernelChains& chains,
                   const HeldRules* rules) {
    for (Chain& ch : t.chains) {
        unlink(ch);
        const KernelChain* kc = kernel_chain(chains, name, ch.name);
        if (ch.builtin && kc && kc->policy_ctr) {
            ch.ctr.pkts += kc->policy_ctr->pkts;
            ch.ctr.bytes += kc->policy_ctr->bytes;
        }
    }
    if (!rules) return;
    for (const auto& [c, laid] : layout) {
        auto it = rules->find({name, t.chains[c].name});
        if (it == rules->end() || it->second.size() != laid.size()) continue;
        for (size_t i = 0; i < laid.size(); ++i) {
            Counters& ctr = t.chains[laid[i].chain].rules[laid[i].index].ctr;
            ctr.pkts += it->second[i].c.pkts;
            ctr.bytes += it->second[i].c.bytes;
        }
    }
}

// Links the chains of `rs` to the kernel's and adds the policies' counts. With `rules`
// (what the kernel's rules hold, read), their counts too and their handles; without, the
// kernel is known to hold exactly the rules of `rs` (nothing changed since they were
// committed), their handles unknown.
Result<void> link(mnl_socket* s, Ruleset& rs, const HeldRules* rules) {
    auto chains = read_chains(s, spec_of(rs.family).nfproto, "reading the netfilter counters");
    if (!chains) return std::unexpected(chains.error());
    for (Table& t : rs.tables) {
        const std::string name = table_name(t);
        // The kernel holds it as it was committed: in the forms its rules stand in now.
        mark_forms(t);
        std::optional<Table> keep;
        auto shape = shape_of(kernel_form(t, keep));
        if (shape && shape->layout) {
            link_laid_out(t, name, *shape->layout, *chains, rules);
            continue;
        }
        for (Chain& ch : t.chains) {
            unlink(ch);
            const KernelChain* kc = kernel_chain(*chains, name, ch.name);
            const std::optional<Counters>* policy = kc ? &kc->policy_ctr : nullptr;
            if (ch.builtin && policy && *policy) {
                ch.ctr.pkts += (*policy)->pkts;
                ch.ctr.bytes += (*policy)->bytes;
                ch.nft_live = **policy;
                ch.nft_counts = true;
            }
            if (!policy) continue;  // the kernel has no such chain
            // A guarded table's chain has its shadow copy; a base chain begins with the
            // guards, which count for no rule.
            const bool guarded = kernel_chain(*chains, name, shadow_name(ch.name)) != nullptr;
            const size_t skip = guarded && ch.builtin ? guard_rules(t.family) : 0;
            if (!rules) {
                uint32_t pos = 0;
                for (Rule& r : ch.rules) {
                    r.nft = unknown_handle, r.nft_copy = guarded ? unknown_handle : 0, r.nft_pos = pos++;
                    ch.nft_rules.push_back(r.nft);
                    ch.nft_copies.push_back(r.nft_copy);
                }
                ch.nft_linked = true;
                continue;
            }
            // (A chain the kernel has without rules holds none here.)
            static const std::vector<Held> none;
            auto held = [&](const std::string& c) -> const std::vector<Held>& {
                auto it = rules->find({name, c});
                return it == rules->end() ? none : it->second;
            };
            const std::vector<Held>& own = held(ch.name);
            const std::vector<Held>& copies = guarded ? held(shadow_name(ch.name)) : none;
            if (own.size() != skip + ch.rules.size() || (guarded && copies.size() != ch.rules.size())) continue;
            for (size_t i = 0; i < ch.rules.size(); ++i) {
                Rule& r = ch.rules[i];
                link_rule(r, own[skip + i], guarded ? &copies[i] : nullptr);
                ch.nft_rules.push_back(r.nft);
                ch.nft_copies.push_back(r.nft_copy);
            }
            ch.nft_linked = true;
        }
    }
    return {};
}

}  // namespace

Result<void> read_handles(Ruleset& rs) {
    for (Table& t : rs.tables) {
        const std::string name = table_name(t);
        for (Chain& ch : t.chains) {
            const size_t n = ch.nft_rules.size();
            if (!ch.nft_linked || std::find(ch.nft_rules.begin(), ch.nft_rules.end(), unknown_handle) == ch.nft_rules.end())
                continue;
            // The kernel's places whose handles the patch needs: the rules it deletes, and
            // the kept one each new rule goes before.
            std::vector<bool> stays(n);
            std::optional<size_t> need;
            auto want = [&](size_t p) {
                if (ch.nft_rules[p] == unknown_handle) need = std::max(need.value_or(0), p);
            };
            bool after_new = false;
            for (size_t i = 0, live = ch.live_end(); i < ch.rules.size(); ++i) {
                const Rule& r = ch.rules[i];
                if (!r.nft || r.nft_dead != (i >= live) || r.nft_pos >= n) {  // (kernel_form: made anew)
                    after_new = true;
                    continue;
                }
                stays[r.nft_pos] = true;
                if (after_new) want(r.nft_pos);
                after_new = false;
            }
            for (size_t p = 0; p < n; ++p)
                if (!stays[p]) want(p);
            if (!need) continue;
            // The kernel dumps a chain from its first rule: as far as the last place needed.
            // (The link knows whether the chain has its shadow copy: nft_copies.)
            const size_t upto = *need + 1;
            const bool guarded = ch.nft_copies.size() == n && ch.nft_copies.back() != 0;
            std::vector<Held> copies;
            if (guarded) {
                auto read = read_chain_prefix(t.family, name, shadow_name(ch.nft_name), upto);
                if (!read) return std::unexpected(read.error());
                copies = std::move(*read);
            }
            const size_t skip = guarded && ch.builtin ? guard_rules(t.family) : 0;
            auto own = read_chain_prefix(t.family, name, ch.nft_name, skip + upto);
            if (!own) return std::unexpected(own.error());
            // Not what was linked: the commit makes the table anew.
            if (own->size() != skip + upto || (guarded && copies.size() != upto)) continue;
            for (size_t p = 0; p < upto; ++p) {
                ch.nft_rules[p] = (*own)[skip + p].handle;
                if (guarded) ch.nft_copies[p] = copies[p].handle;
            }
            for (Rule& r : ch.rules)
                if (r.nft == unknown_handle && r.nft_pos < upto)
                    link_rule(r, (*own)[skip + r.nft_pos], guarded ? &copies[r.nft_pos] : nullptr);
        }
    }
    return {};
}

Result<void> add_counters(Ruleset& rs) {
    auto s = open_socket();
    if (!s) return std::unexpected(s.error());
    auto rules = read_rules(s->get(), rs.family, rs.tables);
    if (!rules) return std::unexpected(rules.error());
    return link(s->get(), rs, &*rules);
}

Result<bool> link_unchanged(Ruleset& rs) {
    if (!rs.nft_genid) return false;
    auto s = open_socket();
    if (!s) return std::unexpected(s.error());
    auto genid = read_genid(s->get());
    if (!genid) return std::unexpected(genid.error());
    if (*genid != *rs.nft_genid) return false;
    // A table laid out in fewer levels is made anew by every commit: its rules' counts
    // are needed.
    for (const Table& t : rs.tables) {
        std::optional<Table> keep;
        if (auto layout = Planner(kernel_form(t, keep)).plan(); !layout || *layout) return false;
    }
    if (auto r = link(s->get(), rs, nullptr); !r) return std::unexpected(r.error());
    return true;
}

}  // namespace xdpt::nft
