#include "store/state.hpp"

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

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

// Calls `f(ifindex, mode)` for every interface that carries program `prog_id`, in each
// XDP mode it carries it in (generic, native); lo first or last. Stops at the first
// error `f` returns.
template <class F>
Result<void> for_each_attachment(uint32_t prog_id, bool lo_first, F&& f) {
    const int lo = static_cast<int>(lo_ifindex());
    std::vector<int> ifindexes;
    if (lo_first) ifindexes.push_back(lo);
    if (struct if_nameindex* names = if_nameindex()) {
        for (auto* n = names; n->if_index; ++n)
            if (static_cast<int>(n->if_index) != lo) ifindexes.push_back(static_cast<int>(n->if_index));
        if_freenameindex(names);
    }
    if (!lo_first) ifindexes.push_back(lo);
    for (int ifindex : ifindexes) {
        LIBBPF_OPTS(bpf_xdp_query_opts, q);
        if (bpf_xdp_query(ifindex, 0, &q)) continue;
        for (auto [mode, id] : {std::pair{XDP_FLAGS_SKB_MODE, q.skb_prog_id}, std::pair{XDP_FLAGS_DRV_MODE, q.drv_prog_id}})
            if (id == prog_id)
                if (auto r = f(ifindex, uint32_t(mode)); !r) return r;
    }
    return {};
}

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

// The maps a program references, by name.
Result<std::map<std::string, Fd>> prog_maps(int prog_fd) {
    uint32_t map_ids[64] = {};
    bpf_prog_info info{};
    info.nr_map_ids = 64;
    info.map_ids = reinterpret_cast<uintptr_t>(map_ids);
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) return sys_fail("reading lo's XDP program", errno);
    std::map<std::string, Fd> maps;
    for (uint32_t i = 0; i < info.nr_map_ids && i < 64; ++i) {
        Fd m(bpf_map_get_fd_by_id(map_ids[i]));
        if (!m) continue;
        bpf_map_info mi{};
        uint32_t ml = sizeof(mi);
        if (bpf_obj_get_info_by_fd(m.get(), &mi, &ml)) continue;
        maps.emplace(std::string(mi.name, strnlen(mi.name, sizeof(mi.name))), std::move(m));
    }
    return maps;
}

Result<Anchor> open_anchor(uint32_t id) {
    Anchor a;
    a.prog_id = id;
    a.prog = Fd(bpf_prog_get_fd_by_id(id));
    if (!a.prog) return sys_fail("opening lo's XDP program", errno);
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(a.prog.get(), &info, &len)) return sys_fail("reading lo's XDP program", errno);
    if (std::strncmp(info.name, anchor_prog_name, sizeof(info.name)) != 0)
        return fail(Exit::resource, str("lo carries a foreign XDP program (", info.name, "); xdptables will not replace it"));
    auto maps = prog_maps(a.prog.get());
    if (!maps) return std::unexpected(maps.error());
    a.maps = std::move(*maps);
    return a;
}

using Rodata = std::remove_pointer_t<decltype(xdptables_bpf::rodata)>;

}  // namespace

Result<std::optional<Anchor>> find_anchor() {
    auto id = anchor_prog_id();
    if (!id) return std::unexpected(id.error());
    if (!*id) return std::optional<Anchor>{};
    auto a = open_anchor(*id);
    if (!a) return std::unexpected(a.error());
    return std::optional<Anchor>(std::move(*a));
}

