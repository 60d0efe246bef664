// The classifier compiler against brute force: random rules over addresses (nested,
// negated, several prefixes per term, several terms), protocol, ports and TTL; for random
// packets, the AND of the bitmaps the compiled tables give (LPM longest match for the
// addresses, the value arrays for the rest) must be exactly the set of rules whose
// condition the packet meets.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "dp/compile.hpp"

using namespace xdpt;
using namespace xdpt::dp;

namespace {

bool addr_ok(const std::vector<AddrTerm>& terms, uint32_t a) {
    for (const auto& t : terms) {
        bool in = false;
        for (const auto& p : t.prefixes) in = in || p.contains(Prefix{a, 32});
        if (in == t.neg) return false;
    }
    return true;
}

// The rules (flat indices) set in bitmap `id`.
std::vector<bool> expand(const Tables& t, uint32_t id, size_t n) {
    std::vector<bool> out(n);
    const xdpt_bitmap& b = t.bitmaps.at(id);
    for (size_t r = 0; r < n; ++r) {
        const xdpt_chunk& c = t.chunks.at(b.chunk[r / XDPT_CHUNK_BITS]);
        out[r] = c.words[(r % XDPT_CHUNK_BITS) / 64] >> (r % 64) & 1;
    }
    return out;
}

// Whether bitmap `id` sends a walk to rule r's word: its chunk's home summary marks the
// word, and its home mask the chunk.
bool home_marks(const Tables& t, uint32_t id, size_t r) {
    const xdpt_bitmap& b = t.bitmaps.at(id);
    const size_t c = r / XDPT_CHUNK_BITS;
    return (b.home_mask >> c & 1) && (t.chunks.at(b.chunk[c]).home >> ((r % XDPT_CHUNK_BITS) / 64) & 1);
}

// Every chunk's home summary lies within its summary; every bitmap's home mask marks
// exactly the chunks with a home bit.
void check_homes_within(const Tables& t) {
    for (const xdpt_chunk& c : t.chunks) REQUIRE((c.home & ~c.summary) == 0);
    for (const xdpt_bitmap& b : t.bitmaps)
        for (size_t c = 0; c < XDPT_CHUNKS; ++c)
            REQUIRE(bool(b.home_mask >> c & 1) == (t.chunks.at(b.chunk[c]).home != 0));
}

uint32_t lpm(const std::vector<std::pair<Prefix, uint32_t>>& entries, uint32_t a) {
    int best = -1;
    uint32_t id = UINT32_MAX;
    for (const auto& [p, v] : entries) {
        if (p.contains(Prefix{a, 32}) && int(p.len) > best) best = p.len, id = v;
    }
    return id;
}

Prefix random_prefix(std::mt19937& g) {
    // A small address space so that prefixes nest and collide often.
    static const uint8_t lens[] = {0, 8, 12, 16, 20, 24, 28, 30, 32};
    uint8_t len = lens[g() % std::size(lens)];
    uint32_t a = 0xC6120000u | (g() & 0xffff);
    if (g() % 4 == 0) a = g();
    a &= len ? ~0u << (32 - len) : 0;
    return {a, len};
}

std::vector<AddrTerm> random_terms(std::mt19937& g) {
    std::vector<AddrTerm> out;
    int n = int(g() % 4) - 1;  // mostly 0 or 1 term, sometimes 2
    for (int i = 0; i < n; ++i) {
        AddrTerm t;
        int np = 1 + int(g() % 3 == 0 ? g() % 4 : 0);
        for (int k = 0; k < np; ++k) t.prefixes.push_back(random_prefix(g));
        t.neg = g() % 3 == 0;
        out.push_back(std::move(t));
    }
    return out;
}

uint32_t random_addr(std::mt19937& g, const Program& p) {
    // Mostly near the rules' prefixes: an address inside one of them, bits flipped.
    if (g() % 5 == 0) return g();
    const auto& c = p.rules[g() % p.rules.size()].cond;
    const auto& terms = g() % 2 ? c.src : c.dst;
    if (terms.empty() || terms[0].prefixes.empty()) return 0xC6120000u | (g() & 0xffff);
    const Prefix q = terms[0].prefixes[g() % terms[0].prefixes.size()];
    uint32_t host = q.len == 32 ? 0 : g() & (~0u >> q.len);
    return q.addr4() | host;
}

}  // namespace

