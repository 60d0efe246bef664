#include "dp/dataplane.hpp"

#include "compat/nft.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <linux/membarrier.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <unordered_set>

#include "core/str.hpp"
#include "core/timing.hpp"
#include "dp/compile.hpp"
#include "model/print.hpp"
#include "store/state.hpp"

namespace xdpt::dp {

namespace {

std::unexpected<Error> sys_fail(const std::string& what, int err) {
    return fail(Exit::resource, str(what, ": ", std::strerror(err)));
}

// The stride of an element of a BPF array as mmap shows it.
size_t stride(size_t value_size) { return (value_size + 7) & ~size_t(7); }

// Bytes [from, from + bytes) of an mmapable array map, mapped (whole pages around them):
// at(off) is byte `off` of the map. Only what is used is mapped: each page of a mapping
// costs its setup and teardown.
struct Mapping {
    void* addr = MAP_FAILED;
    size_t len = 0, start = 0;
    Mapping(int fd, size_t bytes, int prot) : Mapping(fd, 0, bytes, prot) {}
    Mapping(int fd, size_t from, size_t bytes, int prot) {
        const size_t page = size_t(sysconf(_SC_PAGESIZE));
        start = from / page * page;
        len = (from + std::max<size_t>(1, bytes) - start + page - 1) / page * page;
        addr = mmap(nullptr, len, prot, MAP_SHARED, fd, off_t(start));
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() {
        if (addr != MAP_FAILED) munmap(addr, len);
    }
    explicit operator bool() const { return addr != MAP_FAILED; }
    char* at(size_t off) const { return static_cast<char*>(addr) + (off - start); }
};

// The outer map of kind `kind` of family `f`.
std::string fmap(Family f, std::string_view kind) { return gen_map_name(f, kind); }

// The inner map of generation `gen` in outer map `kind` of family `f`, or an empty Fd.
Fd inner_map(const Anchor& a, Family f, const char* kind, uint32_t gen) {
    uint32_t id = 0;
    const int outer = a.map(fmap(f, kind));
    if (outer < 0 || bpf_map_lookup_elem(outer, &gen, &id) || !id) return Fd{};
    return Fd(bpf_map_get_fd_by_id(id));
}

// The active generation of family `f`.
Result<uint32_t> active_gen(const Anchor& a, Family f) {
    uint32_t key = uint32_t(f), gen = 0;
    if (a.map("xdpt_active") < 0) return fail(Exit::resource, "lo's xdptables program is from another version");
    if (bpf_map_lookup_elem(a.map("xdpt_active"), &key, &gen)) return sys_fail("reading the active generation", errno);
    return gen % XDPT_GENERATIONS;
}

// The config of generation `gen` of family `f`; none when the generation is unused.
std::optional<xdpt_config> read_config(const Anchor& a, Family f, uint32_t gen) {
    Fd cfgm = inner_map(a, f, "xdpt_cfg", gen);
    uint32_t zero = 0;
    xdpt_config cfg{};
    if (!cfgm || bpf_map_lookup_elem(cfgm.get(), &zero, &cfg)) return std::nullopt;
    return cfg;
}

// The per-slot sums of a generation's counters; empty when the generation is unused.
Result<std::vector<Counters>> read_counters(const Anchor& a, Family f, uint32_t gen) {
    auto config = read_config(a, f, gen);
    Fd ctrm = inner_map(a, f, "xdpt_counters", gen);
    if (!config || !ctrm) return std::vector<Counters>{};
    const xdpt_config& cfg = *config;
    const size_t n = size_t(cfg.nslots) * cfg.ncpus;
    Mapping m(ctrm.get(), std::max<size_t>(1, n) * sizeof(xdpt_counter), PROT_READ);
    if (!m) return sys_fail("mapping the counters", errno);
    std::vector<Counters> out(cfg.nslots);
    for (uint32_t cpu = 0; cpu < cfg.ncpus; ++cpu)
        for (uint32_t s = 0; s < cfg.nslots; ++s) {
            xdpt_counter c;
            std::memcpy(&c, m.at((size_t(cpu) * cfg.nslots + s) * sizeof c), sizeof c);
            out[s].pkts += c.packets;
            out[s].bytes += c.bytes;
        }
    return out;
}

// Visits every counted rule and policy of `rs` with its slot number (`slots` is
// enumerate_slots(rs)).
template <class F>
void for_each_slot(Ruleset& rs, const std::vector<SlotRef>& slots, F&& f) {
    for (size_t s = 0; s < slots.size(); ++s) {
        Table* t = rs.find(slots[s].table);
        Chain* ch = t ? t->find(slots[s].chain) : nullptr;
        if (!ch) continue;
        if (slots[s].rule < 0) f(s, ch->ctr, ch->slot);
        else f(s, ch->rules[size_t(slots[s].rule)].ctr, ch->rules[size_t(slots[s].rule)].slot);
    }
}

// Room for growth when an inner map is made: a few more rules (-A, -I) then fit in it
// and the next commit refills it where it stands. Never fewer than 1,024 elements: a
// script growing a ruleset from nothing then loads its second program (~0.3 s of
// verification) near a thousand rules, not at each of the first doublings (1,000
// appends: 2 programs, not 6; 11.1 -> 9.2 s), for 0.7 MiB more of an empty ruleset's
// 13 MiB. The value map's address blocks (1 KiB each, none in most rulesets) have no
// floor but the room itself (64 blocks and up).
constexpr size_t least_elements = 1024, least_blocks = 0;
uint32_t with_room(size_t n, size_t least = least_elements) {
    return static_cast<uint32_t>(std::max<size_t>(least, n + n / 8 + 64));
}

// The size a program gives an inner array of which `need` elements are used: with room,
// rounded up to eight steps per doubling, so that a ruleset growing rule by rule gets a
// new program (inner arrays of new sizes) only every eighth or so of growth.
uint32_t sized(size_t need, size_t least = least_elements) {
    const size_t n = with_room(need, least);
    const size_t step = std::max<size_t>(1, std::bit_floor(n) / 8);
    return static_cast<uint32_t>((n + step - 1) / step * step);
}

// What a generation of `t` uses of each sized inner array.
xdpt_capacity needs(const Tables& t) {
    return {uint32_t(t.bitmaps.size()), uint32_t(t.chunks.size()), uint32_t(t.rules.size()),
            t.cfg.nslots * t.cfg.ncpus, uint32_t(t.addr_blocks.size() / XDPT_ADDR_BLOCK)};
}

// Whether an inner array of `h` elements holds `n`, and is not much larger (a ruleset
// that shrank gives its memory back).
bool fits(uint32_t h, uint32_t n, size_t least = least_elements) { return n <= h && h <= 4 * size_t(sized(n, least)); }
bool fits(const xdpt_capacity& have, const xdpt_capacity& need) {
    return fits(have.bitmaps, need.bitmaps) && fits(have.chunks, need.chunks) && fits(have.rules, need.rules) &&
           fits(have.counters, need.counters) && fits(have.addr_blocks, need.addr_blocks, least_blocks);
}

// The sizes of a new program for `need`, replacing one of `have` (if any). An array that
// outgrew its program, or soon will, doubles: a ruleset built one command at a time (a
// script of -A) then loads a program (hundreds of milliseconds of verification) about
// once per doubling, not once per eighth. One far from its size keeps it; a first
// program, or one for a ruleset that grew or shrank by far more, is sized to its need (a
// restore's memory stays tight).
xdpt_capacity capacity_for(const xdpt_capacity& need, const std::optional<xdpt_capacity>& have) {
    auto one = [&](uint32_t xdpt_capacity::*f, size_t least = least_elements) {
        const uint32_t n = need.*f;
        if (!have) return sized(n, least);
        const uint32_t h = (*have).*f;
        // Doubled also when more than half used: the arrays grow together, and the next
        // to outgrow its size would otherwise load a program again a command later.
        if (n > h / 2 && n <= 2 * size_t(h))
            return std::max(sized(n, least), uint32_t(std::min<size_t>(2 * size_t(h), UINT32_MAX)));
        if (fits(h, n, least)) return h;
        return sized(n, least);
    };
    // No table has more address blocks than the budget (xdpt_shared.h).
    return {one(&xdpt_capacity::bitmaps), one(&xdpt_capacity::chunks), one(&xdpt_capacity::rules),
            one(&xdpt_capacity::counters),
            std::min<uint32_t>(one(&xdpt_capacity::addr_blocks, least_blocks), XDPT_ADDR_BLOCKS_MAX)};
}

// An inner map to refill where it stands, and its number of elements.
struct Reusable {
    Fd fd;
    uint32_t max_entries = 0;
    explicit operator bool() const { return bool(fd); }
};

// The inner map `outer`[gen] when it can be refilled in place: the same type and value
// size, room for `need` elements, and not more than twice too big. Replacing an inner map
// costs an RCU grace period (the kernel waits for running programs after every update of
// a map-in-map); refilling one costs none. The generation written is the inactive one:
// no program reads it since the wait that followed the last flip.
Reusable reusable(const Anchor& a, Family f, const char* outer, uint32_t gen, bpf_map_type type, uint32_t value_size,
                  size_t need) {
    Fd fd = inner_map(a, f, outer, gen);
    if (!fd) return {};
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) || info.type != uint32_t(type) ||
        info.value_size != value_size || info.max_entries < need || info.max_entries > 2 * need + 4096)
        return {};
    return {std::move(fd), info.max_entries};
}

// An array map of `n` elements (at least), made unless `old` is given, and written by
// `write(map)`, where map(first, count) maps elements [first, first + count) (see put) or
// fails. A `fixed` one has exactly the size of the program's template for it, and not its
// BPF_F_INNER_MAP flag (the verifier then inlines its lookups).
template <class T, class Write>
Result<Fd> fill_array_with(Reusable old, const char* name, size_t n, bool fixed, Write&& write) {
    Fd fd = std::move(old.fd);
    if (!fd) {
        const size_t cap = fixed ? n : with_room(n);
        LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE | (fixed ? 0u : uint32_t(BPF_F_INNER_MAP)));
        fd = Fd(bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), sizeof(T), static_cast<uint32_t>(cap), &mo));
        if (!fd) return sys_fail(str("creating map ", name), errno);
    }
    auto map = [&](size_t first, size_t count) {
        return Mapping(fd.get(), first * stride(sizeof(T)), count * stride(sizeof(T)), PROT_READ | PROT_WRITE);
    };
    if (!write(map)) return sys_fail(str("mapping map ", name), errno);
    return fd;
}

