#include "dp/compile.hpp"

#include "model/tables.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <unordered_map>

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/xt_conntrack.h>

#include "core/str.hpp"

namespace xdpt {

std::vector<Prefix> range_to_prefixes(uint32_t lo, uint32_t hi) {
    std::vector<Prefix> out;
    uint64_t cur = lo;
    while (cur <= hi) {
        // The largest aligned block at `cur` that stays within hi.
        int len = 32;
        while (len > 0) {
            uint64_t size = uint64_t(1) << (32 - (len - 1));
            if ((cur & (size - 1)) != 0 || cur + size - 1 > hi) break;
            --len;
        }
        out.push_back({uint32_t(cur), uint8_t(len)});
        cur += uint64_t(1) << (32 - len);
    }
    return out;
}

bool IfaceTerm::matches(const std::string& ifname) const {
    if (!name.empty() && name.back() == '+') {
        std::string_view stem(name.data(), name.size() - 1);
        return ifname.compare(0, stem.size(), stem) == 0;
    }
    return ifname == name;
}

namespace dp {

namespace {

constexpr std::string_view xdp_tables[] = {"raw", "filter"};

std::bitset<256> single(uint16_t v, bool inv) {
    std::bitset<256> b;
    b.set(v & 0xff);
    return inv ? ~b : b;
}

// The conjunction of two conditions; false when it cannot be one condition.
bool conjoin(XdpCond& a, const XdpCond& b) {
    a.src.insert(a.src.end(), b.src.begin(), b.src.end());
    a.dst.insert(a.dst.end(), b.dst.begin(), b.dst.end());
    a.proto &= b.proto;
    a.nonfirst_frag_ok = a.nonfirst_frag_ok && b.nonfirst_frag_ok;
    a.first_ok = a.first_ok && b.first_ok;
    a.tcp_flags &= b.tcp_flags;
    a.ttl &= b.ttl;
    a.sport = a.sport.intersect(b.sport);
    a.dport = a.dport.intersect(b.dport);
    a.len = a.len.intersect(b.len);
    if (b.either_port) {
        if (a.either_port) return false;
        a.either_port = b.either_port;
    }
    a.iif.insert(a.iif.end(), b.iif.begin(), b.iif.end());
    a.oif.insert(a.oif.end(), b.oif.begin(), b.oif.end());
    a.mac.insert(a.mac.end(), b.mac.begin(), b.mac.end());
    a.needs_ether = a.needs_ether || b.needs_ether;
    a.ct_states &= b.ct_states;
    return true;
}

// Whether no packet can satisfy the condition (the cheap cases).
bool never(const XdpCond& c) {
    return c.ct_states == 0 || c.proto.none() || (!c.first_ok && !c.nonfirst_frag_ok) || c.tcp_flags.none() || c.ttl.none() ||
           c.sport.empty() || c.dport.empty() || c.len.empty() || (c.either_port && c.either_port->empty());
}

struct Flattener {
    Program& p;
    Family family;
    // The conntrack state bit of every packet the walk of the current table judges
    // (XdpCond::ct_states); 0 when it is not known there.
    uint16_t ct_bit = 0;
    // (table, chain) -> the slot of its first rule; enumerate_slots() puts a chain's rules
    // next to each other, right after the policy of a builtin chain.
    std::map<std::pair<std::string, std::string>, uint32_t> rule0;
    std::string error;

    bool full() {
        if (p.rules.size() <= XDPT_MAX_RULES) return false;
        if (error.empty())
            error = str("too many rules for the XDP classifier (more than ", XDPT_MAX_RULES,
                        " after user chains are expanded)");
        return true;
    }

    size_t push(FlatRule r) {
        p.rules.push_back(std::move(r));
        return p.rules.size() - 1;
    }

