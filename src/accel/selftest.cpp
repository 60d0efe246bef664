#include "accel/selftest.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "core/str.hpp"
#include "sockaccel_shared.h"

namespace xdpt::accel {
namespace {

// ---- in the child: one connection over 127.0.0.1 ---------------------------------

uint8_t pattern(uint64_t i) { return static_cast<uint8_t>((i * 131) ^ (i >> 9)); }

struct Conn {
    int client = -1, server = -1;
    ~Conn() {
        if (client >= 0) close(client);
        if (server >= 0) close(server);
    }
};

bool connect_pair(Conn& c) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (l < 0 || bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) || listen(l, 8) ||
        getsockname(l, reinterpret_cast<sockaddr*>(&a), &len))
        return false;
    c.client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c.client, reinterpret_cast<sockaddr*>(&a), sizeof a)) return false;
    c.server = accept(l, nullptr, nullptr);
    close(l);
    return c.server >= 0;
}

bool send_pattern(int fd, uint64_t n) {
    std::vector<uint8_t> b(65536);
    for (uint64_t off = 0; off < n;) {
        size_t k = std::min<uint64_t>(b.size(), n - off);
        for (size_t i = 0; i < k; ++i) b[i] = pattern(off + i);
        ssize_t w = write(fd, b.data(), k);
        if (w <= 0) return false;
        off += static_cast<uint64_t>(w);
    }
    return true;
}

// Reads n bytes of the pattern with `rd`, then expects EOF.
bool recv_pattern(uint64_t n, const std::function<ssize_t(uint8_t*, size_t)>& rd) {
    std::vector<uint8_t> b(65536);
    uint64_t off = 0;
    for (;;) {
        ssize_t r = rd(b.data(), b.size());
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return r == 0 && off == n;
        for (ssize_t i = 0; i < r; ++i)
            if (off + static_cast<uint64_t>(i) >= n || b[static_cast<size_t>(i)] != pattern(off + static_cast<uint64_t>(i))) return false;
        off += static_cast<uint64_t>(r);
    }
}

// The client sends n bytes with `snd` and shuts down; the server reads them with `rd`.
bool one_way(uint64_t n, const std::function<ssize_t(int, uint8_t*, size_t)>& rd,
             const std::function<bool(int, uint64_t)>& snd = send_pattern) {
    Conn c;
    if (!connect_pair(c)) return false;
    bool sent = false;
    std::thread t([&] {
        sent = snd(c.client, n);
        shutdown(c.client, SHUT_WR);
    });
    bool ok = recv_pattern(n, [&](uint8_t* b, size_t k) { return rd(c.server, b, k); });
    t.join();
    return ok && sent;
}

ssize_t plain(int fd, uint8_t* b, size_t n) { return read(fd, b, n); }

bool check_read() { return one_way(4 << 20, plain); }

bool check_peek() {
    return one_way(1 << 20, [](int fd, uint8_t* b, size_t n) -> ssize_t {
        std::vector<uint8_t> p(n);
        ssize_t k = recv(fd, p.data(), n, MSG_PEEK);
        if (k <= 0) return k;
        ssize_t r = recv(fd, b, static_cast<size_t>(k), MSG_WAITALL);
        return r == k && std::memcmp(p.data(), b, static_cast<size_t>(k)) == 0 ? r : -1;
    });
}

bool check_fionread() {
    Conn c;
    if (!connect_pair(c)) return false;
    for (int i = 1; i <= 20; ++i) {
        int n = i * 97;
        if (!send_pattern(c.client, static_cast<uint64_t>(n))) return false;
        int avail = 0;
        for (int t = 0; t < 500 && avail < n; ++t) {
            ioctl(c.server, FIONREAD, &avail);
            if (avail < n) usleep(1000);
        }
        std::vector<uint8_t> b(static_cast<size_t>(n));
        if (avail != n || recv(c.server, b.data(), b.size(), MSG_WAITALL) != n) return false;
    }
    return true;
}

bool check_poll() {
    return one_way(1 << 20, [](int fd, uint8_t* b, size_t n) -> ssize_t {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 3000) != 1) return -1;
        return recv(fd, b, n, MSG_DONTWAIT);
    });
}

bool check_splice_read() {
    int pp[2];
    if (pipe(pp)) return false;
    bool ok = one_way(1 << 20, [&](int fd, uint8_t* b, size_t n) -> ssize_t {
        ssize_t k = splice(fd, nullptr, pp[1], nullptr, n, 0);
        return k <= 0 ? k : read(pp[0], b, static_cast<size_t>(k));
    });
    close(pp[0]), close(pp[1]);
    return ok;
}

bool check_sendfile() {
    return one_way(8 << 20, plain, [](int fd, uint64_t n) {
        int f = memfd_create("xdpt-selftest", 0);
        if (f < 0) return false;
        bool ok = send_pattern(f, n);
        off_t off = 0;
        while (ok && static_cast<uint64_t>(off) < n)
            ok = sendfile(fd, f, &off, std::min<uint64_t>(300000, n - static_cast<uint64_t>(off))) > 0;
        close(f);
        return ok;
    });
}

