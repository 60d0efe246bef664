#include "accel/accel.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "accel/cgroup.hpp"
#include "accel/selftest.hpp"
#include "core/str.hpp"
#include "sockaccel.skel.h"
#include "sockaccel_shared.h"
#include "store/state.hpp"

namespace xdpt::accel {
namespace {

constexpr const char* sockops_name = "sockaccel_sockops";
constexpr const char* msg_name = "sockaccel_msg";
// Paths that cannot be fenced per connection (the reader's choice of call is invisible
// to the sender's sk_msg program): when broken, only --ports are accelerated.
constexpr uint32_t unfenceable = SA_PATH_SPLICE_READ | SA_PATH_SENDFILE | SA_PATH_HALF_CLOSE | SA_PATH_FIONREAD |
                                 SA_PATH_PEEK | SA_PATH_POLL;

std::unexpected<Error> sys_fail(const std::string& what, int err) {
    return fail(Exit::resource, str("socket-accel: ", what, ": ", std::strerror(err)));
}

int quiet(enum libbpf_print_level level, const char* fmt, va_list args) {
    if (level == LIBBPF_DEBUG || !std::getenv("XDPT_DEBUG")) return 0;
    return vfprintf(stderr, fmt, args);
}

struct SkelDeleter {
    void operator()(sockaccel_bpf* s) const { sockaccel_bpf__destroy(s); }
};
using Skel = std::unique_ptr<sockaccel_bpf, SkelDeleter>;

// ---- options ------------------------------------------------------------------------

struct Options {
    std::optional<std::string> cgroup;
    std::vector<uint32_t> ports;
    std::string ports_text;
    std::vector<sa_cidr_key> cidrs;
    std::string cidrs_text;
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t k = s.find(sep, start);
        out.push_back(s.substr(start, k - start));
        if (k == std::string::npos) return out;
        start = k + 1;
    }
}

Result<uint32_t> parse_port(const std::string& s) {
    char* end = nullptr;
    errno = 0;
    unsigned long v = s.empty() ? 0 : std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end || errno || v == 0 || v > 65535) return param_fail(str("socket-accel: invalid port `", s, "'"));
    return static_cast<uint32_t>(v);
}

// "80,443,8000:8010": ports and inclusive ranges, at most SA_MAX_PORTS ports in all.
Result<void> parse_ports(const std::string& text, Options& o) {
    std::set<uint32_t> ports;
    for (const auto& item : split(text, ',')) {
        auto range = split(item, ':');
        if (range.size() > 2) return param_fail(str("socket-accel: invalid port range `", item, "'"));
        auto lo = parse_port(range[0]);
        if (!lo) return std::unexpected(lo.error());
        auto hi = range.size() == 2 ? parse_port(range[1]) : lo;
        if (!hi) return std::unexpected(hi.error());
        if (*hi < *lo) return param_fail(str("socket-accel: invalid port range `", item, "'"));
        for (uint32_t p = *lo; p <= *hi; ++p) {
            ports.insert(p);
            if (ports.size() > SA_MAX_PORTS) return param_fail(str("socket-accel: --ports names more than ", SA_MAX_PORTS, " ports"));
        }
    }
    o.ports.assign(ports.begin(), ports.end());
    o.ports_text = text;
    return {};
}

// "127.0.0.0/8,::1/128": IPv4 prefixes are stored as IPv4-mapped IPv6.
Result<void> parse_cidrs(const std::string& text, Options& o) {
    for (const auto& item : split(text, ',')) {
        auto parts = split(item, '/');
        sa_cidr_key k{};
        bool v4 = parts[0].find(':') == std::string::npos;
        in_addr a4{};
        in6_addr a6{};
        bool ok = parts.size() <= 2 && (v4 ? inet_pton(AF_INET, parts[0].c_str(), &a4) == 1
                                           : inet_pton(AF_INET6, parts[0].c_str(), &a6) == 1);
        unsigned long len = v4 ? 32 : 128;
        if (ok && parts.size() == 2) {
            char* end = nullptr;
            len = std::strtoul(parts[1].c_str(), &end, 10);
            ok = !parts[1].empty() && !*end && len <= (v4 ? 32u : 128u);
        }
        if (!ok) return param_fail(str("socket-accel: invalid address or prefix `", item, "'"));
        if (v4) {
            k.addr[2] = htonl(0xffff);
            k.addr[3] = a4.s_addr;
            k.prefixlen = static_cast<uint32_t>(96 + len);
        } else {
            std::memcpy(k.addr, &a6, sizeof k.addr);
            k.prefixlen = static_cast<uint32_t>(len);
        }
        o.cidrs.push_back(k);
        if (o.cidrs.size() > SA_MAX_CIDRS) return param_fail(str("socket-accel: --cidr names more than ", SA_MAX_CIDRS, " prefixes"));
    }
    o.cidrs_text = text;
    return {};
}

