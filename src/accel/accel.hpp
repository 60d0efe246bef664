// `xdptables socket-accel`: same-host TCP that skips the stack (bpf/sockaccel.bpf.c).
//
// State lives in the kernel and is found through it, never through a path: the sock_ops
// program attached to a cgroup (found by walking the loaded programs by name, then
// BPF_PROG_QUERY on the cgroup enable recorded), its maps by id from the program's info.
// cgroups are host-wide, so socket-accel is too; the namespace is part of every key.
#pragma once
#include <string>
#include <vector>

#include "core/error.hpp"

namespace xdpt::accel {

// Runs `socket-accel ARGS...` (enable, disable, status, list) and returns what it prints
// on stdout.
Result<std::string> run(const std::vector<std::string>& args);

// One phrase for `xdptables status`: "disabled", "enabled for ports LIST" or "draining
// (disable in progress)".
Result<std::string> state_line();

}  // namespace xdpt::accel
