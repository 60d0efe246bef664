// accel_io: one TCP connection (or many) over 127.0.0.1 between two threads of this
// process, exercising one I/O path with a checksummed payload. Run inside a cgroup where
// socket-accel is enabled it tests the shortcut; run elsewhere it tests plain TCP.
//
//   accel_io PATH [--bytes N] [--count N] [--port P] [--timeout S] [--seed S]
//
// PATH: read readv recv peek fionread poll epoll splice sendfile splicewrite shutdown rst
//       large many busy pingpong bidir bidirhc preexisting
// Exit 0: every byte arrived in order; 1: wrong bytes or a wrong result; 3: timed out
// (a hang); 2: usage. The payload is a keyed stream (byte i is a function of the seed and
// i), checked byte by byte by the reader.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
    std::string path;
    uint64_t bytes = 8 << 20;
    int count = 200;
    int port = 0;
    int timeout = 60;
    uint64_t seed = 1;
};
Options opt;

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "accel_io %s: %s: %s\n", opt.path.c_str(), what, std::strerror(errno));
    std::_Exit(1);
}
[[noreturn]] void wrong(const std::string& what) {
    std::fprintf(stderr, "accel_io %s: %s\n", opt.path.c_str(), what.c_str());
    std::_Exit(1);
}

// The payload: byte i of stream `seed`.
struct Stream {
    uint64_t seed;
    uint64_t pos = 0;
    static uint64_t word(uint64_t seed, uint64_t i) {
        uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed * 0xD1B54A32D192ED03ull;
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9ull;
        return x ^ (x >> 29);
    }
    uint8_t at(uint64_t i) const { return static_cast<uint8_t>(word(seed, i >> 3) >> ((i & 7) * 8)); }
    void fill(uint8_t* p, size_t n) {
        for (size_t k = 0; k < n; ++k) p[k] = at(pos + k);
        pos += n;
    }
    // Checks the next n bytes; the position of the first wrong one is reported.
    void check(const uint8_t* p, size_t n) {
        for (size_t k = 0; k < n; ++k)
            if (p[k] != at(pos + k))
                wrong("byte " + std::to_string(pos + k) + " differs (lost, duplicated or reordered data)");
        pos += n;
    }
};

// Small random sizes for chunks, from a generator of their own.
struct Sizes {
    uint64_t s;
    size_t next(size_t max) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        return 1 + s % max;
    }
};

int listener(int* port) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0) die("socket");
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(*port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind");
    if (listen(l, 1024) < 0) die("listen");
    socklen_t len = sizeof a;
    getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
    *port = ntohs(a.sin_port);
    return l;
}

int connect_to(int port) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0) die("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("connect");
    return c;
}

struct Pair {
    int client, server;
};
Pair make_pair(int l, int port) {
    int c = connect_to(port);
    int s = accept(l, nullptr, nullptr);
    if (s < 0) die("accept");
    return {c, s};
}

void write_all(int fd, const uint8_t* p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        p += w, n -= static_cast<size_t>(w);
    }
}

// Sends `total` bytes of stream `seed` in random chunks.
void send_stream(int fd, uint64_t total, uint64_t seed) {
    Stream st{seed};
    Sizes sz{seed * 7 + 3};
    std::vector<uint8_t> buf(1 << 20);
    while (st.pos < total) {
        size_t n = std::min<uint64_t>(sz.next(buf.size()), total - st.pos);
        st.fill(buf.data(), n);
        write_all(fd, buf.data(), n);
    }
}

