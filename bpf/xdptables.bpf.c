/* xdptables' XDP program. It is attached to every interface of a network namespace
 * (lo included) and is also the anchor of the namespace's xdptables state: the maps it
 * references live as long as it is attached, and die with the namespace.
 *
 * Per packet: parse, look up one bitmap per header field, walk the set bits of their AND
 * from the entry chain's first flat rule (raw PREROUTING, then filter INPUT or FORWARD as
 * the kernel's routing would choose), collect the counters of the rules met, and decide.
 * Whatever it cannot decide exactly goes to the kernel untouched and uncounted. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdpt_ip.h"
#include "xdpt_shared.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* Conntrack lookups (net/netfilter/nf_conntrack_bpf.c). libbpf matches a kfunc's
 * prototype by kinds: struct nf_conn has to be a struct here, its members unused. */
struct nf_conn {
	__u64 unused;
};
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};
struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *xdp_ctx, struct bpf_sock_tuple *bpf_tuple, __u32 tuple__sz,
				  struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
void bpf_ct_release(struct nf_conn *ct) __ksym;
#define XDPT_CT_CURRENT_NETNS (-1)
/* The longest layer 4 whose checksum XDP checks (a NEW packet longer goes up). */
#define XDPT_CSUM_MAX 1500

/* ---- maps ------------------------------------------------------------------------- */

/* The inner map template of the store: pages of ruleset text. */
struct xdpt_store_pages {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, XDPT_STORE_PAGE);
};

/* One store per address family (the key: 0 IPv4, 1 IPv6): the two rulesets never see
 * each other. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct xdpt_store_pages);
} xdpt_store SEC(".maps");

/* Never set: keeps the store referenced by the program (so that it lives as long as the
 * program does) without touching it per packet. */
const volatile __u32 xdpt_touch_store = 0;

/* Which generation of its classifier maps each family's packets use (the key: 0 IPv4,
 * 1 IPv6): the one flip of an update. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPT_FAMILIES);
	__type(key, __u32);
	__type(value, __u32);
} xdpt_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpt_readers);
} xdpt_readers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPT_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} xdpt_stats SEC(".maps");

/* The counter slots a walk met, recorded on its first pass: when the verdict is one XDP
 * counts (a drop), they are counted from here instead of walking again. */
struct xdpt_hits {
	__u32 n;
	__u32 slot[XDPT_MAX_HITS];
};

/* One outer array (a slot per generation) per kind of classifier map. */
#define XDPT_GEN_ARRAY(name, inner)                       \
	struct {                                          \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); \
		__uint(max_entries, XDPT_GENERATIONS);    \
		__type(key, __u32);                       \
		__array(values, inner);                   \
	} name SEC(".maps")

/* Inner arrays without BPF_F_INNER_MAP: every generation's map has the template's size,
 * so the verifier inlines their lookups (no helper call). */
#define XDPT_FIXED_ARRAY(tname, vtype, n)                               \
	struct tname {                                                  \
		__uint(type, BPF_MAP_TYPE_ARRAY);                       \
		__uint(map_flags, BPF_F_MMAPABLE);                      \
		__uint(max_entries, n);                                 \
		__type(key, __u32);                                     \
		__uint(value_size, sizeof(vtype));                      \
	}

XDPT_FIXED_ARRAY(xdpt_cfg_t, struct xdpt_config, 1);
XDPT_FIXED_ARRAY(xdpt_ifarr_t, struct xdpt_iface, XDPT_IFARRAY);
/* Sized at load (struct xdpt_capacity): 1 is a placeholder. The value map holds
 * XDPT_SMALL_SIZE + XDPT_WIDE_SIZE entries, then the address blocks. */
XDPT_FIXED_ARRAY(xdpt_values_t, __u32, 1);
XDPT_FIXED_ARRAY(xdpt_bitmaps_t, struct xdpt_bitmap, 1);
XDPT_FIXED_ARRAY(xdpt_chunks_t, struct xdpt_chunk, 1);
XDPT_FIXED_ARRAY(xdpt_rules_t, struct xdpt_rule, 1);
XDPT_FIXED_ARRAY(xdpt_counters_t, struct xdpt_counter, 1);

/* The sizes the inner arrays above were given at load, per family, for the loader to
 * read back. */
const volatile struct xdpt_capacity xdpt_cap[XDPT_FAMILIES] = {};

struct xdpt_lpm_t {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(struct xdpt_lpm_key));
	__uint(value_size, sizeof(__u32));
};

struct xdpt_lpm6_t {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(struct xdpt_lpm6_key));
	__uint(value_size, sizeof(__u32));
};

struct xdpt_ifaces_t {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xdpt_iface));
};

struct xdpt_macs_t {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u64));
	__uint(value_size, sizeof(__u32));
};

XDPT_GEN_ARRAY(xdpt_cfg, struct xdpt_cfg_t);
XDPT_GEN_ARRAY(xdpt_values, struct xdpt_values_t);
XDPT_GEN_ARRAY(xdpt_bitmaps, struct xdpt_bitmaps_t);
XDPT_GEN_ARRAY(xdpt_chunks, struct xdpt_chunks_t);
XDPT_GEN_ARRAY(xdpt_rules, struct xdpt_rules_t);
XDPT_GEN_ARRAY(xdpt_counters, struct xdpt_counters_t);
XDPT_GEN_ARRAY(xdpt_src, struct xdpt_lpm_t);
XDPT_GEN_ARRAY(xdpt_dst, struct xdpt_lpm_t);
XDPT_GEN_ARRAY(xdpt_local, struct xdpt_lpm_t);
XDPT_GEN_ARRAY(xdpt_ifaces, struct xdpt_ifaces_t);
XDPT_GEN_ARRAY(xdpt_ifarr, struct xdpt_ifarr_t);
XDPT_GEN_ARRAY(xdpt_macs, struct xdpt_macs_t);
/* The IPv6 family's (bpf/xdpt_shared.h, XDPT_FAMILIES). */
XDPT_GEN_ARRAY(xdpt_cfg6, struct xdpt_cfg_t);
XDPT_GEN_ARRAY(xdpt_values6, struct xdpt_values_t);
XDPT_GEN_ARRAY(xdpt_bitmaps6, struct xdpt_bitmaps_t);
XDPT_GEN_ARRAY(xdpt_chunks6, struct xdpt_chunks_t);
XDPT_GEN_ARRAY(xdpt_rules6, struct xdpt_rules_t);
XDPT_GEN_ARRAY(xdpt_counters6, struct xdpt_counters_t);
XDPT_GEN_ARRAY(xdpt_src6, struct xdpt_lpm6_t);
XDPT_GEN_ARRAY(xdpt_dst6, struct xdpt_lpm6_t);
XDPT_GEN_ARRAY(xdpt_local6, struct xdpt_lpm6_t);
XDPT_GEN_ARRAY(xdpt_ifaces6, struct xdpt_ifaces_t);
XDPT_GEN_ARRAY(xdpt_ifarr6, struct xdpt_ifarr_t);
XDPT_GEN_ARRAY(xdpt_macs6, struct xdpt_macs_t);

/* The outer map of kind `m` of family `fam` (0 IPv4, 1 IPv6). `fam` is a constant
 * wherever this is used: each function that reads a family's maps is instantiated once
 * per family (the verifier needs to know which map a lookup is of). */
#define FMAP(fam, m) ((fam) ? (void *)&m##6 : (void *)&m)

/* The class cache (bpf/xdpt_shared.h): one per program, shared by its generations and
 * families; 2^xdpt_cache_bits entries per CPU (the loader sizes both). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpt_cache_entry);
} xdpt_cache SEC(".maps");
const volatile __u32 xdpt_cache_bits = XDPT_CACHE_MIN_BITS;
/* A random salt of the cache's hash, per program: which classes share a slot cannot be
 * known from outside. */
const volatile __u32 xdpt_cache_salt = 0;

/* ---- helpers ---------------------------------------------------------------------- */

/* The key of the one-element arrays, kept out of xdpt_main's stack: its frame counts
 * towards the 512 bytes of the whole call chain, which the walk below uses up. */
const volatile __u32 xdpt_key0 = 0;