Result<Options> parse_enable(const std::vector<std::string>& args) {
    Options o;
    for (size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        std::string name = a, value;
        bool inline_value = false;
        if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos)
            name = a.substr(0, eq), value = a.substr(eq + 1), inline_value = true;
        if (name != "--cgroup" && name != "--ports" && name != "--cidr")
            return param_fail(str("socket-accel enable: unknown option `", a, "'"));
        if (!inline_value) {
            if (i + 1 >= args.size()) return param_fail(str("socket-accel enable: option `", name, "' requires an argument"));
            value = args[++i];
        }
        Result<void> r;
        if (name == "--cgroup") o.cgroup = value;
        else if (name == "--ports") r = parse_ports(value, o);
        else r = parse_cidrs(value, o);
        if (!r) return std::unexpected(r.error());
    }
    return o;
}

// ---- the enabled state, found through the kernel --------------------------------------

struct State {
    Fd sockops;
    uint32_t sockops_id = 0;
    uint32_t msg_id = 0;
    std::map<std::string, Fd> maps;
    int map(const std::string& n) const {
        auto it = maps.find(n);
        return it == maps.end() ? -1 : it->second.get();
    }
};

std::string prog_name(int fd, bpf_prog_info& info) {
    info = {};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len)) return {};
    return info.name;
}

// The loaded sock_ops program of socket-accel (names are cut to 15 characters), if any.
Result<std::optional<State>> find_state() {
    uint32_t id = 0;
    while (bpf_prog_get_next_id(id, &id) == 0) {
        Fd fd(bpf_prog_get_fd_by_id(id));
        if (!fd) continue;
        bpf_prog_info info;
        if (std::string(sockops_name).rfind(prog_name(fd.get(), info), 0) != 0 || info.name[0] == 0 ||
            info.type != BPF_PROG_TYPE_SOCK_OPS)
            continue;
        std::vector<uint32_t> ids(info.nr_map_ids);
        info = {};
        info.nr_map_ids = static_cast<uint32_t>(ids.size());
        info.map_ids = reinterpret_cast<uint64_t>(ids.data());
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd.get(), &info, &len)) return sys_fail("reading the sock_ops program", errno);
        State st;
        st.sockops_id = id;
        st.sockops = std::move(fd);
        for (uint32_t mid : ids) {
            Fd m(bpf_map_get_fd_by_id(mid));
            bpf_map_info mi{};
            uint32_t ml = sizeof mi;
            if (!m || bpf_obj_get_info_by_fd(m.get(), &mi, &ml)) continue;
            st.maps.emplace(mi.name, std::move(m));
        }
        if (st.map("sockaccel_socks") < 0 || st.map("sockaccel_info") < 0 || st.map("sockaccel_confi") < 0)
            continue;  // not ours after all
        // The sk_msg program attached to the sockhash.
        uint32_t prog_ids[4] = {}, cnt = 4, flags = 0;
        if (bpf_prog_query(st.map("sockaccel_socks"), BPF_SK_MSG_VERDICT, 0, &flags, prog_ids, &cnt) == 0 && cnt)
            st.msg_id = prog_ids[0];
        return std::optional<State>(std::move(st));
    }
    return std::optional<State>();
}

template <class T>
Result<T> read_one(int map_fd, const char* what) {
    T v{};
    uint32_t zero = 0;
    if (bpf_map_lookup_elem(map_fd, &zero, &v)) return sys_fail(str("reading ", what), errno);
    return v;
}