    // Emits `chain` under the condition `ctx` of the path that reaches it. Returns the
    // flat indices whose `next` is the end of this chain's segment (RETURNs), for the
    // caller to patch.
    std::vector<size_t> chain(const Table& t, const Chain& ch, const XdpCond& ctx, int depth) {
        std::vector<size_t> returns;
        const uint32_t first = rule0[{t.name, ch.name}];
        for (size_t i = 0, live = ch.live_end(); i < live; ++i) {
            if (full()) return returns;
            const Rule& r = ch.rules[i];
            const uint32_t slot = first + static_cast<uint32_t>(i);
            std::string why;
            XdpCond c = ctx;
            XdpCond own = rule_cond(r, family, why);
            if (own.ct_states != 0xffff) {
                if (!ct_bit && why.empty()) why = "the conntrack state of packets of existing connections";
                if (!(own.ct_states & ct_bit)) own.ct_states = 0;  // never, for the packets walked
                else own.ct_states = 0xffff;
            }
            if (!conjoin(c, own)) why = "two --ports matches on one path";
            if (never(c)) continue;
            if (!why.empty()) {
                p.kernel_rules.push_back({t.name, ch.name, int(i) + 1, why});
                FlatRule k{c, XDPT_A_KERNEL, 0, 0};
                k.cond.either_port.reset();  // a superset is enough to hand the packet over
                push(std::move(k));
                continue;
            }
            const std::string& target = r.target_name;
            const bool user = !target.empty() && !r.target.kind && !is_standard_verdict(target);
            // The rule itself: one flat rule, or two when multiport --ports makes it a
            // disjunction (source port or destination port in the set).
            std::vector<XdpCond> variants;
            if (c.either_port) {
                XdpCond a = c, b = c;
                a.sport = a.sport.intersect(*c.either_port);
                b.dport = b.dport.intersect(*c.either_port);
                a.either_port.reset(), b.either_port.reset();
                if (!never(a)) variants.push_back(std::move(a));
                if (!never(b)) variants.push_back(std::move(b));
            } else {
                variants.push_back(c);
            }
            if (variants.empty()) continue;
            uint8_t action = XDPT_A_CONTINUE;
            if (target == "ACCEPT") action = XDPT_A_ACCEPT;
            else if (target == "DROP") action = XDPT_A_DROP;
            else if (r.target.kind || target == "QUEUE") action = XDPT_A_KERNEL;
            std::vector<size_t> mine;
            for (auto& v : variants) mine.push_back(push(FlatRule{std::move(v), action, 0, slot}));
            if (action == XDPT_A_KERNEL) {
                p.kernel_rules.push_back({t.name, ch.name, int(i) + 1, str("-j ", target)});
                continue;
            }
            const uint32_t after = static_cast<uint32_t>(p.rules.size());
            for (size_t m : mine) p.rules[m].next = after;
            if (target == "RETURN") {
                returns.insert(returns.end(), mine.begin(), mine.end());
                continue;
            }
            if (!user) continue;
            const Chain* callee = t.find(target);
            if (!callee || depth > 64) {  // the kernel refuses both; never reached
                error = str("cannot expand chain ", target);
                return returns;
            }
            // The callee runs under this rule's condition (either variant).
            XdpCond under = c;
            auto inner = chain(t, *callee, under, depth + 1);
            if (!error.empty()) return returns;
            if (r.is_goto) {
                // When the callee ends, the chain that holds the -g ends too: a skip
                // under the -g rule's condition (each of its variants).
                const uint32_t first = static_cast<uint32_t>(p.rules.size());
                for (size_t m : mine) {
                    FlatRule skip{p.rules[m].cond, XDPT_A_SKIP, 0, 0};
                    returns.push_back(push(std::move(skip)));
                }
                for (size_t k : inner) p.rules[k].next = first;
            } else {
                for (size_t k : inner) p.rules[k].next = static_cast<uint32_t>(p.rules.size());
            }
        }
        return returns;
    }
};

}  // namespace

std::vector<SlotRef> enumerate_slots(const Ruleset& rs) {
    std::vector<SlotRef> out;
    for (auto name : xdp_tables) {
        const Table* t = rs.find(name);
        if (!t) continue;
        for (const auto& ch : t->chains) {
            if (ch.builtin) out.push_back({t->name, ch.name, -1});
            for (size_t i = 0; i < ch.rules.size(); ++i) out.push_back({t->name, ch.name, int(i)});
        }
    }
    return out;
}

XdpCond rule_cond(const Rule& r, Family f, std::string& why) {
    XdpCond c;
    auto addr = [&](const IpNet& n, bool inv, std::vector<AddrTerm>& terms, const char* opt) {
        const int len = n.mask.prefix_len(spec_of(f).addr_bytes);
        if (len == 0 && !inv) return;
        if (len < 0) {
            why = str(opt, " with a non-contiguous mask");
            return;
        }
        terms.push_back({{Prefix{n.addr, uint8_t(len)}}, inv});
    };
    addr(r.src, r.inv_src, c.src, "-s");
    addr(r.dst, r.inv_dst, c.dst, "-d");
    if (r.proto != 0) {
        if (r.proto > 255) why = "-p beyond 255";
        c.proto = single(r.proto, r.inv_proto);
    }
    if (r.frag) {
        if (r.inv_frag) c.nonfirst_frag_ok = false;
        else c.first_ok = false;
    }
    if (!r.in_iface.empty()) c.iif.push_back({r.in_iface, r.inv_in});
    if (!r.out_iface.empty()) c.oif.push_back({r.out_iface, r.inv_out});
    for (const auto& m : r.matches) {
        if (!m.data || !m.data->to_xdp(r, c)) {
            if (why.empty()) why = str("-m ", m.kind ? m.kind->name : "?");
        }
    }
    return c;
}

Result<Program> flatten(const Ruleset& rs) {
    Program p;
    p.slots = enumerate_slots(rs);
    // About one flat rule per slot (rules and policies); inlined user chains add more.
    p.rules.reserve(p.slots.size() + XDPT_NENTRIES);
    Flattener f{p, rs.family, 0, {}, {}};
    for (size_t s = 0; s < p.slots.size(); ++s)
        if (p.slots[s].rule <= 0)  // a policy, or a user chain's first rule
            f.rule0[{p.slots[s].table, p.slots[s].chain}] = uint32_t(s) + (p.slots[s].rule < 0 ? 1 : 0);

    const Table* raw = rs.find("raw");
    const Table* filter = rs.find("filter");
    if (raw) p.flags |= XDPT_CFG_HAS_RAW;
    if (filter) p.flags |= XDPT_CFG_HAS_FILTER;
    if (rs.find("nat") || rs.find("mangle")) p.flags |= XDPT_CFG_LATER_ONLY;
    // Conntrack (and with it reassembly before raw PREROUTING) comes with these users.
    if (rs.find("nat")) p.flags |= XDPT_CFG_DEFRAG;
    bool ct_target = false;  // zones, helpers (expectations: RELATED), untracked packets
    for (const auto& t : rs.tables)
        for (const auto& ch : t.chains)
            for (const auto& r : ch.rules) {
                for (const auto& m : r.matches)
                    if (m.kind && (m.kind->name == "conntrack" || m.kind->name == "state" || m.kind->name == "connmark"))
                        p.flags |= XDPT_CFG_DEFRAG;
                if (r.target_name == "CONNMARK") p.flags |= XDPT_CFG_DEFRAG;
                if (r.target_name == "CT" || r.target_name == "NOTRACK") p.flags |= XDPT_CFG_DEFRAG, ct_target = true;
            }
    // With conntrack on, filter is decided in XDP for the packets it knows to be NEW (in
    // IPv6, those without extension headers).
    if ((p.flags & XDPT_CFG_DEFRAG) && !ct_target && !(p.flags & XDPT_CFG_LATER_ONLY))
        p.flags |= XDPT_CFG_CT_NEW;

    struct Entry {
        const Table* t;
        std::string chain;
        xdpt_entry e;
    };
    for (const XdpEntry& xe : xdp_entries()) {
        const Entry en{rs.find(xe.table), std::string(xe.chain), xe.entry};
        p.entry[en.e] = static_cast<uint32_t>(p.rules.size());
        if (!en.t) {
            // Never walked (the config flags say so); a policy keeps the layout uniform.
            p.rules.push_back(FlatRule{XdpCond{}, XDPT_A_KERNEL, 0, 0});
            continue;
        }
        const Chain* ch = en.t->find(en.chain);
        // Raw PREROUTING comes before conntrack: no packet has an entry there
        // (conntrack_mt: the INVALID bit). Filter sees NEW under XDPT_CFG_CT_NEW.
        f.ct_bit = en.e == XDPT_RAW_PREROUTING      ? uint16_t(XT_CONNTRACK_STATE_INVALID)
                   : (p.flags & XDPT_CFG_CT_NEW) ? uint16_t(XT_CONNTRACK_STATE_BIT(IP_CT_NEW))
                                                  : uint16_t(0);
        auto returns = f.chain(*en.t, *ch, XdpCond{}, 0);
        if (!f.error.empty()) return fail(Exit::resource, f.error);
        const uint32_t pol = static_cast<uint32_t>(p.rules.size());
        for (size_t k : returns) p.rules[k].next = pol;
        p.rules.push_back(FlatRule{XdpCond{}, uint8_t(ch->policy == "DROP" ? XDPT_A_DROP : XDPT_A_ACCEPT), 0,
                                   f.rule0[{en.t->name, en.chain}] - 1});
        if (f.full()) return fail(Exit::resource, f.error);
    }
    if (!p.kernel_rules.empty()) p.flags |= XDPT_CFG_HAS_KERNEL;
    return p;
}

Program pass_through(const Ruleset& rs) {
    Program p;
    p.slots = enumerate_slots(rs);
    // No table walked (no XDPT_CFG_HAS_RAW or _FILTER): every packet goes up. The entry
    // chains keep the uniform layout, one rule each.
    for (int e = 0; e < XDPT_NENTRIES; ++e) {
        p.entry[e] = uint32_t(e);
        p.rules.push_back(FlatRule{XdpCond{}, XDPT_A_KERNEL, 0, 0});
    }
    return p;
}

uint64_t mac_key(const std::array<uint8_t, 6>& mac) {
    uint64_t k = 0;
    std::memcpy(&k, mac.data(), 6);
    return k;
}

namespace {

// A hash of 64-bit words (a multiply-xorshift mix; equal words, equal hash).
template <class W>
uint64_t hash_words(const W* w, size_t n) {
    static_assert(sizeof(W) == 8);
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; ++i) {
        h = (h ^ w[i]) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

// Interned chunks and bitmaps. Chunk 0 is the empty chunk. Found by a hash of their
// words, then compared whole: no key is copied (a chunk is 520 bytes, and a compile
// interns one per elementary interval of every field).
class Pool {
public:
    // Room reserved for a chunk and a bitmap per rule (address space only: a page is
    // touched when used), so the pools do not grow by copying.
    Pool(Tables& t, size_t nchunks, size_t nrules) : t_(t), nchunks_(nchunks) {
        t_.chunks.reserve(nrules + 64);
        t_.bitmaps.reserve(nrules + 64);
        t_.chunks.push_back(xdpt_chunk{});
    }

    uint32_t intern_chunk(const xdpt_chunk& c) {
        if (!c.summary) return 0;  // every word zero
        const uint64_t h = hash_words(c.words, XDPT_CHUNK_WORDS) ^ c.home * 0x9e3779b97f4a7c15ull;
        return intern(chunk_ids_, t_.chunks, h, c,
                      [](const xdpt_chunk& a, const xdpt_chunk& b) { return std::memcmp(&a, &b, sizeof a) == 0; });
    }

    uint32_t intern_bitmap(const std::array<uint32_t, XDPT_CHUNKS>& ids) {
        uint64_t words[XDPT_CHUNKS / 2];
        std::memcpy(words, ids.data(), sizeof words);
        xdpt_bitmap b{};
        for (size_t c = 0; c < XDPT_CHUNKS; ++c) {
            b.chunk[c] = ids[c];
            if (ids[c] != 0) b.chunk_mask |= 1u << c;
            if (t_.chunks[ids[c]].home) b.home_mask |= 1u << c;
        }
        return intern(bitmap_ids_, t_.bitmaps, hash_words(words, XDPT_CHUNKS / 2), b,
                      [](const xdpt_bitmap& x, const xdpt_bitmap& y) { return std::memcmp(&x, &y, sizeof x) == 0; });
    }

    size_t nchunks() const { return nchunks_; }

private:
    template <class T, class Eq>
    static uint32_t intern(std::unordered_multimap<uint64_t, uint32_t>& ids, std::vector<T>& all, uint64_t h,
                           const T& v, Eq&& eq) {
        for (auto [it, end] = ids.equal_range(h); it != end; ++it)
            if (eq(all[it->second], v)) return it->second;
        const auto id = uint32_t(all.size());
        all.push_back(v);
        ids.emplace(h, id);
        return id;
    }

    Tables& t_;
    size_t nchunks_;
    std::unordered_multimap<uint64_t, uint32_t> chunk_ids_, bitmap_ids_;
};

// The rules at home in a field (see xdpt_shared.h), as bit words; none: every rule (a
// bitmap no walk looks up, or one that may as well send the walk to every word).
using Homes = const std::vector<uint64_t>*;

// A bitmap being edited: words plus the interned id of every clean chunk. Its chunks'
// home summaries mark the words holding rules at home in its field (`homes`).
class Working {
public:
    Working(Pool& pool, Homes homes)
        : pool_(pool), homes_(homes), words_(pool.nchunks() * XDPT_CHUNK_WORDS, 0), ids_{}, dirty_{} {
        for (size_t c = 0; c < pool.nchunks(); ++c) dirty_[c] = true;
    }
    void set(size_t bit, bool on) {
        uint64_t m = uint64_t(1) << (bit & 63);
        uint64_t& w = words_[bit >> 6];
        if (bool(w & m) == on) return;
        w ^= m;
        dirty_[bit / XDPT_CHUNK_BITS] = true;
    }
    bool get(size_t bit) const { return words_[bit >> 6] >> (bit & 63) & 1; }
    uint32_t snapshot() {
        for (size_t c = 0; c < pool_.nchunks(); ++c) {
            if (!dirty_[c]) continue;
            xdpt_chunk ch{};
            for (size_t w = 0; w < XDPT_CHUNK_WORDS; ++w) {
                const size_t i = c * XDPT_CHUNK_WORDS + w;
                ch.words[w] = words_[i];
                if (ch.words[w]) ch.summary |= uint64_t(1) << w;
                if (ch.words[w] & (homes_ ? (*homes_)[i] : ~uint64_t(0))) ch.home |= uint64_t(1) << w;
            }
            ids_[c] = pool_.intern_chunk(ch);
            dirty_[c] = false;
        }
        return pool_.intern_bitmap(ids_);
    }

private:
    Pool& pool_;
    Homes homes_;
    std::vector<uint64_t> words_;
    std::array<uint32_t, XDPT_CHUNKS> ids_;
    std::array<bool, XDPT_CHUNKS> dirty_;
};

// The value map's runs over [base, base + n) replaced by `mine` ((index, id) where the
// id changes, the first at `base`).
void put_runs(Tables& t, uint32_t base, uint32_t n, const std::vector<std::pair<uint32_t, uint32_t>>& mine) {
    const uint32_t end = base + n;
    std::vector<std::pair<uint32_t, uint32_t>> out;
    for (const auto& r : t.value_runs)
        if (r.first < base) out.push_back(r);
    out.insert(out.end(), mine.begin(), mine.end());
    if (end < XDPT_SMALL_SIZE + XDPT_WIDE_SIZE) {
        out.push_back({end, t.value(end)});
        for (const auto& r : t.value_runs)
            if (r.first > end) out.push_back(r);
    }
    t.value_runs.clear();
    for (const auto& r : out)
        if (t.value_runs.empty() || t.value_runs.back().second != r.second) t.value_runs.push_back(r);
}

// A field over a small domain [0, n): per rule, the set of values it allows. Sweeps the
// domain once, interning one bitmap per elementary interval.
// Fills indexes [base, base + n) of the value map: one run per change of bitmap id.
void build_domain(Pool& pool, Homes homes, size_t nrules, uint32_t n,
                  const std::function<ValueSet(size_t)>& rule_set, Tables& t, uint32_t base) {
    // The edges of every rule's intervals, in value order (a list, not a slot per value:
    // a domain of 65,536 ports with a few rules costs a few events, not 65,536 vectors).
    struct Event {
        size_t value, rule;
        bool on;
    };
    std::vector<Event> events;
    for (size_t r = 0; r < nrules; ++r) {
        const ValueSet set = rule_set(r);  // kept: intervals() refers into it
        for (auto [lo, hi] : set.intervals()) {
            events.push_back({lo, r, true});
            events.push_back({size_t(hi) + 1, r, false});
        }
    }
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.value < b.value; });
    Working w(pool, homes);
    std::vector<std::pair<uint32_t, uint32_t>> mine;  // (index, id) where the id changes
    size_t e = 0;
    for (uint32_t v = 0;;) {
        for (; e < events.size() && events[e].value == v; ++e) w.set(events[e].rule, events[e].on);
        const uint32_t id = w.snapshot();
        if (mine.empty() || mine.back().second != id) mine.push_back({base + v, id});
        if (e == events.size() || events[e].value >= n) break;
        v = uint32_t(events[e].value);
    }
    put_runs(t, base, n, mine);
}

ValueSet bits_to_set(const std::bitset<256>& b, uint32_t base, uint32_t max) {
    std::vector<std::pair<uint32_t, uint32_t>> iv;  // runs of set bits, in order
    for (uint32_t i = 0; i < 256; ++i) {
        if (!b[i]) continue;
        if (!iv.empty() && iv.back().second + 1 == base + i) iv.back().second = base + i;
        else iv.push_back({base + i, base + i});
    }
    return ValueSet::of(std::move(iv), max);
}

// An address field: one LPM entry per distinct prefix of the rules' terms, plus /0. The
// longest matching entry p of an address decides every term: the address is in a term's
// prefix q exactly when p lies within q (the prefixes are nested or disjoint).
//
// Sorted by (address, length) the prefixes come in the pre-order of their tree: a walk
// with a stack of the enclosing prefixes applies each prefix's terms on the way in and
// takes them back on the way out, so every rule's membership is edited only where one of
// its terms starts or stops holding.
void build_lpm(Pool& pool, Homes homes, const std::vector<const std::vector<AddrTerm>*>& per_rule,
               std::vector<std::pair<Prefix, uint32_t>>& out) {
    const size_t n = per_rule.size();
    // Term (rule r, term k) is number first[r] + k.
    std::vector<uint32_t> first(n + 1, 0), rule_of;
    for (size_t r = 0; r < n; ++r) {
        first[r + 1] = first[r] + uint32_t(per_rule[r]->size());
        for (size_t k = 0; k < per_rule[r]->size(); ++k) rule_of.push_back(uint32_t(r));
    }
    std::vector<std::pair<Prefix, uint32_t>> refs;  // (prefix, term)
    for (size_t r = 0; r < n; ++r)
        for (size_t k = 0; k < per_rule[r]->size(); ++k)
            for (const Prefix& q : (*per_rule[r])[k].prefixes) refs.push_back({Prefix{q.addr, q.len}, first[r] + uint32_t(k)});
    refs.push_back({Prefix{IpAddr{}, 0}, UINT32_MAX});  // the /0 entry, no term
    std::sort(refs.begin(), refs.end());

    // A term holds when it is hit (the address lies in one of its prefixes) unless it is
    // negated; a rule is in when all its terms hold.
    std::vector<uint32_t> hits(rule_of.size(), 0);  // enclosing prefixes hitting a term
    std::vector<uint32_t> unmet(n, 0);                // terms of the rule that do not hold
    for (size_t r = 0; r < n; ++r)
        for (const auto& t : *per_rule[r]) unmet[r] += t.neg ? 0 : 1;
    Working w(pool, homes);
    for (size_t r = 0; r < n; ++r) w.set(r, unmet[r] == 0);
    auto hit = [&](uint32_t term, int d) {
        if (term == UINT32_MAX) return;
        uint32_t before = hits[term];
        hits[term] += uint32_t(d);
        if ((before == 0) == (hits[term] == 0)) return;  // still hit, or still not
        const uint32_t r = rule_of[term];
        const bool neg = (*per_rule[r])[term - first[r]].neg;
        const bool holds = (hits[term] != 0) != neg;
        unmet[r] = holds ? unmet[r] - 1 : unmet[r] + 1;
        w.set(r, unmet[r] == 0);
    };

    struct Open {
        Prefix p;
        size_t from, to;  // its refs
    };
    std::vector<Open> stack;
    for (size_t i = 0; i < refs.size();) {
        size_t j = i;
        while (j < refs.size() && refs[j].first == refs[i].first) ++j;
        const Prefix p = refs[i].first;
        while (!stack.empty() && !stack.back().p.contains(p)) {
            for (size_t k = stack.back().from; k < stack.back().to; ++k) hit(refs[k].second, -1);
            stack.pop_back();
        }
        for (size_t k = i; k < j; ++k) hit(refs[k].second, +1);
        out.push_back({p, w.snapshot()});
        stack.push_back({p, i, j});
        i = j;
    }
}

// An IPv4 address field's table (xdpt_shared.h, XDPT_WIDE_SRC16) from its trie's
// entries (they include /0), in the first level at `base` of the value map and in blocks
// appended to t.addr_blocks. A level's entry takes the id of the longest prefix that
// holds its span, painted shortest first; a span holding a longer prefix links to a
// block of the next level, or, past the blocks' budget (shared by both fields), sends
// the lookup to the trie.
void build_addr16(Tables& t, const std::vector<std::pair<Prefix, uint32_t>>& entries, uint32_t base) {
    using Entry = const std::pair<Prefix, uint32_t>*;
    std::vector<Entry> by_len;
    for (const auto& e : entries) by_len.push_back(&e);
    std::stable_sort(by_len.begin(), by_len.end(), [](Entry a, Entry b) { return a->first.len < b->first.len; });
    // Paints the entries of `from` (ascending length) over a level of 2^bits entries
    // covering the address bits above `shift` (16: the /16 level; 8, 0: the blocks).
    // Longer prefixes than the level resolves are grouped by their entry, in `deeper`.
    auto paint = [](std::span<uint32_t> level, unsigned shift, const std::vector<Entry>& from,
                    std::map<uint32_t, std::vector<Entry>>& deeper) {
        const unsigned len_max = 32 - shift;  // the longest prefix this level resolves
        for (Entry e : from) {
            const uint32_t a = e->first.addr4(), at = (a >> shift) & uint32_t(level.size() - 1);
            if (e->first.len > len_max) {
                deeper[at].push_back(e);
                continue;
            }
            const uint32_t span = uint32_t(1) << (len_max - e->first.len), first = at & ~(span - 1);
            std::fill(level.begin() + first, level.begin() + first + span, e->second);
        }
    };
    std::vector<uint32_t> first(65536, XDPT_VALUE_TRIE);
    std::map<uint32_t, std::vector<Entry>> deeper16;
    paint(first, 16, by_len, deeper16);
    // A block for what an entry's span holds beyond it; false past the budget.
    auto block = [&](uint32_t& parent, unsigned shift, const std::vector<Entry>& from,
                     std::map<uint32_t, std::vector<Entry>>& deeper) {
        const size_t at = t.addr_blocks.size();
        if (at / XDPT_ADDR_BLOCK >= XDPT_ADDR_BLOCKS_MAX) {
            parent = XDPT_VALUE_TRIE;
            return false;
        }
        t.addr_blocks.resize(at + XDPT_ADDR_BLOCK, parent);
        paint(std::span(t.addr_blocks).subspan(at, XDPT_ADDR_BLOCK), shift, from, deeper);
        parent = XDPT_VALUE_NEXT | uint32_t(XDPT_SMALL_SIZE + XDPT_WIDE_SIZE + at);
        return true;
    };
    // The /24 blocks of every /16 that needs one, then the address blocks: where the
    // budget runs out, the coarser levels are built first.
    std::vector<std::pair<size_t, std::map<uint32_t, std::vector<Entry>>>> blocks24;
    for (const auto& [hi, es] : deeper16) {
        std::map<uint32_t, std::vector<Entry>> d;
        if (block(first[hi], 8, es, d)) blocks24.push_back({t.addr_blocks.size() - XDPT_ADDR_BLOCK, std::move(d)});
    }
    for (auto& [at, d] : blocks24)
        for (const auto& [mid, es] : d) {
            std::map<uint32_t, std::vector<Entry>> none;
            uint32_t v = t.addr_blocks[at + mid];
            block(v, 0, es, none);
            t.addr_blocks[at + mid] = v;  // block() may have moved the vector
        }
    std::vector<std::pair<uint32_t, uint32_t>> mine;
    for (uint32_t i = 0; i < 65536; ++i)
        if (mine.empty() || mine.back().second != first[i]) mine.push_back({base + i, first[i]});
    put_runs(t, base, 65536, mine);
}

template <class Pred>
uint32_t bitmap_of(Pool& pool, Homes homes, size_t n, Pred&& in) {
    Working w(pool, homes);
    for (size_t r = 0; r < n; ++r) w.set(r, in(r));
    return w.snapshot();
}

bool iface_ok(const std::vector<IfaceTerm>& terms, const std::string& name) {
    for (const auto& t : terms)
        if (t.matches(name) == t.neg) return false;
    return true;
}

// Whether a rule's condition on `field` is other than "any": the field is looked up for it.
bool constrains(const XdpCond& c, int field) {
    switch (field) {
    case XDPT_F_SRC: return !c.src.empty();
    case XDPT_F_DST: return !c.dst.empty();
    case XDPT_F_PROTO: return !c.proto.all() || !c.first_ok || !c.nonfirst_frag_ok;
    case XDPT_F_FLAGS: return !c.tcp_flags.all();
    case XDPT_F_TTL: return !c.ttl.all();
    case XDPT_F_SPORT: return !c.sport.is_all();
    case XDPT_F_DPORT: return !c.dport.is_all();
    case XDPT_F_LEN: return !c.len.is_all();
    case XDPT_F_IIF: return !c.iif.empty() || c.needs_ether;
    case XDPT_F_OIF: return !c.oif.empty();
    case XDPT_F_MAC: return !c.mac.empty();
    default: return false;
    }
}

// A rule's condition on an interval field: source port, destination port, length.
const ValueSet& interval_field(const XdpCond& c, int field) {
    return field == XDPT_F_SPORT ? c.sport : field == XDPT_F_DPORT ? c.dport : c.len;
}

// The values of one of the value map's domains (value_domains) that a rule accepts.
// `icmp`: the family's ICMP protocol number. A destination port domain holds a rule's
// condition only for the packets of that domain the rule's protocol can match (ICMP's
// first fragments in the ICMP domain; in the other, other protocols' and every
// non-first fragment, which carries no port): elsewhere the protocol field excludes
// the rule anyway, and none of its values keeps it from the domain's classes.
ValueSet field_values(const XdpCond& c, const ValueDomain& d, unsigned icmp) {
    if (d.field == XDPT_F_DPORT) {
        std::bitset<256> others = c.proto;
        others.reset(icmp);
        const bool meets = d.icmp ? c.first_ok && c.proto[icmp] : (c.first_ok && others.any()) || c.nonfirst_frag_ok;
        return meets ? c.dport : ValueSet::none(c.dport.max());
    }
    switch (d.field) {
    case XDPT_F_PROTO: {
        ValueSet s = ValueSet::none(511);
        if (c.first_ok) s = s.unite(bits_to_set(c.proto, 0, 511));
        if (c.nonfirst_frag_ok) s = s.unite(bits_to_set(c.proto, 256, 511));
        return s;
    }
    case XDPT_F_FLAGS: return bits_to_set(c.tcp_flags, 0, 255);
    case XDPT_F_TTL: return bits_to_set(c.ttl, 0, 255);
    default: return interval_field(c, d.field);
    }
}

// How many rules' conditions on one field overlap a given rule's there: the rules a packet
// meeting the rule's condition may meet too, if at home in that field. Counted exactly for
// address prefixes (a prefix overlaps those within it and those holding it), port and
// length intervals, and protocol, flag and TTL sets; a condition not counted exactly
// (negated or several address terms, interfaces, MACs) is taken to overlap every rule.
// Measured against the ruleset's own conditions, not the field's whole range: prefixes
// all within one /15, as a real ruleset's often are, overlap one another however few
// addresses each holds.
class Overlaps {
public:
    // `icmp`: the family's ICMP protocol number (field_values); `local`: the namespace's
    // local addresses.
    Overlaps(const Program& p, int field, unsigned icmp, const std::vector<Prefix>& local)
        : field_(field), icmp_(icmp), local_(local), all_(p.rules.size()) {
        if (is_interval())
            for (const ValueDomain& d : value_domains)
                if (d.field == field) parts_.push_back({&d, {}, {}});
        for (const FlatRule& r : p.rules) {
            if (!constrains(r.cond, field)) continue;
            ++n_;
            if (const Prefix* q = prefix(r.cond)) {
                starts_.push_back({q->addr, q->len});
                lens_.insert(q->len);
            } else if (is_interval()) {
                for (Part& part : parts_)
                    for (auto [lo, hi] : field_values(r.cond, *part.d, icmp).intervals())
                        part.los.push_back(lo), part.his.push_back(hi);
            } else if (const std::bitset<256>* b = bits(r.cond)) {
                auto it = std::find_if(sets_.begin(), sets_.end(), [&](const auto& e) { return e.first == *b; });
                if (it == sets_.end()) sets_.push_back({*b, 1});
                else ++it->second;
            } else {
                ++loose_;
            }
        }
        std::sort(starts_.begin(), starts_.end());
        for (Part& part : parts_) {
            std::sort(part.los.begin(), part.los.end());
            std::sort(part.his.begin(), part.his.end());
        }
    }