Result<Anchor> load_anchor(const Capacities& cap, const Anchor* keep, Family renew) {
    quiet_libbpf();
    Skel skel(xdptables_bpf__open());
    if (!skel) return sys_fail("loading the xdptables BPF program", errno);
    std::memcpy((void*)&skel->rodata->xdpt_cap, cap.data(), sizeof(cap));
    static_assert(sizeof(skel->rodata->xdpt_cap) == sizeof(Capacities));
    // The class cache: a stretch of 2^bits entries per CPU, XDPT_CACHE_BYTES in all
    // (within the bounds of bpf/xdpt_shared.h).
    const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0) return sys_fail("loading the xdptables BPF program", -ncpus);
    uint32_t bits = XDPT_CACHE_MAX_BITS;
    while (bits > XDPT_CACHE_MIN_BITS && (uint64_t(ncpus) << bits) * sizeof(xdpt_cache_entry) > XDPT_CACHE_BYTES) --bits;
    skel->rodata->xdpt_cache_bits = bits;
    uint32_t salt = 0;
    if (getrandom(&salt, sizeof salt, 0) != ssize_t(sizeof salt)) return sys_fail("loading the xdptables BPF program", errno);
    skel->rodata->xdpt_cache_salt = salt;
    if (int err = bpf_map__set_max_entries(skel->maps.xdpt_cache, uint32_t(ncpus) << bits); err)
        return sys_fail("sizing the xdptables BPF program", -err);
    auto outer = [&](Family f, std::string_view kind) {
        return bpf_object__find_map_by_name(skel->obj, gen_map_name(f, kind).c_str());
    };
    std::vector<Fd> templates;
    for (Family f : {Family::ipv4, Family::ipv6}) {
        const xdpt_capacity& c = cap[size_t(f)];
        const bool kept = keep && f != renew && keep->map(gen_map_name(f, "xdpt_cfg")) >= 0;
        if (kept) {
            // The family's classifier goes on as it is: the new program takes its
            // outer maps over (their templates, of the sizes `cap` says, come with them).
            for (const char* kind : gen_map_kinds) {
                bpf_map* m = outer(f, kind);
                const int fd = keep->map(gen_map_name(f, kind));
                if (!m || fd < 0) return fail(Exit::resource, "lo's xdptables program is from another version");
                if (int err = bpf_map__reuse_fd(m, fd); err)
                    return sys_fail("loading the xdptables BPF program", -err);
            }
            continue;
        }
        // The inner map templates of those sizes, made here: this libbpf cannot resize
        // the ones it reads from the object. Each outer map keeps what it needs of its
        // template.
        for (auto [kind, value_size, n] :
             {std::tuple{"xdpt_bitmaps", sizeof(xdpt_bitmap), c.bitmaps}, {"xdpt_chunks", sizeof(xdpt_chunk), c.chunks},
              {"xdpt_rules", sizeof(xdpt_rule), c.rules}, {"xdpt_counters", sizeof(xdpt_counter), c.counters},
              {"xdpt_values", sizeof(uint32_t), value_entries(c)}}) {
            LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
            Fd t(bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdpt_template", sizeof(uint32_t), uint32_t(value_size),
                                std::max(1u, n), &mo));
            if (!t) return sys_fail("sizing the xdptables BPF program", errno);
            if (int err = bpf_map__set_inner_map_fd(outer(f, kind), t.get()); err)
                return sys_fail("sizing the xdptables BPF program", -err);
            templates.push_back(std::move(t));
        }
    }
    // The stored ruleset goes on in the new program.
    if (keep && keep->map(store_map_name) >= 0)
        if (int err = bpf_map__reuse_fd(skel->maps.xdpt_store, keep->map(store_map_name)); err)
            return sys_fail("loading the xdptables BPF program", -err);
    if (int err = xdptables_bpf__load(skel.get()); err) return sys_fail("loading the xdptables BPF program", -err);
    // The families taken over go on at the generation they were at.
    if (keep && keep->map("xdpt_active") >= 0)
        for (uint32_t f = 0; f < XDPT_FAMILIES; ++f) {
            uint32_t gen = 0;
            if (f != uint32_t(renew) && bpf_map_lookup_elem(keep->map("xdpt_active"), &f, &gen) == 0 &&
                bpf_map_update_elem(bpf_map__fd(skel->maps.xdpt_active), &f, &gen, BPF_ANY))
                return sys_fail("loading the xdptables BPF program", errno);
        }
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.xdpt_main), &info, &len))
        return sys_fail("reading the xdptables program", errno);
    // Its own descriptors: the program lives on after the skeleton is gone.
    return open_anchor(info.id);
}

Result<Capacities> anchor_capacity(const Anchor& a) {
    for (const auto& [name, fd] : a.maps) {
        if (!name.ends_with(".rodata")) continue;
        Rodata ro{};
        bpf_map_info mi{};
        uint32_t ml = sizeof(mi), zero = 0;
        if (bpf_obj_get_info_by_fd(fd.get(), &mi, &ml) || mi.value_size != sizeof ro ||
            bpf_map_lookup_elem(fd.get(), &zero, &ro))
            continue;
        Capacities c;
        std::memcpy(c.data(), (const void*)&ro.xdpt_cap, sizeof c);
        return c;
    }
    return fail(Exit::resource, "lo's xdptables program is from another version; `xdptables detach' removes it");
}