// The program's lookup of an IPv4 address in the field whose first level is at `off`
// (XDPT_WIDE_SRC16 or XDPT_WIDE_DST16): the first level, the blocks its links lead to,
// the trie where an entry sends the lookup there. `levels` counts the array loads.
uint32_t table_id(const Tables& t, uint32_t off, const std::vector<std::pair<Prefix, uint32_t>>& entries,
                  uint32_t a, int* levels = nullptr) {
    uint32_t v = t.value(XDPT_SMALL_SIZE + off + (a >> 16));
    int n = 1;
    if (XDPT_VALUE_LINK(v)) {
        v = t.value((v & ~XDPT_VALUE_NEXT) + (a >> 8 & 0xff)), ++n;
        if (XDPT_VALUE_LINK(v)) v = t.value((v & ~XDPT_VALUE_NEXT) + (a & 0xff)), ++n;
    }
    if (levels) *levels = v == XDPT_VALUE_TRIE ? -1 : n;
    return v == XDPT_VALUE_TRIE ? lpm(entries, a) : v;
}

TEST_CASE("IPv4 address fields: a /16 level, and blocks per /24 and per address where longer prefixes lie") {
    Program p;
    auto rule = [&](uint32_t a, uint8_t len) {
        FlatRule f;
        f.cond.src.push_back(AddrTerm{{Prefix{a, len}}, false});
        f.slot = uint32_t(p.rules.size());
        p.rules.push_back(std::move(f));
    };
    rule(0x0a000000u, 8);   // 10.0.0.0/8
    rule(0x0a010000u, 16);  // 10.1.0.0/16
    rule(0x0a020300u, 24);  // 10.2.3.0/24
    rule(0x0a020080u, 25);  // 10.2.0.128/25
    rule(0x0a020405u, 32);  // 10.2.4.5/32
    rule(0x0a028000u, 17);  // 10.2.128.0/17
    rule(0x0b800000u, 9);   // 11.128.0.0/9
    p.rules.push_back(FlatRule{});  // a policy
    const Tables t = build_tables(p, {}, {}, 1, Family::ipv4);
    REQUIRE(t.addr16);
    auto check = [&](uint32_t a, int levels) {
        CAPTURE(a);
        int n = 0;
        CHECK(table_id(t, XDPT_WIDE_SRC16, t.src, a, &n) == lpm(t.src, a));
        CHECK(n == levels);
    };
    check(0x0a000001u, 1);  // 10.0/16: the /8
    check(0x0aff0001u, 1);  // 10.255/16: the /8
    check(0x0a010203u, 1);  // 10.1/16: the /16
    check(0x0a020304u, 2);  // 10.2.3/24: the /24
    check(0x0a020104u, 2);  // 10.2.1/24: the /8
    check(0x0a029904u, 2);  // 10.2.153/24: the /17
    check(0x0a020081u, 3);  // 10.2.0.129: the /25
    check(0x0a02007fu, 3);  // 10.2.0.127: the /8
    check(0x0a020405u, 3);  // 10.2.4.5: the /32
    check(0x0a020406u, 3);  // 10.2.4.6: the /8
    check(0x0b810000u, 1);  // 11.129/16: the /9
    check(0x0b7f0000u, 1);  // 11.127/16: /0 only
    check(0xc6120001u, 1);  // elsewhere: /0
    CHECK(lpm(t.src, 0x0a020405u) != lpm(t.src, 0x0a020406u));
    CHECK(lpm(t.src, 0x0a020081u) != lpm(t.src, 0x0a02007fu));
    // Two blocks for 10.2/16 and its /24s 10.2.0 and 10.2.4.
    CHECK(t.addr_blocks.size() == 3 * XDPT_ADDR_BLOCK);
    // IPv6 has no first level.
    CHECK(!build_tables(p, {}, {}, 1, Family::ipv6).addr16);
}