static __always_inline void stat(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&xdpt_stats, &which);
	if (v)
		*v += 1;
}

static __always_inline void *gen_map(void *outer, __u32 gen)
{
	return bpf_map_lookup_elem(outer, &gen);
}

/* The compiled record of interface `ifindex` in generation `gen` of family `fam`, or none. */
static __always_inline struct xdpt_iface *iface(const int fam, __u32 gen, __u32 ifindex)
{
	void *m;
	struct xdpt_iface *i;
	if (ifindex < XDPT_IFARRAY) {
		m = gen_map(FMAP(fam, xdpt_ifarr), gen);
		i = m ? bpf_map_lookup_elem(m, &ifindex) : 0;
		return i && (i->flags & XDPT_IF_KNOWN) ? i : 0;
	}
	m = gen_map(FMAP(fam, xdpt_ifaces), gen);
	return m ? bpf_map_lookup_elem(m, &ifindex) : 0;
}

/* Count trailing zeros of a non-zero word, without branches: BPF has no such
 * instruction, and a branchy version would give the verifier 64 states to explore. */
static __always_inline __u32 ctz64(__u64 x)
{
	__u64 v = (x & -x) - 1;
	v = v - ((v >> 1) & 0x5555555555555555ULL);
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (__u32)((v * 0x0101010101010101ULL) >> 56);
}

/* ---- the walk --------------------------------------------------------------------- */

enum walk_result { W_RUNNING = 0, W_ACCEPT, W_DROP, W_KERNEL };

struct walk {
	__u32 gen;
	__u32 nids;
	__u32 ids[16]; /* bitmap ids of the fields looked up (XDPT_NFIELDS used) */
	__u32 chunk_mask;        /* the chunks a walk visits (walk_chain) */
	__u32 pad;               /* the fields below keep their 8-byte stack slots (the
				  * verifier's state pruning depends on it) */
	__u32 pos;               /* next flat index that may match */
	__u32 result;
	__u32 count;             /* count the rules met (the second pass, or the only one) */
	__u32 record;            /* not counting: record the slots met in xdpt_scratch */
	__u32 base;              /* this CPU's first counter */
	__u32 bytes;             /* what a packet counts: the IP total length */
	__u32 epoch;             /* the generation's epoch (the cache key's) */
	__u32 cache;             /* the class cache is on */
};

/* What a family's header walk found, for the judgement both families share. */
struct pkt {
	__u32 proto;          /* the PROTO field's value: protocol | non-first fragment << 8 */
	__u32 sport, dport, flags;
	__u32 ttl;            /* TTL / hop limit as received */
	__u32 tot;            /* what the packet counts: IPv4 total length, IPv6 40 + payload */
	__u32 l4len;
	__u32 entry, oif;
	int filter_stage, count_filter;
};

/* Per CPU: the recorded slots, and the two walks of a packet (raw PREROUTING, then
 * filter INPUT or FORWARD), kept here rather than on the program's stack (512 bytes for
 * the whole call chain). */
struct xdpt_scratch {
	struct xdpt_hits hits;
	struct walk w, wf;
	struct xdpt_cache_key key;
	__u32 cache_idx;           /* the class cache's slot of `key` */
	struct xdpt_lpm6_key key6; /* an IPv6 trie lookup's key */
	struct pkt pkt;            /* the packet being judged */
	__u8 l4[2048 + 4]; /* a copy of layer 4 (up to XDPT_CSUM_MAX bytes), for its checksum */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpt_scratch);
} xdpt_scratch SEC(".maps");

static __always_inline struct xdpt_hits *scratch_hits(void)
{
	__u32 zero = 0;
	struct xdpt_scratch *sc = bpf_map_lookup_elem(&xdpt_scratch, &zero);
	return sc ? &sc->hits : 0;
}

/* One packet of `bytes` on counter `idx` (this CPU's base plus a slot). */
static __always_inline void add_count(void *counters, __u32 idx, __u32 bytes)
{
	struct xdpt_counter *c = bpf_map_lookup_elem(counters, &idx);
	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	}
}

static __always_inline void count_rule(struct walk *w, __u32 slot, const int fam)
{
	if (!w->count) {
		if (w->record) {
			struct xdpt_hits *h = scratch_hits();
			if (h) {
				__u32 n = h->n;
				if (n < XDPT_MAX_HITS)
					h->slot[n & (XDPT_MAX_HITS - 1)] = slot;
				h->n = n + 1;
			}
		}
		return;
	}
	void *counters = gen_map(FMAP(fam, xdpt_counters), w->gen);
	if (counters)
		add_count(counters, w->base + slot, w->bytes);
}

/* One step: either skip to the next word or chunk that can match, or take one rule. */
static __always_inline long walk_step(__u32 i, struct walk *w, const int fam)
{
	(void)i;
	__u32 pos = w->pos;
	__u32 c = pos >> 12;
	if (c >= XDPT_CHUNKS)
		goto kernel;
	__u32 cm = w->chunk_mask >> c;
	if (!cm)
		goto kernel; /* cannot happen: every chain ends with its policy */
	if (!(cm & 1)) {
		w->pos = (c + ctz64(cm)) << 12;
		return 0;
	}
	void *bitmaps = gen_map(FMAP(fam, xdpt_bitmaps), w->gen);
	void *chunks = gen_map(FMAP(fam, xdpt_chunks), w->gen);
	if (!bitmaps || !chunks)
		goto kernel;

	/* Chunk ids only (scalars) cross the loops: pointers kept on the stack would
	 * multiply the verifier's states. */
	__u32 cid[XDPT_NFIELDS] = {};
	__u32 nids = w->nids;
	__u64 sum = ~0ULL, home = nids ? 0 : ~0ULL;
#pragma unroll
	for (int k = 0; k < XDPT_NFIELDS; k++) {
		if (k < nids) {
			__u32 id = w->ids[k];
			struct xdpt_bitmap *bm = bpf_map_lookup_elem(bitmaps, &id);
			if (!bm)
				goto kernel;
			cid[k] = bm->chunk[c & (XDPT_CHUNKS - 1)];
			struct xdpt_chunk *ch = bpf_map_lookup_elem(chunks, &cid[k]);
			if (!ch)
				goto kernel;
			sum &= ch->summary;
			home |= ch->home;
		}
	}
	/* Only words where a rule may match in its home field (see xdpt_shared.h). */
	sum &= home;
	__u32 wi = (pos >> 6) & 63;
	sum &= ~0ULL << wi;
	if (!sum) {
		w->pos = (c + 1) << 12;
		return 0;
	}
	__u32 wsel = ctz64(sum) & 63;
	__u64 v = ~0ULL;
#pragma unroll
	for (int k = 0; k < XDPT_NFIELDS; k++) {
		if (k < nids) {
			struct xdpt_chunk *ch = bpf_map_lookup_elem(chunks, &cid[k]);
			if (!ch)
				goto kernel;
			v &= ch->words[wsel];
		}
	}
	if (wsel == wi)
		v &= ~0ULL << (pos & 63);
	if (!v) {
		w->pos = ((c << 6) + wsel + 1) << 6;
		return 0;
	}
	__u32 idx = (c << 12) | (wsel << 6) | ctz64(v);

	void *rules = gen_map(FMAP(fam, xdpt_rules), w->gen);
	if (!rules)
		goto kernel;
	struct xdpt_rule *r = bpf_map_lookup_elem(rules, &idx);
	if (!r)
		goto kernel;
	/* One place that counts (the verifier checks this callback for every state a walk
	 * can be in: each copy of count_rule would be checked as often). */
	const __u32 act = r->action;
	if (act != XDPT_A_ACCEPT && act != XDPT_A_DROP && act != XDPT_A_CONTINUE && act != XDPT_A_SKIP)
		goto kernel;
	if ((act == XDPT_A_CONTINUE || act == XDPT_A_SKIP) && r->next <= idx) /* the compiler only ever jumps forward */
		goto kernel;
	if (act != XDPT_A_SKIP)
		count_rule(w, r->slot, fam);
	if (act == XDPT_A_ACCEPT || act == XDPT_A_DROP) {
		w->result = act == XDPT_A_ACCEPT ? W_ACCEPT : W_DROP;
		return 1;
	}
	w->pos = r->next;
	return 0;
kernel:
	w->result = W_KERNEL;
	return 1;
}
static long walk_step4(__u32 i, struct walk *w) { return walk_step(i, w, 0); }
static long walk_step6(__u32 i, struct walk *w) { return walk_step(i, w, 1); }