// Receives exactly `total` bytes of stream `seed` with `rd` (returns what read() would),
// then expects EOF when `eof`.
void recv_stream(uint64_t total, uint64_t seed, const std::function<ssize_t(uint8_t*, size_t)>& rd,
                 bool eof = false) {
    Stream st{seed};
    Sizes sz{seed * 11 + 5};
    std::vector<uint8_t> buf(1 << 20);
    while (st.pos < total) {
        size_t want = std::min<uint64_t>(sz.next(buf.size()), total - st.pos);
        ssize_t r = rd(buf.data(), want);
        if (r < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        if (r == 0) wrong("EOF after " + std::to_string(st.pos) + " of " + std::to_string(total) + " bytes");
        st.check(buf.data(), static_cast<size_t>(r));
    }
    if (eof) {
        ssize_t r = rd(buf.data(), buf.size());
        if (r != 0) wrong("expected EOF, got " + std::to_string(r) + (r < 0 ? std::string(" (") + std::strerror(errno) + ")" : std::string()));
    }
}

ssize_t plain_read(int fd, uint8_t* p, size_t n) { return read(fd, p, n); }

// One connection: the client sends the stream, the server receives it with `rd`.
void one_way(const std::function<ssize_t(int, uint8_t*, size_t)>& rd,
             const std::function<void(int, uint64_t, uint64_t)>& snd = send_stream) {
    int port = opt.port;
    int l = listener(&port);
    Pair p = make_pair(l, port);
    std::thread t([&] {
        snd(p.client, opt.bytes, opt.seed);
        shutdown(p.client, SHUT_WR);
    });
    recv_stream(opt.bytes, opt.seed, [&](uint8_t* b, size_t n) { return rd(p.server, b, n); }, true);
    t.join();
    close(p.client), close(p.server), close(l);
}

void path_peek() {
    one_way([](int fd, uint8_t* b, size_t n) -> ssize_t {
        std::vector<uint8_t> peeked(n);
        ssize_t k = recv(fd, peeked.data(), n, MSG_PEEK);
        if (k <= 0) return k;
        ssize_t r = recv(fd, b, static_cast<size_t>(k), MSG_WAITALL);
        if (r != k || std::memcmp(peeked.data(), b, static_cast<size_t>(k)) != 0)
            wrong("MSG_PEEK saw other bytes than the read that followed");
        return r;
    });
}

void path_fionread() {
    int port = opt.port;
    int l = listener(&port);
    Pair p = make_pair(l, port);
    Stream out{opt.seed}, in{opt.seed};
    std::vector<uint8_t> buf(4096);
    for (int i = 0; i < opt.count; ++i) {
        size_t n = 1 + static_cast<size_t>(i * 37 % 4000);
        out.fill(buf.data(), n);
        write_all(p.client, buf.data(), n);
        int avail = 0;
        for (int tries = 0; tries < 2000 && avail < static_cast<int>(n); ++tries) {
            if (ioctl(p.server, FIONREAD, &avail) < 0) die("FIONREAD");
            if (avail < static_cast<int>(n)) usleep(1000);
        }
        if (avail != static_cast<int>(n))
            wrong("FIONREAD says " + std::to_string(avail) + " bytes, " + std::to_string(n) + " are queued");
        if (recv(p.server, buf.data(), n, MSG_WAITALL) != static_cast<ssize_t>(n)) die("recv");
        in.check(buf.data(), n);
    }
    close(p.client), close(p.server), close(l);
}

// Readiness-driven reader: non-blocking socket, reads only after `wait` says so.
void readiness(bool use_epoll) {
    int port = opt.port;
    int l = listener(&port);
    Pair p = make_pair(l, port);
    fcntl(p.server, F_SETFL, O_NONBLOCK);
    int ep = -1;
    if (use_epoll) {
        ep = epoll_create1(0);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLET | EPOLLRDHUP;
        ev.data.fd = p.server;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, p.server, &ev) < 0) die("epoll_ctl");
    }
    std::thread t([&] {
        Stream st{opt.seed};
        Sizes sz{opt.seed + 99};
        std::vector<uint8_t> buf(65536);
        while (st.pos < opt.bytes) {
            size_t n = std::min<uint64_t>(sz.next(buf.size()), opt.bytes - st.pos);
            st.fill(buf.data(), n);
            write_all(p.client, buf.data(), n);
            if (sz.next(4) == 1) usleep(200);  // let the reader go back to sleep
        }
        shutdown(p.client, SHUT_WR);
    });
    Stream in{opt.seed};
    std::vector<uint8_t> buf(1 << 16);
    bool eof = false;
    while (!eof) {
        if (use_epoll) {
            epoll_event ev;
            int n = epoll_wait(ep, &ev, 1, 10000);
            if (n == 0) wrong("epoll_wait: no wake-up in 10 s with data pending");
            if (n < 0 && errno != EINTR) die("epoll_wait");
        } else {
            pollfd pf{p.server, POLLIN, 0};
            int n = poll(&pf, 1, 10000);
            if (n == 0) wrong("poll: no wake-up in 10 s with data pending");
            if (n < 0 && errno != EINTR) die("poll");
        }
        for (;;) {  // drain (edge-triggered)
            ssize_t r = read(p.server, buf.data(), buf.size());
            if (r > 0) {
                in.check(buf.data(), static_cast<size_t>(r));
                continue;
            }
            if (r == 0) eof = true;
            else if (errno != EAGAIN) die("read");
            break;
        }
    }
    if (in.pos != opt.bytes) wrong("EOF after " + std::to_string(in.pos) + " bytes");
    t.join();
    if (ep >= 0) close(ep);
    close(p.client), close(p.server), close(l);
}

