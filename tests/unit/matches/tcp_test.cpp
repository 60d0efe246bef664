// -m tcp against iptables-legacy 1.8.9's save, -L and -L -n output and messages.
#include <doctest/doctest.h>

#include "ext/matches/common.hpp"
#include "tests/unit/matches/support.hpp"

namespace xdpt::test {
namespace {

const Rule tcp = proto_rule(6);

TEST_CASE("tcp: ports") {
    auto r = run(match_tcp, "--dport 22 --sport 80:90", tcp);
    REQUIRE(r.ok);
    CHECK(r.save == " --sport 80:90 --dport 22");
    CHECK(r.print_numeric == " tcp spts:80:90 dpt:22");
    CHECK(r.print == " tcp spts:http:90 dpt:ssh");

    r = run(match_tcp, "! --source-port 1:2 --destination-port 0x10", tcp);
    CHECK(r.save == " ! --sport 1:2 --dport 16");
    CHECK(r.print == " tcp spts:!tcpmux:2 dpt:16");

    CHECK(run(match_tcp, "--sport 1024:", tcp).save == " --sport 1024:65535");
    CHECK(run(match_tcp, "--dport :22", tcp).save == " --dport 0:22");
    CHECK(run(match_tcp, "--sport http", tcp).save == " --sport 80");
    CHECK(run(match_tcp, "--dport 0:0", tcp).save == " --dport 0");
}

TEST_CASE("tcp: a full range is left out of the save form, inverted or not") {
    auto r = run(match_tcp, "--sport 0:65535", tcp);
    CHECK(r.save == "");
    CHECK(r.print_numeric == " tcp");
    r = run(match_tcp, "! --sport 0:65535", tcp);
    CHECK(r.save == "");
    CHECK(r.print_numeric == " tcp spts:!0:65535");
    CHECK(run(match_tcp, "", tcp).print == " tcp");
}

TEST_CASE("tcp: flags") {
    auto r = run(match_tcp, "--syn", tcp);
    CHECK(r.save == " --tcp-flags FIN,SYN,RST,ACK SYN");
    CHECK(r.print_numeric == " tcp flags:0x17/0x02");
    CHECK(r.print == " tcp flags:FIN,SYN,RST,ACK/SYN");

    r = run(match_tcp, "! --syn", tcp);
    CHECK(r.save == " ! --tcp-flags FIN,SYN,RST,ACK SYN");
    CHECK(r.print_numeric == " tcp flags:!0x17/0x02");

    r = run(match_tcp, "--tcp-flags ALL NONE", tcp);
    CHECK(r.save == " --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE");
    CHECK(r.print_numeric == " tcp flags:0x3F/0x00");
    CHECK(r.print == " tcp flags:FIN,SYN,RST,PSH,ACK,URG/NONE");

    CHECK(run(match_tcp, "--tcp-flags syn,Ack SYN,ACK", tcp).save == " --tcp-flags SYN,ACK SYN,ACK");
    CHECK(run(match_tcp, "--tcp-flags SYN,,ACK SYN", tcp).save == " --tcp-flags SYN,ACK SYN");
    // A zero mask is not saved nor shown.
    r = run(match_tcp, "--tcp-flags NONE ALL", tcp);
    CHECK(r.save == "");
    CHECK(r.print == " tcp");
}

TEST_CASE("tcp: option") {
    auto r = run(match_tcp, "! --tcp-option 5", tcp);
    CHECK(r.save == " ! --tcp-option 5");
    CHECK(r.print == " tcp option=!5");
    CHECK(run(match_tcp, "--tcp-option 0", tcp).error == "Bad TCP option \"0\"");
    CHECK(run(match_tcp, "--tcp-option 256", tcp).error == "Bad TCP option \"256\"");
}

TEST_CASE("tcp: save and print order") {
    auto r = run(match_tcp, "--syn --dport 22 --tcp-option 3 ! --sport 1:2", tcp);
    CHECK(r.save == " ! --sport 1:2 --dport 22 --tcp-option 3 --tcp-flags FIN,SYN,RST,ACK SYN");
    CHECK(r.print_numeric == " tcp spts:!1:2 dpt:22 option=3 flags:0x17/0x02");
}

TEST_CASE("tcp: errors") {
    CHECK(run(match_tcp, "--sport 65536", tcp).error == "invalid port/service `65536' specified");
    CHECK(run(match_tcp, "--sport -1", tcp).error == "invalid port/service `-1' specified");
    CHECK(run(match_tcp, "--sport foo", tcp).error == "invalid port/service `foo' specified");
    CHECK(run(match_tcp, "--sport 1:2:3", tcp).error == "invalid port/service `2:3' specified");
    CHECK(run(match_tcp, "--sport 5:3", tcp).error == "invalid portrange (min > max)");
    CHECK(run(match_tcp, "--dport 1 --dport 2", tcp).error == "Only one `--destination-port' allowed");
    CHECK(run(match_tcp, "--sport 1 --source-port 2", tcp).error == "Only one `--source-port' allowed");
    CHECK(run(match_tcp, "--tcp-option 2 --tcp-option 3", tcp).error == "Only one `--tcp-option' allowed");
    CHECK(run(match_tcp, "--syn --syn", tcp).error == "Only one of `--syn' or `--tcp-flags'  allowed");
    CHECK(run(match_tcp, "--syn --tcp-flags SYN SYN", tcp).error == "Only one of `--syn' or `--tcp-flags'  allowed");
    CHECK(run(match_tcp, "--tcp-flags SYN,FOO SYN", tcp).error == "Unknown TCP flag `FOO'");
    auto r = run(match_tcp, "--dport 1 --dport 2", tcp);
    CHECK(r.exit == int(Exit::parameter));
}

TEST_CASE("tcp: --tcp-flags needs a second argument that is not an option") {
    CHECK(run_ext(&match_tcp, {{"--tcp-flags", "SYN"}}, tcp).error == "--tcp-flags requires two args.");
    CHECK(run_ext(&match_tcp, {{"--tcp-flags", "SYN"}, {"", "-j"}}, tcp).error == "--tcp-flags requires two args.");
    CHECK(run_ext(&match_tcp, {{"--tcp-flags", "SYN"}, {"", "!"}}, tcp).error == "--tcp-flags requires two args.");
    CHECK(run_ext(&match_tcp, {{"--tcp-flags", "SYN"}, {"", ""}}, tcp).save == " --tcp-flags SYN NONE");
}

TEST_CASE("tcp: the kernel wants -p tcp, not inverted") {
    ExtInst inst(&match_tcp);
    CHECK(inst.data->kernel_accepts(proto_rule(6), {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(6, true), {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(17), {}));
    CHECK_FALSE(inst.data->kernel_accepts(proto_rule(0), {}));
}

}  // namespace
}  // namespace xdpt::test