// Element `i` of a mapped array made to hold `v`. Written only where it differs: the
// inactive generation often holds much of it already (a generation ago's ruleset), and
// a write to a page of the mapping costs far more than a read.
template <class T>
void put(const Mapping& m, size_t i, const T& v) {
    char* at = m.at(i * stride(sizeof(T)));
    if (std::memcmp(at, &v, sizeof v) != 0) std::memcpy(at, &v, sizeof v);
}

// An array of `n` elements holding `data` first, then zeros up to `upto`. What lies
// beyond is left as it is: the program reads no element past those its configuration
// counts (rules, slots) or its tables refer to (bitmaps, chunks).
template <class T>
Result<Fd> fill_array(Reusable old, const char* name, const std::vector<T>& data, size_t n, bool fixed,
                      size_t upto = 0) {
    n = std::max<size_t>({1, n, data.size()});
    upto = std::min(n, std::max(upto, data.size()));
    return fill_array_with<T>(std::move(old), name, n, fixed, [&](auto& map) {
        if (!upto) return true;
        const Mapping m = map(0, upto);
        if (!m) return false;
        for (size_t i = 0; i < data.size(); ++i) put(m, i, data[i]);
        for (size_t i = data.size(); i < upto; ++i) put(m, i, T{});
        return true;
    });
}

