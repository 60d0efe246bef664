/* socket-accel: same-host TCP that skips the stack.
 *
 * sockaccel_sockops (cgroup sock_ops) puts every established TCP end in scope into the
 * sockhash sockaccel_socks, keyed by namespace and 4-tuple. sockaccel_msg (sk_msg,
 * attached to that sockhash) then hands each send straight to the peer end's receive
 * queue (bpf_msg_redirect_hash with BPF_F_INGRESS) instead of through TCP and lo.
 *
 * Byte order across the two paths: the receiving end reads the redirected queue before
 * its TCP queue (tcp_bpf_recvmsg). So a sending end may move from redirect to TCP at any
 * time (what was redirected is older and is read first), but never back: an end's mode
 * is sticky (sa_sock.mode), and an end that sent anything by TCP keeps TCP.
 *
 * Paths the running kernel breaks (found by the self-test at enable, sa_config.unsafe)
 * are fenced: see sockaccel_splice_read. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sockaccel_shared.h"

#define AF_INET 2
#define AF_INET6 10
#define SK_PASS 1

char LICENSE[] SEC("license") = "GPL";

/* ---- maps ------------------------------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SA_MAX_SOCKETS);
	__type(key, struct sa_key);
	__type(value, __u64);
} sockaccel_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_config);
} sockaccel_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_info);
} sockaccel_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sa_stats);
} sockaccel_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SA_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u8);
} sockaccel_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SA_MAX_CIDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sa_cidr_key);
	__type(value, __u8);
} sockaccel_cidrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sa_sock);
} sockaccel_sk SEC(".maps");

/* ---- helpers ---------------------------------------------------------------------- */

static __always_inline struct sa_stats *sa_counters(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&sockaccel_stats, &zero);
}

#define COUNT(field, n)                                  \
	do {                                             \
		struct sa_stats *s__ = sa_counters();          \
		if (s__)                                 \
			s__->field += (n);               \
	} while (0)

static __always_inline struct sa_config *sa_cfg(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&sockaccel_config, &zero);
}

/* A remote port as the context gives it (network order, in the low or the high half)
 * in host order. Established ends never have port 0. (Local ports come in host order.) */
static __always_inline __u32 ctx_port(__u32 p)
{
	if (p & 0xffff)
		return bpf_ntohs((__u16)p);
	return bpf_ntohs((__u16)(p >> 16));
}

static __always_inline void v4_mapped(__u32 out[4], __u32 ip4)
{
	out[0] = 0;
	out[1] = 0;
	out[2] = bpf_htonl(0xffff);
	out[3] = ip4;
}

static __always_inline bool is_loopback(const __u32 a[4])
{
	if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff))
		return (bpf_ntohl(a[3]) >> 24) == 127;
	return a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == bpf_htonl(1);
}

static __always_inline bool same_addr(const __u32 a[4], const __u32 b[4])
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* The namespace of `sk` has an XDP program on lo: xdptables (or another firewall) judges
 * loopback traffic there, and what it judges must not bypass it. */
static __always_inline bool firewall_on_lo(struct bpf_sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return true;
	struct net *net = tp->inet_conn.icsk_inet.sk.__sk_common.skc_net.net;
	if (!net)
		return true;
	struct net_device *lo = net->loopback_dev;
	if (!lo)
		return true;
	return lo->xdp_prog != NULL;
}

static __always_inline bool in_scope(const struct sa_config *cfg, const struct sa_key *k)
{
	if (cfg->nports) {
		__u32 lp = k->lport, rp = k->rport;
		if (!bpf_map_lookup_elem(&sockaccel_ports, &lp) &&
		    !bpf_map_lookup_elem(&sockaccel_ports, &rp))
			return false;
	}
	if (cfg->ncidrs) {
		struct sa_cidr_key c = {.prefixlen = 128};
		__builtin_memcpy(c.addr, k->remote, sizeof(c.addr));
		if (!bpf_map_lookup_elem(&sockaccel_cidrs, &c))
			return false;
	}
	return true;
}

/* ---- sock_ops: record established ends ---------------------------------------------- */

SEC("sockops")
int sockaccel_sockops(struct bpf_sock_ops *skops)
{
	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	struct sa_config *cfg = sa_cfg();
	__u32 zero = 0;
	if (!cfg || !cfg->redirect || !bpf_map_lookup_elem(&sockaccel_info, &zero))
		return 1;
	struct bpf_sock *sk = skops->sk;
	if (!sk)
		return 1;

	struct sa_key k = {};
	if (skops->family == AF_INET) {
		v4_mapped(k.local, skops->local_ip4);
		v4_mapped(k.remote, skops->remote_ip4);
	} else if (skops->family == AF_INET6) {
		k.local[0] = skops->local_ip6[0];
		k.local[1] = skops->local_ip6[1];
		k.local[2] = skops->local_ip6[2];
		k.local[3] = skops->local_ip6[3];
		k.remote[0] = skops->remote_ip6[0];
		k.remote[1] = skops->remote_ip6[1];
		k.remote[2] = skops->remote_ip6[2];
		k.remote[3] = skops->remote_ip6[3];
	} else {
		return 1;
	}
	k.lport = skops->local_port; /* host order */
	k.rport = ctx_port(skops->remote_port);
	k.netns = bpf_get_netns_cookie(skops);

	COUNT(seen, 1);
	/* Both ends on this host: a loopback peer, or the end's own address. */
	if (!is_loopback(k.remote) && !same_addr(k.local, k.remote)) {
		COUNT(not_local, 1);
		return 1;
	}
	if (!in_scope(cfg, &k)) {
		COUNT(out_of_scope, 1);
		return 1;
	}
	if (firewall_on_lo(sk)) {
		COUNT(firewall, 1);
		return 1;
	}
	/* Fast open: data already crossed by TCP, it would be read after what we redirect. */
	if (skops->bytes_received || skops->bytes_acked > 1) {
		COUNT(early_data, 1);
		return 1;
	}
	long err = bpf_sock_hash_update(skops, &sockaccel_socks, &k, BPF_NOEXIST);
	if (err) {
		COUNT(map_full, 1);
		return 1;
	}
	COUNT(accelerated, 1);
	return 1;
}