/* The chunks a walk visits: where the fields' bitmaps all have a rule, and where a rule
 * may match in its home. Read by a walk (a miss), not for every packet: a hit needs the
 * ids alone. 0 (the walk goes to the kernel) for a field's id without a bitmap (a lookup
 * that found nothing). */
static __always_inline __u32 walk_chunks(struct walk *wp, const int fam)
{
	if (!wp)
		return 0;
	__u32 nids = wp->nids;
	if (!nids)
		return ~0u;
	void *bitmaps = gen_map(FMAP(fam, xdpt_bitmaps), wp->gen);
	if (!bitmaps)
		return 0;
	__u32 chunks = ~0u, home = 0;
#pragma unroll
	for (int k = 0; k < XDPT_NFIELDS; k++) {
		if (k < nids) {
			__u32 id = wp->ids[k];
			struct xdpt_bitmap *bm = bpf_map_lookup_elem(bitmaps, &id);
			if (!bm)
				return 0;
			chunks &= bm->chunk_mask;
			home |= bm->home_mask;
		}
	}
	return chunks & home;
}
/* Global functions (see walk_chain4): the caller's state after the call is one. */
__noinline __u32 walk_chunks4(struct walk *wp) { return walk_chunks(wp, 0); }
__noinline __u32 walk_chunks6(struct walk *wp) { return walk_chunks(wp, 1); }

/* Walks one entry chain from `start`. Returns the walk result. */
static __always_inline int walk_chain(struct walk *wp, __u32 start, __u32 count, const int fam)
{
	if (!wp)
		return W_KERNEL;
	const __u32 chunks = fam ? walk_chunks6(wp) : walk_chunks4(wp);
	/* bpf_loop takes its context on this function's stack. */
	struct walk w = *wp;
	w.count = count;
	w.pos = start;
	w.chunk_mask = chunks;
	w.result = W_RUNNING;
	bpf_loop(XDPT_MAX_STEPS, fam ? (void *)walk_step6 : (void *)walk_step4, &w, 0);
	*wp = w;
	if (w.result == W_RUNNING)
		return W_KERNEL; /* out of steps */
	return w.result;
}
/* Global functions, one per family: the verifier checks each (and its walk_step) once,
 * on its own, instead of once per call site with every state of the caller. */
__noinline int walk_chain4(struct walk *wp, __u32 start, __u32 count) { return walk_chain(wp, start, count, 0); }
__noinline int walk_chain6(struct walk *wp, __u32 start, __u32 count) { return walk_chain(wp, start, count, 1); }
#define WALK_CHAIN(fam, wp, start, count) ((fam) ? walk_chain6(wp, start, count) : walk_chain4(wp, start, count))

/* What cache_find answers besides a walk's result: the walk must be done, and kept in
 * the cache (a miss) or not (the hit's slots do not fit in the scratch). */
#define W_MISS (-1)
#define W_UNCACHED (-2)

/* The slot of the class cache a key maps to: this CPU's stretch, and in it a
 * multiplicative hash of the key (its top bits). */
static __always_inline __u32 cache_index(const struct xdpt_cache_key *k)
{
	const __u64 m = 0x9e3779b97f4a7c15ULL;
	__u64 h = ((__u64)(k->epoch ^ xdpt_cache_salt) << 32 | k->start) * m;
#pragma unroll
	for (int i = 0; i + 1 < XDPT_NFIELDS; i += 2)
		h = (h ^ ((__u64)k->ids[i] << 32 | k->ids[i + 1])) * m;
	h = (h ^ k->ids[XDPT_NFIELDS - 1]) * m;
	const __u32 bits = xdpt_cache_bits;
	return bpf_get_smp_processor_id() << bits | (__u32)(h >> (64 - bits));
}

/* The class cache's answer for a walk from `start` with the walk's field ids, in this
 * epoch: the walk's result, with the slots it met recorded in the scratch as the walk
 * would record them; or W_MISS / W_UNCACHED. Leaves the key and its slot in the scratch
 * for cache_keep. */
static __always_inline int cache_find(struct walk *wp, __u32 start, const int fam)
{
	struct xdpt_scratch *sc = bpf_map_lookup_elem(&xdpt_scratch, (const void *)&xdpt_key0);
	if (!wp || !sc)
		return W_KERNEL;
	if (!wp->cache)
		return W_UNCACHED;
	struct xdpt_hits *h = &sc->hits;
	struct xdpt_cache_key *key = &sc->key;
	__u32 nids = wp->nids;
	key->epoch = wp->epoch;
	key->start = start | (__u32)fam << 23 | nids << 24;
	/* The ids past nids are zero: a walk starts zeroed, and add_field only appends. */
	__builtin_memcpy(key->ids, wp->ids, sizeof(key->ids));
	__u32 n0 = h->n;
	sc->cache_idx = cache_index(key);
	struct xdpt_cache_entry *e = bpf_map_lookup_elem(&xdpt_cache, &sc->cache_idx);
	if (!e)
		return W_UNCACHED;
	__u32 diff = (e->key.epoch ^ key->epoch) | (e->key.start ^ key->start);
#pragma unroll
	for (int i = 0; i < XDPT_NFIELDS; i++)
		diff |= e->key.ids[i] ^ key->ids[i];
	struct xdpt_cache_val *v = &e->val;
	if (diff || !v->result) {
		stat(XDPT_S_CACHE_MISS);
		return W_MISS;
	}
	stat(XDPT_S_CACHE_HIT);
	__u32 n = v->n;
	if (n > XDPT_CACHE_SLOTS || n0 + n > XDPT_MAX_HITS)
		return W_UNCACHED;
#pragma unroll
	for (int k = 0; k < XDPT_CACHE_SLOTS; k++)
		if (k < n)
			h->slot[(n0 + k) & (XDPT_MAX_HITS - 1)] = v->slot[k];
	h->n = n0 + n;
	return v->result;
}

/* Keeps the result `r` of the walk cache_find missed, with the slots it recorded from
 * `n0` on, under the key cache_find left in the scratch, in the slot it found. */
__noinline int cache_keep(__u32 n0, int r)
{
	struct xdpt_scratch *sc = bpf_map_lookup_elem(&xdpt_scratch, (const void *)&xdpt_key0);
	if (!sc)
		return 0;
	struct xdpt_hits *h = &sc->hits;
	__u32 met = h->n - n0;
	if (met > XDPT_CACHE_SLOTS || h->n > XDPT_MAX_HITS || r < W_ACCEPT || r > W_KERNEL)
		return 0;
	struct xdpt_cache_entry *e = bpf_map_lookup_elem(&xdpt_cache, &sc->cache_idx);
	if (!e)
		return 0;
	e->key = sc->key;
	e->val.result = r;
	e->val.n = met;
	/* All of them: a hit takes the first `met` alone. */
#pragma unroll
	for (int k = 0; k < XDPT_CACHE_SLOTS; k++)
		e->val.slot[k] = h->slot[(n0 + k) & (XDPT_MAX_HITS - 1)];
	return 0;
}

/* Global functions (see walk_chain4): the verifier checks the cache's loops once, not at
 * every walk of every caller's states. */
__noinline int cache_find4(struct walk *wp, __u32 start) { return cache_find(wp, start, 0); }
__noinline int cache_find6(struct walk *wp, __u32 start) { return cache_find(wp, start, 1); }

/* Walks one entry chain from `start`, recording the slots it meets (`hits`, the
 * scratch's), through the class cache: a walk with the same start and field ids in this
 * epoch is not walked again. */
static __always_inline int cached_walk(struct xdpt_hits *hits, struct walk *wp, __u32 start, const int fam)
{
	__u32 n0 = hits->n;
	int r = fam ? cache_find6(wp, start) : cache_find4(wp, start);
	if (r != W_MISS && r != W_UNCACHED)
		return r;
	int walked = WALK_CHAIN(fam, wp, start, 0);
	if (r == W_MISS)
		cache_keep(n0, walked);
	return walked;
}