// The value map written from its runs (Tables::value_runs), in the domains of the
// active fields (the program looks up no other).
Result<Fd> fill_values(Reusable old, const char* name, const Tables& t, size_t n) {
    std::vector<ValueDomain> domains(std::begin(value_domains), std::end(value_domains));
    if (t.addr16) domains.insert(domains.end(), std::begin(addr16_domains), std::end(addr16_domains));
    return fill_array_with<uint32_t>(std::move(old), name, n, true, [&](auto& map) {
        for (const ValueDomain& d : domains) {
            if (!(t.cfg.active_fields & (1u << d.field))) continue;
            const Mapping m = map(d.base, d.size);
            if (!m) return false;
            const auto& runs = t.value_runs;
            auto r = std::prev(std::upper_bound(runs.begin(), runs.end(), std::pair{d.base, ~uint32_t(0)}));
            for (uint32_t i = d.base; i < d.base + d.size; ++i) {
                if (std::next(r) != runs.end() && std::next(r)->first == i) ++r;
                put(m, i, r->second);
            }
        }
        // The address blocks, after the wide array (only the first level links to them).
        if (!t.addr_blocks.empty()) {
            const uint32_t base = XDPT_SMALL_SIZE + XDPT_WIDE_SIZE;
            const Mapping m = map(base, t.addr_blocks.size());
            if (!m) return false;
            for (size_t i = 0; i < t.addr_blocks.size(); ++i) put(m, base + i, t.addr_blocks[i]);
        }
        return true;
    });
}

// A hash or LPM map holding exactly `data`. Refilled in place when `old` is given: what
// it holds is read in one batch, then what has to go is deleted and what is new or
// changed written, each in one batch where the kernel has batches for the map type.
template <class K, class V>
Result<Fd> fill_keyed(Fd old, bpf_map_type type, const char* name, const std::vector<std::pair<K, V>>& data,
                      uint32_t flags) {
    auto key_of = [](const K& k) { return std::string(reinterpret_cast<const char*>(&k), sizeof k); };
    std::vector<K> keys, gone;
    std::vector<V> values;
    if (old) {
        std::map<std::string, V> have;
        // Read in batches sized to what the map should hold (it held a ruleset much like this one).
        const size_t batch = std::clamp<size_t>(data.size() + 16, 64, 4096);
        std::vector<K> ks(batch);
        std::vector<V> vs(batch);
        K in{}, out{};
        bool first = true, ok = true;
        for (;;) {
            uint32_t count = uint32_t(ks.size());
            int rc = bpf_map_lookup_batch(old.get(), first ? nullptr : &in, &out, ks.data(), vs.data(), &count, nullptr);
            if (rc && errno != ENOENT) {
                ok = false;
                break;
            }
            for (uint32_t i = 0; i < count; ++i) have.emplace(key_of(ks[i]), vs[i]);
            if (rc) break;  // ENOENT: that was the last batch
            in = out, first = false;
        }
        if (ok) {
            std::map<std::string, const V*> want;
            for (const auto& [k, v] : data) want.emplace(key_of(k), &v);
            for (const auto& [kb, v] : have)
                if (!want.count(kb)) {
                    K k;
                    std::memcpy(&k, kb.data(), sizeof k);
                    gone.push_back(k);
                }
            for (const auto& [k, v] : data) {
                auto it = have.find(key_of(k));
                if (it == have.end() || std::memcmp(&it->second, &v, sizeof v) != 0) keys.push_back(k), values.push_back(v);
            }
            uint32_t count = uint32_t(gone.size());
            if (!gone.empty() && (bpf_map_delete_batch(old.get(), gone.data(), &count, nullptr) || count != gone.size()))
                for (const K& k : gone)
                    if (bpf_map_delete_elem(old.get(), &k) && errno != ENOENT) return sys_fail(str("emptying map ", name), errno);
        } else {
            old = Fd{};  // no batch lookup for this map type: a new map
        }
    }
    Fd fd = std::move(old);
    if (!fd) {
        LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = flags);
        fd = Fd(bpf_map_create(type, name, sizeof(K), sizeof(V), with_room(data.size()), &mo));
        if (!fd) return sys_fail(str("creating map ", name), errno);
        for (const auto& [k, v] : data) keys.push_back(k), values.push_back(v);
    }
    if (keys.empty()) return fd;
    // One syscall for all of it where the kernel has batch updates for the map type;
    // element by element otherwise.
    uint32_t count = static_cast<uint32_t>(keys.size());
    if (bpf_map_update_batch(fd.get(), keys.data(), values.data(), &count, nullptr) == 0 && count == keys.size())
        return fd;
    for (size_t i = 0; i < keys.size(); ++i)
        if (bpf_map_update_elem(fd.get(), &keys[i], &values[i], BPF_ANY)) return sys_fail(str("filling map ", name), errno);
    return fd;
}