Result<void> switch_anchor(const Anchor* from, const Anchor& to) {
    const int lo = static_cast<int>(lo_ifindex());
    if (!from) {
        // XDP_FLAGS_UPDATE_IF_NOEXIST: never replace somebody else's program.
        LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
        if (int err = bpf_xdp_attach(lo, to.prog.get(), XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, &ao); err)
            return sys_fail("attaching the xdptables XDP program to lo", -err);
        return {};
    }
    // lo first: from then on the new program is the anchor. Each interface is swapped in
    // one step (XDP_FLAGS_REPLACE: only while it carries the old program), in the mode it
    // had; until then its packets meet the old program, and the ruleset before.
    return for_each_attachment(from->prog_id, true, [&](int ifindex, uint32_t mode) -> Result<void> {
        LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = from->prog.get());
        int err = bpf_xdp_attach(ifindex, to.prog.get(), mode | XDP_FLAGS_REPLACE, &ao);
        if (err && ifindex == lo) return sys_fail("replacing the xdptables XDP program on lo", -err);
        // Never left judging by the ruleset before: without it, the interface's packets
        // go to netfilter until the commit's attach gives it the new one.
        if (err) (void)bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &ao);
        return {};
    });
}

namespace {

// The store map of the anchor; an anchor without one is from another version.
Result<int> store_map(const Anchor& anchor) {
    int fd = anchor.map(store_map_name);
    if (fd < 0) return fail(Exit::resource, "lo's xdptables program is from another version; `xdptables detach' removes it");
    return fd;
}

struct Mapping {
    void* addr = MAP_FAILED;
    size_t len = 0;
    Mapping() = default;
    Mapping(Mapping&& o) noexcept : addr(std::exchange(o.addr, MAP_FAILED)), len(o.len) {}
    Mapping& operator=(Mapping&&) = delete;
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
                        str("Can't lock /proc/self/ns/net: ", std::strerror(EWOULDBLOCK), "\nAnother app is currently holding the xtables lock. Stopped waiting after ", wait_seconds, "s.\n"),
                        Error::Style::bare);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return l;
}

namespace {

// The store's inner map, mapped, with its header checked; `writable` for a commit.
struct Store {
    Fd fd;
    Mapping m;
    size_t half_pages = 0;
    xdpt_store_header* header() const { return static_cast<xdpt_store_header*>(m.addr); }
    char* half(uint32_t h) const {
        return static_cast<char*>(m.addr) + (1 + size_t(h & 1) * half_pages) * XDPT_STORE_PAGE;
    }
};

// The store map's current inner map; none before the first commit.
Result<std::optional<Store>> open_store(const Anchor& anchor, Family f, bool writable) {
    auto store = store_map(anchor);
    if (!store) return std::unexpected(store.error());
    uint32_t key = static_cast<uint32_t>(f), inner_id = 0;
    if (bpf_map_lookup_elem(*store, &key, &inner_id)) return std::optional<Store>{};
    Store st;
    st.fd = Fd(bpf_map_get_fd_by_id(inner_id));
    if (!st.fd) return sys_fail("opening the xdptables store", errno);
    bpf_map_info mi{};
    uint32_t ml = sizeof(mi);
    if (bpf_obj_get_info_by_fd(st.fd.get(), &mi, &ml)) return sys_fail("reading the xdptables store", errno);
    st.m.len = static_cast<size_t>(mi.max_entries) * XDPT_STORE_PAGE;
    st.m.addr = mmap(nullptr, st.m.len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, st.fd.get(), 0);
    if (st.m.addr == MAP_FAILED) return sys_fail("mapping the xdptables store", errno);
    st.half_pages = mi.max_entries > 1 ? (mi.max_entries - 1) / 2 : 0;
    const xdpt_store_header& h = *st.header();
    if (h.magic != XDPT_STORE_MAGIC || h.version != XDPT_STORE_VERSION || h.active > 1 ||
        h.length[h.active] > st.half_pages * XDPT_STORE_PAGE)
        return fail(Exit::resource, "the xdptables store in this namespace is from another version");
    return std::optional<Store>(std::move(st));
}

}  // namespace

Result<std::optional<std::string>> load_state(const Anchor& anchor, Family f) {
    auto st = open_store(anchor, f, false);
    if (!st) return std::unexpected(st.error());
    if (!*st) return std::optional<std::string>{};
    const xdpt_store_header& h = *(*st)->header();
    return std::optional<std::string>(std::string((*st)->half(h.active), h.length[h.active]));
}

Result<bool> state_pending(const Anchor& anchor, Family f) {
    auto st = open_store(anchor, f, false);
    if (!st) return std::unexpected(st.error());
    return *st && __atomic_load_n(&(*st)->header()->pending, __ATOMIC_ACQUIRE) != 0;
}

