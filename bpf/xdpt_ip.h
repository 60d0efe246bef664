/* IPv4 header checks shared by xdptables' program and the benchmark's route floor
 * (tools/bench/route.bpf.c), which measures what any exact classifier must do. */
#ifndef XDPT_IP_H
#define XDPT_IP_H

#include <linux/types.h>

/* Whether the 20-byte IPv4 header at `ip` carries a correct checksum: ip_rcv drops one
 * that does not before netfilter sees it. */
static __always_inline int xdpt_ip_csum_ok(const void *ip)
{
	const __u16 *p = ip;
	__u32 sum = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += p[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

#endif