// A sysctl of this namespace (/proc/sys/net/...), or `absent` when unreadable.
int sysctl_int(const std::string& path, int absent) {
    std::FILE* f = std::fopen(str("/proc/sys/net/", path).c_str(), "re");
    int v = absent;
    if (f) {
        if (std::fscanf(f, "%d", &v) != 1) v = absent;
        std::fclose(f);
    }
    return v;
}

// net.ipv4.conf.<dev>.rp_filter of this namespace (the kernel uses the larger of "all"
// and the device's); 0 when unreadable.
int rp_filter(const std::string& dev) { return sysctl_int(str("ipv4/conf/", dev, "/rp_filter"), 0); }

}  // namespace

std::vector<Iface> list_ifaces() {
    std::vector<Iface> out;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (struct if_nameindex* names = if_nameindex()) {
        for (auto* n = names; n->if_index; ++n) {
            Iface i;
            i.ifindex = n->if_index;
            i.name = n->if_name;
            ifreq ifr{};
            std::strncpy(ifr.ifr_name, n->if_name, IFNAMSIZ - 1);
            if (sock < 0 || ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) continue;
            if (ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER) {
                i.flags = XDPT_IF_ETHER;
                std::memcpy(i.mac.data(), ifr.ifr_hwaddr.sa_data, 6);
            } else if (ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK) {
                i.flags = XDPT_IF_LOOPBACK;
            } else {
                continue;
            }
            if (std::max(rp_filter("all"), rp_filter(i.name)) > 0) i.flags |= XDPT_IF_RPF;
            // (No IPv6 at all in the kernel: no such file, and no IPv6 packet received.)
            if (sysctl_int(str("ipv6/conf/", i.name, "/disable_ipv6"), 1) != 0) i.flags |= XDPT_IF_NO_IPV6;
            out.push_back(std::move(i));
        }
        if_freenameindex(names);
    }
    if (sock >= 0) close(sock);
    return out;
}

namespace {

// The IPv6 addresses of the namespace that deliver locally (/proc/net/if_inet6), as
// /128 prefixes: link-local ones aside (XDP leaves their packets' filter walk to the
// kernel), and tentative or duplicate ones (not yet, or never, local routes).
std::vector<Prefix> list_local6() {
    std::vector<Prefix> out;
    std::FILE* f = std::fopen("/proc/net/if_inet6", "re");
    if (!f) return out;
    char hex[33], name[IFNAMSIZ + 1];
    unsigned idx, plen, scope, flags;
    while (std::fscanf(f, "%32s %x %x %x %x %16s", hex, &idx, &plen, &scope, &flags, name) == 6) {
        if (flags & (0x40 /* IFA_F_TENTATIVE */ | 0x08 /* IFA_F_DADFAILED */) || scope == 0x20 /* link */) continue;
        IpAddr a;
        for (int i = 0; i < 16; ++i) a.b[size_t(i)] = uint8_t(std::stoul(std::string(hex + 2 * i, 2), nullptr, 16));
        out.push_back({a, 128});
    }
    std::fclose(f);
    return out;
}

// The local addresses as the local routing table holds them: every address, the whole
// prefix of loopback addresses, and broadcast addresses.
std::vector<Prefix> list_local() {
    std::vector<Prefix> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list)) return out;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        uint32_t addr = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
        uint32_t mask = a->ifa_netmask ? ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_netmask)->sin_addr.s_addr) : ~0u;
        if (a->ifa_flags & IFF_LOOPBACK) {
            int len = __builtin_popcount(mask);
            out.push_back({addr & mask, uint8_t(len)});
        } else {
            out.push_back({addr, 32});
            // The kernel adds the subnet's broadcast route (fib_add_ifaddr) whether or
            // not the address was given a broadcast address (`ip addr add` gives none).
            if (__builtin_popcount(mask) < 31 && (addr & mask) && (a->ifa_flags & IFF_UP))
                out.push_back({addr | ~mask, 32});
        }
        if ((a->ifa_flags & IFF_BROADCAST) && a->ifa_broadaddr)
            out.push_back({ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_broadaddr)->sin_addr.s_addr), 32});
    }
    freeifaddrs(list);
    return out;
}

