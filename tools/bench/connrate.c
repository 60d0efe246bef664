/* TCP connections per second through a firewall (tools/bench/netfilter.py, shape conn).
 *   connrate -l ADDR PORT SECONDS     serve for SECONDS: accept, read a byte, write one
 *                                     back, close (the server closes first, so TIME_WAIT
 *                                     stays on its side and the client never runs out of
 *                                     ports)
 *   connrate -c ADDR PORT WARM WINDOW connect, send a byte, read the byte and the close,
 *                                     close; prints the connections per second completed
 *                                     in WINDOW seconds after WARM seconds
 * Bounded by its time arguments. IPv4 only. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_in address(const char *addr, const char *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "connrate: bad address %s\n", addr);
		exit(2);
	}
	return a;
}

static int serve(struct sockaddr_in a, double seconds)
{
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 4096)) {
		perror("connrate: listen");
		return 1;
	}
	struct timeval tv = {.tv_sec = 1};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	const double end = now() + seconds;
	while (now() < end) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		char b;
		if (read(c, &b, 1) == 1)
			(void)!write(c, &b, 1);
		close(c);
	}
	return 0;
}

static int client(struct sockaddr_in a, double warm, double window)
{
	struct timeval tv = {.tv_sec = 1};
	const double t0 = now(), start = t0 + warm, end = start + window;
	long done = 0, failed = 0;
	double first = 0, last = 0;
	for (double t = now(); t < end; t = now()) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		char b = 'x';
		int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0 && write(s, &b, 1) == 1 && read(s, &b, 1) == 1 &&
			 read(s, &b, 1) == 0;
		close(s);
		if (t < start)
			continue;
		if (!ok) {
			++failed;
			continue;
		}
		if (!done)
			first = t;
		last = now();
		++done;
	}
	if (done < 2) {
		fprintf(stderr, "connrate: %ld connections, %ld failed\n", done, failed);
		return 1;
	}
	printf("%.1f %ld %ld\n", (done - 1) / (last - first), done, failed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "-l"))
		return serve(address(argv[2], argv[3]), atof(argv[4]));
	if (argc == 6 && !strcmp(argv[1], "-c"))
		return client(address(argv[2], argv[3]), atof(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: connrate -l ADDR PORT SECONDS | -c ADDR PORT WARM WINDOW\n");
	return 2;
}
