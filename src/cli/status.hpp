// `xdptables status`: what the kernel holds for xdptables in this network namespace, read
// from it (netlink for the attachments, the anchor's maps for the rest), nothing stored.
#pragma once
#include <string>

#include "core/error.hpp"

namespace xdpt {

// The report `xdptables status` prints: per interface whether xdptables' XDP program is
// attached and in which mode, the program and its active generation, the program's
// verdict statistics summed over CPUs, the memory of its maps, and socket-accel's state.
// Without xdptables state in the namespace it says so (not an error).
Result<std::string> status_report();

}  // namespace xdpt