// The name of the driver of `ifname` (ETHTOOL_GDRVINFO), or "".
std::string driver_of(const std::string& ifname) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return {};
    ethtool_drvinfo info{};
    info.cmd = ETHTOOL_GDRVINFO;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&info);
    const int rc = ioctl(sock, SIOCETHTOOL, &ifr);
    close(sock);
    return rc == 0 ? std::string(info.driver) : std::string();
}

// The XDP modes to try for an interface, in order. Native where the driver has it, but
// generic on a veth: a native program on a veth makes the kernel take TSO and the other
// segmentation offloads away from its peer (veth_fix_features), and every TCP flow into
// the namespace is then cut at the MTU by the sender (iperf3 here: a third of its rate);
// in generic mode the peer keeps them, and a flood costs about the same (the veth hands
// over an skb either way). XDPT_XDP_MODE=native|generic forces one.
std::vector<uint32_t> modes_for(const Iface& i) {
    const char* force = std::getenv("XDPT_XDP_MODE");
    if (force && std::string_view(force) == "native") return {XDP_FLAGS_DRV_MODE};
    if (force && std::string_view(force) == "generic") return {XDP_FLAGS_SKB_MODE};
    if (driver_of(i.name) == "veth") return {XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE};
    return {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
}

// Attaches the program to every covered interface that lacks it, in the first mode of
// modes_for() that the driver takes. Interfaces with a foreign program are left alone.
void attach_all(const Anchor& a, const std::vector<Iface>& ifaces, std::string* notices) {
    for (const Iface& i : ifaces) {
        if (i.flags & XDPT_IF_LOOPBACK) continue;  // lo carries the anchor
        LIBBPF_OPTS(bpf_xdp_query_opts, q);
        if (bpf_xdp_query(int(i.ifindex), 0, &q)) continue;
        if (q.prog_id == a.prog_id || q.drv_prog_id == a.prog_id || q.skb_prog_id == a.prog_id) continue;
        if (q.prog_id || q.drv_prog_id || q.skb_prog_id || q.hw_prog_id) {
            if (notices)
                *notices += str("xdptables: warning: ", i.name,
                                " carries another XDP program; its packets are left to the kernel\n");
            continue;
        }
        LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
        bool attached = false;
        for (uint32_t mode : modes_for(i))
            if (!attached && bpf_xdp_attach(int(i.ifindex), a.prog.get(), mode | XDP_FLAGS_UPDATE_IF_NOEXIST, &ao) == 0)
                attached = true;
        if (!attached && notices)
            *notices += str("xdptables: warning: cannot attach to ", i.name, "; its packets are left to the kernel\n");
    }
}

// An RCU grace period: XDP runs inside an RCU read-side section. 8 to 20 ms here.
void wait_for_grace_period() {
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) usleep(20000);
}

// Waits until no CPU runs the program of `a` with a generation index read before the
// flip (see struct xdpt_readers): each CPU's runs that had begun by now have ended. A run
// takes microseconds; should one take longer than a few milliseconds (a CPU stalled, a
// count that cannot be read), a grace period is waited instead, which covers every run.
void wait_for_readers(const Anchor& a) {
    // Orders the flip's store before the reads of `enter` below (Dekker: the program's
    // atomic add orders its `enter` before its read of the index).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const int fd = a.map("xdpt_readers");
    const int ncpus = libbpf_num_possible_cpus();
    if (fd < 0 || ncpus <= 0) return wait_for_grace_period();
    std::vector<xdpt_readers> seen(static_cast<size_t>(ncpus)), now(seen.size());
    const uint32_t zero = 0;
    if (bpf_map_lookup_elem(fd, &zero, seen.data())) return wait_for_grace_period();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(5);
    for (size_t spins = 0;; ++spins) {
        if (bpf_map_lookup_elem(fd, &zero, now.data())) return wait_for_grace_period();
        bool done = true;
        for (size_t c = 0; c < seen.size(); ++c)
            if (now[c].left < seen[c].enter) done = false;
        if (done) return;
        if (std::chrono::steady_clock::now() > give_up) return wait_for_grace_period();
        if (spins > 100) usleep(50);
    }
}

// The entries of an address trie as the family's trie keys them.
template <class K>
std::vector<std::pair<K, uint32_t>> lpm_keys(const std::vector<std::pair<Prefix, uint32_t>>& in) {
    std::vector<std::pair<K, uint32_t>> out;
    out.reserve(in.size());
    for (const auto& [p, v] : in) {
        K k{};
        k.prefixlen = p.len;
        std::memcpy(&k.addr, p.addr.b.data(), sizeof k.addr);
        out.push_back({k, v});
    }
    return out;
}

