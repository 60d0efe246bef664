// socket-accel benchmark (tools/bench/accel/run builds and runs it, in a throwaway
// network namespace and cgroup where `xdptables socket-accel enable --ports ACCEL` is on).
//
// Three transports, measured in turn within each run (so that noise from the rest of the
// machine spreads over all of them), the median of the runs reported:
//   plain  TCP over 127.0.0.1 to PLAIN (a port out of socket-accel's scope)
//   accel  TCP over 127.0.0.1 to ACCEL (accelerated)
//   unix   AF_UNIX stream socket pair (the floor for same-host IPC)
// Measurements:
//   rtt   64-byte request/response, one connection, client and server threads pinned to
//         two CPUs; blocking reads, or busy-polling (recv(MSG_DONTWAIT) in a loop) on both
//         ends; WARM untimed round trips, then ITERS timed one by one; p50 and p99.
//   tput  one-way stream, write() of SIZE-byte messages for DUR seconds, reader pinned
//         to the other CPU reading SIZE at a time; bytes received / time.
//   tps   N connections (1, 4, 16, 64), a client and a server thread each, blocking
//         64-byte request/response for DUR seconds, unpinned; transactions per second.
// Prints the tables with the ratios against the targets of issue 4 and writes CSV files.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Config {
    int accel_port = 5399, plain_port = 5398;
    int runs = 5, iters = 20000, warm = 2000;
    double tput_dur = 0.4, tps_dur = 0.5;
    int cpu_client = 0, cpu_server = 1;
    std::string out = ".", xdptables, label, only, mode;
};
Config cfg;

[[noreturn]] void die(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

uint64_t now_ns() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}

void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

// ---- connections ----------------------------------------------------------------------

enum class Kind { plain, accel, unix_ };
const char* kind_name(Kind k) { return k == Kind::plain ? "plain" : k == Kind::accel ? "accel" : "unix"; }
constexpr Kind kinds[] = {Kind::plain, Kind::accel, Kind::unix_};

struct Pair {
    int client = -1, server = -1;
    Pair() = default;
    Pair(Pair&& o) noexcept : client(o.client), server(o.server) { o.client = o.server = -1; }
    Pair& operator=(Pair&&) = delete;
    ~Pair() {
        if (client >= 0) close(client);
        if (server >= 0) close(server);
    }
};

void timeouts(int fd, int seconds) {
    timeval tv{seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// n connections of one kind, each accepted before anything is sent (both ends are then
// established, so an accelerated one finds its peer from the first message on).
std::vector<Pair> connect_pairs(Kind k, int n) {
    std::vector<Pair> out(static_cast<size_t>(n));
    if (k == Kind::unix_) {
        for (auto& p : out) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) die("socketpair");
            p.client = sv[0], p.server = sv[1];
        }
    } else {
        int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (l < 0) die("socket");
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(k == Kind::accel ? cfg.accel_port : cfg.plain_port));
        if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) || listen(l, 128)) {
            close(l);
            die("bind/listen 127.0.0.1");
        }
        for (auto& p : out) {
            p.client = socket(AF_INET, SOCK_STREAM, 0);
            if (p.client < 0 || connect(p.client, reinterpret_cast<sockaddr*>(&a), sizeof a)) {
                close(l);
                die("connect");
            }
            p.server = accept(l, nullptr, nullptr);
            if (p.server < 0) {
                close(l);
                die("accept");
            }
            setsockopt(p.client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            setsockopt(p.server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        close(l);
    }
    for (auto& p : out) timeouts(p.client, 10), timeouts(p.server, 10);
    return out;
}

// Reads exactly n bytes, blocking or busy-polling; false on error, EOF or a stall of 10 s.
bool read_full(int fd, char* b, size_t n, bool busy) {
    size_t got = 0;
    uint64_t deadline = 0;
    while (got < n) {
        ssize_t r = recv(fd, b + got, n - got, busy ? MSG_DONTWAIT : 0);
        if (r > 0) {
            got += static_cast<size_t>(r);
            continue;
        }
        if (r == 0) return false;
        if (errno == EINTR) continue;
        if (!busy || errno != EAGAIN) return false;
        if (!deadline) deadline = now_ns() + 10'000'000'000ull;
        else if (now_ns() > deadline) return false;
    }
    return true;
}

bool write_full(int fd, const char* b, size_t n) {
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        b += w, n -= static_cast<size_t>(w);
    }
    return true;
}