sa_stats sum_stats(int fd) {
    int ncpu = libbpf_num_possible_cpus();
    std::vector<sa_stats> per(static_cast<size_t>(ncpu > 0 ? ncpu : 1));
    uint32_t zero = 0;
    sa_stats total{};
    if (bpf_map_lookup_elem(fd, &zero, per.data())) return total;
    // Word by word through copies (the fields are __u64: no aliasing through uint64_t*).
    uint64_t sum[SA_STATS_WORDS] = {}, one[SA_STATS_WORDS];
    for (const auto& s : per) {
        std::memcpy(one, &s, sizeof one);
        for (size_t w = 0; w < SA_STATS_WORDS; ++w) sum[w] += one[w];
    }
    std::memcpy(&total, sum, sizeof sum);
    return total;
}

uint32_t count_entries(int map_fd) {
    sa_key k{}, next{};
    uint32_t n = 0;
    void* prev = nullptr;
    while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
        ++n, k = next, prev = &k;
    }
    return n;
}

void copy_text(char* dst, size_t size, const std::string& s) {
    std::memset(dst, 0, size);
    std::memcpy(dst, s.data(), std::min(size - 1, s.size()));
}

// ---- enable ---------------------------------------------------------------------------

// A detached child that holds `map_fd` open until SIGTERM; its pid, or -1.
pid_t start_keeper(int map_fd) {
    int ready[2];
    if (pipe(ready)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setsid();
        if (chdir("/")) {
        }
        int null = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
        for (int fd = 3; fd < 1024; ++fd)
            if (fd != map_fd && fd != ready[1]) close(fd);
        sigset_t all;
        sigfillset(&all);
        sigdelset(&all, SIGTERM);
        sigprocmask(SIG_SETMASK, &all, nullptr);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_IGN);
        if (write(ready[1], "k", 1)) {
        }
        close(ready[1]);
        for (;;) pause();
    }
    close(ready[1]);
    char c;
    bool ok = read(ready[0], &c, 1) == 1;
    close(ready[0]);
    return ok ? pid : -1;
}

