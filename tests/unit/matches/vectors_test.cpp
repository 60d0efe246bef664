// Every rule line of iptables 1.8.9's conformance vectors for the match extensions,
// read from ../shared/iptables-1.8.9-tests/extensions at test time.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

constexpr std::string_view vector_files[] = {
    "libxt_tcp.t", "libxt_udp.t", "libipt_icmp.t", "libxt_multiport.t", "libxt_iprange.t",
    "libxt_comment.t", "libxt_conntrack.t", "libxt_state.t", "libxt_length.t",
    "libipt_ttl.t", "libxt_mac.t", "libxt_limit.t", "libxt_mark.t",
    "libxt_string.t", "libxt_time.t", "libxt_physdev.t", "libxt_socket.t",
    "libxt_statistic.t", "libxt_owner.t", "libxt_connmark.t",
};

void check_vector(std::string_view file, const Vector& v) {
    for (const auto& chain : v.chains) {
        auto r = run_rule(v.args, v.table, chain);
        INFO(file, ":", v.line, " [", v.table, " ", chain, "] ", v.args, " -> ", r.error);
        if (v.result == "FAIL") {
            CHECK_FALSE(r.ok);
            continue;
        }
        REQUIRE(r.ok);
        if (v.result == "OK")
            CHECK(r.save == v.expected);
        else  // NOMATCH: accepted, saved differently
            CHECK(r.save != v.args);
    }
}

TEST_CASE("iptables 1.8.9 conformance vectors of the match extensions" * doctest::test_suite("vectors")) {
    for (auto file : vector_files) {
        CAPTURE(file);
        auto vectors = read_vectors(file);
        INFO("vectors read from ", iptables_tests_dir());
        REQUIRE_FALSE(vectors.empty());
        for (const auto& v : vectors) check_vector(file, v);
    }
}

TEST_CASE("vector runner: implicit protocol match and kernel refusals") {
    CHECK(run_rule("-p tcp --dport 22", "filter", "INPUT").save == "-p tcp -m tcp --dport 22");
    CHECK(run_rule("-p udp -m tcp --dport 22", "filter", "INPUT").error == "Invalid argument");
    CHECK(run_rule("! -p tcp -m tcp --dport 22", "filter", "INPUT").error == "Invalid argument");
    CHECK(run_rule("-m mac --mac-source 42:01:02:03:04:05", "filter", "OUTPUT").error == "Invalid argument");
    CHECK(run_rule("-m mac --mac-source 42:01:02:03:04:05", "nat", "PREROUTING").ok);
    CHECK(run_rule("-p tcp -m comment --comment foo -m tcp --dport 22", "filter", "INPUT").save ==
          "-p tcp -m comment --comment foo -m tcp --dport 22");
}

}  // namespace
}  // namespace xdpt::test
