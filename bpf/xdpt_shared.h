/* Map layouts shared by the XDP program and the C++ loader. Fixed-width types only;
 * sizes are checked on both sides. */
#ifndef XDPT_SHARED_H
#define XDPT_SHARED_H

#include <linux/types.h>

#ifdef __cplusplus
#define XDPT_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define XDPT_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* The ruleset store: an mmapable array of pages. Page 0 holds the header; the pages
 * after it are two halves of equal size, one holding the current text, the other the
 * next one being written. A commit writes the inactive half, then flips `active` (one
 * aligned 4-byte store): a reader (under the namespace lock) or a crash mid-write sees
 * the old text or the new one. A text too big for a half gets a new, bigger map. */
#define XDPT_STORE_PAGE 4096
#define XDPT_STORE_MAGIC 0x58445054u /* "XDPT" */
#define XDPT_STORE_VERSION 2u

struct xdpt_store_header {
	__u32 magic;
	__u32 version;
	__u32 active;    /* the half holding the current text: 0 or 1 */
	__u32 pending;   /* a commit is under way: its netfilter batch may be in, unpublished */
	__u64 length[2]; /* bytes of text in each half */
};
XDPT_ASSERT(sizeof(struct xdpt_store_header) == 32, "store header layout");

/*
 * The classifier (linear bit vector search).
 *
 * The compiler flattens the entry chains (raw PREROUTING, filter INPUT, filter FORWARD)
 * with their user chains into one list of "flat rules", indexed 0..n-1, chain after chain,
 * each chain ending with its policy. For every header field a lookup of the packet's
 * value gives a bitmap id: the set of flat rules whose condition on that field the value
 * satisfies. The AND of all fields' bitmaps is the set of flat rules that match the
 * packet; the walk takes its set bits in order from the chain's start.
 *
 * A bitmap is up to XDPT_CHUNKS chunks of 4096 bits. Bitmap headers list their chunk ids
 * (chunks are deduplicated across all bitmaps) and a mask of chunks that are not empty;
 * a chunk holds 64 words and a summary word (bit w set: word w is not zero). The walk
 * ANDs chunk masks, then summaries, then only the words that can still hold a match.
 *
 * Homes. A field where most rules are wildcards has dense bitmaps, and an AND of dense
 * bitmaps can be empty word after word: a walk would visit them all. So every rule has
 * a home: one of the fields it constrains (rules that constrain none are at home in
 * every field). A chunk also holds a home summary (bit w: word w holds a rule at home in
 * this bitmap's field that this bitmap sets), and a bitmap a mask of the chunks whose
 * home summary is not zero. A rule a packet meets meets the condition of its home field,
 * so it is set in that field's bitmap with its home bit: the walk visits only words (and
 * chunks) that some looked-up field's home summary (mask) marks. A miss costs the rules
 * at home in a field whose condition the packet's value meets, not the rules before the
 * match; the compiler chooses homes where few rules share a value (dp/compile.cpp).
 */
#define XDPT_WORD_BITS 64
#define XDPT_CHUNK_WORDS 64
#define XDPT_CHUNK_BITS (XDPT_WORD_BITS * XDPT_CHUNK_WORDS) /* 4096 */
#define XDPT_CHUNKS 16
#define XDPT_MAX_RULES (XDPT_CHUNK_BITS * XDPT_CHUNKS) /* 65536 flat rules */

/* Walk budget: set bits visited plus words skipped, per chain walk. A packet that needs
 * more goes to the kernel uncounted. */
#define XDPT_MAX_STEPS 65536
/* Counter slots a first pass records for counting without a second one (a power of 2);
 * a walk that meets more counts by walking again. */
#define XDPT_MAX_HITS 64

struct xdpt_chunk {
	__u64 summary;
	__u64 home; /* bit w: word w sets a rule at home in the field (see above) */
	__u64 words[XDPT_CHUNK_WORDS];
};
XDPT_ASSERT(sizeof(struct xdpt_chunk) == 528, "chunk layout");

struct xdpt_bitmap {
	__u32 chunk_mask; /* bit c: chunk c has a set bit */
	__u32 home_mask;  /* bit c: chunk c has a home bit */
	__u32 chunk[XDPT_CHUNKS];
};
XDPT_ASSERT(sizeof(struct xdpt_bitmap) == 72, "bitmap layout");

