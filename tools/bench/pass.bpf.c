/* The cost of XDP itself for traffic that goes up: one instruction that passes every
 * frame. On a veth, attaching any XDP program moves the receive path to the veth's NAPI
 * and copies each skb whose headroom is short of XDP's into a page; this program shows
 * that price apart from any classifier's. */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
