// Phase timings for the control plane: with XDPT_TIMING set in the environment, each
// Phase prints "xdptables: timing: NAME MS" to stderr when it ends. For finding where a
// command's time goes (tools/bench and by hand); silent and nearly free otherwise.
#pragma once
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace xdpt {

class Phase {
public:
    explicit Phase(const char* name) : name_(name), on_(enabled()), t0_(std::chrono::steady_clock::now()) {}
    ~Phase() {
        if (!on_) return;
        std::chrono::duration<double, std::milli> d = std::chrono::steady_clock::now() - t0_;
        std::fprintf(stderr, "xdptables: timing: %s %.2f ms\n", name_, d.count());
    }
    Phase(const Phase&) = delete;
    Phase& operator=(const Phase&) = delete;

private:
    static bool enabled() {
        static const bool on = std::getenv("XDPT_TIMING") != nullptr;
        return on;
    }
    const char* name_;
    bool on_;
    std::chrono::steady_clock::time_point t0_;
};

}  // namespace xdpt