/* The fields, each one lookup per packet. Fields no rule constrains are skipped. */
enum xdpt_field {
	XDPT_F_SRC = 0,   /* LPM trie on the source address */
	XDPT_F_DST,       /* LPM trie on the destination address */
	XDPT_F_PROTO,     /* small array: protocol | (non-first fragment << 8) */
	XDPT_F_FLAGS,     /* small array: TCP flags byte (0 for other protocols) */
	XDPT_F_TTL,       /* small array: TTL */
	XDPT_F_SPORT,     /* wide array: source port (0 when not TCP/UDP or a fragment) */
	XDPT_F_DPORT,     /* wide array: destination port, or ICMP type << 8 | code */
	XDPT_F_LEN,       /* wide array: IP total length */
	XDPT_F_IIF,       /* from the interface record of the input interface */
	XDPT_F_OIF,       /* from the interface record of the route's output interface */
	XDPT_F_MAC,       /* hash on the source MAC, default from the config */
	XDPT_NFIELDS
};

/* Offsets in the small array (u32 bitmap ids). */
#define XDPT_SMALL_PROTO 0   /* 512 entries */
#define XDPT_SMALL_FLAGS 512 /* 256 entries */
#define XDPT_SMALL_TTL 768   /* 256 entries */
#define XDPT_SMALL_SIZE 1024
/* Offsets in the wide array (u32 bitmap ids). */
#define XDPT_WIDE_SPORT 0
#define XDPT_WIDE_DPORT 65536
#define XDPT_WIDE_LEN 131072
/* The destination port field of ICMP (ICMPv6) packets, type << 8 | code, in a domain of
 * its own: a UDP or TCP packet's port never meets an ICMP rule's type (port 9 and type 0
 * share a value), nor an ICMP packet a port rule. */
#define XDPT_WIDE_ICMP 196608
/* IPv4 only: the address fields' first level, one entry per /16 (the top 16 bits). An
 * entry holds the bitmap id of the longest prefix of the field's trie that holds the
 * /16, when no longer prefix lies within it; else a link (XDPT_VALUE_NEXT) to a block of
 * 256 entries, one per /24 of the /16, which hold ids or links to blocks of 256 per
 * address in the same way (a DIR-16-8-8 table); or XDPT_VALUE_TRIE where the blocks'
 * budget ran out: the trie decides. At most three dependent array loads, where the
 * kernel's LPM trie is a chain of node loads (a dozen for a few thousand prefixes). */
#define XDPT_WIDE_SRC16 262144
#define XDPT_WIDE_DST16 327680
#define XDPT_WIDE_SIZE 393216
#define XDPT_VALUE_TRIE 0xfffffffeu
/* The blocks follow the wide array in the value map (XDPT_SMALL_SIZE + XDPT_WIDE_SIZE
 * on; the program's capacity says how many). A link is XDPT_VALUE_NEXT | the index of
 * its block's first entry in the value map; bitmap ids stay below it. */
#define XDPT_VALUE_NEXT 0x80000000u
#define XDPT_VALUE_LINK(v) (((v) & 0xc0000000u) == XDPT_VALUE_NEXT)
#define XDPT_ADDR_BLOCK 256
/* At most this many blocks per generation of a family (1 KiB each), for both address
 * fields: beyond, the trie decides. */
#define XDPT_ADDR_BLOCKS_MAX 8192

struct xdpt_lpm_key {
	__u32 prefixlen;
	__u32 addr; /* network byte order */
};

/* The key of the IPv6 family's address tries (its own outer maps: a trie's key size is
 * its template's). */
struct xdpt_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};
XDPT_ASSERT(sizeof(struct xdpt_lpm6_key) == 20, "lpm6 key layout");

/* Flat rule actions. */
enum xdpt_action {
	XDPT_A_CONTINUE = 0, /* count, then go on at `next` (jumps, RETURN, no target) */
	XDPT_A_ACCEPT,       /* count; the chain's verdict is ACCEPT */
	XDPT_A_DROP,         /* count; drop */
	XDPT_A_KERNEL,       /* undecidable here: the packet goes to the kernel uncounted */
	XDPT_A_SKIP,         /* no counter: go on at `next` (end of a chain entered by -g) */
};

struct xdpt_rule {
	__u8 action;
	__u8 pad[3];
	__u32 next; /* flat index to go on at (CONTINUE, SKIP) */
	__u32 slot; /* counter slot (CONTINUE, ACCEPT, DROP) */
	__u32 pad2;
};
XDPT_ASSERT(sizeof(struct xdpt_rule) == 16, "rule layout");

/* Interface record: one per interface of the namespace at compile time. */
#define XDPT_IF_ETHER 1u    /* Ethernet: has a MAC, -m mac applies */
#define XDPT_IF_LOOPBACK 2u /* lo */
#define XDPT_IF_RPF 4u      /* reverse path filter on: routing may drop after PREROUTING */
#define XDPT_IF_KNOWN 8u    /* set on every compiled interface (an empty array slot has none) */
#define XDPT_IF_NO_IPV6 16u /* disable_ipv6: ipv6_rcv drops every IPv6 packet of it */
/* Interfaces with an ifindex below this are also in an array indexed by ifindex, whose
 * lookups the verifier inlines (the hash map's cost a call and a hash per packet). */