Result<void> write_generation(const Anchor& a, Family f, uint32_t gen, const Tables& t, const xdpt_capacity& cap) {
    struct Inner {
        std::string outer;
        bool reused;  // refilled where it stands: nothing to install
        Result<Fd> fd;
    };
    const std::vector<xdpt_config> cfg{t.cfg};
    const std::vector<xdpt_counter> no_counters;
    // `fill` makes or refills the map from what `reusable` found.
    auto inner = [&](const char* outer, bpf_map_type type, uint32_t value_size, size_t need, auto fill) {
        Reusable old = reusable(a, f, outer, gen, type, value_size, need);
        const int was = old ? old.fd.get() : -1;
        Result<Fd> fd = fill(std::move(old));
        // Reused when the fill kept the old map (it may make a new one instead).
        const bool reused = fd && was >= 0 && fd->get() == was;
        return Inner{fmap(f, outer), reused, std::move(fd)};
    };
    auto arr = [&](const char* outer, const char* name, const auto& data, size_t n = 0, bool fixed = false,
                   size_t upto = 0) {
        using T = typename std::decay_t<decltype(data)>::value_type;
        return inner(outer, BPF_MAP_TYPE_ARRAY, sizeof(T), std::max<size_t>({1, n, data.size()}),
                     [&](Reusable old) { return fill_array(std::move(old), name, data, n, fixed, upto); });
    };
    auto keyed = [&](const char* outer, const char* name, bpf_map_type type, const auto& data, uint32_t flags) {
        using V = typename std::decay_t<decltype(data)>::value_type::second_type;
        return inner(outer, type, sizeof(V), data.size(),
                     [&](Reusable old) { return fill_keyed(std::move(old.fd), type, name, data, flags); });
    };
    // The address tries, keyed as the family's program reads them.
    auto tries = [&](auto key) {
        using K = decltype(key);
        return std::array{keyed("xdpt_src", "xdpt_src_g", BPF_MAP_TYPE_LPM_TRIE, lpm_keys<K>(t.src), BPF_F_NO_PREALLOC),
                          keyed("xdpt_dst", "xdpt_dst_g", BPF_MAP_TYPE_LPM_TRIE, lpm_keys<K>(t.dst), BPF_F_NO_PREALLOC),
                          keyed("xdpt_local", "xdpt_local_g", BPF_MAP_TYPE_LPM_TRIE, lpm_keys<K>(t.local), BPF_F_NO_PREALLOC)};
    };
    auto trie = f == Family::ipv4 ? tries(xdpt_lpm_key{}) : tries(xdpt_lpm6_key{});
    Inner inners[] = {
        inner("xdpt_values", BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), value_entries(cap),
              [&](Reusable old) { return fill_values(std::move(old), "xdpt_values_g", t, value_entries(cap)); }),
        arr("xdpt_bitmaps", "xdpt_bitmaps_g", t.bitmaps, cap.bitmaps, true),
        arr("xdpt_chunks", "xdpt_chunks_g", t.chunks, cap.chunks, true),
        arr("xdpt_rules", "xdpt_rules_g", t.rules, cap.rules, true),
        // Zero where this generation counts (slots times CPUs); the rest is never read.
        arr("xdpt_counters", "xdpt_counters_g", no_counters, cap.counters, true, size_t(t.cfg.nslots) * t.cfg.ncpus),
        std::move(trie[0]),
        std::move(trie[1]),
        std::move(trie[2]),
        keyed("xdpt_ifaces", "xdpt_ifaces_g", BPF_MAP_TYPE_HASH, t.ifaces, 0),
        arr("xdpt_ifarr", "xdpt_ifarr_g", t.ifarr, 0, true),
        keyed("xdpt_macs", "xdpt_macs_g", BPF_MAP_TYPE_HASH, t.macs, 0),
        // The config last: the program ignores a generation without it.
        arr("xdpt_cfg", "xdpt_cfg_g", cfg, 0, true),
    };
    // The maps made anew go into their outer maps. The kernel waits for an RCU grace
    // period after each such update; made from one thread each, the waits overlap (a
    // fresh namespace's first commit installs all eleven: ~105 -> ~15 ms). Their order
    // does not matter: no program reads the inactive generation.
    std::vector<std::pair<std::string, int>> installs;
    for (auto& in : inners) {
        if (!in.fd) return std::unexpected(in.fd.error());
        if (in.reused) continue;
        if (a.map(in.outer) < 0) return fail(Exit::resource, "lo's xdptables program is from another version");
        installs.push_back({in.outer, in.fd->get()});
    }
    std::vector<int> errs(installs.size(), 0);
    auto install = [&](size_t i) {
        int fd = installs[i].second;
        if (bpf_map_update_elem(a.map(installs[i].first), &gen, &fd, BPF_ANY)) errs[i] = errno;
    };
    {
        std::vector<std::jthread> threads;
        for (size_t i = 1; i < installs.size(); ++i) threads.emplace_back(install, i);
        if (!installs.empty()) install(0);
    }
    for (size_t i = 0; i < installs.size(); ++i)
        if (errs[i]) return sys_fail(str("installing map ", installs[i].first), errs[i]);
    return {};
}

void drop_generation(const Anchor& a, Family f, uint32_t gen) {
    for (const char* kind : gen_map_kinds)
        if (a.map(fmap(f, kind)) >= 0) bpf_map_delete_elem(a.map(fmap(f, kind)), &gen);
}

}  // namespace

std::vector<Prefix> local_addresses(Family f) { return f == Family::ipv4 ? list_local() : list_local6(); }

