#include "store/state.hpp"

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "core/str.hpp"
#include "xdpt_shared.h"
#include "xdptables.skel.h"

namespace xdpt {

void Fd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

namespace {

constexpr const char* anchor_ifname = "lo";
constexpr const char* anchor_prog_name = "xdpt_main";
constexpr const char* store_map_name = "xdpt_store";

std::unexpected<Error> sys_fail(const std::string& what, int err) {
    return fail(Exit::resource, str(what, ": ", std::strerror(err)));
}

struct SkelDeleter {
    void operator()(xdptables_bpf* s) const { xdptables_bpf__destroy(s); }
};
using Skel = std::unique_ptr<xdptables_bpf, SkelDeleter>;

// libbpf prints through our logger: silent unless XDPT_DEBUG is set.
int libbpf_log(enum libbpf_print_level level, const char* fmt, va_list args) {
    if (level == LIBBPF_DEBUG || !std::getenv("XDPT_DEBUG")) return 0;
    return vfprintf(stderr, fmt, args);
}

void quiet_libbpf() {
    static bool done = false;
    if (!done) libbpf_set_print(libbpf_log), done = true;
}

unsigned lo_ifindex() { return if_nametoindex(anchor_ifname); }

// The id of the XDP program on lo (generic or native), 0 if none.
Result<uint32_t> anchor_prog_id() {
    unsigned ifindex = lo_ifindex();
    if (!ifindex) return sys_fail("no loopback interface", errno);
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (int err = bpf_xdp_query(static_cast<int>(ifindex), 0, &q); err)
        return sys_fail("querying XDP on lo", -err);
    if (q.skb_prog_id) return q.skb_prog_id;
    return q.drv_prog_id;
}

// The store map (outer array-of-maps) of our anchor program, if lo carries it.
Result<Fd> find_store_map() {
    auto id = anchor_prog_id();
    if (!id) return std::unexpected(id.error());
    if (!*id) return Fd{};
    Fd prog(bpf_prog_get_fd_by_id(*id));
    if (!prog) return sys_fail("opening lo's XDP program", errno);
    uint32_t map_ids[16] = {};
    bpf_prog_info info{};
    info.nr_map_ids = 16;
    info.map_ids = reinterpret_cast<uintptr_t>(map_ids);
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog.get(), &info, &len)) return sys_fail("reading lo's XDP program", errno);
    if (std::strncmp(info.name, anchor_prog_name, sizeof(info.name)) != 0)
        return fail(Exit::resource, str("lo carries a foreign XDP program (", info.name, "); xdptables will not replace it"));
    for (uint32_t i = 0; i < info.nr_map_ids && i < 16; ++i) {
        Fd m(bpf_map_get_fd_by_id(map_ids[i]));
        if (!m) continue;
        bpf_map_info mi{};
        uint32_t ml = sizeof(mi);
        if (bpf_obj_get_info_by_fd(m.get(), &mi, &ml)) continue;
        if (std::strncmp(mi.name, store_map_name, sizeof(mi.name)) == 0) return m;
    }
    return fail(Exit::resource, "lo's xdptables program has no store map");
}

// Loads the anchor program and attaches it to lo; returns its store map.
Result<Fd> create_anchor() {
    quiet_libbpf();
    Skel skel(xdptables_bpf__open_and_load());
    if (!skel) return sys_fail("loading the xdptables BPF program", errno);
    unsigned ifindex = lo_ifindex();
    int prog_fd = bpf_program__fd(skel->progs.xdpt_main);
    LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
    // XDP_FLAGS_UPDATE_IF_NOEXIST: never replace somebody else's program.
    int err = bpf_xdp_attach(static_cast<int>(ifindex), prog_fd,
                             XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, &ao);
    if (err) return sys_fail("attaching the xdptables XDP program to lo", -err);
    return Fd(dup(bpf_map__fd(skel->maps.xdpt_store)));
}

struct Mapping {
    void* addr = MAP_FAILED;
    size_t len = 0;
    ~Mapping() {
        if (addr != MAP_FAILED) munmap(addr, len);
    }
};

}  // namespace