Result<std::string> enable(const std::vector<std::string>& args) {
    auto opts = parse_enable(args);
    if (!opts) return std::unexpected(opts.error());
    auto existing = find_state();
    if (!existing) return std::unexpected(existing.error());
    auto cg = Cgroup2::open();
    if (!cg) return std::unexpected(cg.error());
    std::string rel;
    if (opts->cgroup) {
        auto r = cg->relative(*opts->cgroup);
        if (!r) return std::unexpected(r.error());
        rel = *r;
    }
    if (*existing) return fail(Exit::other, "socket-accel: already enabled (run `xdptables socket-accel disable' first)");

    libbpf_set_print(quiet);
    Skel skel(sockaccel_bpf__open_and_load());
    if (!skel)
        return fail(Exit::version, str("socket-accel: this kernel cannot load the sock_ops/sk_msg programs (", std::strerror(errno),
                                       "): it needs sockhash, sk_msg redirects, BTF and bpf_get_netns_cookie"));
    int socks = bpf_map__fd(skel->maps.sockaccel_socks);
    int msg_fd = bpf_program__fd(skel->progs.sockaccel_msg);
    int sockops_fd = bpf_program__fd(skel->progs.sockaccel_sockops);
    if (bpf_prog_attach(msg_fd, socks, BPF_SK_MSG_VERDICT, 0))
        return fail(Exit::version, str("socket-accel: this kernel refuses an sk_msg program on a sockhash: ", std::strerror(errno)));

    // Scope and configuration first: the sock_ops program does nothing without the info.
    for (uint32_t p : opts->ports) {
        uint8_t one = 1;
        if (bpf_map_update_elem(bpf_map__fd(skel->maps.sockaccel_ports), &p, &one, BPF_ANY)) return sys_fail("--ports", errno);
    }
    for (auto& c : opts->cidrs) {
        uint8_t one = 1;
        if (bpf_map_update_elem(bpf_map__fd(skel->maps.sockaccel_cidrs), &c, &one, BPF_ANY)) return sys_fail("--cidr", errno);
    }
    // The self-test runs with every port and address in scope; the real scope after.
    sa_config cfg{};
    cfg.redirect = 1;
    uint32_t zero = 0;
    int cfg_fd = bpf_map__fd(skel->maps.sockaccel_config);
    auto info = std::make_unique<sa_info>();
    copy_text(info->cgroup, sizeof info->cgroup, rel);
    copy_text(info->ports, sizeof info->ports, opts->ports_text);
    copy_text(info->cidrs, sizeof info->cidrs, opts->cidrs_text);
    if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY) ||
        bpf_map_update_elem(bpf_map__fd(skel->maps.sockaccel_info), &zero, info.get(), BPF_ANY))
        return sys_fail("writing the configuration", errno);

    auto test = self_test(*cg, sockops_fd, bpf_map__fd(skel->maps.sockaccel_stats));
    if (!test) return std::unexpected(test.error());
    if (test->unsafe & SA_PATH_READ)
        return fail(Exit::version, str("socket-accel: this kernel cannot accelerate plain reads safely (self-test):\n", test->findings));
    if ((test->unsafe & unfenceable) && opts->ports.empty())
        return fail(Exit::other,
                    str("socket-accel: the self-test found I/O paths this kernel breaks on accelerated connections:\n",
                        test->findings,
                        "Which connections use them cannot be known in advance: name the ports of the services that do not "
                        "(--ports LIST) and only those are accelerated"));
    cfg.unsafe = test->unsafe;
    cfg.nports = static_cast<uint32_t>(opts->ports.size());
    cfg.ncidrs = static_cast<uint32_t>(opts->cidrs.size());
    copy_text(info->selftest, sizeof info->selftest, test->findings);
    // The counters start from zero for the real scope.
    {
        int ncpu = libbpf_num_possible_cpus();
        std::vector<sa_stats> clear(static_cast<size_t>(ncpu > 0 ? ncpu : 1));
        bpf_map_update_elem(bpf_map__fd(skel->maps.sockaccel_stats), &zero, clear.data(), BPF_ANY);
    }
    if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY) ||
        bpf_map_update_elem(bpf_map__fd(skel->maps.sockaccel_info), &zero, info.get(), BPF_ANY))
        return sys_fail("writing the configuration", errno);

    // The sockhash drops its sk_msg program when no process holds it open any more (the
    // programs that use it do not count): a keeper process holds it for as long as
    // socket-accel is enabled. disable stops it.
    pid_t keeper = start_keeper(socks);
    if (keeper < 0) return sys_fail("starting the keeper process", errno);
    info->keeper = keeper;
    if (bpf_map_update_elem(bpf_map__fd(skel->maps.sockaccel_info), &zero, info.get(), BPF_ANY)) {
        kill(keeper, SIGTERM);
        return sys_fail("writing the configuration", errno);
    }
    Fd cgfd(::open(cg->path(rel).c_str(), O_RDONLY | O_DIRECTORY));
    if (!cgfd) {
        kill(keeper, SIGTERM);
        return sys_fail(str("opening cgroup ", cg->path(rel)), errno);
    }
    if (bpf_prog_attach(sockops_fd, cgfd.get(), BPF_CGROUP_SOCK_OPS, BPF_F_ALLOW_MULTI)) {
        int err = errno;
        kill(keeper, SIGTERM);
        return sys_fail(str("attaching to cgroup ", cg->path(rel)), err);
    }
    // From here the cgroup holds the programs, the programs hold the maps.
    std::string out;
    if (test->unsafe & unfenceable)
        out = str("socket-accel: enabled for ports ", opts->ports_text, " only; broken on this kernel:\n", test->findings);
    return out;
}

// ---- disable --------------------------------------------------------------------------

// The process `pid` holds the map `map_fd` open (one of its /proc/PID/fdinfo names the
// map's id): a pid recorded at enable may have been reused by anything since.
bool holds_map(pid_t pid, int map_fd) {
    bpf_map_info mi{};
    uint32_t len = sizeof mi;
    if (bpf_obj_get_info_by_fd(map_fd, &mi, &len)) return false;
    std::string want = str("map_id:\t", mi.id, '\n');
    std::string dir = str("/proc/", pid, "/fdinfo");
    std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
    if (!d) return false;
    while (dirent* e = readdir(d.get())) {
        if (e->d_name[0] == '.') continue;
        std::ifstream f(dir + "/" + e->d_name);
        std::string line;
        while (std::getline(f, line))
            if (line + '\n' == want) return true;
    }
    return false;
}