Result<Live> add_live_counters(const Anchor& a, Ruleset& rs) {
    Live live;
    auto gen = active_gen(a, rs.family);
    if (!gen) return std::unexpected(gen.error());
    auto counts = read_counters(a, rs.family, *gen);
    if (!counts) return std::unexpected(counts.error());
    const auto slots = enumerate_slots(rs);
    if (counts->size() != slots.size()) return live;  // not this ruleset's generation
    live.snapshot = std::move(*counts);
    for_each_slot(rs, slots, [&](size_t s, Counters& c, int32_t& slot) {
        c.pkts += live.snapshot[s].pkts;
        c.bytes += live.snapshot[s].bytes;
        slot = int32_t(s);
    });
    return live;
}

// XDPT_TEST_FAIL=<step>: the tests' way to make one step of a commit fail for real.
static bool test_step(const char* var, std::string_view step) {
    const char* v = std::getenv(var);
    return v && step == v;
}
static bool injected(std::string_view step) { return test_step("XDPT_TEST_FAIL", step); }

// XDPT_TEST_PAUSE=<step>: the tests' way to stop a commit at one step (the process
// stops itself; the test then kills it, or lets it go on).
static void pause_at(std::string_view step) {
    if (test_step("XDPT_TEST_PAUSE", step)) raise(SIGSTOP);
}

namespace {

// Stages the stored text of `rs` as the kernel will hold it once `change` is in (without
// what netfilter still counts for the rules it keeps), then sends the change: prepared
// again, up to three times, when another user of nftables changed something since it was
// built. Once it is in, `rs` is what was stored, and the text waits to be published.
Result<Publish> stage_and_send(nft::Change& change, const Anchor& a, Ruleset& rs, const Stage& stage) {
    for (int attempt = 1;; ++attempt) {
        // Settled in place; put back as prepared if the batch does not go through.
        auto was = change.settle(rs);
        auto st = [&] {
            Phase ph("commit: store");
            nft::LiveOut out(rs);
            return stage(a, rs);
        }();
        if (!st) {
            nft::unsettle(rs, std::move(was));
            return std::unexpected(st.error());
        }
        if (injected("netfilter")) change.refuse_for_test();
        if (attempt == 1 && injected("race")) (void)nft::bump_generation_for_test();
        auto sent = [&] {
            Phase ph("commit: netfilter batch");
            return change.send();
        }();
        if (sent) return std::move(*st);
        nft::unsettle(rs, std::move(was));
        if (!change.raced() || attempt == 3) return std::unexpected(sent.error());
        auto again = nft::prepare(rs);
        if (!again) return std::unexpected(again.error());
        change = std::move(*again);
    }
}

}  // namespace