Result<NsLock> NsLock::acquire(int wait_seconds) {
    NsLock l;
    l.fd_ = Fd(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!l.fd_) return sys_fail("Fatal: can't open the network namespace", errno);
    if (wait_seconds <= 0) {
        while (flock(l.fd_.get(), LOCK_EX) != 0)
            if (errno != EINTR) return sys_fail("Fatal: can't lock the network namespace", errno);
        return l;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
    while (flock(l.fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) return sys_fail("Fatal: can't lock the network namespace", errno);
        if (std::chrono::steady_clock::now() >= deadline)
            return fail(Exit::resource,
                        str("Another app is currently holding the xtables lock. Stopped waiting after ", wait_seconds, "s."),
                        Error::Style::bare);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return l;
}

Result<std::optional<std::string>> load_state() {
    auto outer = find_store_map();
    if (!outer) return std::unexpected(outer.error());
    if (!*outer) return std::optional<std::string>{};
    uint32_t key = 0, inner_id = 0;
    if (bpf_map_lookup_elem(outer->get(), &key, &inner_id)) return std::optional<std::string>{};
    Fd inner(bpf_map_get_fd_by_id(inner_id));
    if (!inner) return sys_fail("opening the xdptables store", errno);
    bpf_map_info mi{};
    uint32_t ml = sizeof(mi);
    if (bpf_obj_get_info_by_fd(inner.get(), &mi, &ml)) return sys_fail("reading the xdptables store", errno);
    Mapping m;
    m.len = static_cast<size_t>(mi.max_entries) * XDPT_STORE_PAGE;
    m.addr = mmap(nullptr, m.len, PROT_READ, MAP_SHARED, inner.get(), 0);
    if (m.addr == MAP_FAILED) return sys_fail("mapping the xdptables store", errno);
    xdpt_store_header h;
    std::memcpy(&h, m.addr, sizeof(h));
    if (h.magic != XDPT_STORE_MAGIC || h.version != XDPT_STORE_VERSION || h.length > m.len - sizeof(h))
        return fail(Exit::resource, "the xdptables store in this namespace is from another version");
    return std::optional<std::string>(std::string(static_cast<const char*>(m.addr) + sizeof(h), h.length));
}

Result<void> store_state(const std::string& text) {
    auto outer = find_store_map();
    if (!outer) return std::unexpected(outer.error());
    if (!*outer) {
        auto created = create_anchor();
        if (!created) return std::unexpected(created.error());
        *outer = std::move(*created);
    }
    const size_t bytes = sizeof(xdpt_store_header) + text.size();
    const uint32_t pages = static_cast<uint32_t>((bytes + XDPT_STORE_PAGE - 1) / XDPT_STORE_PAGE);
    LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE | BPF_F_INNER_MAP);
    Fd inner(bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdpt_store_pg", sizeof(uint32_t), XDPT_STORE_PAGE,
                            pages ? pages : 1, &mo));
    if (!inner) return sys_fail("creating the xdptables store", errno);
    {
        Mapping m;
        m.len = static_cast<size_t>(pages ? pages : 1) * XDPT_STORE_PAGE;
        m.addr = mmap(nullptr, m.len, PROT_READ | PROT_WRITE, MAP_SHARED, inner.get(), 0);
        if (m.addr == MAP_FAILED) return sys_fail("mapping the xdptables store", errno);
        xdpt_store_header h{XDPT_STORE_MAGIC, XDPT_STORE_VERSION, text.size()};
        std::memcpy(m.addr, &h, sizeof(h));
        std::memcpy(static_cast<char*>(m.addr) + sizeof(h), text.data(), text.size());
    }
    uint32_t key = 0;
    int fd = inner.get();
    if (bpf_map_update_elem(outer->get(), &key, &fd, BPF_ANY)) return sys_fail("updating the xdptables store", errno);
    return {};
}

Result<void> remove_state() {
    auto id = anchor_prog_id();
    if (!id) return std::unexpected(id.error());
    if (!*id) return {};
    auto outer = find_store_map();  // refuses foreign programs
    if (!outer) return std::unexpected(outer.error());
    LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = -1);
    Fd prog(bpf_prog_get_fd_by_id(*id));
    ao.old_prog_fd = prog.get();
    int err = bpf_xdp_detach(static_cast<int>(lo_ifindex()), XDP_FLAGS_SKB_MODE | XDP_FLAGS_REPLACE, &ao);
    if (err) return sys_fail("detaching the xdptables XDP program from lo", -err);
    return {};
}

Result<void> require_privileges(const char* table) {
    if (geteuid() == 0) return {};
    return fail(Exit::resource,
                str("can't initialize iptables table `", table, "': Permission denied (you must be root)"));
}

}  // namespace xdpt
