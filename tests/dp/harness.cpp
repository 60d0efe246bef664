#include "harness.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "store/state.hpp"

namespace dpt {

namespace {

std::string ns_name;
int home_ns = -1;  // the namespace the test started in
Link links[3];     // veth0, veth2, lo

std::string bindir() {
    if (const char* d = std::getenv("XDPT_BINDIR")) return d;
    return XDPT_DEFAULT_BINDIR;
}

// Runs argv (argv[0] a path), feeding `input`; collects the output.
Cli spawn(const std::vector<std::string>& argv, const std::string& input) {
    Cli r;
    char in_tmpl[] = "/tmp/xdt-in-XXXXXX", out_tmpl[] = "/tmp/xdt-out-XXXXXX", err_tmpl[] = "/tmp/xdt-err-XXXXXX";
    int in = mkstemp(in_tmpl), out = mkstemp(out_tmpl), err = mkstemp(err_tmpl);
    if (in < 0 || out < 0 || err < 0) return r;
    if (write(in, input.data(), input.size()) != ssize_t(input.size())) return r;
    lseek(in, 0, SEEK_SET);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in, 0), dup2(out, 1), dup2(err, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto slurp = [](int fd) {
        std::string s;
        char buf[65536];
        lseek(fd, 0, SEEK_SET);
        for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) s.append(buf, size_t(n));
        close(fd);
        return s;
    };
    r.out = slurp(out), r.err = slurp(err);
    close(in);
    unlink(in_tmpl), unlink(out_tmpl), unlink(err_tmpl);
    return r;
}

bool sh(const std::string& cmd) {
    return spawn({"/bin/sh", "-c", cmd + " >/dev/null 2>&1"}, "").rc == 0;
}

Mac mac_of(const std::string& s) {
    Mac m{};
    std::sscanf(s.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
    return m;
}

bool write_sysctl(const std::string& path, const char* value) {
    std::ofstream f(path);
    f << value;
    return bool(f.flush());
}

Snapshot cached;
bool cache_valid = false;

}  // namespace

bool setup_netns(std::string& why) {
    ns_name = "xdt" + std::to_string(getpid());
    home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (!sh("ip netns add " + ns_name)) return why = "ip netns add failed", false;
    int fd = open(("/run/netns/" + ns_name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        why = "cannot enter the namespace";
        teardown_netns();
        return false;
    }
    close(fd);
    const char* cmds[] = {
        "ip link set lo up",
        "ip link add veth0 address 02:00:5e:00:00:01 type veth peer name veth1 address 02:00:5e:00:00:02",
        "ip link add veth2 address 02:00:5e:00:00:03 type veth peer name veth3 address 02:00:5e:00:00:04",
        "ip addr add 198.18.0.1/24 dev veth0",
        "ip addr add 198.18.1.1/24 dev veth2",
        "ip link set veth0 up", "ip link set veth1 up", "ip link set veth2 up", "ip link set veth3 up",
        "ip neigh replace 198.18.1.2 lladdr 02:00:5e:00:00:04 dev veth2",
        "ip neigh replace 198.18.0.2 lladdr 02:00:5e:00:00:02 dev veth0",
    };
    // No IPv6 chatter on the links (their frames would only be passed, but stay quiet).
    write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    for (const char* c : cmds)
        if (!sh(c)) {
            why = std::string("setup failed: ") + c;
            teardown_netns();
            return false;
        }
    // IPv6 on veth0 and veth2 alone, without duplicate address detection or router
    // solicitations (their peers have it disabled: nothing answers, nothing is counted).
    for (const char* dev : {"veth0", "veth2"}) {
        const std::string conf = std::string("/proc/sys/net/ipv6/conf/") + dev + "/";
        write_sysctl(conf + "accept_dad", "0");
        write_sysctl(conf + "router_solicitations", "0");
        write_sysctl(conf + "disable_ipv6", "0");
    }
    const char* cmds6[] = {
        "ip -6 addr add 2001:db8::1/64 dev veth0 nodad",
        "ip -6 addr add 2001:db8:1::1/64 dev veth2 nodad",
        "ip -6 neigh replace 2001:db8::2 lladdr 02:00:5e:00:00:02 dev veth0",
        "ip -6 neigh replace 2001:db8:1::2 lladdr 02:00:5e:00:00:04 dev veth2",
    };
    for (const char* c : cmds6)
        if (!sh(c)) {
            why = std::string("setup failed: ") + c;
            teardown_netns();
            return false;
        }
    links[0] = {"veth0", if_nametoindex("veth0"), mac_of("02:00:5e:00:00:01"), mac_of("02:00:5e:00:00:02")};
    links[1] = {"veth2", if_nametoindex("veth2"), mac_of("02:00:5e:00:00:03"), mac_of("02:00:5e:00:00:04")};
    links[2] = {"lo", if_nametoindex("lo"), Mac{}, Mac{}};
    return true;
}

void teardown_netns() {
    if (ns_name.empty()) return;
    (void)xdpt::remove_state();
    if (home_ns >= 0) setns(home_ns, CLONE_NEWNET), close(home_ns), home_ns = -1;
    sh("ip netns del " + ns_name);
    ns_name.clear();
}

const Link& veth0() { return links[0]; }
const Link& veth2() { return links[1]; }
const Link& lo() { return links[2]; }

void set_forwarding(bool on) {
    REQUIRE(write_sysctl("/proc/sys/net/ipv4/ip_forward", on ? "1" : "0"));
}

void set_forwarding6(bool on) {
    REQUIRE(write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", on ? "1" : "0"));
}

namespace {
int counted_family = 4;
}

void counters_of(int family) {
    counted_family = family;
    cache_valid = false;
}

Cli run(const std::string& applet, const std::vector<std::string>& args, const std::string& input) {
    std::vector<std::string> argv{bindir() + "/" + applet};
    argv.insert(argv.end(), args.begin(), args.end());
    cache_valid = false;
    return spawn(argv, input);
}

Snapshot snapshot() {
    if (cache_valid) return cached;
    Cli c = run(counted_family == 6 ? "ip6tables-save" : "xdptables-save", {"-c"});
    REQUIRE_MESSAGE(c.rc == 0, c.err);
    Snapshot s;
    std::istringstream in(c.out);
    std::string line, table;
    while (std::getline(in, line)) {
        if (line.starts_with("*")) {
            table = line.substr(1);
        } else if (line.starts_with(":")) {
            char chain[64], policy[64];
            unsigned long long p = 0, b = 0;
            if (std::sscanf(line.c_str(), ":%63s %63s [%llu:%llu]", chain, policy, &p, &b) == 4)
                s.policy[table + "/" + chain] = {p, b};
            s.rules[table + "/" + chain];
        } else if (line.starts_with("[")) {
            char chain[64];
            unsigned long long p = 0, b = 0;
            if (std::sscanf(line.c_str(), "[%llu:%llu] -A %63s", &p, &b, chain) == 3)
                s.rules[table + "/" + chain].push_back({p, b});
        }
    }
    cached = s;
    cache_valid = true;
    return s;
}

void forget_snapshot() { cache_valid = false; }

void send_local_udp(int family, const char* from, const char* to, uint16_t sport, uint16_t dport) {
    sockaddr_storage a{};
    socklen_t len = 0;
    auto at = [&](const char* addr, uint16_t port) {
        a = {};
        if (family == AF_INET6) {
            auto* s6 = reinterpret_cast<sockaddr_in6*>(&a);
            s6->sin6_family = AF_INET6, s6->sin6_port = htons(port);
            inet_pton(AF_INET6, addr, &s6->sin6_addr);
            len = sizeof *s6;
        } else {
            auto* s4 = reinterpret_cast<sockaddr_in*>(&a);
            s4->sin_family = AF_INET, s4->sin_port = htons(port);
            inet_pton(AF_INET, addr, &s4->sin_addr);
            len = sizeof *s4;
        }
        return reinterpret_cast<sockaddr*>(&a);
    };
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    const sockaddr* src = at(from, sport);
    REQUIRE(bind(fd, src, len) == 0);
    const char msg[4] = {};
    const sockaddr* dst = at(to, dport);
    CHECK(sendto(fd, msg, sizeof msg, 0, dst, len) == sizeof msg);
    close(fd);
}

std::string filter(const std::string& rules, const char* input, const char* forward,
                   const std::vector<std::string>& chains) {
    std::string t = std::string("*filter\n:INPUT ") + input + " [0:0]\n:FORWARD " + forward +
                    " [0:0]\n:OUTPUT ACCEPT [0:0]\n";
    for (const auto& c : chains) t += ":" + c + " - [0:0]\n";
    return t + rules + (rules.empty() || rules.back() == '\n' ? "" : "\n") + "COMMIT\n";
}

std::string raw(const std::string& rules) {
    return "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" + rules + "\nCOMMIT\n";
}

void load(const std::string& text) {
    auto r = xdpt::remove_state();
    REQUIRE_MESSAGE(bool(r), (r ? "" : r.error().msg));
    Cli c = run("xdptables-restore", {}, text);
    REQUIRE_MESSAGE(c.rc == 0, c.err);
    counters_of(4);
}

void load6(const std::string& text, bool keep) {
    if (!keep) {
        auto r = xdpt::remove_state();
        REQUIRE_MESSAGE(bool(r), (r ? "" : r.error().msg));
    }
    Cli c = run("ip6tables-restore", {}, text);
    REQUIRE_MESSAGE(c.rc == 0, c.err);
    counters_of(6);
}

namespace {

// One run of the program on the frame, and what it moved.
Outcome run_once(const Frame& f, const Link& in) {
    const Snapshot before = snapshot();
    auto anchor = xdpt::find_anchor();
    REQUIRE(anchor.has_value());
    REQUIRE(anchor->has_value());
    xdp_md ctx{};
    ctx.data_end = uint32_t(f.bytes.size());
    ctx.ingress_ifindex = in.ifindex;
    ctx.rx_queue_index = 0;
    uint8_t out[4096];
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.bytes.data(), .data_out = out,
                .data_size_in = uint32_t(f.bytes.size()), .data_size_out = sizeof out, .ctx_in = &ctx,
                .ctx_size_in = sizeof ctx, .repeat = 1);
    int err = bpf_prog_test_run_opts((*anchor)->prog.get(), &o);
    REQUIRE_MESSAGE(err == 0, "BPF_PROG_TEST_RUN: ", std::strerror(-err));
    cache_valid = false;
    const Snapshot after = snapshot();

    Outcome res;
    res.action = int(o.retval);
    auto note = [&](const std::string& key, const std::string& label, const Ctr& b, const Ctr& a) {
        if (a == b) return;
        if (!res.moved.empty()) res.moved += ' ';
        std::string table = key.substr(0, key.find('/'));
        res.moved += (table == "filter" ? "" : table + ":") + label;
        const uint64_t dp = a.pkts - b.pkts, db = a.bytes - b.bytes;
        if (dp != 1 || db != f.tot) res.moved += "(" + std::to_string(dp) + "/" + std::to_string(db) + ")";
    };
    for (const auto& [key, rules] : after.rules) {
        const std::string chain = key.substr(key.find('/') + 1);
        // Locally generated packets (the namespace's own IPv6 chatter: multicast listener
        // reports) never pass XDP: OUTPUT is not looked at.
        if (chain == "OUTPUT") continue;
        auto bit = before.rules.find(key);
        for (size_t i = 0; i < rules.size(); ++i) {
            Ctr b = bit != before.rules.end() && i < bit->second.size() ? bit->second[i] : Ctr{};
            note(key, chain + "#" + std::to_string(i + 1), b, rules[i]);
        }
        if (auto p = after.policy.find(key); p != after.policy.end()) {
            auto bp = before.policy.find(key);
            note(key, chain + ":P", bp != before.policy.end() ? bp->second : Ctr{}, p->second);
        }
    }
    return res;
}

}  // namespace

// Every frame runs twice: the second run meets the class cache's entry that the first
// made or met (or, with XDPT_NO_CACHE=1, walks again), and must do exactly the same.
Outcome send_frame(const Frame& f, const Link& in) {
    const Outcome first = run_once(f, in);
    const Outcome again = run_once(f, in);
    CHECK_MESSAGE(again.action == first.action, "the second run's action differs");
    CHECK_MESSAGE(again.moved == first.moved, "the second run moved: ", again.moved, ", the first: ", first.moved);
    return first;
}

uint64_t stat_sum(uint32_t which) {
    auto anchor = xdpt::find_anchor();
    REQUIRE(anchor.has_value());
    REQUIRE(anchor->has_value());
    const int ncpus = libbpf_num_possible_cpus();
    REQUIRE(ncpus > 0);
    std::vector<uint64_t> per(size_t(ncpus), 0);
    REQUIRE(bpf_map_lookup_elem((*anchor)->map("xdpt_stats"), &which, per.data()) == 0);
    uint64_t sum = 0;
    for (uint64_t v : per) sum += v;
    return sum;
}


Outcome send(const Ip& ip, const Link& in) { return send_frame(frame(ip, in.mac, in.peer_mac), in); }
Outcome send(const Ip& ip) { return send(ip, veth0()); }
Outcome send6(const Ip6& ip, const Link& in) { return send_frame(frame6(ip, in.mac, in.peer_mac), in); }
Outcome send6(const Ip6& ip) { return send6(ip, veth0()); }

}  // namespace dpt