/* ---- sk_msg: hand each send to the peer ----------------------------------------------- */

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* What the sender can see of the peer end (read-only, without its lock). */
struct peer_view {
	bool owned;        /* its user holds the socket lock: it is inside a read right now */
	bool sleeping;     /* a reader sleeps inside recvmsg (SOCKWQ_ASYNC_WAITDATA) */
	bool queues_empty; /* nothing waits in its TCP queue nor in its redirected queue */
};

static __always_inline void view_peer(struct sk_msg_md *msg, struct peer_view *v)
{
	struct sk_msg *kmsg = bpf_cast_to_kern_ctx(msg);
	struct sock *peer = kmsg->sk_redir;
	if (!peer) {
		v->owned = v->sleeping = true;
		return;
	}
	v->owned = peer->sk_lock.owned != 0;
	struct socket_wq *wq = peer->sk_wq;
	v->sleeping = wq && (wq->flags & (1UL << SOCKWQ_ASYNC_WAITDATA));
	struct sk_psock *psock = bpf_rdonly_cast(peer->sk_user_data, bpf_core_type_id_kernel(struct sk_psock));
	__u32 ingress = psock ? psock->msg_tot_len : 1;
	v->queues_empty = ingress == 0 && peer->sk_receive_queue.qlen == 0;
}

/* Sends the message by TCP after a redirect verdict was taken: the redirect is
 * retargeted to the sender's own egress, which is its TCP path. */
static __always_inline int send_by_tcp(struct sk_msg_md *msg, struct sa_key *peer)
{
	struct sa_key self = {};
	__builtin_memcpy(self.local, peer->remote, sizeof(self.local));
	__builtin_memcpy(self.remote, peer->local, sizeof(self.remote));
	self.lport = peer->rport;
	self.rport = peer->lport;
	self.netns = peer->netns;
	if (bpf_msg_redirect_hash(msg, &sockaccel_socks, &self, 0) != SK_PASS)
		return -1;
	return 0;
}

/* Busy-polling readers (recv(MSG_DONTWAIT) in a loop) take their socket lock again and
 * again; a redirect needs that lock (bpf_tcp_ingress), sleeps for it and is woken only
 * to find it taken again: round trips of milliseconds. TCP never waits for that lock
 * (softirq delivery goes to the socket backlog). So when the peer holds its lock with
 * nothing to read, twice in a row, this end goes back to TCP for good: what it
 * redirected before is older and is read first. */
#define SA_POLL_HITS 2

SEC("sk_msg")
int sockaccel_msg(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;
	struct sa_stats *s;
	if (!sk)
		return SK_PASS;
	struct sa_sock *st = bpf_sk_storage_get(&sockaccel_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return SK_PASS;
	__u32 size = msg->size;
	struct sa_config *cfg = sa_cfg();
	if (st->mode == SA_MODE_TCP || !cfg || !cfg->redirect || firewall_on_lo(sk))
		goto tcp;

	struct sa_key peer = {};
	if (msg->family == AF_INET) {
		v4_mapped(peer.local, msg->remote_ip4);
		v4_mapped(peer.remote, msg->local_ip4);
	} else if (msg->family == AF_INET6) {
		peer.local[0] = msg->remote_ip6[0];
		peer.local[1] = msg->remote_ip6[1];
		peer.local[2] = msg->remote_ip6[2];
		peer.local[3] = msg->remote_ip6[3];
		peer.remote[0] = msg->local_ip6[0];
		peer.remote[1] = msg->local_ip6[1];
		peer.remote[2] = msg->local_ip6[2];
		peer.remote[3] = msg->local_ip6[3];
	} else {
		goto tcp;
	}
	peer.lport = ctx_port(msg->remote_port);
	peer.rport = msg->local_port;
	peer.netns = bpf_get_netns_cookie(msg);

	if (bpf_msg_redirect_hash(msg, &sockaccel_socks, &peer, BPF_F_INGRESS) != SK_PASS) {
		if (st->mode == SA_MODE_UNDECIDED) {
			COUNT(no_peer, 1);
			goto tcp;
		}
		/* The peer left the map (it closed): nothing more to order against. */
		goto tcp;
	}

	struct peer_view v = {};
	view_peer(msg, &v);
	if (v.owned && v.queues_empty && !v.sleeping) {
		if (++st->poll_hits >= SA_POLL_HITS)
			goto busy_tcp;
	} else {
		st->poll_hits = 0;
	}

	if (st->mode == SA_MODE_UNDECIDED)
		st->mode = SA_MODE_REDIRECT;
	st->bytes += size;
	s = sa_counters();
	if (s) {
		s->msgs_redirected++;
		s->bytes_redirected += size;
	}
	return SK_PASS;

busy_tcp:
	if (send_by_tcp(msg, &peer))
		return SK_PASS; /* cannot happen: this end is in the map */
	st->mode = SA_MODE_TCP;
	s = sa_counters();
	if (s) {
		s->peer_busy++;
		s->msgs_tcp++;
		s->bytes_tcp += size;
	}
	return SK_PASS;
tcp:
	st->mode = SA_MODE_TCP;
	s = sa_counters();
	if (s) {
		s->msgs_tcp++;
		s->bytes_tcp += size;
	}
	return SK_PASS;
}