void path_splice() {
    int pipefd[2];
    if (pipe(pipefd) < 0) die("pipe");
    one_way([&](int fd, uint8_t* b, size_t n) -> ssize_t {
        ssize_t k = splice(fd, nullptr, pipefd[1], nullptr, std::min<size_t>(n, 65536), SPLICE_F_MOVE);
        if (k <= 0) return k;
        size_t got = 0;
        while (got < static_cast<size_t>(k)) {
            ssize_t r = read(pipefd[0], b + got, static_cast<size_t>(k) - got);
            if (r <= 0) die("read from pipe");
            got += static_cast<size_t>(r);
        }
        return k;
    });
}

// A memfd holding the whole stream, for the sending paths that read from a file.
int stream_file(uint64_t total, uint64_t seed) {
    int f = memfd_create("accel_io", 0);
    if (f < 0) die("memfd_create");
    Stream st{seed};
    std::vector<uint8_t> buf(1 << 20);
    while (st.pos < total) {
        size_t n = std::min<uint64_t>(buf.size(), total - st.pos);
        st.fill(buf.data(), n);
        write_all(f, buf.data(), n);
    }
    return f;
}

void path_sendfile() {
    one_way(plain_read, [](int fd, uint64_t total, uint64_t seed) {
        int f = stream_file(total, seed);
        off_t off = 0;
        Sizes sz{seed};
        while (static_cast<uint64_t>(off) < total) {
            ssize_t w = sendfile(fd, f, &off, std::min<uint64_t>(sz.next(1 << 20), total - off));
            if (w < 0) die("sendfile");
        }
        close(f);
    });
}

void path_splicewrite() {
    one_way(plain_read, [](int fd, uint64_t total, uint64_t seed) {
        int f = stream_file(total, seed);
        int pp[2];
        if (pipe(pp) < 0) die("pipe");
        loff_t off = 0;
        while (static_cast<uint64_t>(off) < total) {
            ssize_t k = splice(f, &off, pp[1], nullptr, std::min<uint64_t>(65536, total - off), 0);
            if (k <= 0) die("splice file to pipe");
            while (k > 0) {
                ssize_t w = splice(pp[0], nullptr, fd, nullptr, static_cast<size_t>(k), SPLICE_F_MORE);
                if (w <= 0) die("splice pipe to socket");
                k -= w;
            }
        }
        close(pp[0]), close(pp[1]), close(f);
    });
}

// Half-close: the client sends and shuts down its side; the server reads to EOF and only
// then answers on the still-open other direction.
void path_shutdown() {
    int port = opt.port;
    int l = listener(&port);
    for (int i = 0; i < std::max(1, opt.count / 20); ++i) {
        Pair p = make_pair(l, port);
        uint64_t n = opt.bytes / 8 + static_cast<uint64_t>(i) * 1000;
        std::thread t([&] {
            send_stream(p.client, n, opt.seed + i);
            shutdown(p.client, SHUT_WR);
            recv_stream(n / 2, opt.seed + i + 1000, [&](uint8_t* b, size_t k) { return read(p.client, b, k); }, true);
        });
        recv_stream(n, opt.seed + i, [&](uint8_t* b, size_t k) { return read(p.server, b, k); }, true);
        send_stream(p.server, n / 2, opt.seed + i + 1000);
        shutdown(p.server, SHUT_WR);
        t.join();
        close(p.client), close(p.server);
    }
    close(l);
}

