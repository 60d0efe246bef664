// -j NFQUEUE revision 3, checked against iptables-legacy 1.8.9.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_NFQUEUE.h>

#include <cstring>

#include "tests/unit/targets/target_test.hpp"

namespace xdpt {
extern const ExtKind target_NFQUEUE;
}

using namespace xdpt;
using namespace xdpt::test;
using namespace xdpt::test::tgt;

TEST_CASE("NFQUEUE: forms") {
    auto r = run_ext(&target_NFQUEUE, {});
    CHECK(r.save == " --queue-num 0");
    CHECK(r.print == " NFQUEUE num 0");
    r = run_ext(&target_NFQUEUE, {{"--queue-num", "5"}, {"--queue-bypass", ""}});
    CHECK(r.save == " --queue-num 5 --queue-bypass");
    CHECK(r.print == " NFQUEUE num 5 bypass");
    r = run_ext(&target_NFQUEUE, {{"--queue-cpu-fanout", ""}, {"--queue-balance", "3:9"}});
    CHECK(r.save == " --queue-balance 3:9 --queue-cpu-fanout");
    CHECK(r.print == " NFQUEUE balance 3:9 cpu-fanout");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-balance", ":5"}}).save == " --queue-balance 0:5");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-balance", "5:"}}).save == " --queue-balance 5:65535");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-num", "0x10"}}).save == " --queue-num 16");
}

TEST_CASE("NFQUEUE: errors") {
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-balance", "5:5"}}).error == "5 should be less than 5");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-balance", "6:5"}}).error == "6 should be less than 5");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-balance", "5"}}).error == "Bad range \"5\"");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-balance", ""}}).error == "Bad range \"\"");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-balance", "0:65536"}}).error ==
          "NFQUEUE: bad value for option \"--queue-balance\" near \"65536\", or out of range (0-65535).\n");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-balance", "1-4"}}).error ==
          "NFQUEUE: Argument to \"--queue-balance\" has unexpected characters near \"-4\".\n");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-num", "65536"}}).error ==
          "NFQUEUE: bad value for option \"--queue-num\", or out of range (0-65535).\n");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-cpu-fanout", ""}}).error ==
          "NFQUEUE: option \"--queue-cpu-fanout\" also requires \"--queue-balance\".\n");
    CHECK(run_ext(&target_NFQUEUE, {{"--queue-num", "1"}, {"--queue-balance", "1:2"}}).error ==
          "NFQUEUE: option \"--queue-num\" cannot be used together with \"--queue-balance\".\n");
    CHECK(run_ext(&target_NFQUEUE, {{"!", ""}, {"--queue-num", "1"}}).error ==
          "NFQUEUE: option \"--queue-num\" cannot be inverted.\n");
}

TEST_CASE("NFQUEUE: the kernel refuses 0:65535 (no queue left in the u16 count); the blob") {
    CHECK(kernel_ok(&target_NFQUEUE, {{"--queue-balance", "0:65534"}}));
    CHECK(kernel_ok(&target_NFQUEUE, {{"--queue-balance", "5:65535"}}, {}, "raw", "PREROUTING"));
    CHECK_FALSE(kernel_ok(&target_NFQUEUE, {{"--queue-balance", "0:65535"}}));
    CHECK_FALSE(kernel_ok(&target_NFQUEUE, {{"--queue-balance", ":"}}));
    auto blob =
        xt_blob<xt_NFQ_info_v3>(&target_NFQUEUE, {{"--queue-balance", "3:9"}, {"--queue-bypass", ""}}, "NFQUEUE", 3);
    REQUIRE(blob);
    const xt_NFQ_info_v3& info = *blob;
    CHECK(info.queuenum == 3);
    CHECK(info.queues_total == 7);
    CHECK(info.flags == NFQ_FLAG_BYPASS);
}
