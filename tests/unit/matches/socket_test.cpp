// -m socket revision 3: flags, text, the blob, and where the kernel takes it.
#include <doctest/doctest.h>

#include <linux/netfilter/xt_socket.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

TEST_CASE("socket: flags in iptables' order, revision 3, PREROUTING and INPUT only") {
    auto r = run(match_socket, "--restore-skmark --nowildcard --transparent");
    CHECK(r.save == " --transparent --nowildcard --restore-skmark");
    CHECK(r.print == " socket --transparent --nowildcard --restore-skmark");
    CHECK(run(match_socket, "").print == " socket");
    CHECK(run(match_socket, "! --transparent").error == "socket: option \"--transparent\" cannot be inverted.\n");
    ExtInst inst;
    REQUIRE(run_ext(&match_socket, {{"--nowildcard", ""}}, {}, "filter", &inst).ok);
    xt_socket_mtinfo3 info;
    auto x = xt_blob(inst, info);
    CHECK(x.name == "socket");
    CHECK(x.rev == 3);
    CHECK(info.flags == XT_SOCKET_NOWILDCARD);
    CHECK(match_socket.hooks == "PREROUTING,INPUT");
}

}  // namespace
}  // namespace xdpt::test