// Reset: the client sends, then aborts (SO_LINGER 0). The server must read every byte
// sent and then see the reset (ECONNRESET) or EOF, never hang.
void path_rst() {
    int port = opt.port;
    int l = listener(&port);
    for (int i = 0; i < std::max(1, opt.count / 20); ++i) {
        Pair p = make_pair(l, port);
        uint64_t n = 100000 + static_cast<uint64_t>(i) * 777;
        send_stream(p.client, n, opt.seed + i);
        usleep(1000);
        linger lg{1, 0};
        setsockopt(p.client, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(p.client);
        Stream in{opt.seed + i};
        std::vector<uint8_t> buf(65536);
        for (;;) {
            ssize_t r = read(p.server, buf.data(), buf.size());
            if (r > 0) {
                if (in.pos + static_cast<uint64_t>(r) > n) wrong("more bytes than were sent");
                in.check(buf.data(), static_cast<size_t>(r));
                continue;
            }
            if (r < 0 && errno != ECONNRESET) die("read after reset");
            break;
        }
        if (in.pos != n) wrong("reset: read " + std::to_string(in.pos) + " of " + std::to_string(n) + " bytes");
        close(p.server);
    }
    close(l);
}

// Many short connections: each sends a random-size request, the server echoes it.
void path_many() {
    int port = opt.port;
    int l = listener(&port);
    std::thread srv([&] {
        std::vector<uint8_t> buf(1 << 16);
        for (int i = 0; i < opt.count; ++i) {
            int s = accept(l, nullptr, nullptr);
            if (s < 0) die("accept");
            for (;;) {
                ssize_t r = read(s, buf.data(), buf.size());
                if (r < 0) die("server read");
                if (r == 0) break;
                write_all(s, buf.data(), static_cast<size_t>(r));
            }
            close(s);
        }
    });
    Sizes sz{opt.seed};
    for (int i = 0; i < opt.count; ++i) {
        int c = connect_to(port);
        uint64_t n = sz.next(20000);
        std::thread w([&] {
            send_stream(c, n, opt.seed + i);
            shutdown(c, SHUT_WR);
        });
        recv_stream(n, opt.seed + i, [&](uint8_t* b, size_t k) { return read(c, b, k); }, true);
        w.join();
        close(c);
    }
    srv.join();
    close(l);
}

// Request/response of 64-byte messages, with blocking reads or with MSG_DONTWAIT busy
// loops on both sides (how latency-sensitive applications poll).
void path_pingpong(int flags) {
    int port = opt.port;
    int l = listener(&port);
    Pair p = make_pair(l, port);
    auto recv_busy = [flags](int fd, uint8_t* b, size_t n) {
        size_t got = 0;
        while (got < n) {
            ssize_t r = recv(fd, b + got, n - got, flags);
            if (r > 0) got += static_cast<size_t>(r);
            else if (r == 0) wrong("EOF in busy loop");
            else if (errno != EAGAIN) die("recv");
        }
    };
    std::thread srv([&] {
        uint8_t b[64];
        for (int i = 0; i < opt.count * 50; ++i) {
            recv_busy(p.server, b, sizeof b);
            write_all(p.server, b, sizeof b);
        }
    });
    Stream out{opt.seed}, in{opt.seed};
    uint8_t b[64];
    for (int i = 0; i < opt.count * 50; ++i) {
        out.fill(b, sizeof b);
        write_all(p.client, b, sizeof b);
        recv_busy(p.client, b, sizeof b);
        in.check(b, sizeof b);
    }
    srv.join();
    close(p.client), close(p.server), close(l);
}

// Both ends send and read at once. With `half_close` each sender shuts its direction down
// when done while the other end's reader is still blocked in read() (the pattern the
// self-test finds broken on 6.18: a state-change wake-up ends that read with EAGAIN);
// without it both readers take exactly their bytes and the connection is closed after.
void bidir(bool half_close) {
    int port = opt.port;
    int l = listener(&port);
    Pair p = make_pair(l, port);
    auto sender = [half_close](int fd, uint64_t seed) {
        send_stream(fd, opt.bytes, seed);
        if (half_close) shutdown(fd, SHUT_WR);
    };
    auto reader = [half_close](int fd, uint64_t seed) {
        recv_stream(opt.bytes, seed, [fd](uint8_t* b, size_t n) { return read(fd, b, n); }, half_close);
    };
    std::thread a([&] { sender(p.client, opt.seed); });
    std::thread b([&] { sender(p.server, opt.seed + 1); });
    std::thread c([&] { reader(p.server, opt.seed); });
    reader(p.client, opt.seed + 1);
    a.join(), b.join(), c.join();
    close(p.client), close(p.server), close(l);
}

// A connection kept open across an outside event: the client connects, sends half,
// signals readiness on stdout ("ready\n") and waits for a line on stdin (the test runs
// `socket-accel enable` or `disable` meanwhile), then sends the rest. Under --count the
// second half is sent in a loop for that many rounds (disable under load).
void path_preexisting() {
    int port = opt.port;
    int l = listener(&port);
    Pair p = make_pair(l, port);
    uint64_t half = opt.bytes / 2;
    std::atomic<bool> go{false};
    std::thread t([&] {
        Stream st{opt.seed};
        Sizes sz{opt.seed};
        std::vector<uint8_t> buf(65536);
        while (st.pos < opt.bytes) {
            if (st.pos >= half && !go) {
                usleep(1000);
                continue;
            }
            size_t n = std::min<uint64_t>(sz.next(buf.size()), (st.pos < half ? half : opt.bytes) - st.pos);
            st.fill(buf.data(), n);
            write_all(p.client, buf.data(), n);
        }
        shutdown(p.client, SHUT_WR);
    });
    std::thread r([&] {
        recv_stream(opt.bytes, opt.seed, [&](uint8_t* b, size_t n) { return read(p.server, b, n); }, true);
    });
    std::printf("ready\n");
    std::fflush(stdout);
    char line[16];
    if (!std::fgets(line, sizeof line, stdin)) wrong("stdin closed");
    go = true;
    t.join(), r.join();
    close(p.client), close(p.server), close(l);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: accel_io PATH [--bytes N] [--count N] [--port P] [--timeout S] [--seed S]\n", stderr);
        return 2;
    }
    opt.path = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        uint64_t v = std::strtoull(argv[i + 1], nullptr, 0);
        if (a == "--bytes") opt.bytes = v;
        else if (a == "--count") opt.count = static_cast<int>(v);
        else if (a == "--port") opt.port = static_cast<int>(v);
        else if (a == "--timeout") opt.timeout = static_cast<int>(v);
        else if (a == "--seed") opt.seed = v;
        else {
            std::fprintf(stderr, "accel_io: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, [](int) {
        const char m[] = "accel_io: timed out (a hang)\n";
        (void)!write(2, m, sizeof m - 1);
        std::_Exit(3);
    });
    alarm(static_cast<unsigned>(opt.timeout));
    const std::string& p = opt.path;
    if (p == "read" || p == "large") one_way(plain_read);
    else if (p == "recv") one_way([](int fd, uint8_t* b, size_t n) { return recv(fd, b, n, 0); });
    else if (p == "readv")
        one_way([](int fd, uint8_t* b, size_t n) {
            size_t a = n / 3, c = n / 3;
            iovec v[3] = {{b, a}, {b + a, c}, {b + a + c, n - a - c}};
            return readv(fd, v, 3);
        });
    else if (p == "peek") path_peek();
    else if (p == "fionread") path_fionread();
    else if (p == "poll") readiness(false);
    else if (p == "epoll") readiness(true);
    else if (p == "splice") path_splice();
    else if (p == "sendfile") path_sendfile();
    else if (p == "splicewrite") path_splicewrite();
    else if (p == "shutdown") path_shutdown();
    else if (p == "rst") path_rst();
    else if (p == "many") path_many();
    else if (p == "busy") path_pingpong(MSG_DONTWAIT);
    else if (p == "pingpong") path_pingpong(0);
    else if (p == "bidir") bidir(false);
    else if (p == "bidirhc") bidir(true);
    else if (p == "preexisting") path_preexisting();
    else {
        std::fprintf(stderr, "accel_io: unknown path %s\n", p.c_str());
        return 2;
    }
    return 0;
}
