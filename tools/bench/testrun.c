/* BPF_PROG_TEST_RUN timing of one XDP program on a list of frames.
 *
 *   testrun (--anchor | --obj FILE.o) --ifname IF (--repeat N | --cold N) < frames
 *
 * --anchor takes the XDP program attached to lo of the current network namespace (the
 * xdptables anchor, found as xdptables finds it: by asking the kernel); --obj loads the
 * first program of a BPF object file (the floor). Each input line is one frame in hex; it
 * is run `repeat` times as if received on IF, and one line is printed per frame:
 * "<xdp action> <ns per run>". --cold N runs each frame N times one run at a time,
 * 256 KiB written between two runs (TESTRUN_FLUSH_KB), which leaves little of the
 * program's data in the CPU's first two cache levels, and prints the median: what a
 * run costs when the kernel's own path has just gone through the caches, as in a flood
 * (the figure holds the test-run's own reading of the clock: compare with the floor's).
 * Refuses to run while kernel.bpf_stats_enabled is on (the kernel would then time every
 * run of every program, and the figures would hold that cost too). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int on = 1;
	if (!f)
		return 1;
	if (fscanf(f, "%d", &on) != 1)
		on = 1;
	fclose(f);
	return on;
}

static int anchor_prog(void)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int lo = (int)if_nametoindex("lo");
	if (!lo || bpf_xdp_query(lo, 0, &q))
		return -1;
	__u32 id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	return id ? bpf_prog_get_fd_by_id(id) : -1;
}

static int obj_prog(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj || bpf_object__load(obj))
		return -1;
	struct bpf_program *p = bpf_object__next_program(obj, NULL);
	return p ? bpf_program__fd(p) : -1; /* the object stays loaded until exit */
}

static size_t flush_bytes = 256u << 10; /* TESTRUN_FLUSH_KB */
static unsigned char *flush;

static int cmp_u32(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static int unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	for (; s[0] && s[1] && s[0] != '\n'; s += 2) {
		unsigned v;
		if (n == max || sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (unsigned char)v;
	}
	return (int)n;
}

int main(int argc, char **argv)
{
	const char *obj = NULL, *ifname = NULL;
	int anchor = 0;
	unsigned long repeat = 1000000, cold = 0;
	static const struct option opts[] = {
		{"anchor", no_argument, NULL, 'a'}, {"obj", required_argument, NULL, 'o'},
		{"ifname", required_argument, NULL, 'i'}, {"repeat", required_argument, NULL, 'r'},
		{"cold", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0}};
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 'a')
			anchor = 1;
		else if (c == 'o')
			obj = optarg;
		else if (c == 'i')
			ifname = optarg;
		else if (c == 'r')
			repeat = strtoul(optarg, NULL, 0);
		else if (c == 'c')
			cold = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	if ((!anchor == !obj) || !ifname || !repeat) {
		fprintf(stderr, "usage: testrun (--anchor | --obj FILE.o) --ifname IF [--repeat N | --cold N] < frames\n");
		return 2;
	}
	if (stats_enabled()) {
		fprintf(stderr, "testrun: kernel.bpf_stats_enabled is not 0; refusing to measure\n");
		return 1;
	}
	unsigned ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "testrun: no interface %s\n", ifname);
		return 1;
	}
	int fd = anchor ? anchor_prog() : obj_prog(obj);
	if (fd < 0) {
		fprintf(stderr, "testrun: no program (%s)\n", anchor ? "nothing on lo" : obj);
		return 1;
	}
	if (getenv("TESTRUN_FLUSH_KB"))
		flush_bytes = strtoul(getenv("TESTRUN_FLUSH_KB"), NULL, 0) << 10;
	flush = cold ? malloc(flush_bytes) : NULL;
	char line[8192];
	unsigned char frame[4096];
	while (fgets(line, sizeof line, stdin)) {
		int len = unhex(line, frame, sizeof frame);
		if (len < 14) {
			fprintf(stderr, "testrun: bad frame line\n");
			return 1;
		}
		struct xdp_md ctx = {.data_end = (__u32)len, .ingress_ifindex = ifindex};
		if (cold) {
			unsigned ret = 0;
			unsigned *t = calloc(cold, sizeof *t);
			if (!t || !flush)
				return 1;
			for (unsigned long k = 0; k < cold; k++) {
				memset(flush, (int)k, flush_bytes);
				LIBBPF_OPTS(bpf_test_run_opts, o1, .data_in = frame, .data_size_in = (__u32)len,
					    .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = 1);
				if (bpf_prog_test_run_opts(fd, &o1)) {
					fprintf(stderr, "testrun: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
					return 1;
				}
				ret = o1.retval;
				t[k] = o1.duration;
			}
			qsort(t, cold, sizeof *t, cmp_u32);
			printf("%u %u\n", ret, t[cold / 2]);
			fflush(stdout);
			free(t);
			continue;
		}
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof ctx, .repeat = (int)repeat);
		if (bpf_prog_test_run_opts(fd, &o)) {
			fprintf(stderr, "testrun: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			return 1;
		}
		printf("%u %u\n", o.retval, o.duration);
		fflush(stdout);
	}
	return 0;
}