TEST_CASE("IPv4 address fields: past the blocks' budget the trie decides, and answers as the table would") {
    Program p;
    // One /32 in each of more /16s than there are blocks, a /20 beside some of them.
    const uint32_t n = XDPT_ADDR_BLOCKS_MAX + 300;
    for (uint32_t i = 0; i < n; ++i) {
        FlatRule f;
        const uint32_t hi = 0x0a000000u + (i << 16) + ((i * 7) & 0xff) * 256 + (i & 0xff);
        f.cond.src.push_back(AddrTerm{{i % 5 ? Prefix{hi, 32} : Prefix{hi & 0xfffff000u, 20}}, false});
        f.slot = i;
        p.rules.push_back(std::move(f));
    }
    p.rules.push_back(FlatRule{});
    const Tables t = build_tables(p, {}, {}, 1, Family::ipv4);
    CHECK(t.addr_blocks.size() == size_t(XDPT_ADDR_BLOCKS_MAX) * XDPT_ADDR_BLOCK);
    std::mt19937 g(3);
    int trie = 0, blocks = 0;
    for (uint32_t i = 0; i < n; i += 1 + g() % 7) {
        const uint32_t hi = 0x0a000000u + (i << 16) + ((i * 7) & 0xff) * 256;
        for (uint32_t a : {hi + (i & 0xff), hi + ((i + 1) & 0xff), hi ^ 0x1000u, hi + 0x4000u}) {
            CAPTURE(a);
            int levels = 0;
            REQUIRE(table_id(t, XDPT_WIDE_SRC16, t.src, a, &levels) == lpm(t.src, a));
            (levels < 0 ? trie : blocks)++;
        }
    }
    CHECK(trie > 0);
    CHECK(blocks > 0);
}

