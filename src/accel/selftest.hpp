// The self-test `socket-accel enable` runs before attaching anything where it matters:
// each I/O path applications use, over a connection accelerated by the programs about to
// be enabled, in a private network namespace and a private child cgroup (both removed
// afterwards). The running kernel decides what is safe, not a version table.
#pragma once
#include <cstdint>
#include <string>

#include "accel/cgroup.hpp"
#include "core/error.hpp"

namespace xdpt::accel {

struct SelfTest {
    uint32_t unsafe = 0;   // enum sa_path bits
    std::string findings;  // one line per path: "splice read: broken (...)"
};

// `sockops_fd`: the loaded sock_ops program; `stats_fd`: its per-CPU counters (a path
// counts as accelerated only if bytes were redirected while it ran).
Result<SelfTest> self_test(const Cgroup2& cg, int sockops_fd, int stats_fd);

}  // namespace xdpt::accel
