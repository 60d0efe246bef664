// doctest's main, and one option of ours: `--needs-vectors` (the unit-vectors test, which
// runs the test suite "vectors") exits 77, skipped, when iptables 1.8.9's conformance data
// (../shared/iptables-1.8.9-tests beside the repository) is missing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "tests/unit/matches/support.hpp"

int main(int argc, char** argv) {
    std::vector<char*> args;
    bool needs_vectors = false;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--needs-vectors") == 0) needs_vectors = true;
        else args.push_back(argv[i]);
    }
    if (needs_vectors) {
        const std::string dir = xdpt::test::iptables_tests_dir();
        if (!std::filesystem::is_directory(std::filesystem::path(dir) / "extensions")) {
            std::printf("unit-vectors: skipped: the iptables 1.8.9 conformance data is missing (%s; it lives beside "
                        "the repository, ../shared/iptables-1.8.9-tests, or set XDPT_IPT_TESTS_DIR)\n",
                        dir.c_str());
            return 77;
        }
    }
    doctest::Context ctx(static_cast<int>(args.size()), args.data());
    return ctx.run();
}
