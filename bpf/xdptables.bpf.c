/* xdptables' XDP program. It is attached to every interface of a network namespace
 * (lo included) and is also the anchor of the namespace's xdptables state: the maps it
 * references live as long as it is attached, and die with the namespace. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdpt_shared.h"

/* The inner map template of the store: pages of ruleset text. */
struct xdpt_store_pages {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, XDPT_STORE_PAGE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct xdpt_store_pages);
} xdpt_store SEC(".maps");

/* Never set: keeps the store referenced by the program without touching it per packet. */
const volatile __u32 xdpt_touch_store = 0;

SEC("xdp")
int xdpt_main(struct xdp_md *ctx)
{
	(void)ctx;
	if (xdpt_touch_store) {
		__u32 zero = 0;
		if (bpf_map_lookup_elem(&xdpt_store, &zero))
			return XDP_PASS;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