// Stops the keeper enable started, and only it: the pid is pinned by a pidfd first, then
// checked to still hold the sockhash, and signalled through the pidfd (no reuse between
// the check and the signal).
void stop_keeper(int64_t keeper, int map_fd) {
    if (keeper <= 1) return;
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(keeper), 0)));
    if (!pidfd || !holds_map(static_cast<pid_t>(keeper), map_fd)) return;
    syscall(SYS_pidfd_send_signal, pidfd.get(), SIGTERM, nullptr, 0);
}

Result<std::string> disable(const std::vector<std::string>& args) {
    if (args.size() > 1) return param_fail("socket-accel disable takes no arguments");
    auto st = find_state();
    if (!st) return std::unexpected(st.error());
    if (!*st) return std::string();
    State& s = **st;
    auto info = read_one<sa_info>(s.map("sockaccel_info"), "the configuration");
    if (!info) return std::unexpected(info.error());
    auto cfg = read_one<sa_config>(s.map("sockaccel_confi"), "the configuration");
    if (!cfg) return std::unexpected(cfg.error());
    // 1. Every sending end takes TCP from its next message on (for good): what it
    //    redirected before is older and is read first by its peer.
    cfg->redirect = 0;
    uint32_t zero = 0;
    if (bpf_map_update_elem(s.map("sockaccel_confi"), &zero, &*cfg, BPF_ANY)) return sys_fail("writing the configuration", errno);
    // 2. No new ends.
    auto cg = Cgroup2::open();
    if (!cg) return std::unexpected(cg.error());
    Fd cgfd(::open(cg->path(info->cgroup).c_str(), O_RDONLY | O_DIRECTORY));
    if (cgfd && bpf_prog_detach2(s.sockops.get(), cgfd.get(), BPF_CGROUP_SOCK_OPS) && errno != ENOENT)
        return sys_fail(str("detaching from cgroup ", cg->path(info->cgroup)), errno);
    // 3. Redirects decided before step 1 finish within their sendmsg call; readers take
    //    what was redirected at their pace. Ends leave the sockhash as they close; the
    //    rest leave with it when the last reference to it goes. Give readers a moment.
    int socks = s.map("sockaccel_socks");
    for (int i = 0; i < 20 && count_entries(socks) > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (s.msg_id) {
        Fd msg(bpf_prog_get_fd_by_id(s.msg_id));
        if (msg) bpf_prog_detach2(msg.get(), socks, BPF_SK_MSG_VERDICT);
    }
    stop_keeper(info->keeper, socks);
    return std::string();
}

// ---- status and list ------------------------------------------------------------------

std::string addr_text(const uint32_t a[4]) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a[0] == 0 && a[1] == 0 && a[2] == htonl(0xffff)) inet_ntop(AF_INET, &a[3], buf, sizeof buf);
    else inet_ntop(AF_INET6, a, buf, sizeof buf);
    return buf;
}

std::string prog_line(uint32_t id, const char* kind) {
    Fd fd(bpf_prog_get_fd_by_id(id));
    bpf_prog_info info;
    std::string name = fd ? prog_name(fd.get(), info) : std::string("?");
    return str(kind, " id ", id, " (", name, ")");
}

// What status reads first: the state, its recorded scope and whether it redirects.
struct Found {
    State s;
    sa_info info;
    sa_config cfg;
};

Result<std::optional<Found>> find_configured() {
    auto st = find_state();
    if (!st) return std::unexpected(st.error());
    if (!*st) return std::optional<Found>();
    State& s = **st;
    auto info = read_one<sa_info>(s.map("sockaccel_info"), "the configuration");
    if (!info) return std::unexpected(info.error());
    auto cfg = read_one<sa_config>(s.map("sockaccel_confi"), "the configuration");
    if (!cfg) return std::unexpected(cfg.error());
    return std::optional<Found>(Found{std::move(s), *info, *cfg});
}

