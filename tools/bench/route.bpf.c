/* The route floor of the benchmark: what any classifier that judges a packet exactly as
 * netfilter would has to pay before it looks at a single rule. It reads the Ethernet and
 * IPv4 headers, checks the IP checksum (the kernel drops a bad one before netfilter) and
 * asks the kernel's routing which of INPUT and FORWARD the packet goes to (bpf_fib_lookup,
 * as xdptables does), then drops the packet. Its BPF_PROG_TEST_RUN time, against the
 * floor's, is the part of the classifier cost no rule layout can remove. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdpt_ip.h"

#define AF_INET 2

SEC("xdp")
int xdp_route(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl != 5)
		return XDP_PASS;
	if (!xdpt_ip_csum_ok(ip))
		return XDP_PASS;
	__u8 *l4 = (void *)(ip + 1);
	if ((void *)(l4 + 4) > end)
		return XDP_PASS;
	struct bpf_fib_lookup fib = {};
	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.sport = *(__u16 *)l4;
	fib.dport = *(__u16 *)(l4 + 2);
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH);
	return rc < 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