/* One recorded slot counted (a bpf_loop callback: a bounded loop would have the
 * verifier walk every iteration at every call site). */
static __always_inline long count_hit(__u32 i, struct walk *w, const int fam)
{
	struct xdpt_hits *h = scratch_hits();
	__u32 k = w->pos + i;
	if (!h || k >= XDPT_MAX_HITS)
		return 1;
	count_rule(w, h->slot[k & (XDPT_MAX_HITS - 1)], fam);
	return 0;
}
static long count_hit4(__u32 i, struct walk *w) { return count_hit(i, w, 0); }
static long count_hit6(__u32 i, struct walk *w) { return count_hit(i, w, 1); }

/* The slots counted without a loop: most packets meet only a few counted rules. */
#define XDPT_DIRECT_HITS 4

/* Counts the recorded slots [from, to) of the scratch, as the walk `wp` met them. */
static __always_inline int count_met(struct walk *wp, __u32 from, __u32 to, const int fam)
{
	if (!wp || to > XDPT_MAX_HITS || from > to)
		return 0;
	struct xdpt_hits *h = scratch_hits();
	void *counters = gen_map(FMAP(fam, xdpt_counters), wp->gen);
	if (!h || !counters)
		return 0;
#pragma unroll
	for (int k = 0; k < XDPT_DIRECT_HITS; k++) {
		if (from + k >= to)
			return 0;
		add_count(counters, wp->base + h->slot[(from + k) & (XDPT_MAX_HITS - 1)], wp->bytes);
	}
	struct walk w = *wp;
	w.count = 1;
	w.pos = from + XDPT_DIRECT_HITS; /* the walk is over: its position is the first slot to count */
	bpf_loop(to - w.pos, fam ? (void *)count_hit6 : (void *)count_hit4, &w, 0);
	return 0;
}
__noinline int count_met4(struct walk *wp, __u32 from, __u32 to) { return count_met(wp, from, to, 0); }
__noinline int count_met6(struct walk *wp, __u32 from, __u32 to) { return count_met(wp, from, to, 1); }

/* Counts what a first pass of `start` met: the slots it recorded, [from, to) of the
 * scratch, or, when the passes met more than it holds, by walking again. */
static __always_inline void count_walk(struct walk *w, __u32 start, __u32 from, __u32 to, const int fam)
{
	if (to > XDPT_MAX_HITS || from > to)
		WALK_CHAIN(fam, w, start, 1);
	else if (fam)
		count_met6(w, from, to);
	else
		count_met4(w, from, to);
}

/* ---- the program ------------------------------------------------------------------ */

static __always_inline __u32 lpm_id(void *outer, __u32 gen, __u32 addr)
{
	void *m = gen_map(outer, gen);
	if (!m)
		return ~0u;
	struct xdpt_lpm_key k = { .prefixlen = 32, .addr = addr };
	__u32 *id = bpf_map_lookup_elem(m, &k);
	return id ? *id : ~0u;
}

/* The bitmap id at `off` of the value array; ~0 (no bitmap) when there is none. */
static __always_inline __u32 value_id(void *vals, __u32 off)
{
	__u32 *v = bpf_map_lookup_elem(vals, &off);
	return v ? *v : ~0u;
}

/* The trie's answer for an IPv4 source (dst 0) or destination address (a subprogram:
 * its frame stays off judge4's). */
static __noinline __u32 lpm4_id(__u32 gen, __u32 addr, __u32 dst)
{
	return dst ? lpm_id(&xdpt_dst, gen, addr) : lpm_id(&xdpt_src, gen, addr);
}

/* The bitmap id of an IPv4 address (network order) in the field whose first level starts
 * at `off` of the value array: its /16's entry, then its /24's and its own where links
 * lead, or the trie's answer when an entry sends the lookup there (xdpt_shared.h,
 * XDPT_WIDE_SRC16). */
static __always_inline __u32 addr4_id(void *vals, __u32 gen, __u32 off, __u32 addr, __u32 dst)
{
	const __u32 a = bpf_ntohl(addr);
	__u32 id = value_id(vals, off + (a >> 16));
	if (XDPT_VALUE_LINK(id)) {
		id = value_id(vals, (id & ~XDPT_VALUE_NEXT) + ((a >> 8) & 0xff));
		if (XDPT_VALUE_LINK(id))
			id = value_id(vals, (id & ~XDPT_VALUE_NEXT) + (a & 0xff));
	}
	return id != XDPT_VALUE_TRIE ? id : lpm4_id(gen, addr, dst);
}

/* Adds one field's bitmap id to the walk (its bitmap is read by a walk, on a miss).
 * Fails for ~0, a lookup that found nothing. */
static __always_inline int add_field(struct walk *w, __u32 id)
{
	if (id == ~0u || w->nids >= XDPT_NFIELDS)
		return -1;
	w->ids[w->nids & 15] = id;
	w->nids++;
	return 0;
}

static __always_inline int is_lo_addr(__u32 a) /* 127.0.0.0/8, a in network order */
{
	return (bpf_ntohl(a) >> 24) == 127;
}

/* Whether the layer-4 checksum of the packet is right. Layer 4 starts `l4off` bytes
 * after the Ethernet header; `pseudo` is the one's complement sum of the addresses of
 * the pseudo-header as words in memory order (what bpf_csum_diff adds); the protocol and
 * length words of IPv4's and IPv6's pseudo-headers sum alike. A UDP datagram without a
 * checksum is right over IPv4, as for the kernel, and not known over IPv6. Layer 4 is
 * copied to the scratch and summed in 512-byte pieces (bpf_csum_diff's limit),
 * zero-padded to a multiple of four. */