namespace {

// The current store marked pending while it lives (see stage_state).
class PendingMark {
public:
    explicit PendingMark(std::optional<Store> s) : s_(std::move(s)) {
        if (s_) __atomic_store_n(&s_->header()->pending, 1u, __ATOMIC_RELEASE);
    }
    PendingMark(PendingMark&&) = default;
    ~PendingMark() {
        if (s_ && s_->m.addr != MAP_FAILED) __atomic_store_n(&s_->header()->pending, 0u, __ATOMIC_RELEASE);
    }
    Store* store() { return s_ ? &*s_ : nullptr; }

private:
    std::optional<Store> s_;
};

}  // namespace

Result<Publish> stage_state(const Anchor& anchor, Family f, const std::string& text) {
    const size_t pages = (text.size() + XDPT_STORE_PAGE - 1) / XDPT_STORE_PAGE;
    auto st = open_store(anchor, f, true);
    if (!st) return std::unexpected(st.error());
    const bool in_place = *st && (*st)->half_pages >= pages;
    PendingMark mark(std::move(*st));
    if (in_place) {
        // In place: the inactive half, where no load looks; published by the flip.
        Store& s = *mark.store();
        const uint32_t next = s.header()->active ^ 1;
        std::memcpy(s.half(next), text.data(), text.size());
        s.header()->length[next] = text.size();
        return Publish([mark = std::move(mark), next]() mutable -> Result<void> {
            __atomic_store_n(&mark.store()->header()->active, next, __ATOMIC_RELEASE);
            return {};
        });
    }
    // A new map with room for growth, the text in its first half; published by putting
    // it in the store map.
    auto store = store_map(anchor);
    if (!store) return std::unexpected(store.error());
    Store s;
    s.half_pages = pages + pages / 8 + 4;
    const auto entries = static_cast<uint32_t>(1 + 2 * s.half_pages);
    LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE | BPF_F_INNER_MAP);
    s.fd = Fd(bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdpt_store_pg", sizeof(uint32_t), XDPT_STORE_PAGE, entries, &mo));
    if (!s.fd) return sys_fail("creating the xdptables store", errno);
    s.m.len = size_t(entries) * XDPT_STORE_PAGE;
    s.m.addr = mmap(nullptr, s.m.len, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd.get(), 0);
    if (s.m.addr == MAP_FAILED) return sys_fail("mapping the xdptables store", errno);
    *s.header() = xdpt_store_header{XDPT_STORE_MAGIC, XDPT_STORE_VERSION, 0, 0, {text.size(), 0}};
    std::memcpy(s.half(0), text.data(), text.size());
    return Publish([fd = std::move(s.fd), outer = *store, mark = std::move(mark), f]() -> Result<void> {
        uint32_t key = static_cast<uint32_t>(f);
        int inner = fd.get();
        if (bpf_map_update_elem(outer, &key, &inner, BPF_ANY)) return sys_fail("updating the xdptables store", errno);
        return {};
    });
}

Result<void> remove_state() {
    auto anchor = find_anchor();  // refuses foreign programs
    if (!anchor) return std::unexpected(anchor.error());
    if (!*anchor) return {};
    // The anchor goes last: it holds the state.
    const Anchor& a = **anchor;
    return for_each_attachment(a.prog_id, false, [&](int ifindex, uint32_t mode) -> Result<void> {
        LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = a.prog.get());
        if (int err = bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &ao); err && err != -ENOENT) {
            char name[IF_NAMESIZE] = "?";
            if_indextoname(static_cast<unsigned>(ifindex), name);
            return sys_fail(str("detaching the xdptables XDP program from ", name), -err);
        }
        return {};
    });
}

Result<void> require_privileges(const char* table, Family f) {
    if (geteuid() == 0) return {};
    // iptables-legacy takes the xtables lock first (xtables_lock: the file named by
    // XTABLES_LOCKFILE, or /run/xtables.lock, opened with O_CREAT), which a user without
    // the rights to it fails to open; xdptables locks the namespace instead, and opens the
    // file only to fail the same way.
    const char* lock_file = std::getenv("XTABLES_LOCKFILE");
    if (!lock_file || !*lock_file) lock_file = "/run/xtables.lock";
    Fd lock(open(lock_file, O_CREAT | O_CLOEXEC, 0600));
    if (!lock)
        return fail(Exit::resource, str("Fatal: can't open lock file ", lock_file, ": ", std::strerror(errno), '\n'),
                    Error::Style::bare);
    return fail(Exit::version,
                str("can't initialize ", spec_of(f).iptables, " table `", table, "': Permission denied (you must be root)"));
}

}  // namespace xdpt
