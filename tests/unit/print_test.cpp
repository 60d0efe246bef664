// model/print: every expected text below is what iptables-legacy 1.8.9 printed for the same
// ruleset (restored with `iptables-legacy-restore -c` in a namespace), pasted verbatim.
#include <doctest/doctest.h>

#include "cli/restore.hpp"
#include "model/print.hpp"

using namespace xdpt;

namespace {

const char* const ruleset_text =
    "*filter\n"
    ":INPUT ACCEPT [123456:98765432]\n"
    ":FORWARD DROP [0:0]\n"
    ":OUTPUT ACCEPT [99999:100000]\n"
    ":c1 - [0:0]\n"
    ":c2 - [0:0]\n"
    "[5:300] -A INPUT -s 198.18.0.1/32 -p tcp -m tcp --dport 22 -j ACCEPT\n"
    "[1234567:4294967296000] -A INPUT -i eth0 -j c1\n"
    "[100000:999999999] -A FORWARD ! -s 198.18.0.0/255.255.0.255 -d 198.18.1.0/24 -o eth1+ -j DROP\n"
    "[99999:99500] -A FORWARD ! -i lo -p udp -j c1\n"
    "[0:0] -A c1 -f -j RETURN\n"
    "[0:0] -A c1 ! -p icmp\n"
    "[7:9999500] -A OUTPUT -p udp -g c1\n"
    "COMMIT\n";

Table filter() {
    auto rs = deserialize_ruleset(ruleset_text, Family::ipv4);
    REQUIRE(rs);
    REQUIRE(rs->find("filter"));
    return *rs->find("filter");
}

ListFormat fmt(bool verbose, bool numeric, bool exact, bool linenumbers) {
    ListFormat f;
    f.verbose = verbose;
    f.numeric = numeric;
    f.exact = exact;
    f.linenumbers = linenumbers;
    return f;
}

}  // namespace

TEST_CASE("-S: rule text, policies, user chains; -S -v adds counters; -S CHAIN N") {
    const Table t = filter();
    CHECK(list_rules(t, std::nullopt, 0, false) ==
          "-P INPUT ACCEPT\n"
          "-P FORWARD DROP\n"
          "-P OUTPUT ACCEPT\n"
          "-N c1\n"
          "-N c2\n"
          "-A INPUT -s 198.18.0.1/32 -p tcp -m tcp --dport 22 -j ACCEPT\n"
          "-A INPUT -i eth0 -j c1\n"
          "-A FORWARD ! -s 198.18.0.0/255.255.0.255 -d 198.18.1.0/24 -o eth1+ -j DROP\n"
          "-A FORWARD ! -i lo -p udp -j c1\n"
          "-A OUTPUT -p udp -g c1\n"
          "-A c1 -f -j RETURN\n"
          "-A c1 ! -p icmp\n");
    CHECK(list_rules(t, std::nullopt, 0, true) ==
          "-P INPUT ACCEPT -c 123456 98765432\n"
          "-P FORWARD DROP -c 0 0\n"
          "-P OUTPUT ACCEPT -c 99999 100000\n"
          "-N c1\n"
          "-N c2\n"
          "-A INPUT -s 198.18.0.1/32 -p tcp -m tcp --dport 22 -c 5 300 -j ACCEPT\n"
          "-A INPUT -i eth0 -c 1234567 4294967296000 -j c1\n"
          "-A FORWARD ! -s 198.18.0.0/255.255.0.255 -d 198.18.1.0/24 -o eth1+ -c 100000 999999999 -j DROP\n"
          "-A FORWARD ! -i lo -p udp -c 99999 99500 -j c1\n"
          "-A OUTPUT -p udp -c 7 9999500 -g c1\n"
          "-A c1 -f -c 0 0 -j RETURN\n"
          "-A c1 ! -p icmp -c 0 0\n");
    CHECK(list_rules(t, std::string("INPUT"), 2, false) == "-A INPUT -i eth0 -j c1\n");
}

TEST_CASE("save text: table_to_save with and without counters") {
    const Table t = filter();
    const std::string save = table_to_save(t, true);
    CHECK(save.rfind("*filter\n:INPUT ACCEPT [123456:98765432]\n:FORWARD DROP [0:0]\n"
                     ":OUTPUT ACCEPT [99999:100000]\n:c1 - [0:0]\n:c2 - [0:0]\n", 0) == 0);
    CHECK(save.find("[7:9999500] -A OUTPUT -p udp -g c1\n") != std::string::npos);
    CHECK(save.size() >= 7);
    CHECK(save.substr(save.size() - 7) == "COMMIT\n");
    CHECK(table_to_save(t, false).find("\n-A c1 ! -p icmp\nCOMMIT\n") != std::string::npos);
}

TEST_CASE("-L -n: columns, negation, fragments, [goto], references") {
    CHECK(list_entries(filter(), std::nullopt, 0, fmt(false, true, false, false)) ==
          "Chain INPUT (policy ACCEPT)\n"
          "target     prot opt source               destination         \n"
          "ACCEPT     6    --  198.18.0.1           0.0.0.0/0            tcp dpt:22\n"
          "c1         0    --  0.0.0.0/0            0.0.0.0/0           \n"
          "\n"
          "Chain FORWARD (policy DROP)\n"
          "target     prot opt source               destination         \n"
          "DROP       0    -- !198.18.0.0/255.255.0.255  198.18.1.0/24       \n"
          "c1         17   --  0.0.0.0/0            0.0.0.0/0           \n"
          "\n"
          "Chain OUTPUT (policy ACCEPT)\n"
          "target     prot opt source               destination         \n"
          "c1         17   --  0.0.0.0/0            0.0.0.0/0           [goto] \n"
          "\n"
          "Chain c1 (3 references)\n"
          "target     prot opt source               destination         \n"
          "RETURN     0    -f  0.0.0.0/0            0.0.0.0/0           \n"
          "          !1    --  0.0.0.0/0            0.0.0.0/0           \n"
          "\n"
          "Chain c2 (0 references)\n"
          "target     prot opt source               destination         \n");
}

