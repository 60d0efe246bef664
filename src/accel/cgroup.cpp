#include "accel/cgroup.hpp"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "core/str.hpp"

namespace xdpt::accel {
namespace {

// The mount points of cgroup2 filesystems whose root is the hierarchy's root.
std::vector<std::string> cgroup2_mounts() {
    std::vector<std::string> out;
    std::ifstream f("/proc/self/mountinfo");
    std::string line;
    while (std::getline(f, line)) {
        // id parent maj:min root mountpoint opts [optional...] - fstype source superopts
        std::istringstream in(line);
        std::string id, parent, dev, root, point, word;
        in >> id >> parent >> dev >> root >> point;
        while (in >> word && word != "-") {
        }
        std::string fstype;
        in >> fstype;
        if (fstype == "cgroup2" && root == "/") out.push_back(point);
    }
    return out;
}

bool is_cgroup2_dir(const std::string& p) {
    struct statfs st;
    return statfs(p.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

}  // namespace

Result<Cgroup2> Cgroup2::open() {
    Cgroup2 cg;
    for (const auto& m : cgroup2_mounts())
        if (is_cgroup2_dir(m)) {
            cg.root_ = m;
            return cg;
        }
    char tmpl[] = "/tmp/xdptables-cgroup2.XXXXXX";
    if (!mkdtemp(tmpl)) return fail(Exit::resource, str("socket-accel: cannot make a mount point for cgroup2: ", std::strerror(errno)));
    if (mount("cgroup2", tmpl, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        int err = errno;
        rmdir(tmpl);
        return fail(Exit::version, str("socket-accel: cgroup v2 is not available: ", std::strerror(err)));
    }
    cg.root_ = cg.mounted_ = tmpl;
    return cg;
}

Cgroup2::Cgroup2(Cgroup2&& o) noexcept
    : root_(std::move(o.root_)), mounted_(std::exchange(o.mounted_, std::string())) {}

Cgroup2::~Cgroup2() {
    if (mounted_.empty()) return;
    umount2(mounted_.c_str(), MNT_DETACH);
    rmdir(mounted_.c_str());
}

Result<std::string> Cgroup2::relative(const std::string& user_path) const {
    std::string rel;
    if (user_path.empty() || user_path[0] != '/') {
        rel = user_path;
    } else {
        char* real = realpath(user_path.c_str(), nullptr);
        if (!real) return param_fail(str("socket-accel: --cgroup ", user_path, ": ", std::strerror(errno)));
        std::string abs = real;
        std::free(real);
        bool found = false;
        std::vector<std::string> mounts = cgroup2_mounts();
        mounts.push_back(root_);
        for (const auto& m : mounts)
            if (abs == m || abs.rfind(m + "/", 0) == 0) {
                rel = abs.substr(std::min(abs.size(), m.size() + 1));
                found = true;
                break;
            }
        if (!found) return param_fail(str("socket-accel: --cgroup ", user_path, ": not a cgroup v2 directory"));
    }
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    if (rel.find("..") != std::string::npos) return param_fail(str("socket-accel: --cgroup ", user_path, ": not a cgroup v2 directory"));
    if (!is_cgroup2_dir(path(rel)))
        return param_fail(str("socket-accel: --cgroup ", user_path, ": not a cgroup v2 directory"));
    return rel;
}

}  // namespace xdpt::accel