// ---- rtt -------------------------------------------------------------------------------

constexpr size_t msg_size = 64;

// Echoes 64-byte messages until one starting with 'q' (echoed too).
void echo(int fd, bool busy, int cpu, std::atomic<bool>* failed) {
    pin(cpu);
    char b[msg_size];
    for (;;) {
        if (!read_full(fd, b, msg_size, busy) || !write_full(fd, b, msg_size)) {
            failed->store(true);
            return;
        }
        if (b[0] == 'q') return;
    }
}

struct Rtt {
    double p50_us, p99_us;
};

Rtt rtt(Kind k, bool busy) {
    auto pairs = connect_pairs(k, 1);
    Pair& p = pairs[0];
    std::atomic<bool> failed{false};
    std::thread server(echo, p.server, busy, cfg.cpu_server, &failed);
    pin(cfg.cpu_client);
    char b[msg_size];
    std::memset(b, 'x', sizeof b);
    std::vector<uint64_t> t(static_cast<size_t>(cfg.iters));
    bool ok = true;
    for (int i = 0; ok && i < cfg.warm + cfg.iters; ++i) {
        uint64_t t0 = now_ns();
        ok = write_full(p.client, b, msg_size) && read_full(p.client, b, msg_size, busy);
        if (i >= cfg.warm) t[static_cast<size_t>(i - cfg.warm)] = now_ns() - t0;
    }
    b[0] = 'q';
    if (ok) ok = write_full(p.client, b, msg_size) && read_full(p.client, b, msg_size, busy);
    else shutdown(p.client, SHUT_RDWR);
    server.join();
    pin(-1);
    if (!ok || failed) throw std::runtime_error(std::string("rtt ") + kind_name(k) + ": the exchange failed");
    std::sort(t.begin(), t.end());
    auto pct = [&](double q) { return static_cast<double>(t[static_cast<size_t>(q * static_cast<double>(t.size() - 1))]) / 1000.0; };
    return {pct(0.50), pct(0.99)};
}

// ---- throughput -------------------------------------------------------------------------

// MB/s (10^6 bytes) of a one-way stream of `size`-byte writes for cfg.tput_dur seconds.
double tput(Kind k, size_t size) {
    auto pairs = connect_pairs(k, 1);
    Pair& p = pairs[0];
    std::atomic<bool> done{false};
    std::atomic<uint64_t> sent{0};
    uint64_t received = 0, t_end = 0;
    bool rx_failed = false;
    std::thread reader([&] {
        pin(cfg.cpu_server);
        timeval tv{0, 100000};  // wakes up to see the end
        setsockopt(p.server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::vector<char> b(size);
        uint64_t stall = 0;
        for (;;) {
            if (done && received >= sent) break;
            ssize_t r = recv(p.server, b.data(), size, 0);
            if (r > 0) {
                received += static_cast<uint64_t>(r);
                t_end = now_ns();
                stall = 0;
            } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (++stall > 100) { rx_failed = true; break; }  // 10 s without data
            } else {
                rx_failed = true;
                break;
            }
        }
    });
    pin(cfg.cpu_client);
    std::vector<char> b(size, 'y');
    uint64_t t0 = now_ns(), stop = t0 + static_cast<uint64_t>(cfg.tput_dur * 1e9), n = 0;
    bool ok = true;
    while (ok && now_ns() < stop) {
        ok = write_full(p.client, b.data(), size);
        if (ok) n += size;
    }
    sent = n;
    done = true;
    reader.join();
    pin(-1);
    if (!ok || rx_failed || received != n) throw std::runtime_error(std::string("tput ") + kind_name(k) + ": the stream failed");
    return static_cast<double>(received) / (static_cast<double>(t_end - t0) / 1e9) / 1e6;
}