// Request, shutdown(SHUT_WR), blocking read of the answer: the answer must come whole,
// then EOF; never EAGAIN on a blocking socket.
bool check_half_close() {
    for (int i = 0; i < 300; ++i) {
        Conn c;
        if (!connect_pair(c)) return false;
        std::thread srv([&] {
            std::vector<uint8_t> b(4096);
            ssize_t r;
            while ((r = read(c.server, b.data(), b.size())) > 0) {
            }
            send_pattern(c.server, 3000);
            shutdown(c.server, SHUT_WR);
        });
        send_pattern(c.client, 1000);
        shutdown(c.client, SHUT_WR);
        bool ok = recv_pattern(3000, [&](uint8_t* b, size_t k) { return read(c.client, b, k); });
        srv.join();
        if (!ok) return false;
    }
    return true;
}

struct Check {
    uint32_t path;
    const char* name;
    bool (*run)();
};
constexpr Check checks[] = {
    {SA_PATH_READ, "read/recv", check_read},
    {SA_PATH_PEEK, "MSG_PEEK", check_peek},
    {SA_PATH_FIONREAD, "FIONREAD", check_fionread},
    {SA_PATH_POLL, "poll wake-ups", check_poll},
    {SA_PATH_SPLICE_READ, "splice read", check_splice_read},
    {SA_PATH_SENDFILE, "sendfile write", check_sendfile},
    {SA_PATH_HALF_CLOSE, "read after shutdown(SHUT_WR)", check_half_close},
};

// In a fresh child: joins `procs` (the test cgroup), a new network namespace with lo up,
// runs the check under a 10 s alarm. Exit 0: correct; anything else: broken.
[[noreturn]] void child(const std::string& procs, const Check& c) {
    signal(SIGALRM, SIG_DFL);
    alarm(10);
    {
        std::ofstream f(procs);
        f << "0\n";
        f.flush();
        if (!f) _exit(10);
    }
    if (unshare(CLONE_NEWNET)) _exit(11);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr)) _exit(12);
    close(s);
    signal(SIGPIPE, SIG_IGN);
    _exit(c.run() ? 0 : 1);
}

uint64_t redirected(int stats_fd) {
    int ncpu = libbpf_num_possible_cpus();
    std::vector<sa_stats> per(static_cast<size_t>(ncpu > 0 ? ncpu : 1));
    uint32_t zero = 0;
    if (bpf_map_lookup_elem(stats_fd, &zero, per.data())) return 0;
    uint64_t sum = 0;
    for (const auto& s : per) sum += s.bytes_redirected;
    return sum;
}

}  // namespace

Result<SelfTest> self_test(const Cgroup2& cg, int sockops_fd, int stats_fd) {
    const std::string rel = str("xdptables-selftest.", getpid());
    const std::string dir = cg.path(rel);
    if (mkdir(dir.c_str(), 0700) && errno != EEXIST)
        return fail(Exit::resource, str("socket-accel: self-test: cannot create cgroup ", dir, ": ", std::strerror(errno)));
    int cgfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (cgfd < 0 || bpf_prog_attach(sockops_fd, cgfd, BPF_CGROUP_SOCK_OPS, BPF_F_ALLOW_MULTI)) {
        int err = errno;
        if (cgfd >= 0) close(cgfd);
        rmdir(dir.c_str());
        return fail(Exit::version, str("socket-accel: this kernel refuses a sock_ops program on a cgroup: ", std::strerror(err)));
    }
    SelfTest t;
    for (const Check& c : checks) {
        uint64_t before = redirected(stats_fd);
        pid_t pid = fork();
        if (pid == 0) child(dir + "/cgroup.procs", c);
        int status = -1;
        if (pid > 0) waitpid(pid, &status, 0);
        bool ok = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        bool accelerated = redirected(stats_fd) > before;
        if (!ok) {
            t.unsafe |= c.path;
            const char* how = WIFSIGNALED(status) ? "hangs" : "loses or reorders bytes, or fails";
            t.findings += str(c.name, ": BROKEN on this kernel (", how, ")\n");
        } else if (!accelerated && c.path == SA_PATH_READ) {
            t.unsafe |= c.path;
            t.findings += str(c.name, ": not accelerated (no byte was redirected)\n");
        } else {
            t.findings += str(c.name, ": ok\n");
        }
    }
    bpf_prog_detach2(sockops_fd, cgfd, BPF_CGROUP_SOCK_OPS);
    close(cgfd);
    // The children have exited: the cgroup is empty and can go.
    for (int i = 0; i < 100 && rmdir(dir.c_str()) && errno == EBUSY; ++i) usleep(10000);
    return t;
}

}  // namespace xdpt::accel