TEST_CASE("compiled tables select exactly the rules a packet meets") {
    for (uint32_t seed = 1; seed <= 12; ++seed) {
        std::mt19937 g(seed);
        Program p;
        const size_t n = seed <= 8 ? 1 + g() % 200 : 4000 + g() % 6000;  // up to 3 chunks
        for (size_t r = 0; r < n; ++r) {
            FlatRule f;
            f.cond.src = random_terms(g);
            f.cond.dst = random_terms(g);
            if (g() % 2) {
                f.cond.proto.reset();
                f.cond.proto.set(g() % 2 ? 6 : 17);
                if (g() % 5 == 0) f.cond.proto.flip();
            }
            if (g() % 3 == 0) {
                uint32_t lo = g() % 2000, hi = lo + g() % 50;
                f.cond.dport = ValueSet::range(lo, hi, g() % 4 == 0, 0xffff);
            }
            if (g() % 6 == 0) {
                f.cond.ttl.reset();
                f.cond.ttl.set(64);
            }
            f.slot = uint32_t(r);
            p.rules.push_back(std::move(f));
        }
        const Tables t = build_tables(p, {}, {}, 1, Family::ipv4);
        CAPTURE(seed);
        CAPTURE(n);
        for (int i = 0; i < 300; ++i) {
            const uint32_t s = random_addr(g, p), d = random_addr(g, p);
            const uint32_t proto = g() % 3 == 0 ? 1 : g() % 2 ? 6 : 17;
            const uint32_t dport = g() % 2100, ttl = g() % 2 ? 64 : 63;
            std::vector<bool> want(n);
            for (size_t r = 0; r < n; ++r) {
                const XdpCond& c = p.rules[r].cond;
                want[r] = addr_ok(c.src, s) && addr_ok(c.dst, d) && c.proto[proto] && c.dport.contains(dport) &&
                          c.ttl[ttl];
            }
            std::vector<bool> got(n, true), home(n, false);
            std::vector<uint32_t> ids;
            auto and_with = [&](uint32_t id) {
                auto b = expand(t, id, n);
                for (size_t r = 0; r < n; ++r) {
                    got[r] = got[r] && b[r];
                    home[r] = home[r] || home_marks(t, id, r);
                }
                ids.push_back(id);
            };
            const uint32_t active = t.cfg.active_fields;
            if (active & (1u << XDPT_F_SRC)) and_with(lpm(t.src, s));
            if (active & (1u << XDPT_F_DST)) and_with(lpm(t.dst, d));
            // The table (the /16 level and its blocks) answers as the trie does, or
            // sends the lookup to the trie.
            REQUIRE(t.addr16);
            if (active & (1u << XDPT_F_SRC)) REQUIRE(table_id(t, XDPT_WIDE_SRC16, t.src, s) == lpm(t.src, s));
            if (active & (1u << XDPT_F_DST)) REQUIRE(table_id(t, XDPT_WIDE_DST16, t.dst, d) == lpm(t.dst, d));
            if (active & (1u << XDPT_F_PROTO)) and_with(t.value(XDPT_SMALL_PROTO + proto));
            // ICMP packets' types and codes in a domain of their own.
            if (active & (1u << XDPT_F_DPORT))
                and_with(t.value(XDPT_SMALL_SIZE + (proto == 1 ? XDPT_WIDE_ICMP : XDPT_WIDE_DPORT) + dport));
            if (active & (1u << XDPT_F_TTL)) and_with(t.value(XDPT_SMALL_TTL + ttl));
            CAPTURE(s);
            CAPTURE(d);
            REQUIRE(got == want);
            // The walk visits only the words the fields' homes mark: every rule met
            // must be in one of them.
            for (size_t r = 0; r < n; ++r)
                if (want[r]) REQUIRE(home[r]);
            // And no packet is sent to more words than miss_bound says.
            size_t marked = 0;
            for (size_t w = 0; w * 64 < n; ++w)
                marked += std::any_of(ids.begin(), ids.end(), [&](uint32_t id) { return home_marks(t, id, w * 64); });
            REQUIRE(marked <= miss_bound(t).words);
        }
        check_homes_within(t);
    }
}

