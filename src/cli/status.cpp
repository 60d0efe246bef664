#include "cli/status.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

#include "accel/accel.hpp"
#include "core/str.hpp"
#include "store/state.hpp"
#include "xdpt_config.h"
#include "xdpt_shared.h"

namespace xdpt {
namespace {

// enum xdpt_stat, in its order: the names status prints, and the section of each (the
// verdicts count packets; the class cache counts walks; conntrack, packets it judged).
struct StatName {
    std::string_view section, name;
};
constexpr std::array<StatName, XDPT_NSTATS> stat_names{{
    {"XDP verdicts (packets, all CPUs):", "not_ip"}, {"", "bad_ip"}, {"", "kernel"}, {"", "accept"},
    {"", "drop"}, {"", "no_state"},
    {"class cache (walks, all CPUs):", "hit"}, {"", "miss"},
    {"conntrack state (packets, all CPUs):", "new"}, {"", "to_kernel"},
}};
static_assert(XDPT_S_NOT_IP == 0 && XDPT_S_BAD_IP == 1 && XDPT_S_KERNEL == 2 && XDPT_S_ACCEPT == 3 &&
              XDPT_S_DROP == 4 && XDPT_S_NO_STATE == 5 && XDPT_S_CACHE_HIT == 6 && XDPT_S_CACHE_MISS == 7 &&
              XDPT_S_CT_NEW == 8 && XDPT_S_CT_KERNEL == 9 && XDPT_NSTATS == 10);

std::unexpected<Error> sys_fail(const std::string& what, int err) {
    return fail(Exit::resource, str(what, ": ", std::strerror(err)));
}

// The mode of an XDP attachment as `ip link` names it.
std::string_view mode_name(uint32_t flag) {
    switch (flag) {
        case XDP_FLAGS_SKB_MODE: return "generic";
        case XDP_FLAGS_DRV_MODE: return "native";
        case XDP_FLAGS_HW_MODE: return "offload";
    }
    return "?";
}

// One line per interface of the namespace: which XDP programs it carries, in which mode,
// and whether they are the anchor's (`ours`).
std::string interface_lines(uint32_t ours) {
    std::string out;
    struct if_nameindex* names = if_nameindex();
    if (!names) return out;
    for (auto* n = names; n->if_index; ++n) {
        LIBBPF_OPTS(bpf_xdp_query_opts, q);
        std::string what;
        if (bpf_xdp_query(static_cast<int>(n->if_index), 0, &q) != 0) {
            what = "XDP unknown (query failed)";
        } else {
            for (auto [flag, id] : {std::pair{XDP_FLAGS_SKB_MODE, q.skb_prog_id}, std::pair{XDP_FLAGS_DRV_MODE, q.drv_prog_id},
                                    std::pair{XDP_FLAGS_HW_MODE, q.hw_prog_id}}) {
                if (!id) continue;
                if (!what.empty()) what += ", ";
                what += str(mode_name(uint32_t(flag)), " prog ", id, id == ours ? "" : " (not xdptables')");
            }
            if (what.empty()) what = "not attached";
        }
        char line[128];
        std::snprintf(line, sizeof line, "  %-16s ", n->if_name);
        out += str(line, what, '\n');
    }
    if_freenameindex(names);
    return out;
}

// bpf_map_info has no memory figure; the map's fdinfo has the kernel's (memlock).
uint64_t map_memlock(int fd) {
    std::ifstream f(str("/proc/self/fdinfo/", fd));
    std::string key;
    uint64_t v = 0;
    while (f >> key) {
        if (key == "memlock:") {
            f >> v;
            return v;
        }
        f.ignore(1 << 20, '\n');
    }
    return 0;
}

struct Memory {
    uint64_t bytes = 0;
    unsigned maps = 0;
};

// The memory of map `fd`, and of every inner map it holds when it is a map of maps (the
// generations' classifier maps, the store's pages).
void add_map_memory(int fd, Memory& m) {
    m.bytes += map_memlock(fd), ++m.maps;
    bpf_map_info mi{};
    uint32_t len = sizeof mi;
    if (bpf_obj_get_info_by_fd(fd, &mi, &len)) return;
    if (mi.type != BPF_MAP_TYPE_ARRAY_OF_MAPS && mi.type != BPF_MAP_TYPE_HASH_OF_MAPS) return;
    uint32_t key = 0, next = 0;
    void* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        key = next, prev = &key;
        uint32_t id = 0;
        if (bpf_map_lookup_elem(fd, &key, &id) || !id) continue;
        Fd inner(bpf_map_get_fd_by_id(id));
        if (inner) m.bytes += map_memlock(inner.get()), ++m.maps;
    }
}

std::string mib(uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
    return buf;
}

}  // namespace

Result<std::string> status_report() {
    std::string out;
    auto anchor = find_anchor();
    if (!anchor) return std::unexpected(anchor.error());
    auto accel = accel::state_line();
    if (!accel) return std::unexpected(accel.error());
    const std::string accel_line = str("socket-accel: ", *accel, " (host-wide)\n");
    if (!*anchor) {
        out += "xdptables: no state in this network namespace (no xdptables program on lo)\n";
        out += str("interfaces:\n", interface_lines(0));
        return out + accel_line;
    }
    const Anchor& a = **anchor;
    uint32_t zero = 0, gen = 0, gen6 = 0, key6 = uint32_t(Family::ipv6);
    if (a.map("xdpt_active") < 0 || a.map("xdpt_stats") < 0)
        return fail(Exit::resource, "lo's xdptables program is from another version");
    if (bpf_map_lookup_elem(a.map("xdpt_active"), &zero, &gen) || bpf_map_lookup_elem(a.map("xdpt_active"), &key6, &gen6))
        return sys_fail("reading the active generation", errno);
    // Each family has generations of its own (IPv4's first: the line tools read).
    out += str("program: id ", a.prog_id, " (xdpt_main), active generation ", gen, " of ", XDPT_GENERATIONS,
               ", IPv6 ", gen6, " of ", XDPT_GENERATIONS, '\n');
    out += str("interfaces:\n", interface_lines(a.prog_id));
    // A per-CPU array: one value per possible CPU for each key.
    const int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) return sys_fail("counting the CPUs", -ncpu);
    std::vector<uint64_t> per(static_cast<size_t>(ncpu));
    for (uint32_t k = 0; k < XDPT_NSTATS; ++k) {
        if (bpf_map_lookup_elem(a.map("xdpt_stats"), &k, per.data())) return sys_fail("reading xdpt_stats", errno);
        uint64_t sum = 0;
        for (uint64_t v : per) sum += v;
        char line[64];
        if (!stat_names[k].section.empty()) out += str(stat_names[k].section, '\n');
        std::snprintf(line, sizeof line, "  %-10s %llu\n", std::string(stat_names[k].name).c_str(),
                      static_cast<unsigned long long>(sum));
        out += line;
    }
    Memory m;
    for (const auto& [name, fd] : a.maps) add_map_memory(fd.get(), m);
    out += str("map memory: ", m.bytes, " bytes (", mib(m.bytes), ") in ", m.maps, " maps\n");
    return out + accel_line;
}

}  // namespace xdpt