TEST_CASE("-L -n -v: K/M/G suffixes in rules and policy header") {
    CHECK(list_entries(filter(), std::nullopt, 0, fmt(true, true, false, false)) ==
          "Chain INPUT (policy ACCEPT 123K packets, 99M bytes)\n"
          " pkts bytes target     prot opt in     out     source               destination         \n"
          "    5   300 ACCEPT     6    --  *      *       198.18.0.1           0.0.0.0/0            tcp dpt:22\n"
          "1235K 4295G c1         0    --  eth0   *       0.0.0.0/0            0.0.0.0/0           \n"
          "\n"
          "Chain FORWARD (policy DROP 0 packets, 0 bytes)\n"
          " pkts bytes target     prot opt in     out     source               destination         \n"
          " 100K 1000M DROP       0    --  *      eth1+  !198.18.0.0/255.255.0.255  198.18.1.0/24       \n"
          "99999 99500 c1         17   --  !lo    *       0.0.0.0/0            0.0.0.0/0           \n"
          "\n"
          "Chain OUTPUT (policy ACCEPT 99999 packets, 100K bytes)\n"
          " pkts bytes target     prot opt in     out     source               destination         \n"
          "    7   10M c1         17   --  *      *       0.0.0.0/0            0.0.0.0/0           [goto] \n"
          "\n"
          "Chain c1 (3 references)\n"
          " pkts bytes target     prot opt in     out     source               destination         \n"
          "    0     0 RETURN     0    -f  *      *       0.0.0.0/0            0.0.0.0/0           \n"
          "    0     0           !1    --  *      *       0.0.0.0/0            0.0.0.0/0           \n"
          "\n"
          "Chain c2 (0 references)\n"
          " pkts bytes target     prot opt in     out     source               destination         \n");
}

TEST_CASE("-L -n -v -x: exact numbers, wider columns") {
    CHECK(list_entries(filter(), std::string("INPUT"), 0, fmt(true, true, true, false)) ==
          "Chain INPUT (policy ACCEPT 123456 packets, 98765432 bytes)\n"
          "    pkts      bytes target     prot opt in     out     source               destination         \n"
          "       5      300 ACCEPT     6    --  *      *       198.18.0.1           0.0.0.0/0            tcp dpt:22\n"
          " 1234567 4294967296000 c1         0    --  eth0   *       0.0.0.0/0            0.0.0.0/0           \n");
    CHECK(list_entries(filter(), std::string("FORWARD"), 0, fmt(true, true, true, false)) ==
          "Chain FORWARD (policy DROP 0 packets, 0 bytes)\n"
          "    pkts      bytes target     prot opt in     out     source               destination         \n"
          "  100000 999999999 DROP       0    --  *      eth1+  !198.18.0.0/255.255.0.255  198.18.1.0/24       \n"
          "   99999    99500 c1         17   --  !lo    *       0.0.0.0/0            0.0.0.0/0           \n");
}

TEST_CASE("-L --line-numbers, with and without -v and -x") {
    CHECK(list_entries(filter(), std::string("INPUT"), 0, fmt(false, true, false, true)) ==
          "Chain INPUT (policy ACCEPT)\n"
          "num  target     prot opt source               destination         \n"
          "1    ACCEPT     6    --  198.18.0.1           0.0.0.0/0            tcp dpt:22\n"
          "2    c1         0    --  0.0.0.0/0            0.0.0.0/0           \n");
    CHECK(list_entries(filter(), std::string("FORWARD"), 0, fmt(true, true, false, true)) ==
          "Chain FORWARD (policy DROP 0 packets, 0 bytes)\n"
          "num   pkts bytes target     prot opt in     out     source               destination         \n"
          "1     100K 1000M DROP       0    --  *      eth1+  !198.18.0.0/255.255.0.255  198.18.1.0/24       \n"
          "2    99999 99500 c1         17   --  !lo    *       0.0.0.0/0            0.0.0.0/0           \n");
    CHECK(list_entries(filter(), std::string("c2"), 0, fmt(true, false, true, true)) ==
          "Chain c2 (0 references)\n"
          "num      pkts      bytes target     prot opt in     out     source               destination         \n");
}

TEST_CASE("-L without -n: protocol names, anywhere, any") {
    CHECK(list_entries(filter(), std::string("c1"), 0, fmt(false, false, false, false)) ==
          "Chain c1 (3 references)\n"
          "target     prot opt source               destination         \n"
          "RETURN     all  -f  anywhere             anywhere            \n"
          "          !icmp --  anywhere             anywhere            \n");
    CHECK(list_entries(filter(), std::string("c1"), 0, fmt(true, false, false, false)) ==
          "Chain c1 (3 references)\n"
          " pkts bytes target     prot opt in     out     source               destination         \n"
          "    0     0 RETURN     all  -f  any    any     anywhere             anywhere            \n"
          "    0     0           !icmp --  any    any     anywhere             anywhere            \n");
}

TEST_CASE("-L CHAIN N: one rule, no header") {
    CHECK(list_entries(filter(), std::string("FORWARD"), 2, fmt(true, true, false, false)) ==
          "99999 99500 c1         17   --  !lo    *       0.0.0.0/0            0.0.0.0/0           \n");
}