// The issue-13 shape where every rule wildcards a field the packet has: a third `-s X/32`,
// a third `-s Y/24 -p tcp --dport P` (256 rules to a /24), a third `-p udp --dport P`,
// then the rule for the packet. Without homes every word of the AND is a candidate (each
// field's bitmap is dense); with them, the walk is sent to the few words whose rules
// meet their home field's condition, here the packet's own rule and the policy's.
TEST_CASE("a miss visits the words of the rules whose home field meets the packet, not every word") {
    Program p;
    const size_t n = 12000;
    auto prefix = [](uint32_t a, uint8_t len) { return std::vector<AddrTerm>{AddrTerm{{Prefix{a, len}}, false}}; };
    for (size_t i = 0; i < n; ++i) {
        FlatRule f;
        if (i % 3 == 0) {
            f.cond.src = prefix(0xC6130000u + uint32_t(i), 32);
        } else {
            f.cond.proto.reset();
            f.cond.proto.set(i % 3 == 1 ? 6 : 17);
            f.cond.dport = ValueSet::range(uint32_t(10 + i), uint32_t(10 + i), false, 0xffff);
            if (i % 3 == 1) f.cond.src = prefix(0xAC100000u + (uint32_t(i) & ~0xffu), 24);
        }
        f.action = XDPT_A_DROP;
        p.rules.push_back(std::move(f));
    }
    FlatRule flood;  // the packet's rule: 198.18.0.1, UDP to port 9
    flood.cond.src = prefix(0xC6120001u, 32);
    flood.cond.proto.reset();
    flood.cond.proto.set(17);
    flood.cond.dport = ValueSet::range(9, 9, false, 0xffff);
    p.rules.push_back(flood);
    p.rules.push_back(FlatRule{});  // the policy
    const Tables t = build_tables(p, {}, {}, 1, Family::ipv4);
    check_homes_within(t);
    const std::vector<uint32_t> ids = {lpm(t.src, 0xC6120001u), t.value(XDPT_SMALL_PROTO + 17),
                                       t.value(XDPT_SMALL_SIZE + XDPT_WIDE_DPORT + 9)};
    REQUIRE(t.cfg.active_fields == (1u << XDPT_F_SRC | 1u << XDPT_F_PROTO | 1u << XDPT_F_DPORT));
    // The words the walk may visit (AND of summaries within the OR of home summaries),
    // and those it visited before homes (the AND of summaries alone).
    size_t visited = 0, dense = 0;
    for (size_t c = 0; c * XDPT_CHUNK_BITS < p.rules.size(); ++c) {
        uint64_t sum = ~uint64_t(0), home = 0;
        uint32_t home_mask = 0;
        for (uint32_t id : ids) {
            const xdpt_bitmap& b = t.bitmaps.at(id);
            sum &= t.chunks.at(b.chunk[c]).summary;
            home |= t.chunks.at(b.chunk[c]).home;
            home_mask |= b.home_mask;
        }
        dense += size_t(__builtin_popcountll(sum));
        if (home_mask >> c & 1) visited += size_t(__builtin_popcountll(sum & home));
    }
    CHECK(dense >= n / 64);
    CHECK(visited == 1);  // the last word: the packet's rule and the policy
    // Whatever the packet: the policy's word (it tests no field); a source meets one /32
    // of the rules at home there; a protocol none; a port one rule.
    const MissBound mb = miss_bound(t);
    CHECK(mb.total_words == (n + 2 + 63) / 64);
    CHECK(mb.everywhere == 1);
    CHECK(mb.field[XDPT_F_SRC] == 1);
    CHECK(mb.field[XDPT_F_PROTO] == 0);
    CHECK(mb.field[XDPT_F_DPORT] == 1);
    CHECK(mb.words == 3);
}

// Every packet for this host carries one of its addresses: a destination prefix that holds
// one selects nothing among them, however few rules share it. A rule with such a
// destination and a source that more rules overlap still goes home to its source.
TEST_CASE("homes: a destination holding a local address is no home") {
    Program p;
    auto prefix = [](uint32_t a, uint8_t len) { return std::vector<AddrTerm>{AddrTerm{{Prefix{a, len}}, false}}; };
    for (uint32_t i = 0; i < 100; ++i) {  // -s 10.0.0.0/8 -d 198.18.0.2: word 0 and 1
        FlatRule f;
        f.cond.src = prefix(0x0a000000u, 8);
        f.cond.dst = prefix(0xC6120002u, 32);
        f.action = XDPT_A_DROP;
        p.rules.push_back(std::move(f));
    }
    for (uint32_t i = 0; i < 300; ++i) {  // /32s within 10.0.0.0/8
        FlatRule f;
        f.cond.src = prefix(0x0a000000u + i * 4096 + 1, 32);
        f.action = XDPT_A_DROP;
        p.rules.push_back(std::move(f));
    }
    p.rules.push_back(FlatRule{});
    const std::vector<Prefix> local = {Prefix{0xC6120002u, 32}};
    const Tables t = build_tables(p, {}, local, 1, Family::ipv4);
    check_homes_within(t);
    // A packet to this host from outside 10/8 reads none of the first rules' words.
    const uint32_t to_host = lpm(t.dst, 0xC6120002u), from_far = lpm(t.src, 0xCB007107u);
    CHECK(!home_marks(t, to_host, 0));
    CHECK(!home_marks(t, from_far, 0));
    CHECK(home_marks(t, lpm(t.src, 0x0a000002u), 0));
    // Without the local address, the destination looked the better home (100 rules share
    // it, 400 overlap the source).
    const Tables blind = build_tables(p, {}, {}, 1, Family::ipv4);
    CHECK(home_marks(blind, lpm(blind.dst, 0xC6120002u), 0));
}