#define XDPT_IFARRAY 256
struct xdpt_iface {
	__u8 mac[6];
	__u16 flags;
	__u32 iif_bitmap; /* rules whose -i (and -m mac applicability) allow this interface */
	__u32 oif_bitmap; /* rules whose -o allows it as output interface */
	__u32 pad;
};
XDPT_ASSERT(sizeof(struct xdpt_iface) == 20, "iface layout");

/* The entry chains, in the order a received packet meets them. */
enum xdpt_entry { XDPT_RAW_PREROUTING = 0, XDPT_FILTER_INPUT, XDPT_FILTER_FORWARD, XDPT_NENTRIES };

#define XDPT_CFG_VALID 1u       /* this generation holds a compiled ruleset */
#define XDPT_CFG_HAS_RAW 2u     /* the raw table exists (PREROUTING is walked) */
#define XDPT_CFG_HAS_FILTER 4u  /* the filter table exists */
#define XDPT_CFG_LATER_ONLY 8u  /* nat or mangle tables exist: after raw, only the kernel decides */
#define XDPT_CFG_DEFRAG 16u     /* conntrack reassembles: fragments go to the kernel */
#define XDPT_CFG_HAS_KERNEL 32u /* some walked rule is left to the kernel */
/* Netfilter holds the whole ruleset (compat/nft.cpp): XDP drops and counts what it can
 * decide to drop, and passes everything else up uncounted, to be judged and counted
 * there. With DEFRAG (conntrack sees every packet before filter) only raw PREROUTING is
 * decided here: a drop in filter would skip conntrack's update of the flow. */
#define XDPT_CFG_MIRROR 64u
/* Conntrack is on and assigns no zone, helper or untracking (no CT/NOTRACK target): the
 * filter walk is decided here for packets whose conntrack state XDP knows is NEW (no
 * entry, a valid UDP datagram or TCP SYN), with the conntrack and state matches of filter
 * evaluated for NEW at compile time; every other packet goes to the kernel after raw. */
#define XDPT_CFG_CT_NEW 256u
/* The class cache is off (benchmarks of the walk alone; tests of both paths). */
#define XDPT_CFG_NO_CACHE 128u
/* IPv6: net.ipv6.conf.all.forwarding is 0 at compile time: ip6_forward drops what is
 * not local before FORWARD (FORWARD is never decided here). */
#define XDPT_CFG_NO_FORWARD 512u

#define XDPT_LOCAL_INLINE 16
#define XDPT_LOCAL_TRIE 0xffffffffu

struct xdpt_config {
	__u32 flags;
	__u32 active_fields; /* bit f: field f is looked up */
	__u32 entry[XDPT_NENTRIES]; /* flat index of each entry chain's first rule */
	__u32 nrules;               /* flat rules */
	__u32 nslots;               /* counter slots */
	__u32 ncpus;                /* counter layout: index = cpu * nslots + slot */
	__u32 mac_default;          /* bitmap for source MACs not in the mac map */
	__u32 all_bitmap;           /* every rule */
	__u32 oif_none;             /* rules whose -o allows no output interface (INPUT, raw) */
	__u32 epoch;                /* this generation's number: the class cache's entries carry it */
	/* The IPv4 local table (the addresses and prefixes that deliver locally), when it
	 * has at most XDPT_LOCAL_INLINE entries: compared in place, two per packet, where
	 * the xdpt_local trie costs a lookup each. More, or IPv6 (whose program reads its
	 * trie): nlocal is XDPT_LOCAL_TRIE. Addresses and masks in network byte order. */
	__u32 nlocal;
	struct {
		__u32 addr, mask;
	} local[XDPT_LOCAL_INLINE];
};
XDPT_ASSERT(sizeof(struct xdpt_config) == 180, "config layout");

struct xdpt_counter {
	__u64 packets;
	__u64 bytes;
};
XDPT_ASSERT(sizeof(struct xdpt_counter) == 16, "counter layout");

/* Statistics of the program itself (per CPU), for `xdptables` diagnostics and tests. */
enum xdpt_stat {
	XDPT_S_NOT_IP = 0, /* neither IPv4 nor IPv6: passed */
	XDPT_S_BAD_IP,     /* the kernel drops it before netfilter: passed */
	XDPT_S_KERNEL,     /* undecidable here: passed uncounted */
	XDPT_S_ACCEPT,     /* judged and accepted */
	XDPT_S_DROP,       /* judged and dropped */
	XDPT_S_NO_STATE,   /* no ruleset: passed */
	XDPT_S_CACHE_HIT,  /* a walk's outcome taken from the class cache */
	XDPT_S_CACHE_MISS, /* a walk done (and its outcome kept when it fits) */
	XDPT_S_CT_NEW,     /* conntrack on: no entry, valid header: judged as NEW */
	XDPT_S_CT_KERNEL,  /* conntrack on: an entry, or a state XDP cannot know: left to it */
	XDPT_NSTATS
};