// ---- transactions per second ------------------------------------------------------------

double tps(Kind k, int conns) {
    auto pairs = connect_pairs(k, conns);
    std::atomic<bool> stop{false}, failed{false};
    std::atomic<uint64_t> total{0};
    std::vector<std::thread> th;
    for (auto& p : pairs) th.emplace_back(echo, p.server, false, -1, &failed);
    for (auto& p : pairs)
        th.emplace_back([&, fd = p.client] {
            char b[msg_size];
            std::memset(b, 'z', sizeof b);
            uint64_t n = 0;
            while (!stop) {
                if (!write_full(fd, b, msg_size) || !read_full(fd, b, msg_size, false)) {
                    failed = true;
                    return;
                }
                ++n;
            }
            total += n;
            b[0] = 'q';
            if (!write_full(fd, b, msg_size) || !read_full(fd, b, msg_size, false)) failed = true;
        });
    uint64_t t0 = now_ns();
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(cfg.tps_dur * 1e6)));
    stop = true;
    // Clients stop after their current transaction: count until they have.
    for (size_t i = pairs.size(); i < th.size(); ++i) th[i].join();
    uint64_t t1 = now_ns();
    for (size_t i = 0; i < pairs.size(); ++i) th[i].join();
    if (failed) throw std::runtime_error(std::string("tps ") + kind_name(k) + ": a connection failed");
    return static_cast<double>(total) / (static_cast<double>(t1 - t0) / 1e9);
}

// ---- socket-accel counters (evidence of what took which path) ---------------------------

struct Counters {
    uint64_t redirected = 0, tcp = 0, busy_ends = 0;
};

Counters counters() {
    Counters c;
    if (cfg.xdptables.empty()) return c;
    std::string cmd = cfg.xdptables + " socket-accel status 2>/dev/null";
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return c;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long long a = 0, b = 0, e = 0;
        if (std::sscanf(line, "bytes redirected: %llu in %llu", &a, &b) == 2) c.redirected = a;
        else if (std::sscanf(line, "bytes by TCP from accelerated ends: %llu in %llu messages (%llu", &a, &b, &e) == 3)
            c.tcp = a, c.busy_ends = e;
    }
    pclose(f);
    return c;
}

// ---- report ------------------------------------------------------------------------------