Result<std::string> status(const std::vector<std::string>& args) {
    if (args.size() > 1) return param_fail("socket-accel status takes no arguments");
    auto found = find_configured();
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::string("socket-accel: disabled\n");
    State& s = (*found)->s;
    const sa_info* info = &(*found)->info;
    const sa_config* cfg = &(*found)->cfg;
    sa_stats t = sum_stats(s.map("sockaccel_stats"));
    std::string out = str("socket-accel: ", cfg->redirect ? "enabled" : "draining (disable in progress)", '\n');
    out += str("cgroup: /", info->cgroup, '\n');
    out += str("scope: ports ", info->ports[0] ? info->ports : "any", ", addresses ", info->cidrs[0] ? info->cidrs : "any",
               " (both ends on this host, same network namespace)\n");
    out += str("programs: ", prog_line(s.sockops_id, "sock_ops"), ", ",
               s.msg_id ? prog_line(s.msg_id, "sk_msg") : std::string("sk_msg not attached"), '\n');
    out += str("sockhash: ", count_entries(s.map("sockaccel_socks")), " of ", SA_MAX_SOCKETS, " entries\n");
    out += str("connection ends seen: ", t.seen, '\n');
    out += str("accelerated: ", t.accelerated, '\n');
    out += str("refused: ", t.not_local, " peer not on this host, ", t.out_of_scope, " out of scope, ", t.firewall,
               " firewall on lo, ", t.early_data, " fast open data, ", t.map_full, " sockhash full\n");
    out += str("sending ends whose peer was not accelerated: ", t.no_peer, '\n');
    out += str("bytes redirected: ", t.bytes_redirected, " in ", t.msgs_redirected, " messages\n");
    out += str("bytes by TCP from accelerated ends: ", t.bytes_tcp, " in ", t.msgs_tcp, " messages (", t.peer_busy,
               " ends moved to TCP: busy-polling reader)\n");
    out += "self-test at enable:\n";
    for (const auto& line : split(info->selftest, '\n'))
        if (!line.empty()) out += str("  ", line, '\n');
    return out;
}

Result<std::string> list(const std::vector<std::string>& args) {
    if (args.size() > 1) return param_fail("socket-accel list takes no arguments");
    auto st = find_state();
    if (!st) return std::unexpected(st.error());
    if (!*st) return std::string();
    int socks = (*st)->map("sockaccel_socks");
    std::vector<sa_key> keys;
    sa_key k{}, next{};
    void* prev = nullptr;
    while (bpf_map_get_next_key(socks, prev, &next) == 0) keys.push_back(next), k = next, prev = &k;
    auto peer_of = [](const sa_key& e) {
        sa_key p = e;
        std::memcpy(p.local, e.remote, sizeof p.local);
        std::memcpy(p.remote, e.local, sizeof p.remote);
        p.lport = e.rport, p.rport = e.lport;
        return p;
    };
    auto less = [](const sa_key& a, const sa_key& b) { return std::memcmp(&a, &b, sizeof a) < 0; };
    std::set<sa_key, decltype(less)> all(keys.begin(), keys.end(), less);
    std::string out;
    for (const auto& e : keys) {
        sa_key p = peer_of(e);
        bool paired = all.count(p);
        if (paired && !less(e, p)) continue;  // each connection once
        out += str("netns ", e.netns, " ", addr_text(e.local), " ", e.lport, " <-> ", addr_text(e.remote), " ", e.rport,
                   paired ? "" : " (one end only)", '\n');
    }
    return out;
}

}  // namespace

Result<std::string> state_line() {
    auto found = find_configured();
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::string("disabled");
    if (!(*found)->cfg.redirect) return std::string("draining (disable in progress)");
    const char* ports = (*found)->info.ports;
    return str("enabled for ports ", ports[0] ? ports : "any");
}

Result<std::string> run(const std::vector<std::string>& args) {
    if (args.empty()) return param_fail("socket-accel: missing subcommand (enable, disable, status or list)");
    if (auto r = require_privileges("filter"); !r) return std::unexpected(r.error());
    const std::string& cmd = args[0];
    if (cmd == "enable") return enable(args);
    if (cmd == "disable") return disable(args);
    if (cmd == "status") return status(args);
    if (cmd == "list") return list(args);
    return param_fail(str("socket-accel: unknown subcommand `", cmd, "'"));
}

}  // namespace xdpt::accel
