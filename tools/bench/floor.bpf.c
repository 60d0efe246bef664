/* The floor of the benchmark: the cheapest XDP program there is, one instruction that
 * drops every frame. Its drop rate bounds what any XDP classifier can reach on the link;
 * its BPF_PROG_TEST_RUN time is the fixed cost of running a program at all. */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int xdp_floor(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char LICENSE[] __attribute__((section("license"), used)) = "GPL";