double median(std::vector<double> v) {
    if (v.empty()) return std::nan("");  // not measured (--only)
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Target {
    std::string what;
    double ratio, limit;
    bool at_most;  // ratio <= limit, else ratio >= limit
};

int run(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error("option " + a + " needs a value");
            return argv[++i];
        };
        if (a == "--accel-port") cfg.accel_port = std::stoi(val());
        else if (a == "--plain-port") cfg.plain_port = std::stoi(val());
        else if (a == "--runs") cfg.runs = std::stoi(val());
        else if (a == "--iters") cfg.iters = std::stoi(val());
        else if (a == "--warm") cfg.warm = std::stoi(val());
        else if (a == "--tput-dur") cfg.tput_dur = std::stod(val());
        else if (a == "--tps-dur") cfg.tps_dur = std::stod(val());
        else if (a == "--cpus") {
            std::string v = val();
            if (std::sscanf(v.c_str(), "%d,%d", &cfg.cpu_client, &cfg.cpu_server) != 2) throw std::runtime_error("--cpus A,B");
        } else if (a == "--out") cfg.out = val();
        else if (a == "--xdptables") cfg.xdptables = val();
        else if (a == "--label") cfg.label = val();
        else if (a == "--only") cfg.only = val();
        else if (a == "--mode") cfg.mode = val();
        else if (a == "--quick") cfg.runs = 3, cfg.iters = 5000, cfg.warm = 1000, cfg.tput_dur = 0.2, cfg.tps_dur = 0.25;
        else throw std::runtime_error("unknown option " + a);
    }
    cfg.runs = std::clamp(cfg.runs, 1, 21);
    cfg.iters = std::clamp(cfg.iters, 100, 1000000);
    cfg.warm = std::clamp(cfg.warm, 0, 1000000);
    cfg.tput_dur = std::clamp(cfg.tput_dur, 0.05, 10.0);
    cfg.tps_dur = std::clamp(cfg.tps_dur, 0.05, 10.0);

    const size_t sizes[] = {1024, 4096, 16384, 65536, 262144, 1048576};
    const int conn_counts[] = {1, 4, 16, 64};
    const bool modes[] = {false, true};  // busy?
    // [mode][kind] -> per-run values
    std::map<std::pair<int, int>, std::vector<double>> p50, p99, mbps, tx;
    std::map<int, Counters> rtt_paths;  // busy? -> counter deltas of accel (first run)
    std::ofstream raw(cfg.out + "/raw.csv");
    raw << "run,test,transport,param,value,unit\n";
    for (int r = 0; r < cfg.runs; ++r) {
        std::fprintf(stderr, "run %d/%d\n", r + 1, cfg.runs);
        for (bool busy : modes)
            for (Kind k : kinds) {
                if (!cfg.only.empty() && cfg.only != "rtt") break;
                if (!cfg.mode.empty() && cfg.mode != (busy ? "busy" : "blocking")) break;
                Counters before = k == Kind::accel && r == 0 ? counters() : Counters{};
                Rtt v = rtt(k, busy);
                if (k == Kind::accel && r == 0) {
                    Counters after = counters();
                    rtt_paths[busy] = {after.redirected - before.redirected, after.tcp - before.tcp,
                                       after.busy_ends - before.busy_ends};
                }
                p50[{busy, int(k)}].push_back(v.p50_us);
                p99[{busy, int(k)}].push_back(v.p99_us);
                const char* m = busy ? "busy" : "blocking";
                raw << r << ",rtt_p50_" << m << "," << kind_name(k) << ",64," << v.p50_us << ",us\n";
                raw << r << ",rtt_p99_" << m << "," << kind_name(k) << ",64," << v.p99_us << ",us\n";
            }
        for (size_t s : sizes)
            for (Kind k : kinds) {
                if (!cfg.only.empty() && cfg.only != "tput") break;
                double v = tput(k, s);
                mbps[{int(s), int(k)}].push_back(v);
                raw << r << ",throughput," << kind_name(k) << "," << s << "," << v << ",MB/s\n";
            }
        for (int n : conn_counts)
            for (Kind k : kinds) {
                if (!cfg.only.empty() && cfg.only != "tps") break;
                double v = tps(k, n);
                tx[{n, int(k)}].push_back(v);
                raw << r << ",tps," << kind_name(k) << "," << n << "," << v << ",1/s\n";
            }
    }

    std::vector<Target> targets;
    std::ofstream sum(cfg.out + "/summary.csv");
    sum << "test,param,plain,accel,unix,unit,accel_vs_plain,accel_vs_unix\n";
    auto med = [](auto& m, int a, Kind k) { return median(m[{a, int(k)}]); };
    std::printf("\nsocket-accel benchmark%s: medians of %d runs\n", cfg.label.c_str(), cfg.runs);
    std::printf("\n64-byte request/response round trip, one connection (us; %d timed after %d warm-up;"
                " client on CPU %d, server on CPU %d)\n",
                cfg.iters, cfg.warm, cfg.cpu_client, cfg.cpu_server);
    std::printf("%-9s %-4s %9s %9s %9s %12s %12s\n", "mode", "pct", "plain", "accel", "unix", "accel/plain", "accel/unix");
    for (bool busy : modes) {
        const char* m = busy ? "busy-poll" : "blocking";
        for (int q = 0; q < 2; ++q) {
            auto& src = q ? p99 : p50;
            double pl = med(src, busy, Kind::plain), ac = med(src, busy, Kind::accel), ux = med(src, busy, Kind::unix_);
            std::printf("%-9s %-4s %9.2f %9.2f %9.2f %12.2f %12.2f\n", m, q ? "p99" : "p50", pl, ac, ux, ac / pl, ac / ux);
            sum << "rtt_" << (q ? "p99_" : "p50_") << (busy ? "busy" : "blocking") << ",64," << pl << "," << ac << "," << ux
                << ",us," << ac / pl << "," << ac / ux << "\n";
            if (!q) {
                targets.push_back({std::string(m) + " p50 accel/plain", ac / pl, 0.7, true});
                if (busy) targets.push_back({std::string(m) + " p50 accel/unix", ac / ux, 1.5, true});
            }
        }
    }
    for (bool busy : modes) {
        auto& c = rtt_paths[busy];
        if (!cfg.xdptables.empty())
            std::printf("  accel %s (run 1): %llu bytes redirected, %llu bytes by TCP, %llu ends moved to TCP (busy reader)\n",
                        busy ? "busy-poll" : "blocking", (unsigned long long)c.redirected, (unsigned long long)c.tcp,
                        (unsigned long long)c.busy_ends);
    }
    std::printf("\nThroughput, one-way stream by message size (MB/s; writer CPU %d, reader CPU %d, %.2f s each)\n",
                cfg.cpu_client, cfg.cpu_server, cfg.tput_dur);
    std::printf("%-9s %9s %9s %9s %12s %12s\n", "size", "plain", "accel", "unix", "accel/plain", "accel/unix");
    for (size_t s : sizes) {
        double pl = med(mbps, int(s), Kind::plain), ac = med(mbps, int(s), Kind::accel), ux = med(mbps, int(s), Kind::unix_);
        std::string name = s >= 1048576 ? std::to_string(s / 1048576) + " MiB" : std::to_string(s / 1024) + " KiB";
        std::printf("%-9s %9.0f %9.0f %9.0f %12.2f %12.2f\n", name.c_str(), pl, ac, ux, ac / pl, ac / ux);
        sum << "throughput," << s << "," << pl << "," << ac << "," << ux << ",MB/s," << ac / pl << "," << ac / ux << "\n";
        targets.push_back({"throughput " + name + " accel/plain", ac / pl, 1.0, false});
    }
    std::printf("\nTransactions per second, 64-byte request/response, blocking, N connections (thread pairs, unpinned, %.2f s)\n",
                cfg.tps_dur);
    std::printf("%-9s %9s %9s %9s %12s %12s\n", "conns", "plain", "accel", "unix", "accel/plain", "accel/unix");
    for (int n : conn_counts) {
        double pl = med(tx, n, Kind::plain), ac = med(tx, n, Kind::accel), ux = med(tx, n, Kind::unix_);
        std::printf("%-9d %9.0f %9.0f %9.0f %12.2f %12.2f\n", n, pl, ac, ux, ac / pl, ac / ux);
        sum << "tps," << n << "," << pl << "," << ac << "," << ux << ",1/s," << ac / pl << "," << ac / ux << "\n";
    }
    std::printf("\nTargets (issue 4)\n");
    std::ofstream tg(cfg.out + "/targets.csv");
    tg << "target,ratio,limit,met\n";
    int unmet = 0;
    for (auto& t : targets) {
        bool met = t.at_most ? t.ratio <= t.limit : t.ratio >= t.limit;
        unmet += !met;
        std::printf("  %-36s %6.2f  %s %.1f  %s\n", t.what.c_str(), t.ratio, t.at_most ? "<=" : ">=", t.limit,
                    met ? "met" : "NOT MET");
        tg << t.what << "," << t.ratio << "," << (t.at_most ? "<=" : ">=") << t.limit << "," << (met ? "met" : "not met") << "\n";
    }
    std::printf("%d of %zu targets met\n", static_cast<int>(targets.size()) - unmet, targets.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "accelbench: %s\n", e.what());
        return 1;
    }
}