static __noinline int l4_csum_ok(struct xdp_md *ctx, __u64 pseudo, __u32 l4off, __u32 proto, __u32 l4len)
{
	__u32 zero = 0;
	struct xdpt_scratch *sc = bpf_map_lookup_elem(&xdpt_scratch, &zero);
	if (!ctx || !sc || l4len == 0 || l4len > XDPT_CSUM_MAX || (l4off != 20 && l4off != 40))
		return 0;
	/* A bound the verifier keeps (within the buffer) whatever the compiler does with the
	 * test above. */
	__u64 n = l4len;
	asm volatile("%0 &= 2047" : "+r"(n));
	__u64 at = l4off;
	asm volatile("%0 &= 63" : "+r"(at));
	if (n == 0 || bpf_xdp_load_bytes(ctx, sizeof(struct ethhdr) + at, sc->l4, n))
		return 0;
	if (proto == IPPROTO_UDP && sc->l4[6] == 0 && sc->l4[7] == 0)
		return l4off == 20;
#pragma unroll
	for (int i = 0; i < 3; i++)
		sc->l4[n + i] = 0;
	__u32 words = (n + 3) & ~3u;
	__u64 sum = pseudo + bpf_htonl(proto << 16 | l4len);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
#pragma unroll
	for (int c = 0; c < 3; c++) {
		__u32 off = c * 512;
		if (off >= words)
			break;
		__u64 sz = words - off;
		if (sz > 512)
			sz = 512;
		asm volatile("%0 &= 0x3fc" : "+r"(sz)); /* no change (a multiple of 4, <= 512): a bound */
		__s64 r = bpf_csum_diff(0, 0, (void *)(sc->l4 + off), sz, (__u32)sum);
		if (r < 0)
			return 0;
		sum = (__u32)r;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Whether the upper layer at `l4` is one conntrack would take as opening a connection:
 * a UDP datagram or a TCP SYN (no other flag but ECE, CWR, PSH) with a header it finds
 * valid (udp_error, tcp_error). */
static __always_inline int l4_opens(__u8 *l4, void *data_end, __u32 proto, __u32 flags, __u32 l4len)
{
	if (proto == IPPROTO_UDP) {
		if ((void *)(l4 + 8) > data_end)
			return 0;
		return (__u32)(l4[4] << 8 | l4[5]) == l4len; /* udp_error: the length field */
	}
	if (proto == IPPROTO_TCP) {
		if ((void *)(l4 + 20) > data_end)
			return 0;
		__u32 doff = (l4[12] >> 4) * 4;
		if (doff < 20 || doff > l4len) /* tcp_error: a truncated header */
			return 0;
		return (flags & ~(0x80u | 0x40u | 0x08u)) == 0x02; /* SYN alone, ECN and PSH aside */
	}
	return 0;
}

/* Whether conntrack has no entry for the tuple in either direction. */
static __always_inline int ct_none(struct xdp_md *ctx, struct bpf_sock_tuple *tup, __u32 tup_sz, __u32 proto)
{
	struct bpf_ct_opts opts = { .netns_id = XDPT_CT_CURRENT_NETNS, .l4proto = proto };
	struct nf_conn *ct = bpf_xdp_ct_lookup(ctx, tup, tup_sz, &opts, sizeof(opts));
	if (ct) {
		bpf_ct_release(ct);
		return 0;
	}
	return opts.error == -2; /* -ENOENT: no entry (any other error: unknown) */
}

/* Whether conntrack would see the packet as NEW, exactly: a packet that opens (l4_opens)
 * with a right checksum, for which the kernel holds no entry in either direction. The
 * caller has excluded fragments, IP options and everything before conntrack. */
static __noinline int ct_known_new(struct xdp_md *ctx, struct iphdr *ip, __u32 ports, __u32 flags, __u32 l4len)
{
	if (!ctx || !ip)
		return 0;
	__u32 proto = ip->protocol;
	if (!l4_opens((__u8 *)ip + 20, (void *)(long)ctx->data_end, proto, flags, l4len))
		return 0;
	if (!l4_csum_ok(ctx, (__u64)ip->saddr + ip->daddr, 20, proto, l4len))
		return 0;
	struct bpf_sock_tuple tup = {};
	tup.ipv4.saddr = ip->saddr;
	tup.ipv4.daddr = ip->daddr;
	tup.ipv4.sport = bpf_htons(ports >> 16);
	tup.ipv4.dport = bpf_htons(ports & 0xffff);
	return ct_none(ctx, &tup, sizeof(tup.ipv4), proto);
}

/* The same for IPv6, when the upper layer follows the fixed header (no extension
 * headers: the caller leaves those to the kernel). */
static __noinline int ct_known_new6(struct xdp_md *ctx, struct ipv6hdr *ip6, __u32 ports, __u32 flags, __u32 l4len)
{
	if (!ctx || !ip6 || (void *)(ip6 + 1) > (void *)(long)ctx->data_end)
		return 0;
	__u32 proto = ip6->nexthdr;
	if (!l4_opens((__u8 *)ip6 + 40, (void *)(long)ctx->data_end, proto, flags, l4len))
		return 0;
	__u64 pseudo = 0;
#pragma unroll
	for (int i = 0; i < 4; i++)
		pseudo += (__u64)ip6->saddr.in6_u.u6_addr32[i] + ip6->daddr.in6_u.u6_addr32[i];
	if (!l4_csum_ok(ctx, pseudo, 40, proto, l4len))
		return 0;
	struct bpf_sock_tuple tup = {};
	__builtin_memcpy(tup.ipv6.saddr, &ip6->saddr, 16);
	__builtin_memcpy(tup.ipv6.daddr, &ip6->daddr, 16);
	tup.ipv6.sport = bpf_htons(ports >> 16);
	tup.ipv6.dport = bpf_htons(ports & 0xffff);
	return ct_none(ctx, &tup, sizeof(tup.ipv6), proto);
}

/* Whether `addr` is in the local table compiled into generation `gen`. */
static __noinline int is_local(__u32 gen, __u32 addr)
{
	struct xdpt_lpm_key k = { .prefixlen = 32, .addr = addr };
	void *lm = gen_map(&xdpt_local, gen);
	return lm && bpf_map_lookup_elem(lm, &k);
}

/* Whether `addr` is local: in the config's copy of a small local table, else in the
 * trie. */
static __always_inline int is_local4(const struct xdpt_config *cfg, __u32 gen, __u32 addr)
{
	const __u32 n = cfg->nlocal;
	if (n > XDPT_LOCAL_INLINE)
		return is_local(gen, addr);
#pragma unroll
	for (int k = 0; k < XDPT_LOCAL_INLINE; k++)
		if (k < n && (addr & cfg->local[k].mask) == cfg->local[k].addr)
			return 1;
	return 0;
}

/* The kernel's route for the packet (a subprogram: its lookup struct stays off the
 * main frame). Sets *oif to the output interface of a forwarded packet. */
static __noinline long route(struct xdp_md *ctx, struct iphdr *ip, __u32 ports, __u32 tot, __u32 *oif)
{
	struct bpf_fib_lookup fib = {};
	if (!ctx || !ip || !oif)
		return -1;
	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.sport = bpf_htons(ports >> 16);
	fib.dport = bpf_htons(ports & 0xffff);
	fib.tot_len = tot;
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH);
	*oif = fib.ifindex;
	return rc;
}

/* The kernel's IPv6 route for the packet (a subprogram, as route()). */
static __noinline long route6(struct xdp_md *ctx, struct ipv6hdr *ip6, __u64 proto_ports, __u32 tot, __u32 *oif)
{
	struct bpf_fib_lookup fib = {};
	if (!ctx || !ip6 || !oif)
		return -1;
	fib.family = AF_INET6;
	fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
	fib.l4_protocol = proto_ports >> 32;
	fib.sport = bpf_htons(proto_ports >> 16);
	fib.dport = bpf_htons(proto_ports & 0xffff);
	fib.tot_len = tot;
	__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
	__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
	fib.ifindex = ctx->ingress_ifindex;
	long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH);
	*oif = fib.ifindex;
	return rc;
}

/* The id of an IPv6 address's longest prefix in the trie `outer` of generation `gen`,
 * ~0 when none (the key is built in the scratch, off the stack). */
static __always_inline __u32 lpm6_id(void *outer, __u32 gen, const struct in6_addr *addr)
{
	__u32 zero = 0;
	struct xdpt_scratch *sc = bpf_map_lookup_elem(&xdpt_scratch, &zero);
	void *m = gen_map(outer, gen);
	if (!m || !sc)
		return ~0u;
	sc->key6.prefixlen = 128;
	__builtin_memcpy(sc->key6.addr, addr, 16);
	__u32 *id = bpf_map_lookup_elem(m, &sc->key6);
	return id ? *id : ~0u;
}

/* Whether an IPv6 address is one of the namespace's (generation `gen`'s local trie). */
static __noinline int is_local6(__u32 gen, const struct in6_addr *addr)
{
	if (!addr)
		return 0;
	return lpm6_id(&xdpt_local6, gen, addr) != ~0u;
}


/* The start of a packet's judgement, the same in both families: the family's active
 * generation and config, the input interface's record, and the kernel's pkt_type (frames
 * for another host's MAC never reach netfilter). Returns -1 to go on, or the action. */
static __always_inline int prologue(struct xdp_md *ctx, const int fam, __u32 *genp_out, struct xdpt_config **cfgp,
				    struct xdpt_iface **ifcp, int *to_host)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0, key = fam;

	if (xdpt_touch_store && bpf_map_lookup_elem(&xdpt_store, &zero))
		return XDP_PASS;
	__u32 *genp = bpf_map_lookup_elem(&xdpt_active, &key);
	if (!genp)
		return XDP_PASS;
	__u32 gen = *genp & (XDPT_GENERATIONS - 1);
	void *cfgm = gen_map(FMAP(fam, xdpt_cfg), gen);
	struct xdpt_config *cfg = cfgm ? bpf_map_lookup_elem(cfgm, &zero) : 0;
	if (!cfg || !(cfg->flags & XDPT_CFG_VALID)) {
		stat(XDPT_S_NO_STATE);
		return XDP_PASS;
	}
	/* The interface: unknown ones (added since the last compile) go to the kernel. */
	struct xdpt_iface *ifc = iface(fam, gen, ctx->ingress_ifindex);
	if (!ifc) {
		stat(XDPT_S_KERNEL);
		return XDP_PASS;
	}
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(fam ? ETH_P_IPV6 : ETH_P_IP)) {
		stat(XDPT_S_NOT_IP);
		return XDP_PASS;
	}
	*to_host = 1;
	if (ifc->flags & XDPT_IF_ETHER) {
		int same = 1;
#pragma unroll
		for (int i = 0; i < 6; i++)
			if (eth->h_dest[i] != ifc->mac[i])
				same = 0;
		if (!same) {
			if (!(eth->h_dest[0] & 1)) {
				stat(XDPT_S_BAD_IP);
				return XDP_PASS;
			}
			*to_host = 0; /* broadcast or multicast frame */
		}
	}
	*genp_out = gen;
	*cfgp = cfg;
	*ifcp = ifc;
	return -1;
}