Result<void> commit(std::optional<Anchor>& anchor, Ruleset& rs, const Previous& prev, const Live& before,
                    const Stage& stage, std::string* notices) {
    // Each family has generations of its own (bpf/xdpt_shared.h, XDPT_FAMILIES): this
    // commit writes and flips the family of `rs` alone.
    const Family fam = rs.family;
    const size_t fi = size_t(fam);
    Phase all("commit");
    std::optional<Phase> ph;
    ph.emplace("commit: flatten");
    // A ruleset XDP cannot hold (more flat rules than its classifier's bit vectors, once
    // user chains are expanded) is netfilter's alone: accepted, as iptables accepts it,
    // and `explain` says why.
    auto program = flatten(rs);
    if (!program) program = pass_through(rs);
    // XDP counts only its drops; what it passes up netfilter judges and counts. The
    // classifier tests (tests/dp, BPF_PROG_TEST_RUN: no packet reaches netfilter) have
    // it count every verdict instead, to see each path it takes.
    if (!std::getenv("XDPT_TEST_COUNT_ALL")) program->flags |= XDPT_CFG_MIRROR;
    // XDPT_NO_CACHE=1: every packet walks (the benchmarks' miss path, the tests of both).
    if (const char* nc = std::getenv("XDPT_NO_CACHE"); nc && *nc == '1') program->flags |= XDPT_CFG_NO_CACHE;
    if (fam == Family::ipv6 && sysctl_int("ipv6/conf/all/forwarding", 0) == 0) program->flags |= XDPT_CFG_NO_FORWARD;

    // One change across both layers. Everything that can fail is done first where no
    // packet and no reader looks: the netfilter batch built, the inactive generation
    // written, the stored text staged. Then the batch is sent, the one step the kernel
    // may still refuse (all of it or nothing); a refusal drops what was staged, and
    // nothing has changed. After it only flips remain.
    ph.emplace("commit: netfilter (prepare)");
    auto change = nft::prepare(rs);
    if (!change) return std::unexpected(change.error());
    pause_at("prepared");
    auto ifaces = list_ifaces();
    int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0) return sys_fail("counting CPUs", -ncpus);
    ph.emplace("commit: build tables");
    Tables tables =
        build_tables(*program, ifaces, local_addresses(fam), uint32_t(ncpus), fam);

    // The program: the anchor, when its inner arrays hold the tables; otherwise a new one
    // sized for them, which takes the anchor's place at the flip.
    const xdpt_capacity need = needs(tables);
    std::optional<uint32_t> old;      // the anchor's active generation of the family
    std::optional<Capacities> cap;    // the sizes of the program written to
    std::optional<Capacities> had;    // the anchor's
    if (anchor) {
        auto have = anchor_capacity(*anchor);
        if (!have) return std::unexpected(have.error());
        auto gen = active_gen(*anchor, fam);
        if (!gen) return std::unexpected(gen.error());
        old = *gen;
        had = *have;
        if (fits((*have)[fi], need)) cap = *have;
    }
    std::optional<Anchor> fresh;
    if (!cap) {
        ph.emplace("commit: load a program");
        // The other family keeps its sizes (its maps go on in the new program as they
        // are); a first program gives it the smallest.
        Capacities c;
        for (size_t f = 0; f < c.size(); ++f)
            c[f] = f == fi ? capacity_for(need, had ? std::optional((*had)[f]) : std::nullopt)
                 : had     ? (*had)[f]
                           : capacity_for(xdpt_capacity{}, std::nullopt);
        cap = c;
        auto loaded = load_anchor(*cap, anchor ? &*anchor : nullptr, fam);
        if (!loaded) return std::unexpected(loaded.error());
        fresh = std::move(*loaded);
    }
    const Anchor& a = fresh ? *fresh : *anchor;
    // A new program reads generation 0 from the start, and no packet meets it before the
    // switch. In the anchor, the inactive slot still holds the generation before the last
    // one: replacing its maps in place costs one RCU grace period each (the kernel waits
    // for programs after every map-in-map update), so nothing is deleted that is not
    // replaced.
    const uint32_t next = fresh ? 0 : (*old + 1) % XDPT_GENERATIONS;
    // A new epoch: the class cache's entries of the generation before are never met
    // again. A fresh program has a cache of its own, empty.
    if (!fresh)
        if (auto cur = read_config(a, fam, *old)) tables.cfg.epoch = cur->epoch + 1;
    // A failure before the batch went in: the generation written is dropped, and nothing
    // has changed.
    auto abandon = [&](const Error& e) {
        drop_generation(a, fam, next);
        return std::unexpected(e);
    };
    ph.emplace("commit: write generation");
    auto written = write_generation(a, fam, next, tables, (*cap)[fi]);
    if (written && injected("generation")) written = fail(Exit::resource, "writing the classifier: injected failure");
    if (!written) return abandon(written.error());
    pause_at("written");
    ph.emplace("commit: store, netfilter");
    auto staged = stage_and_send(*change, a, rs, stage);
    if (!staged) return abandon(staged.error());
    pause_at("sent");
    ph.emplace("commit: flip, wait, attach");
    const uint32_t fkey = uint32_t(fam);
    // Neither flip can fail short of a broken anchor (or, for a store outgrowing its map,
    // no memory); if one does, the previous ruleset goes back into netfilter.
    auto undo = [&](Result<void> r) {
        Ruleset back = prev();
        (void)nft::install(back, false);
        return r;
    };
    if (fresh) {
        if (auto r = switch_anchor(anchor ? &*anchor : nullptr, a); !r) return undo(r);
    } else if (bpf_map_update_elem(a.map("xdpt_active"), &fkey, &next, BPF_ANY)) {
        return undo(sys_fail("switching to the new classifier", errno));
    }
    pause_at("flipped");
    if (auto r = (*staged)(); !r) {
        if (!fresh) (void)bpf_map_update_elem(a.map("xdpt_active"), &fkey, &*old, BPF_ANY);
        else if (anchor) (void)switch_anchor(&a, *anchor);
        else (void)remove_state();
        return undo(r);
    }
    pause_at("published");
    // The program replaced runs on until every interface has the new one: its runs end
    // within a grace period. A flip in the same program is waited for by its counts.
    if (fresh) wait_for_grace_period();
    else wait_for_readers(a);
    attach_all(a, ifaces, notices);
    // The program before, if it was replaced: its counts are folded below.
    std::optional<Anchor> was;
    if (fresh) was = std::exchange(anchor, std::move(fresh));
    const Anchor& counted = was ? *was : *anchor;

    ph.emplace("commit: fold counters");
    // What the old generation counted after the snapshot: add it to the rules that
    // kept their slot.
    if (!old) return {};
    auto final_counts = read_counters(counted, fam, *old);
    if (!final_counts || final_counts->size() != before.snapshot.size() || before.snapshot.empty()) return {};
    bool moved = false;
    auto add = [&](Counters& c, int32_t slot) {
        if (slot < 0 || size_t(slot) >= before.snapshot.size()) return;
        const Counters& f = (*final_counts)[size_t(slot)];
        const Counters& b = before.snapshot[size_t(slot)];
        if (f.pkts == b.pkts && f.bytes == b.bytes) return;
        c.pkts += f.pkts - b.pkts;
        c.bytes += f.bytes - b.bytes;
        moved = true;
    };
    for (Table& t : rs.tables)
        for (Chain& ch : t.chains) {
            add(ch.ctr, ch.slot);
            for (Rule& r : ch.rules) add(r.ctr, r.slot);
        }
    if (!moved) return {};
    nft::LiveOut out(rs);
    auto again = stage(*anchor, rs);
    if (!again) return std::unexpected(again.error());
    return (*again)();
}

}  // namespace xdpt::dp