// A UDP packet to port 9 and an ICMP echo reply with code 9 carry the same destination
// port value (type << 8 | code): in one domain, every `--icmp-type 0` rule at home in the
// port would be read by a miss of the UDP flood. Each has its own domain.
TEST_CASE("the destination port of ICMP packets is a domain of its own") {
    Program p;
    auto rule = [&](uint8_t proto, uint32_t lo, uint32_t hi) {
        FlatRule f;
        f.cond.proto.reset();
        f.cond.proto.set(proto);
        f.cond.dport = ValueSet::range(lo, hi, false, 0xffff);
        f.cond.nonfirst_frag_ok = false;
        f.action = XDPT_A_DROP;
        p.rules.push_back(std::move(f));
    };
    for (uint32_t i = 0; i < 64; ++i) rule(1, i << 8, i << 8 | 0xff);  // icmp types 0-63: word 0
    rule(17, 9, 9);                                        // udp port 9: word 1
    FlatRule frag;                                         // -f -j DROP
    frag.cond.first_ok = false;
    frag.action = XDPT_A_DROP;
    p.rules.push_back(frag);
    p.rules.push_back(FlatRule{});
    const size_t n = p.rules.size();
    const Tables t = build_tables(p, {}, {}, 1, Family::ipv4);
    check_homes_within(t);
    const uint32_t port9 = t.value(XDPT_SMALL_SIZE + XDPT_WIDE_DPORT + 9);
    const uint32_t type0 = t.value(XDPT_SMALL_SIZE + XDPT_WIDE_ICMP + 9);
    const auto udp = expand(t, port9, n), icmp = expand(t, type0, n);
    for (size_t r = 0; r < 64; ++r) CHECK((!udp[r] && icmp[r] == (r == 0)));
    CHECK((udp[64] && !icmp[64]));
    // A non-first fragment (port 0, whatever its protocol) meets the fragment rule.
    CHECK(expand(t, t.value(XDPT_SMALL_SIZE + XDPT_WIDE_DPORT + 0), n)[65]);
    CHECK(!home_marks(t, port9, 0));
    CHECK(home_marks(t, type0, 0));  // the type 0 rule is at home in the port (ICMP domain)
}

// A prefix is measured against the ruleset's own prefixes, not the whole address space:
// a /12 holds few addresses of IPv4, but all of the 128 /32 rules within it. A rule with
// that source and a port range that few ranges overlap is at home in the port: a packet
// from the /12 does not read its word, one to a port in its range does.
TEST_CASE("homes: a rule goes to the field where the fewest rules' conditions overlap its own") {
    Program p;
    for (uint32_t k = 0; k < 16; ++k) {  // 10.k.0.0/12, ports [k * 600, k * 600 + 2999]: word 0
        FlatRule f;
        f.cond.src.push_back(AddrTerm{{Prefix{0x0a000000u + (k << 20), 12}}, false});
        f.cond.proto.reset();
        f.cond.proto.set(6);
        f.cond.dport = ValueSet::range(k * 600, k * 600 + 2999, false, 0xffff);
        f.action = XDPT_A_DROP;
        p.rules.push_back(std::move(f));
    }
    for (uint32_t i = 0; i < 2048; ++i) {  // 128 /32s in each /12, none the address below
        FlatRule f;
        f.cond.src.push_back(AddrTerm{{Prefix{0x0a000000u + (i % 16 << 20) + i / 16 * 64 + 1, 32}}, false});
        f.action = XDPT_A_DROP;
        p.rules.push_back(std::move(f));
    }
    p.rules.push_back(FlatRule{});  // the policy, at home everywhere: word 32
    const Tables t = build_tables(p, {}, {}, 1, Family::ipv4);
    check_homes_within(t);
    for (uint32_t k = 0; k < 16; ++k) {
        CAPTURE(k);
        CHECK(!home_marks(t, lpm(t.src, 0x0a000000u + (k << 20) + 0x5a5a), k));
        CHECK(home_marks(t, t.value(XDPT_SMALL_SIZE + XDPT_WIDE_DPORT + k * 600 + 1500), k));
    }
}