/* The judgement both families share, once the family's header walk and route are known
 * (the scratch's pkt): the field lookups, the walks of raw PREROUTING and of INPUT or
 * FORWARD, and the counts. */
static __always_inline int classify(struct xdp_md *ctx, const int fam, __u32 gen, struct xdpt_config *cfg,
				    struct xdpt_iface *ifc, struct xdpt_scratch *sc)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		goto kernel;
	struct pkt *p = &sc->pkt;
	struct walk *w = &sc->w, *wf = &sc->wf;
	__builtin_memset(w, 0, sizeof(*w));
	w->gen = gen;
	__u32 active = cfg->active_fields;
	void *vals = gen_map(FMAP(fam, xdpt_values), gen);
	if (!vals)
		goto kernel;

	/* The addresses: IPv4's through the first level of the value map, IPv6's from the
	 * family's tries. */
	struct ipv6hdr *ip6 = (struct ipv6hdr *)ip;
	if (fam && (void *)(ip6 + 1) > data_end)
		goto kernel;
	if (active & (1u << XDPT_F_SRC) &&
	    add_field(w, fam ? lpm6_id(&xdpt_src6, gen, &ip6->saddr)
				      : addr4_id(vals, gen, XDPT_SMALL_SIZE + XDPT_WIDE_SRC16, ip->saddr, 0)))
		goto kernel;
	if (active & (1u << XDPT_F_DST) &&
	    add_field(w, fam ? lpm6_id(&xdpt_dst6, gen, &ip6->daddr)
				      : addr4_id(vals, gen, XDPT_SMALL_SIZE + XDPT_WIDE_DST16, ip->daddr, 1)))
		goto kernel;
	if (active & (1u << XDPT_F_PROTO) && add_field(w, value_id(vals, XDPT_SMALL_PROTO + (p->proto & 511))))
		goto kernel;
	if (active & (1u << XDPT_F_FLAGS) && add_field(w, value_id(vals, XDPT_SMALL_FLAGS + (p->flags & 0xff))))
		goto kernel;
	if (active & (1u << XDPT_F_SPORT) &&
	    add_field(w, value_id(vals, XDPT_SMALL_SIZE + XDPT_WIDE_SPORT + (p->sport & 0xffff))))
		goto kernel;
	if (active & (1u << XDPT_F_DPORT) &&
	    add_field(w, value_id(vals, XDPT_SMALL_SIZE +
					    (p->proto == (fam ? IPPROTO_ICMPV6 : IPPROTO_ICMP) ? XDPT_WIDE_ICMP
											      : XDPT_WIDE_DPORT) +
					    (p->dport & 0xffff))))
		goto kernel;
	if (active & (1u << XDPT_F_LEN) &&
	    add_field(w, value_id(vals, XDPT_SMALL_SIZE + XDPT_WIDE_LEN + (p->tot & 0xffff))))
		goto kernel;
	if (active & (1u << XDPT_F_IIF) && add_field(w, ifc->iif_bitmap))
		goto kernel;
	if (active & (1u << XDPT_F_MAC)) {
		__u64 mac = 0;
		__builtin_memcpy(&mac, eth->h_source, 6);
		void *mm = gen_map(FMAP(fam, xdpt_macs), gen);
		__u32 *id = mm ? bpf_map_lookup_elem(mm, &mac) : 0;
		if (add_field(w, id ? *id : cfg->mac_default))
			goto kernel;
	}
	/* TTL and output interface are looked up per walk: raw PREROUTING sees no output
	 * interface and the TTL as received, FORWARD the route's and the TTL less one. */
	__u32 ttl = p->ttl & 0xff;
	__u32 cpu = bpf_get_smp_processor_id();
	if (cpu >= cfg->ncpus)
		goto kernel;
	w->base = cpu * cfg->nslots;
	w->bytes = p->tot;
	w->epoch = cfg->epoch;
	w->cache = !(cfg->flags & XDPT_CFG_NO_CACHE);
	/* Every walk records the counter slots it meets (or takes them from the class cache);
	 * they are counted once the outcome is known, without walking again. What XDP counts
	 * depends on the mode: in mirror mode (as deployed) only a drop, netfilter counting
	 * what XDP passes up; otherwise (the classifier tests) every verdict, unless a walk
	 * ends in a rule left to the kernel. */
	const __u32 mirror = (cfg->flags & XDPT_CFG_MIRROR) != 0;
	const __u32 count_all = !(cfg->flags & XDPT_CFG_HAS_KERNEL) && !mirror;
	/* After raw PREROUTING, only the kernel decides: later tables come first there, or
	 * conntrack must see what filter drops. */
	__u32 raw_only = (cfg->flags & XDPT_CFG_LATER_ONLY) ||
			 (mirror && (cfg->flags & XDPT_CFG_DEFRAG) && !(cfg->flags & XDPT_CFG_CT_NEW));
	int filter_stage = p->filter_stage;
	/* Conntrack sees the packet before filter: filter is decided here only for a packet
	 * conntrack will see as NEW (dropping it leaves no trace in conntrack, its entry
	 * is never confirmed). Packets of existing entries must reach conntrack. An IPv6
	 * packet with extension headers is the kernel's. */
	if ((cfg->flags & XDPT_CFG_CT_NEW) && filter_stage && !raw_only) {
		const __u32 ports = p->sport << 16 | (p->dport & 0xffff);
		if (fam ? p->tot == p->l4len + 40 && ct_known_new6(ctx, (struct ipv6hdr *)ip, ports, p->flags, p->l4len)
			: ct_known_new(ctx, ip, ports, p->flags, p->l4len)) {
			stat(XDPT_S_CT_NEW);
		} else {
			stat(XDPT_S_CT_KERNEL);
			raw_only = 1;
		}
	}
	struct xdpt_hits *hits = &sc->hits;
	hits->n = 0;
	w->record = 1;
	__u32 n_raw = 0;
	*wf = *w;

	int raw = (cfg->flags & XDPT_CFG_HAS_RAW) != 0;
	if (raw) {
		if (active & (1u << XDPT_F_TTL) && add_field(w, value_id(vals, XDPT_SMALL_TTL + ttl)))
			goto kernel;
		if (active & (1u << XDPT_F_OIF) && add_field(w, cfg->oif_none))
			goto kernel;
		__u32 r = cached_walk(hits, w, cfg->entry[XDPT_RAW_PREROUTING], fam);
		if (r == W_KERNEL)
			goto kernel;
		n_raw = hits->n;
		if (r == W_DROP || raw_only || !filter_stage) {
			if (r != W_DROP && (raw_only || mirror)) {
				/* Raw's counts are exact whatever comes after it: counted here
				 * when every verdict is. */
				if (count_all)
					count_walk(w, cfg->entry[XDPT_RAW_PREROUTING], 0, n_raw, fam);
				goto kernel;
			}
			count_walk(w, cfg->entry[XDPT_RAW_PREROUTING], 0, n_raw, fam);
			stat(r == W_DROP ? XDPT_S_DROP : XDPT_S_ACCEPT);
			return r == W_DROP ? XDP_DROP : XDP_PASS;
		}
	} else if (raw_only) {
		goto kernel;
	}
	if (!filter_stage) {
		if (mirror)
			goto kernel;
		stat(XDPT_S_ACCEPT);
		return XDP_PASS;
	}

	/* The forwarding path decrements the TTL (hop limit) before the FORWARD hook. */
	__u32 entry = p->entry;
	const __u32 fttl = (entry == XDPT_FILTER_FORWARD ? ttl - 1 : ttl) & 0xff;
	if (active & (1u << XDPT_F_TTL) && add_field(wf, value_id(vals, XDPT_SMALL_TTL + fttl)))
		goto kernel;
	if (active & (1u << XDPT_F_OIF)) {
		__u32 oid = cfg->oif_none;
		if (entry == XDPT_FILTER_FORWARD) {
			struct xdpt_iface *o = iface(fam, gen, p->oif);
			if (!o)
				goto kernel;
			oid = o->oif_bitmap;
		}
		if (add_field(wf, oid))
			goto kernel;
	}
	__u32 r = cached_walk(hits, wf, cfg->entry[entry & 3], fam);
	if (r == W_KERNEL || (mirror && r != W_DROP))
		goto kernel;
	{
		__u32 n_all = hits->n;
		if (raw)
			count_walk(w, cfg->entry[XDPT_RAW_PREROUTING], 0, n_raw, fam);
		if (p->count_filter)
			count_walk(wf, cfg->entry[entry & 3], n_raw, n_all, fam);
	}
	if (r == W_DROP) {
		stat(XDPT_S_DROP);
		return XDP_DROP;
	}
	stat(XDPT_S_ACCEPT);
	return XDP_PASS;

