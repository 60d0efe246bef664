// The cgroup v2 hierarchy, found in /proc/self/mountinfo or, when this mount namespace
// has none (`ip netns exec` remounts /sys), mounted privately for the life of a Cgroup2.
#pragma once
#include <string>

#include "core/error.hpp"

namespace xdpt::accel {

class Cgroup2 {
public:
    static Result<Cgroup2> open();
    Cgroup2(Cgroup2&& o) noexcept;
    Cgroup2& operator=(Cgroup2&&) = delete;
    ~Cgroup2();

    // Where the hierarchy's root is reachable now.
    const std::string& root() const { return root_; }
    // `rel` ("" or "a/b", relative to the root) as an absolute path.
    std::string path(const std::string& rel) const { return rel.empty() ? root_ : root_ + "/" + rel; }
    // A path given by the user (absolute under a cgroup2 mount, or relative to the root)
    // made relative to the root; fails when it is no cgroup2 directory.
    Result<std::string> relative(const std::string& user_path) const;

private:
    Cgroup2() = default;
    std::string root_;
    std::string mounted_;  // our private mount point, removed on destruction
};

}  // namespace xdpt::accel
