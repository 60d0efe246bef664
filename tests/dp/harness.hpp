// The world of the dataplane tests: a network namespace of its own (entered by the test
// process), two veth pairs in it, the real xdptables CLI to load rulesets and read
// counters, and BPF_PROG_TEST_RUN of the program found on lo.
//
//   veth0 198.18.0.1/24  <->  veth1 (the peer that "sends" to veth0)
//   veth2 198.18.1.1/24  <->  veth3 (198.18.1.2 is a neighbour behind veth2)
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "packet.hpp"

namespace dpt {

struct Link {
    std::string name;
    uint32_t ifindex = 0;
    Mac mac{}, peer_mac{};
};

// Creates the namespace and enters it; false (with a reason) when that is impossible.
bool setup_netns(std::string& why);
// Leaves and deletes the namespace, after removing xdptables' state. Idempotent.
void teardown_netns();

const Link& veth0();
const Link& veth2();
const Link& lo();

// /proc/sys/net/ipv4/ip_forward of the test namespace.
void set_forwarding(bool on);
// /proc/sys/net/ipv6/conf/all/forwarding of the test namespace (read by a commit).
void set_forwarding6(bool on);

// Forwarding of family 4 or 6 on for a scope.
struct Forwarding {
    explicit Forwarding(bool on, int family = 4) : family(family) { set(on); }
    ~Forwarding() { set(false); }
    void set(bool on) const { family == 6 ? set_forwarding6(on) : set_forwarding(on); }
    int family;
};

constexpr int DROP = 1, PASS = 2;  // XDP_DROP, XDP_PASS

// Checks one packet: the action and the counters it moved.
#define EXPECT(outcome, act, moved_)                 \
    do {                                             \
        const Outcome o_ = (outcome);                \
        CHECK_MESSAGE(o_.action == (act), o_.moved); \
        CHECK(o_.moved == std::string(moved_));      \
    } while (0)

// IPv6 on the links: veth0 2001:db8::1/64 (2001:db8::2 a neighbour behind it, veth1's
// MAC), veth2 2001:db8:1::1/64 (2001:db8:1::2 behind it, veth3's MAC); veth1 and veth3
// have IPv6 disabled (no chatter).

struct Cli {
    int rc = -1;
    std::string out, err;
};
// Runs build-dir/src/<applet> with `args`, `input` on its standard input.
Cli run(const std::string& applet, const std::vector<std::string>& args, const std::string& input = "");

// Counters as `xdptables-save -c` prints them: "table/chain" -> policy and rules.
struct Ctr {
    uint64_t pkts = 0, bytes = 0;
    bool operator==(const Ctr&) const = default;
};
struct Snapshot {
    std::map<std::string, Ctr> policy;
    std::map<std::string, std::vector<Ctr>> rules;
};
Snapshot snapshot();
// The next snapshot() reads the counters again (after traffic of the test's own).
void forget_snapshot();
// A datagram from this namespace's own stack (`from`, port `sport`) to `to`:`dport`, of
// family `family` (AF_INET, AF_INET6): conntrack confirms its entry on the way out.
void send_local_udp(int family, const char* from, const char* to, uint16_t sport, uint16_t dport);

// What one packet did: the XDP action, and every counter it moved, by table/chain name
// (rules, then the policy) as "INPUT#2" (rule 2 of filter INPUT), "INPUT:P" (INPUT's
// policy), "raw:PREROUTING#1", separated by blanks. A
// counter that did not move by exactly one packet of `tot` bytes carries "(pkts/bytes)".
struct Outcome {
    int action = -1;
    std::string moved;
};

// Forgets xdptables' state in the namespace, then restores `text` (iptables-save format)
// with xdptables-restore. Fails the current test on error. The counters read after it
// are the IPv4 ruleset's.
void load(const std::string& text);
// The same for IPv6 (ip6tables-restore); the counters read after it are the IPv6
// ruleset's. With `keep`, xdptables' state (the other family's ruleset) stays.
void load6(const std::string& text, bool keep = false);
// Whose counters snapshot() reads: 4 (xdptables-save) or 6 (ip6tables-save).
void counters_of(int family);
// Wraps `rules` ("-A INPUT ..." lines) in a filter table with the given policies and
// user chains.
std::string filter(const std::string& rules, const char* input = "ACCEPT", const char* forward = "ACCEPT",
                   const std::vector<std::string>& chains = {});
// A raw table with `rules` ("-A PREROUTING ..." lines).
std::string raw(const std::string& rules);

// Runs the program on the frame as if received on `in`, and reports what moved. The
// frame runs twice (the second time through the class cache) and both runs must do the
// same; the report is the first's.
Outcome send(const Ip& ip, const Link& in);
Outcome send(const Ip& ip);  // on veth0, from veth1's MAC
Outcome send_frame(const Frame& f, const Link& in);
Outcome send6(const Ip6& ip, const Link& in);
Outcome send6(const Ip6& ip);  // on veth0, from veth1's MAC
// The program's statistic `which` (enum xdpt_stat), summed over the CPUs.
uint64_t stat_sum(uint32_t which);

}  // namespace dpt