kernel:
	stat(XDPT_S_KERNEL);
	return XDP_PASS;
}

/* The IPv4 header walk and route of a packet, into `p`. Returns -1 to go on to the
 * judgement, or the action (the packet is passed, undecided here). */
static __always_inline int parse4(struct xdp_md *ctx, __u32 gen, struct xdpt_config *cfg, struct xdpt_iface *ifc,
				  int to_host, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	/* ip_rcv's checks: what fails them is dropped before netfilter sees it. */
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end) {
		stat(XDPT_S_BAD_IP);
		return XDP_PASS;
	}
	__u32 hlen = ip->ihl * 4;
	__u32 tot = bpf_ntohs(ip->tot_len);
	__u32 avail = (__u32)((long)data_end - (long)ip);
	if (ip->version != 4 || hlen < 20 || tot < hlen || tot > avail) {
		stat(XDPT_S_BAD_IP);
		return XDP_PASS;
	}
	if (hlen != 20) {
		/* IP options are compiled (and source routes refused) by the kernel after
		 * PREROUTING: leave such packets to it. */
		stat(XDPT_S_KERNEL);
		return XDP_PASS;
	}
	if (!xdpt_ip_csum_ok(ip)) {
		stat(XDPT_S_BAD_IP);
		return XDP_PASS;
	}

	__u32 frag = bpf_ntohs(ip->frag_off);
	__u32 fragoff = frag & 0x1fff;
	int fragment = fragoff || (frag & 0x2000);
	if (fragment && (cfg->flags & XDPT_CFG_DEFRAG)) {
		stat(XDPT_S_KERNEL);
		return XDP_PASS;
	}

	/* Layer 4, as the tcp/udp/icmp/multiport matches read it. A header they would find
	 * truncated makes them drop the packet (hotdrop): leave that to the kernel. */
	__u32 sport = 0, dport = 0, flags = 0;
	void *l4 = (void *)ip + 20;
	__u32 l4len = tot - 20;
	if (!fragoff) {
		if (ip->protocol == IPPROTO_TCP) {
			__u8 *t = l4;
			if (l4len < 20 || (void *)(t + 20) > data_end)
				goto kernel;
			sport = (t[0] << 8) | t[1];
			dport = (t[2] << 8) | t[3];
			flags = t[13];
		} else if (ip->protocol == IPPROTO_UDP) {
			__u8 *u = l4;
			if (l4len < 8 || (void *)(u + 8) > data_end)
				goto kernel;
			sport = (u[0] << 8) | u[1];
			dport = (u[2] << 8) | u[3];
		} else if (ip->protocol == IPPROTO_ICMP) {
			__u8 *c = l4;
			if (l4len < 8 || (void *)(c + 8) > data_end)
				goto kernel;
			dport = (c[0] << 8) | c[1];
		}
	} else if (fragoff == 1 && ip->protocol == IPPROTO_TCP) {
		goto kernel; /* the tcp match drops these "evil" fragments */
	}

	/* Route: which of INPUT and FORWARD the kernel would take, and the output
	 * interface. Decided before the lookups because -o needs it. */
	__u32 entry = XDPT_FILTER_INPUT;
	__u32 oif = 0;
	int count_filter = 1; /* counters of the filter walk are exact */
	int filter_stage = (cfg->flags & XDPT_CFG_HAS_FILTER) != 0;
	__u32 saddr = ip->saddr, daddr = ip->daddr;
	__u32 s_h = bpf_ntohl(saddr), d_h = bpf_ntohl(daddr);
	int on_lo = (ifc->flags & XDPT_IF_LOOPBACK) != 0;
	if ((d_h >> 28) == 0xe) {
		goto kernel; /* multicast: delivered only if a socket joined; not decided here */
	}
	if ((s_h >> 28) == 0xe || s_h == 0xffffffff || (s_h >> 24) == 0 || (d_h >> 24) == 0 ||
	    (!on_lo && (is_lo_addr(saddr) || is_lo_addr(daddr) || is_local4(cfg, gen, saddr)))) {
		/* Martian: routing drops it after PREROUTING. A source that is one of this
		 * namespace's addresses, from outside, is one (fib_validate_source, unless
		 * accept_local); so are, in some configurations, the broadcast addresses the
		 * local table also holds: those go up too, to be judged there. */
		filter_stage = 0;
	} else if (ifc->flags & XDPT_IF_RPF) {
		/* The kernel's reverse path check (after PREROUTING) may drop it before INPUT
		 * or FORWARD; bpf_fib_lookup cannot ask the same question: only raw
		 * PREROUTING is decided here. */
		filter_stage = 0;
	} else if (d_h == 0xffffffff) {
		entry = XDPT_FILTER_INPUT;
	} else if (filter_stage) {
		long rc = route(ctx, ip, sport << 16 | (dport & 0xffff), tot, &oif);
		if (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
			if (!to_host || ip->ttl <= 1)
				filter_stage = 0; /* ip_forward drops it before FORWARD */
			entry = XDPT_FILTER_FORWARD;
		} else if (rc == BPF_FIB_LKUP_RET_NOT_FWDED || rc == BPF_FIB_LKUP_RET_FWD_DISABLED) {
			/* Local delivery, or a drop without route. The local table decides which;
			 * the verdict of INPUT holds either way, the counters only for the first. */
			if (!is_local4(cfg, gen, daddr))
				count_filter = 0;
		} else if (rc == BPF_FIB_LKUP_RET_BLACKHOLE || rc == BPF_FIB_LKUP_RET_UNREACHABLE ||
			   rc == BPF_FIB_LKUP_RET_PROHIBIT) {
			filter_stage = 0;
		} else {
			goto kernel;
		}
	}

	/* ip_local_deliver reassembles before INPUT: a local fragment is never seen there
	 * as such, only the whole packet, which XDP never sees. Raw PREROUTING (before the
	 * reassembly) is judged here; INPUT is the kernel's. */
	if (entry == XDPT_FILTER_INPUT && fragment)
		filter_stage = 0;

	*p = (struct pkt){ ip->protocol + (fragoff ? 256 : 0), sport, dport, flags, ip->ttl, tot, l4len, entry, oif,
			   filter_stage, count_filter };
	return -1;

kernel:
	stat(XDPT_S_KERNEL);
	return XDP_PASS;
}

/* The extension headers an IPv6 walk steps over (more go to the kernel). */
#define XDPT_EXT_MAX 4
/* How far into the packet they may reach (a longer chain goes to the kernel). */
#define XDPT_EXT_BYTES 1024

/* The IPv6 header walk and route of a packet, into `p` (as parse4). It sees the packet as
 * ip6_rcv and ip6tables would: what ip6_rcv drops before PREROUTING, and what XDP cannot
 * read as ipv6_find_hdr() does (fragments, hop-by-hop options, which ip6_rcv parses and
 * may drop, long or truncated chains), goes to the kernel untouched and uncounted. */
