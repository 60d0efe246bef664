/* Map layouts shared by the socket-accel BPF programs (sockaccel.bpf.c) and the C++
 * side (src/accel). Fixed-width types only; sizes are checked on both sides. */
#ifndef SOCKACCEL_SHARED_H
#define SOCKACCEL_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#ifdef __cplusplus
#define SA_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define SA_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* One end of an established TCP connection, as the end itself sees it. The peer of
 * {ns, local, remote, lport, rport} is {ns, remote, local, rport, lport}: the network
 * namespace is part of the key, so that two namespaces using 127.0.0.1 and the same
 * ports never meet. Addresses are IPv6 (IPv4 as ::ffff:a.b.c.d), ports in host order. */
struct sa_key {
	__u64 netns;
	__u32 local[4];
	__u32 remote[4];
	__u32 lport;
	__u32 rport;
};
SA_ASSERT(sizeof(struct sa_key) == 48, "sa_key layout");

#define SA_MAX_SOCKETS 65536
#define SA_MAX_PORTS 64
#define SA_MAX_CIDRS 64

/* What the self-test at enable found unsafe on the running kernel (sa_config.unsafe). */
enum sa_path {
	SA_PATH_SPLICE_READ = 1u << 0, /* splice() from an accelerated socket */
	SA_PATH_SENDFILE = 1u << 1,    /* sendfile()/splice() into an accelerated socket */
	SA_PATH_FIONREAD = 1u << 2,    /* ioctl(FIONREAD) */
	SA_PATH_PEEK = 1u << 3,        /* recv(MSG_PEEK) */
	SA_PATH_POLL = 1u << 4,        /* poll/epoll wake-ups */
	SA_PATH_READ = 1u << 5,        /* read/recv/readv: nothing is accelerated without it */
	SA_PATH_HALF_CLOSE = 1u << 6,  /* blocking read after shutdown(SHUT_WR) */
};

/* The single entry of sockaccel_config. */
struct sa_config {
	__u32 redirect;   /* 0: every message takes the TCP path (disable drains this way) */
	__u32 unsafe;     /* enum sa_path bits the self-test found broken */
	__u32 nports;     /* 0: every port; else the ports in sockaccel_ports */
	__u32 ncidrs;     /* 0: every address; else the prefixes in sockaccel_cidrs */
};
SA_ASSERT(sizeof(struct sa_config) == 16, "sa_config layout");

/* The per-CPU counters (sockaccel_stats, one entry). */
struct sa_stats {
	__u64 seen;            /* connection ends that reached ESTABLISHED in scope of the cgroup */
	__u64 accelerated;     /* ends put in the sockhash */
	__u64 not_local;       /* refused: the peer is not on this host */
	__u64 out_of_scope;    /* refused: --ports / --cidr */
	__u64 firewall;        /* refused: an XDP firewall on the namespace's lo */
	__u64 early_data;      /* refused: data crossed before ESTABLISHED (fast open) */
	__u64 map_full;        /* refused: the sockhash is full */
	__u64 unsafe_io;       /* ends taken back to TCP: an I/O path the kernel breaks */
	__u64 no_peer;         /* sending ends whose peer was not accelerated (TCP kept) */
	__u64 msgs_redirected;
	__u64 bytes_redirected;
	__u64 msgs_tcp;        /* messages of accelerated ends that took the TCP path */
	__u64 bytes_tcp;
	__u64 peer_busy;       /* of those, sent by TCP because the reader was busy-polling */
};
#define SA_STATS_WORDS (sizeof(struct sa_stats) / 8)

/* Per-socket state (sockaccel_sk, socket storage). */
enum sa_mode {
	SA_MODE_UNDECIDED = 0, /* no message sent yet */
	SA_MODE_REDIRECT = 1,  /* every message so far went to the peer's queue */
	SA_MODE_TCP = 2,       /* TCP only, for good (no peer, busy peer, firewall, disable) */
};
struct sa_sock {
	__u32 mode;      /* enum sa_mode, of this end as a sender */
	__u32 poll_hits; /* consecutive sends that found the peer polling */
	__u64 bytes;     /* redirected by this end */
};
SA_ASSERT(sizeof(struct sa_sock) == 16, "sa_sock layout");

/* What enable recorded (sockaccel_info, one entry): where the sock_ops program is
 * attached (path below the cgroup2 root, "" for the root) and the scope as given. */
struct sa_info {
	char cgroup[256];
	char ports[256];
	char cidrs[512];
	char selftest[248]; /* the self-test's findings, as status prints them */
	__s64 keeper;       /* pid of the process that holds the sockhash open */
};
SA_ASSERT(sizeof(struct sa_info) == 1280, "sa_info layout");

/* A --cidr prefix (LPM trie key), address as in sa_key. */
struct sa_cidr_key {
	__u32 prefixlen;
	__u32 addr[4];
};

#endif