    // The rules whose condition may overlap rule `c`'s (itself included).
    size_t of(const XdpCond& c) const {
        if (const Prefix* q = prefix(c)) {
            // Every packet for this host carries one of its addresses: a destination
            // prefix holding one selects none of them (as if it overlapped every rule).
            if (field_ == XDPT_F_DST)
                for (const Prefix& l : local_)
                    if (q->contains(l) || l.contains(*q)) return all_;
            IpAddr last = q->addr;
            const IpAddr mask = IpAddr::prefix_mask(q->len);
            for (size_t i = 0; i < last.b.size(); ++i) last.b[i] |= uint8_t(~mask.b[i]);
            // Those starting within it (within it, or holding it from its first address),
            // then those holding it from before.
            size_t k = size_t(std::upper_bound(starts_.begin(), starts_.end(), std::pair{last, uint8_t(255)}) -
                              std::lower_bound(starts_.begin(), starts_.end(), std::pair{q->addr, uint8_t(0)}));
            for (uint8_t len : lens_) {
                if (len >= q->len) break;
                const std::pair key{q->addr & IpAddr::prefix_mask(len), len};
                if (key.first == q->addr) continue;
                auto [lo, hi] = std::equal_range(starts_.begin(), starts_.end(), key);
                k += size_t(hi - lo);
            }
            return k + loose_;
        }
        if (is_interval()) {
            size_t k = 0;
            for (const Part& part : parts_)
                for (auto [lo, hi] : field_values(c, *part.d, icmp_).intervals()) {
                    const auto &los = part.los, &his = part.his;
                    const size_t after = size_t(los.end() - std::upper_bound(los.begin(), los.end(), hi));
                    const size_t before = size_t(std::lower_bound(his.begin(), his.end(), lo) - his.begin());
                    k += los.size() - after - before;
                }
            return std::min(k, n_);
        }
        if (const std::bitset<256>* b = bits(c)) {
            size_t k = 0;
            for (const auto& [set, count] : sets_)
                if ((set & *b).any()) k += count;
            return k + loose_;
        }
        return n_;
    }

private:
    bool is_interval() const { return field_ == XDPT_F_SPORT || field_ == XDPT_F_DPORT || field_ == XDPT_F_LEN; }
    // The one prefix of an address condition of one positive term, else none.
    const Prefix* prefix(const XdpCond& c) const {
        const auto* terms = field_ == XDPT_F_SRC ? &c.src : field_ == XDPT_F_DST ? &c.dst : nullptr;
        if (!terms || terms->size() != 1 || (*terms)[0].neg || (*terms)[0].prefixes.size() != 1) return nullptr;
        return &(*terms)[0].prefixes[0];
    }
    const std::bitset<256>* bits(const XdpCond& c) const {
        switch (field_) {
        case XDPT_F_PROTO: return &c.proto;
        case XDPT_F_FLAGS: return &c.tcp_flags;
        case XDPT_F_TTL: return &c.ttl;
        default: return nullptr;
        }
    }
    int field_;
    unsigned icmp_;
    const std::vector<Prefix>& local_;
    size_t all_;  // every rule of the program
    size_t n_ = 0, loose_ = 0;
    std::vector<std::pair<IpAddr, uint8_t>> starts_;  // (first address, length), sorted
    std::set<uint8_t> lens_;
    // An interval field's domains (the destination port has two), each with the first
    // and last values of the rules' intervals there, sorted.
    struct Part {
        const ValueDomain* d;
        std::vector<uint32_t> los, his;
    };
    std::vector<Part> parts_;
    std::vector<std::pair<std::bitset<256>, size_t>> sets_;
};

// Every rule's home field, or -1 when it constrains none. A walk visits only the words
// where a rule at home in a looked-up field meets that field's condition (xdpt_shared.h),
// so the rules at home in a field whose conditions one value meets are what a packet
// with that value costs, whatever its other fields. A rule goes where the fewest rules'
// conditions overlap its own (Overlaps). Exact whatever the choice; only the cost
// follows it.
std::vector<int> home_fields(const Program& p, unsigned icmp, const std::vector<Prefix>& local) {
    const size_t n = p.rules.size();
    std::vector<int> home(n, -1);
    std::vector<size_t> best(n, 0);
    for (int f = 0; f < XDPT_NFIELDS; ++f) {
        bool any = false;
        for (size_t r = 0; r < n && !any; ++r) any = constrains(p.rules[r].cond, f);
        if (!any) continue;
        const Overlaps overlaps(p, f, icmp, local);
        for (size_t r = 0; r < n; ++r) {
            if (!constrains(p.rules[r].cond, f)) continue;
            const size_t load = overlaps.of(p.rules[r].cond);
            if (home[r] < 0 || load < best[r]) home[r] = f, best[r] = load;
        }
    }
    return home;
}

}  // namespace

uint32_t Tables::value(uint32_t i) const {
    if (i >= XDPT_SMALL_SIZE + XDPT_WIDE_SIZE) return addr_blocks.at(i - (XDPT_SMALL_SIZE + XDPT_WIDE_SIZE));
    auto it = std::upper_bound(value_runs.begin(), value_runs.end(), std::pair{i, ~uint32_t(0)});
    return std::prev(it)->second;
}

Tables build_tables(const Program& p, const std::vector<Iface>& ifaces, const std::vector<Prefix>& local,
                    uint32_t ncpus, Family f) {
    Tables t;
    const size_t n = p.rules.size();
    const size_t nchunks = std::max<size_t>(1, (n + XDPT_CHUNK_BITS - 1) / XDPT_CHUNK_BITS);
    Pool pool(t, nchunks, n);
    auto cond = [&](size_t r) -> const XdpCond& { return p.rules[r].cond; };

    uint32_t active = 0;
    for (size_t r = 0; r < n; ++r)
        for (int f = 0; f < XDPT_NFIELDS; ++f)
            if (constrains(cond(r), f)) active |= 1u << f;

    const unsigned icmp = f == Family::ipv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    const std::vector<int> home = home_fields(p, icmp, local);
    // Per field, the words of the rules at home in it, and of those at home in none (a
    // walk must meet them whatever its fields).
    std::array<std::vector<uint64_t>, XDPT_NFIELDS> homes;
    for (auto& h : homes) h.assign(nchunks * XDPT_CHUNK_WORDS, 0);
    t.everywhere.assign((n + 64 * 64 - 1) / (64 * 64), 0);
    for (size_t r = 0; r < n; ++r) {
        for (int f = 0; f < XDPT_NFIELDS; ++f)
            if (home[r] == f || home[r] < 0) homes[f][r >> 6] |= uint64_t(1) << (r & 63);
        if (home[r] < 0) t.everywhere[r >> 12] |= uint64_t(1) << (r >> 6 & 63);
    }

    const uint32_t all = bitmap_of(pool, nullptr, n, [](size_t) { return true; });
    t.value_runs = {{0, all}};
    for (const ValueDomain& d : value_domains)
        if (active & (1u << d.field))
            build_domain(pool, &homes[d.field], n, d.size, [&](size_t r) { return field_values(cond(r), d, icmp); }, t,
                         d.base);

    std::vector<const std::vector<AddrTerm>*> terms(n);
    if (active & (1u << XDPT_F_SRC)) {
        for (size_t r = 0; r < n; ++r) terms[r] = &cond(r).src;
        build_lpm(pool, &homes[XDPT_F_SRC], terms, t.src);
    }
    if (active & (1u << XDPT_F_DST)) {
        for (size_t r = 0; r < n; ++r) terms[r] = &cond(r).dst;
        build_lpm(pool, &homes[XDPT_F_DST], terms, t.dst);
    }
    if (f == Family::ipv4) {
        t.addr16 = true;
        for (const ValueDomain& d : addr16_domains)
            if (active & (1u << d.field)) build_addr16(t, d.field == XDPT_F_SRC ? t.src : t.dst, d.base);
    }

    const uint32_t oif_none = bitmap_of(pool, &homes[XDPT_F_OIF], n, [&](size_t r) { return iface_ok(cond(r).oif, ""); });
    t.ifarr.assign(XDPT_IFARRAY, xdpt_iface{});
    for (const Iface& i : ifaces) {
        xdpt_iface rec{};
        std::memcpy(rec.mac, i.mac.data(), 6);
        rec.flags = uint16_t(i.flags | XDPT_IF_KNOWN);
        const bool ether = i.flags & XDPT_IF_ETHER;
        rec.iif_bitmap = bitmap_of(pool, &homes[XDPT_F_IIF], n, [&](size_t r) {
            return iface_ok(cond(r).iif, i.name) && (ether || !cond(r).needs_ether);
        });
        rec.oif_bitmap = bitmap_of(pool, &homes[XDPT_F_OIF], n, [&](size_t r) { return iface_ok(cond(r).oif, i.name); });
        t.ifaces.push_back({i.ifindex, rec});
        if (i.ifindex < XDPT_IFARRAY) t.ifarr[i.ifindex] = rec;
    }

    uint32_t mac_default = all;
    if (active & (1u << XDPT_F_MAC)) {
        auto mac_ok = [&](size_t r, const std::array<uint8_t, 6>* m) {
            for (const auto& term : cond(r).mac)
                if ((m && term.mac == *m) == term.neg) return false;
            return true;
        };
        mac_default = bitmap_of(pool, &homes[XDPT_F_MAC], n, [&](size_t r) { return mac_ok(r, nullptr); });
        std::set<std::array<uint8_t, 6>> macs;
        for (size_t r = 0; r < n; ++r)
            for (const auto& term : cond(r).mac) macs.insert(term.mac);
        for (const auto& m : macs)
            t.macs.push_back({mac_key(m), bitmap_of(pool, &homes[XDPT_F_MAC], n, [&](size_t r) { return mac_ok(r, &m); })});
    }

    for (const Prefix& l : local) t.local.push_back({l, 1});
    // A small IPv4 local table also goes into the config (the program compares it in
    // place); IPv6's stays in its trie.
    if (f == Family::ipv4 && local.size() <= XDPT_LOCAL_INLINE) {
        t.cfg.nlocal = uint32_t(local.size());
        for (size_t i = 0; i < local.size(); ++i) {  // (network order: the bytes as they are)
            std::memcpy(&t.cfg.local[i].addr, local[i].addr.b.data(), 4);
            std::memcpy(&t.cfg.local[i].mask, IpAddr::prefix_mask(local[i].len).b.data(), 4);
        }
    } else {
        t.cfg.nlocal = XDPT_LOCAL_TRIE;
    }

    for (const FlatRule& r : p.rules) {
        xdpt_rule x{};
        x.action = r.action;
        x.next = r.next;
        x.slot = r.slot;
        t.rules.push_back(x);
    }

    t.cfg.flags = p.flags | XDPT_CFG_VALID;
    t.cfg.active_fields = active;
    for (int e = 0; e < XDPT_NENTRIES; ++e) t.cfg.entry[e] = p.entry[e];
    t.cfg.nrules = static_cast<uint32_t>(n);
    t.cfg.nslots = static_cast<uint32_t>(std::max<size_t>(1, p.slots.size()));
    t.cfg.ncpus = ncpus;
    t.cfg.mac_default = mac_default;
    t.cfg.all_bitmap = all;
    t.cfg.oif_none = oif_none;
    return t;
}

MissBound miss_bound(const Tables& t) {
    MissBound b;
    b.total_words = (t.cfg.nrules + XDPT_WORD_BITS - 1) / XDPT_WORD_BITS;
    for (uint64_t e : t.everywhere) b.everywhere += uint32_t(std::popcount(e));
    auto marked = [&](uint32_t id) {  // (not counting `everywhere`)
        const xdpt_bitmap& bm = t.bitmaps.at(id);
        uint32_t words = 0;
        for (size_t c = 0; c < XDPT_CHUNKS; ++c)
            if (bm.home_mask >> c & 1)
                words += uint32_t(std::popcount(t.chunks.at(bm.chunk[c]).home &
                                                ~(c < t.everywhere.size() ? t.everywhere[c] : 0)));
        return words;
    };
    auto most = [&](int field, uint32_t id) { b.field[field] = std::max(b.field[field], marked(id)); };
    const uint32_t active = t.cfg.active_fields;
    for (const ValueDomain& d : value_domains) {
        if (!(active & (1u << d.field))) continue;
        most(d.field, t.value(d.base));
        for (const auto& [first, id] : t.value_runs)
            if (first >= d.base && first < d.base + d.size) most(d.field, id);
    }
    for (const auto& [p, id] : t.src) most(XDPT_F_SRC, id);
    for (const auto& [p, id] : t.dst) most(XDPT_F_DST, id);
    most(XDPT_F_OIF, t.cfg.oif_none);
    for (const auto& [ifindex, rec] : t.ifaces) {
        most(XDPT_F_IIF, rec.iif_bitmap);
        most(XDPT_F_OIF, rec.oif_bitmap);
    }
    most(XDPT_F_MAC, t.cfg.mac_default);
    for (const auto& [mac, id] : t.macs) most(XDPT_F_MAC, id);
    uint64_t sum = b.everywhere;
    for (int f = 0; f < XDPT_NFIELDS; ++f) {
        if (!(active & (1u << f))) b.field[f] = 0;
        sum += b.field[f];
    }
    b.words = uint32_t(std::min<uint64_t>(sum, b.total_words));
    return b;
}

}  // namespace dp
}  // namespace xdpt