static __always_inline int parse6(struct xdp_md *ctx, __u32 gen, struct xdpt_config *cfg, struct xdpt_iface *ifc,
				  int to_host, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > data_end || ip6->version != 6 || (ifc->flags & XDPT_IF_NO_IPV6)) {
		stat(XDPT_S_BAD_IP);
		return XDP_PASS;
	}
	__u32 plen = bpf_ntohs(ip6->payload_len);
	__u32 avail = (__u32)((long)data_end - (long)ip6);
	if (plen == 0)
		goto kernel; /* a jumbogram (its length in hop-by-hop options), or malformed */
	if (plen + 40 > avail) {
		stat(XDPT_S_BAD_IP);
		return XDP_PASS;
	}
	__u32 tot = plen + 40;
	const __u8 *s = ip6->saddr.in6_u.u6_addr8, *d = ip6->daddr.in6_u.u6_addr8;
	int on_lo = (ifc->flags & XDPT_IF_LOOPBACK) != 0;
	/* ip6_rcv_core: multicast sources, multicast destinations of scope 0 or (off lo)
	 * 1, and the loopback address off lo are dropped before PREROUTING. */
	if (s[0] == 0xff) {
		stat(XDPT_S_BAD_IP);
		return XDP_PASS;
	}
	if (d[0] == 0xff)
		goto kernel; /* multicast: dropped or delivered by scope and membership */
	/* A unicast packet in a link-layer broadcast or multicast frame: ip6_rcv drops it
	 * under drop_unicast_in_l2_multicast, ip6_forward always. */
	if (!to_host)
		goto kernel;
	__u32 s_hi = ip6->saddr.in6_u.u6_addr32[0] | ip6->saddr.in6_u.u6_addr32[1];
	__u32 d_hi = ip6->daddr.in6_u.u6_addr32[0] | ip6->daddr.in6_u.u6_addr32[1];
	/* ::/64 holds the unspecified, loopback, IPv4-compatible and IPv4-mapped addresses:
	 * their fates depend on more than a route. */
	if (!s_hi || !d_hi)
		goto kernel;

	/* The extension headers, as ipv6_find_hdr() steps over them to the upper layer. */
	__u32 nh = ip6->nexthdr;
	__u32 off = 40;
#pragma unroll
	for (int i = 0; i < XDPT_EXT_MAX; i++) {
		if (nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS && nh != IPPROTO_AH)
			break;
		if (off > XDPT_EXT_BYTES)
			goto kernel;
		__u64 o = off;
		asm volatile("%0 &= 2047" : "+r"(o)); /* no change: a bound the verifier keeps */
		__u8 *h = (void *)ip6 + o;
		if ((void *)(h + 2) > data_end || o + 2 > tot)
			goto kernel;
		__u32 len = nh == IPPROTO_AH ? ((__u32)h[1] + 2) * 4 : ((__u32)h[1] + 1) * 8;
		nh = h[0];
		off = o + len;
	}
	/* Hop-by-hop options (parsed, and maybe dropped, by ip6_rcv; not first: dropped
	 * after INPUT), fragments, and chains longer than the walk. */
	if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH ||
	    nh == IPPROTO_FRAGMENT || off > XDPT_EXT_BYTES || off > tot)
		goto kernel;

	/* The upper layer, as the tcp/udp/icmp6/multiport matches read it (a truncated
	 * header makes them drop the packet: left to the kernel). */
	__u32 sport = 0, dport = 0, flags = 0;
	__u64 o = off;
	asm volatile("%0 &= 2047" : "+r"(o));
	__u8 *l4 = (void *)ip6 + o;
	__u32 l4len = tot - off;
	if (nh == IPPROTO_TCP) {
		if (l4len < 20 || (void *)(l4 + 20) > data_end)
			goto kernel;
		sport = (l4[0] << 8) | l4[1];
		dport = (l4[2] << 8) | l4[3];
		flags = l4[13];
	} else if (nh == IPPROTO_UDP) {
		if (l4len < 8 || (void *)(l4 + 8) > data_end)
			goto kernel;
		sport = (l4[0] << 8) | l4[1];
		dport = (l4[2] << 8) | l4[3];
	} else if (nh == IPPROTO_ICMPV6) {
		if (l4len < 8 || (void *)(l4 + 8) > data_end)
			goto kernel;
		/* Neighbour discovery (router and neighbour solicitations and advertisements,
		 * redirects): the link's working depends on it; never judged here. */
		if (l4[0] >= 133 && l4[0] <= 137)
			goto kernel;
		dport = (l4[0] << 8) | l4[1];
	}

	/* Route. Link-local addresses (fe80::/10) on either side are the kernel's: their
	 * routes and forwarding (ip6_forward refuses link-local sources, except back out of
	 * the interface they came in on) depend on the interface. */
	__u32 entry = XDPT_FILTER_INPUT;
	__u32 oif = 0;
	int filter_stage = (cfg->flags & XDPT_CFG_HAS_FILTER) != 0;
	if ((s[0] == 0xfe && (s[1] & 0xc0) == 0x80) || (d[0] == 0xfe && (d[1] & 0xc0) == 0x80)) {
		filter_stage = 0;
	} else if (filter_stage) {
		long rc = route6(ctx, ip6, (__u64)nh << 32 | sport << 16 | (dport & 0xffff), tot, &oif);
		if (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
			/* ip6_forward drops it before FORWARD when forwarding is off or the hop
			 * limit is spent. */
			if (ip6->hop_limit <= 1 || (cfg->flags & XDPT_CFG_NO_FORWARD) || on_lo)
				filter_stage = 0;
			entry = XDPT_FILTER_FORWARD;
		} else if (rc == BPF_FIB_LKUP_RET_NOT_FWDED || rc == BPF_FIB_LKUP_RET_FWD_DISABLED) {
			/* Local delivery (or, forwarding off, a drop): INPUT only for the
			 * namespace's own addresses (an anycast address, delivered too, is not
			 * one of them: left to the kernel). */
			if (!is_local6(gen, &ip6->daddr))
				filter_stage = 0;
		} else if (rc == BPF_FIB_LKUP_RET_BLACKHOLE || rc == BPF_FIB_LKUP_RET_UNREACHABLE ||
			   rc == BPF_FIB_LKUP_RET_PROHIBIT) {
			filter_stage = 0;
		} else {
			goto kernel;
		}
	}

	*p = (struct pkt){ nh, sport, dport, flags, ip6->hop_limit, tot, l4len, entry, oif, filter_stage, 1 };
	return -1;

kernel:
	stat(XDPT_S_KERNEL);
	return XDP_PASS;
}

/* One packet's judgement, of family `fam`: every return of it ends the run's use of the
 * generation. */
static __always_inline int judge(struct xdp_md *ctx, const int fam)
{
	__u32 gen = 0, zero = 0;
	struct xdpt_config *cfg = 0;
	struct xdpt_iface *ifc = 0;
	int to_host = 1;
	int r = prologue(ctx, fam, &gen, &cfg, &ifc, &to_host);
	if (r >= 0 || !cfg || !ifc)
		return r >= 0 ? r : XDP_PASS;
	struct xdpt_scratch *sc = bpf_map_lookup_elem(&xdpt_scratch, &zero);
	if (!sc) {
		stat(XDPT_S_KERNEL);
		return XDP_PASS;
	}
	r = fam ? parse6(ctx, gen, cfg, ifc, to_host, &sc->pkt) : parse4(ctx, gen, cfg, ifc, to_host, &sc->pkt);
	if (r >= 0)
		return r;
	return classify(ctx, fam, gen, cfg, ifc, sc);
}
static __noinline int judge4(struct xdp_md *ctx) { return judge(ctx, 0); }
static __noinline int judge6(struct xdp_md *ctx) { return judge(ctx, 1); }


SEC("xdp")
int xdpt_main(struct xdp_md *ctx)
{
	struct xdpt_readers *r = bpf_map_lookup_elem(&xdpt_readers, (const void *)&xdpt_key0);
	if (!r)
		return XDP_PASS;
	__sync_fetch_and_add(&r->enter, 1);
	/* The family, by ethertype: each has its own judgement (and stack frame); judge4
	 * passes what is neither. */
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	int verdict;
	if ((void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IPV6))
		verdict = judge6(ctx);
	else
		verdict = judge4(ctx);
	r = bpf_map_lookup_elem(&xdpt_readers, (const void *)&xdpt_key0);
	if (r)
		*(volatile __u64 *)&r->left = r->left + 1;
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