#define XDPT_GENERATIONS 2

/*
 * The address families. Each has a ruleset of its own, compiled into generations of its
 * own: outer maps of its own (the IPv4 family's xdpt_<kind>, the IPv6 family's
 * xdpt_<kind>6), inner arrays sized for it (xdpt_cap[family]), and its own entry of
 * xdpt_active. A commit of one family writes and flips only that family's maps; a
 * program loaded for one family's growth takes the other's outer maps over as they are
 * (generations, counters and all). The class cache and the readers are shared.
 */
#define XDPT_FAMILIES 2

/*
 * Readers of a generation, per CPU. The program adds one to `enter` (an atomic add: a
 * full barrier) before it reads which generation is active, and one to `left` after its
 * last access to that generation's maps. After a flip, the updater waits until every
 * CPU's `left` has reached the `enter` it saw then: every run that may have read the old
 * index has ended, its counts included (x86 keeps stores in order). It is how x_tables
 * waits for its readers (xt_replace_table's per-CPU sequence counts): a wait of
 * microseconds instead of an RCU grace period (8 to 20 ms here), the bulk of a
 * command's time otherwise.
 */
struct xdpt_readers {
	__u64 enter;
	__u64 left;
};
XDPT_ASSERT(sizeof(struct xdpt_readers) == 16, "readers layout");

/*
 * The class cache. A walk's outcome depends on nothing but where it starts and the
 * bitmap ids its field lookups gave (the packet's class in every field): two packets
 * with the same ids meet the same rules. So the outcome of a walk is kept, keyed by the
 * generation's epoch, the start and the ids: its result and the counter slots it met.
 * A packet whose class tuple was seen before costs its field lookups and one cache
 * probe, whatever the rules' shape; a miss walks as before and fills the entry. Exact
 * by construction: an entry is only ever read back by a walk that would do the same.
 * The epoch changes with every generation written, so the entries of a ruleset are never
 * met by the next one.
 *
 * The cache is an array, a stretch of 2^bits entries per CPU (only the CPU a stretch
 * belongs to reads or writes it, as with the per-CPU scratch: no locks, no torn
 * entries), direct-mapped by a multiplicative hash of the key that the program computes
 * itself: a hash map's probe cost a helper call, a jhash of the 52-byte key and a
 * memcmp, a third of a cached packet's time. A new class takes its slot from the one
 * there. The loader sizes it (xdpt_cache_bits): XDPT_CACHE_BYTES over the CPUs, from
 * XDPT_CACHE_MIN to XDPT_CACHE_MAX entries per CPU.
 */
#define XDPT_CACHE_BYTES (8u << 20)
#define XDPT_CACHE_MIN_BITS 10
#define XDPT_CACHE_MAX_BITS 16
#define XDPT_CACHE_SLOTS 15 /* a walk that meets more counted rules is not kept */

struct xdpt_cache_key {
	__u32 epoch;
	__u32 start; /* flat index the walk starts at | family << 23 | number of ids << 24 */
	__u32 ids[XDPT_NFIELDS];
};
XDPT_ASSERT(sizeof(struct xdpt_cache_key) == 52, "cache key layout");

struct xdpt_cache_val {
	__u8 result; /* enum walk result: 1 accept, 2 drop, 3 kernel; 0: an empty entry */
	__u8 n;      /* counter slots met, in order */
	__u16 pad;
	__u32 slot[XDPT_CACHE_SLOTS];
};
XDPT_ASSERT(sizeof(struct xdpt_cache_val) == 64, "cache value layout");

/* One entry: two cache lines, the key, the result and the first two slots in the first. */
struct xdpt_cache_entry {
	struct xdpt_cache_key key;
	struct xdpt_cache_val val;
	__u32 pad[3];
};
XDPT_ASSERT(sizeof(struct xdpt_cache_entry) == 128, "cache entry layout");

/* The number of elements of the classifier arrays whose size follows the ruleset. A
 * program is loaded with these as its inner map sizes, and every generation's maps have
 * exactly them, so that the verifier inlines their lookups (an inner map of varying size,
 * BPF_F_INNER_MAP, costs a helper call per lookup). A ruleset that outgrows them, or is
 * far smaller, gets a new program (src/store/state.cpp). */
struct xdpt_capacity {
	__u32 bitmaps;
	__u32 chunks;
	__u32 rules;
	__u32 counters; /* slots times CPUs */
	__u32 addr_blocks; /* the value map's address blocks (XDPT_ADDR_BLOCK entries each) */
};

#endif
