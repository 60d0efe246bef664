// iptables' help text, byte for byte; under the name xdptables, -h and `help` add the
// subcommands of xdptables after it.
#include "cli/command.hpp"

#include <string_view>

#include "core/str.hpp"
#include "xdpt_config.h"

namespace xdpt {

namespace {

// The subcommands of xdptables: synopsis, what it does.
struct Subcommand {
    std::string_view synopsis, what;
};
constexpr Subcommand subcommands[] = {
    {"attach", "attach to the interfaces created since the last command"},
    {"detach", "remove every program, map and nftables table of xdptables"},
    {"explain [-t table]", "where each rule and policy is judged, XDP or netfilter, and why"},
    {"migrate [--from legacy|nft] [--flush-source]", "take over the running iptables ruleset"},
    {"socket-accel enable|disable|status|list", "same-host TCP that skips the stack"},
    {"status", "XDP attachments, generation, verdict and cache counts, map memory"},
    {"version", "the xdptables release"},
    {"help", "this text"},
};

}  // namespace

std::string subcommands_text(const Brand& brand) {
    constexpr size_t column = 34;
    std::string out = "\nxdptables subcommands (see xdptables(8)):\n";
    for (const auto& s : subcommands) {
        std::string line = str("  ", brand.name, ' ', s.synopsis);
        line += line.size() < column ? std::string(column - line.size(), ' ') : str('\n', std::string(column, ' '));
        out += str(line, s.what, '\n');
    }
    return out;
}

std::string help_text(std::string_view prog, const Brand& brand) {
    const std::string v = XDPT_IPTABLES_VERSION;
    const bool ipv6 = brand.family == Family::ipv6;
    const std::string p(prog);
    return p + " v" + v + " (" + std::string(brand.flavour) + ")\n\n" +
           "Usage: " + p + " -[ACD] chain rule-specification [options]\n"
           "       " + p + " -I chain [rulenum] rule-specification [options]\n"
           "       " + p + " -R chain rulenum rule-specification [options]\n"
           "       " + p + " -D chain rulenum [options]\n"
           "       " + p + " -[LS] [chain [rulenum]] [options]\n"
           "       " + p + " -[FZ] [chain] [options]\n"
           "       " + p + " -[NX] chain\n"
           "       " + p + " -E old-chain-name new-chain-name\n"
           "       " + p + " -P chain target [options]\n"
           "       " + p + " -h (print this help information)\n\n" +
           R"(Commands:
Either long or short options are allowed.
  --append  -A chain		Append to chain
  --check   -C chain		Check for the existence of a rule
  --delete  -D chain		Delete matching rule from chain
  --delete  -D chain rulenum
				Delete rule rulenum (1 = first) from chain
  --insert  -I chain [rulenum]
				Insert in chain as rulenum (default 1=first)
  --replace -R chain rulenum
				Replace rule rulenum (1 = first) in chain
  --list    -L [chain [rulenum]]
				List the rules in a chain or all chains
  --list-rules -S [chain [rulenum]]
				Print the rules in a chain or all chains
  --flush   -F [chain]		Delete all rules in  chain or all chains
  --zero    -Z [chain [rulenum]]
				Zero counters in chain or all chains
  --new     -N chain		Create a new user-defined chain
  --delete-chain
            -X [chain]		Delete a user-defined chain
  --policy  -P chain target
				Change policy on chain to target
  --rename-chain
            -E old-chain new-chain
				Change chain name, (moving any references)

Options:
)" + std::string(ipv6 ? R"(    --ipv4	-4		Error (line is ignored by ip6tables-restore)
    --ipv6	-6		Nothing (line is ignored by iptables-restore)
)" : R"(    --ipv4	-4		Nothing (line is ignored by ip6tables-restore)
    --ipv6	-6		Error (line is ignored by iptables-restore)
)") + R"([!] --protocol	-p proto	protocol: by number or name, eg. `tcp'
[!] --source	-s address[/mask][...]
				source specification
[!] --destination -d address[/mask][...]
				destination specification
[!] --in-interface -i input name[+]
				network interface name ([+] for wildcard)
 --jump	-j target
				target for rule (may load target extension)
  --goto      -g chain
			       jump to chain with no return
  --match	-m match
				extended match (may load extension)
  --numeric	-n		numeric output of addresses and ports
[!] --out-interface -o output name[+]
				network interface name ([+] for wildcard)
  --table	-t table	table to manipulate (default: `filter')
  --verbose	-v		verbose mode
  --wait	-w [seconds]	maximum wait to acquire xtables lock before give up
  --line-numbers		print line numbers when listing
  --exact	-x		expand numbers (display exact values)
)" + std::string(ipv6 ? "" : "[!] --fragment	-f		match second or further fragments only\n") + R"(  --modprobe=<command>		try to insert modules using this command
  --set-counters -c PKTS BYTES	set the counter during insert/append
[!] --version	-V		print package version.
)";
}

namespace {

// What each extension's help() prints after the main help (iptables 1.8.9's texts).
struct ExtHelp {
    std::string_view name;
    bool target;
    std::string_view text;
    unsigned families = 3;  // as ExtKind::families: REJECT and ah differ by family
};
constexpr ExtHelp ext_helps[] = {
    {"comment", false,
         "comment match options:\n"
         "--comment COMMENT             Attach a comment to a rule\n"},
    {"conntrack", false,
         "conntrack match options:\n"
         "[!] --ctstate {INVALID|ESTABLISHED|NEW|RELATED|UNTRACKED|SNAT|DNAT}[,...]\n"
         "                               State(s) to match\n"
         "[!] --ctproto proto            Protocol to match; by number or name, e.g. \"tcp\"\n"
         "[!] --ctorigsrc address[/mask]\n"
         "[!] --ctorigdst address[/mask]\n"
         "[!] --ctreplsrc address[/mask]\n"
         "[!] --ctrepldst address[/mask]\n"
         "                               Original/Reply source/destination address\n"
         "[!] --ctorigsrcport port\n"
         "[!] --ctorigdstport port\n"
         "[!] --ctreplsrcport port\n"
         "[!] --ctrepldstport port\n"
         "                               TCP/UDP/SCTP orig./reply source/destination port\n"
         "[!] --ctstatus {NONE|EXPECTED|SEEN_REPLY|ASSURED|CONFIRMED}[,...]\n"
         "                               Status(es) to match\n"
         "[!] --ctexpire time[:time]     Match remaining lifetime in seconds against\n"
         "                               value or range of values (inclusive)\n"
         "    --ctdir {ORIGINAL|REPLY}   Flow direction of packet\n"},
    {"connmark", false,
         "connmark match options:\n"
         "[!] --mark value[/mask]    Match ctmark value with optional mask\n"},
    {"icmp", false,
         "icmp match options:\n"
         "[!] --icmp-type typename\tmatch icmp type\n"
         "[!] --icmp-type type[/code]\t(or numeric type or type/code)\n"
         "Valid ICMP Types:\n"
         "any\n"
         "echo-reply (pong)\n"
         "destination-unreachable\n"
         "   network-unreachable\n"
         "   host-unreachable\n"
         "   protocol-unreachable\n"
         "   port-unreachable\n"
         "   fragmentation-needed\n"
         "   source-route-failed\n"
         "   network-unknown\n"
         "   host-unknown\n"
         "   network-prohibited\n"
         "   host-prohibited\n"
         "   TOS-network-unreachable\n"
         "   TOS-host-unreachable\n"
         "   communication-prohibited\n"
         "   host-precedence-violation\n"
         "   precedence-cutoff\n"
         "source-quench\n"
         "redirect\n"
         "   network-redirect\n"
         "   host-redirect\n"
         "   TOS-network-redirect\n"
         "   TOS-host-redirect\n"
         "echo-request (ping)\n"
         "router-advertisement\n"
         "router-solicitation\n"
         "time-exceeded (ttl-exceeded)\n"
         "   ttl-zero-during-transit\n"
         "   ttl-zero-during-reassembly\n"
         "parameter-problem\n"
         "   ip-header-bad\n"
         "   required-option-missing\n"
         "timestamp-request\n"
         "timestamp-reply\n"
         "address-mask-request\n"
         "address-mask-reply\n"},
    {"iprange", false,
         "iprange match options:\n"
         "[!] --src-range ip[-ip]    Match source IP in the specified range\n"
         "[!] --dst-range ip[-ip]    Match destination IP in the specified range\n"},
    {"length", false,
         "length match options:\n"
         "[!] --length length[:length]    Match packet length against value or range\n"
         "                                of values (inclusive)\n"},
    {"limit", false,
         "limit match options:\n"
         "--limit avg\t\t\tmax average match rate: default 3/hour\n"
         "                                [Packets per second unless followed by \n"
         "                                /sec /minute /hour /day postfixes]\n"
         "--limit-burst number\t\tnumber to match in a burst, default 5\n"},
    {"mac", false,
         "mac match options:\n"
         "[!] --mac-source XX:XX:XX:XX:XX:XX\n"
         "\t\t\t\tMatch source MAC address\n"},
    {"mark", false,
         "mark match options:\n"
         "[!] --mark value[/mask]    Match nfmark value with optional mask\n"},
    {"owner", false,
         "owner match options:\n"
         "[!] --uid-owner userid[-userid]      Match local UID\n"
         "[!] --gid-owner groupid[-groupid]    Match local GID\n"
         "[!] --socket-exists                  Match if socket exists\n"
         "    --suppl-groups                   Also match supplementary groups set with --gid-owner\n"},
    {"multiport", false,
         "multiport match options:\n"
         "[!] --source-ports port[,port:port,port...]\n"
         " --sports ...\n"
         "\t\t\t\tmatch source port(s)\n"
         "[!] --destination-ports port[,port:port,port...]\n"
         " --dports ...\n"
         "\t\t\t\tmatch destination port(s)\n"
         "[!] --ports port[,port:port,port]\n"
         "\t\t\t\tmatch both source and destination port(s)\n"},
    {"tcp", false,
         "tcp match options:\n"
         "[!] --tcp-flags mask comp\tmatch when TCP flags & mask == comp\n"
         "\t\t\t\t(Flags: SYN ACK FIN RST URG PSH ALL NONE)\n"
         "[!] --syn\t\t\tmatch when only SYN flag set\n"
         "\t\t\t\t(equivalent to --tcp-flags SYN,RST,ACK,FIN SYN)\n"
         "[!] --source-port port[:port]\n"
         " --sport ...\n"
         "\t\t\t\tmatch source port(s)\n"
         "[!] --destination-port port[:port]\n"
         " --dport ...\n"
         "\t\t\t\tmatch destination port(s)\n"
         "[!] --tcp-option number        match if TCP option set\n"},
    {"udp", false,
         "udp match options:\n"
         "[!] --source-port port[:port]\n"
         " --sport ...\n"
         "\t\t\t\tmatch source port(s)\n"
         "[!] --destination-port port[:port]\n"
         " --dport ...\n"
         "\t\t\t\tmatch destination port(s)\n"},
    {"sctp", false,
         "sctp match options\n"
         "[!] --source-port port[:port]                          match source port(s)\n"
         " --sport ...\n"
         "[!] --destination-port port[:port]                     match destination port(s)\n"
         " --dport ...\n"
         "[!] --chunk-types (all|any|none) (chunktype[:flags])+\tmatch if all, any or none of\n"
         "\t\t\t\t\t\t        chunktypes are present\n"
         "chunktypes - DATA INIT INIT_ACK SACK HEARTBEAT HEARTBEAT_ACK ABORT SHUTDOWN SHUTDOWN_ACK ERROR "
         "COOKIE_ECHO COOKIE_ACK ECN_ECNE ECN_CWR SHUTDOWN_COMPLETE ASCONF ASCONF_ACK FORWARD_TSN ALL NONE\n"},
    {"ttl", false,
         "ttl match options:\n"
         "[!] --ttl-eq value\tMatch time to live value\n"
         "  --ttl-lt value\tMatch TTL < value\n"
         "  --ttl-gt value\tMatch TTL > value\n"},
    {"state", false,
         "state match options:\n"
         " [!] --state [INVALID|ESTABLISHED|NEW|RELATED|UNTRACKED][,...]\n"
         "\t\t\t\tState(s) to match\n"},
    {"statistic", false,
         "statistic match options:\n"
         " --mode mode                    Match mode (random, nth)\n"
         " random mode:\n"
         "[!] --probability p\t\t Probability\n"
         " nth mode:\n"
         "[!] --every n\t\t\t Match every nth packet\n"
         " --packet p\t\t\t Initial counter value (0 <= p <= n-1, default 0)\n"},
    {"standard", true,
         "standard match options:\n"
         "(If target is DROP, ACCEPT, RETURN or nothing)\n"},
    {"REJECT", true,
         "REJECT target options:\n"
         "--reject-with type              drop input packet and send back\n"
         "                                a reply packet according to type:\n"
         "Valid reject types:\n"
         "    icmp-net-unreachable     \tICMP network unreachable\n"
         "    net-unreach              \talias\n"
         "    icmp-host-unreachable    \tICMP host unreachable\n"
         "    host-unreach             \talias\n"
         "    icmp-proto-unreachable   \tICMP protocol unreachable\n"
         "    proto-unreach            \talias\n"
         "    icmp-port-unreachable    \tICMP port unreachable (default)\n"
         "    port-unreach             \talias\n"
         "    icmp-net-prohibited      \tICMP network prohibited\n"
         "    net-prohib               \talias\n"
         "    icmp-host-prohibited     \tICMP host prohibited\n"
         "    host-prohib              \talias\n"
         "    tcp-reset                \tTCP RST packet\n"
         "    tcp-rst                  \talias\n"
         "    icmp-admin-prohibited    \tICMP administratively prohibited (*)\n"
         "    admin-prohib             \talias\n"
         "\n"
         "(*) See man page or read the INCOMPATIBILITES file for compatibility issues.\n",
         ipv4_only},
    {"LOG", true,
         "LOG target options:\n"
         " --log-level level\t\tLevel of logging (numeric or see syslog.conf)\n"
         " --log-prefix prefix\t\tPrefix log messages with this prefix.\n"
         " --log-tcp-sequence\t\tLog TCP sequence numbers.\n"
         " --log-tcp-options\t\tLog TCP options.\n"
         " --log-ip-options\t\tLog IP options.\n"
         " --log-uid\t\t\tLog UID owning the local socket.\n"
         " --log-macdecode\t\tDecode MAC addresses and protocol.\n"},
    {"MARK", true,
         "MARK target options:\n"
         "  --set-xmark value[/mask]  Clear bits in mask and XOR value into nfmark\n"
         "  --set-mark value[/mask]   Clear bits in mask and OR value into nfmark\n"
         "  --and-mark bits           Binary AND the nfmark with bits\n"
         "  --or-mark bits            Binary OR the nfmark with bits\n"
         "  --xor-mark bits           Binary XOR the nfmark with bits\n"},
    // Revision 3's help, the revision iptables uses.
    {"NFQUEUE", true,
         "NFQUEUE target options\n"
         "  --queue-num value            Send packet to QUEUE number <value>.\n"
         "                               Valid queue numbers are 0-65535\n"
         "  --queue-balance first:last   Balance flows between queues <value> to <value>.\n"
         "  --queue-bypass               Bypass Queueing if no queue instance exists.\n"
         "  --queue-cpu-fanout\tUse current CPU (no hashing)\n"},
    {"NFLOG", true,
         "NFLOG target options:\n"
         " --nflog-group NUM\t\tNETLINK group used for logging\n"
         " --nflog-range NUM\t\tThis option has no effect, use --nflog-size\n"
         " --nflog-size NUM\t\tNumber of bytes to copy\n"
         " --nflog-threshold NUM\t\tMessage threshold of in-kernel queue\n"
         " --nflog-prefix STRING\t\tPrefix string for log messages\n"},
    {"CT", true,
         "CT target options:\n"
         " --notrack\t\t\tDon't track connection\n"
         " --helper name\t\t\tUse conntrack helper 'name' for connection\n"
         " --timeout name \t\tUse timeout policy 'name' for connection\n"
         " --ctevents event[,event...]\tGenerate specified conntrack events for connection\n"
         " --expevents event[,event...]\tGenerate specified expectation events for connection\n"
         " --zone {ID|mark}\t\tAssign/Lookup connection in zone ID/packet nfmark\n"
         " --zone-orig {ID|mark}\t\tSame as 'zone' option, but only applies to ORIGINAL direction\n"
         " --zone-reply {ID|mark} \tSame as 'zone' option, but only applies to REPLY direction\n"},
    // Revision 2's help, the revision iptables uses.
    {"CONNMARK", true,
         "CONNMARK target options:\n"
         "  --set-xmark value[/ctmask]    Zero mask bits and XOR ctmark with value\n"
         "  --save-mark [--ctmask mask] [--nfmask mask]\n"
         "                                Copy ctmark to nfmark using masks\n"
         "  --restore-mark [--ctmask mask] [--nfmask mask]\n"
         "                                Copy nfmark to ctmark using masks\n"
         "  --set-mark value[/mask]       Set conntrack mark value\n"
         "  --save-mark [--mask mask]     Save the packet nfmark in the connection\n"
         "  --restore-mark [--mask mask]  Restore saved nfmark value\n"
         "  --and-mark value              Binary AND the ctmark with bits\n"
         "  --or-mark value               Binary OR  the ctmark with bits\n"
         "  --xor-mark value              Binary XOR the ctmark with bits\n"
         "  --left-shift-mark value       Left shift the ctmark with bits\n"
         "  --right-shift-mark value      Right shift the ctmark with bits\n"},
    {"CHECKSUM", true,
         "CHECKSUM target options\n"
         "  --checksum-fill\t\t\tFill in packet checksum.\n"},
    {"TEE", true,
         "TEE target options:\n"
         "  --gateway IPADDR    Route packet via the gateway given by address\n"
         "  --oif NAME          Include oif in route calculation\n"
         "\n"},
    {"SNAT", true,
         "SNAT target options:\n"
         " --to-source [<ipaddr>[-<ipaddr>]][:port[-port]]\n"
         "\t\t\t\tAddress to map source to.\n"
         "[--random] [--random-fully] [--persistent]\n"},
    // Revision 2's help, the revision iptables uses.
    {"DNAT", true,
         "DNAT target options:\n"
         " --to-destination [<ipaddr>[-<ipaddr>]][:port[-port[/port]]]\n"
         "\t\t\t\tAddress to map destination to.\n"
         "[--random] [--persistent]\n"},
    {"MASQUERADE", true,
         "MASQUERADE target options:\n"
         " --to-ports <port>[-<port>]\n"
         "\t\t\t\tPort (range) to map to.\n"
         " --random\n"
         "\t\t\t\tRandomize source port.\n"
         " --random-fully\n"
         "\t\t\t\tFully randomize source port.\n"},
    {"REDIRECT", true,
         "REDIRECT target options:\n"
         " --to-ports <port>[-<port>]\n"
         "\t\t\t\tPort (range) to map to.\n"
         " [--random]\n"},
    {"NETMAP", true,
         "NETMAP target options:\n"
         "  --to address[/mask]\n"
         "\t\t\t\tNetwork address to map to.\n"
         "\n"},
    {"addrtype", false,
         "Address type match options:\n"
         " [!] --src-type type[,...]      Match source address type\n"
         " [!] --dst-type type[,...]      Match destination address type\n"
         "     --limit-iface-in           Match only on the packet's incoming device\n"
         "     --limit-iface-out          Match only on the packet's outgoing device\n"
         "\n"
         "Valid types:           \n"
         "                                UNSPEC\n"
         "                                UNICAST\n"
         "                                LOCAL\n"
         "                                BROADCAST\n"
         "                                ANYCAST\n"
         "                                MULTICAST\n"
         "                                BLACKHOLE\n"
         "                                UNREACHABLE\n"
         "                                PROHIBIT\n"
         "                                THROW\n"
         "                                NAT\n"
         "                                XRESOLVE\n"},
    {"pkttype", false,
         "pkttype match options:\n"
         "[!] --pkt-type packettype    match packet type\n"
         "Valid packet types:\n"
         "\tunicast       \t\tto us\n"
         "\tbroadcast     \t\tto all\n"
         "\tmulticast     \t\tto group\n"
         "\totherhost     \t\tto someone else\n"
         "\n"},
    {"dscp", false,
         "dscp match options\n"
         "[!] --dscp value\t\tMatch DSCP codepoint with numerical value\n"
         "  \t\t                This value can be in decimal (ex: 32)\n"
         "               \t\tor in hex (ex: 0x20)\n"
         "[!] --dscp-class name\t\tMatch the DiffServ class. This value may\n"
         "\t\t\t\tbe any of the BE,EF, AFxx or CSx classes\n"
         "\n"
         "\t\t\t\tThese two options are mutually exclusive !\n"},
    {"connlimit", false,
         "connlimit match options:\n"
         "  --connlimit-upto n     match if the number of existing connections is 0..n\n"
         "  --connlimit-above n    match if the number of existing connections is >n\n"
         "  --connlimit-mask n     group hosts using prefix length (default: max len)\n"
         "  --connlimit-saddr      select source address for grouping\n"
         "  --connlimit-daddr      select destination addresses for grouping\n"},
    {"esp", false,
         "esp match options:\n"
         "[!] --espspi spi[:spi]\n"
         "\t\t\t\tmatch spi (range)\n"},
    {"ah", false,
         "ah match options:\n"
         "[!] --ahspi spi[:spi]\n"
         "\t\t\t\tmatch spi (range)\n",
         ipv4_only},
    {"recent", false,
         "recent match options:\n"
         "[!] --set                       Add source address to list, always matches.\n"
         "[!] --rcheck                    Match if source address in list.\n"
         "[!] --update                    Match if source address in list, also update last-seen time.\n"
         "[!] --remove                    Match if source address in list, also removes that address from list.\n"
         "    --seconds seconds           For check and update commands above.\n"
         "                                Specifies that the match will only occur if source address last seen within\n"
         "                                the last 'seconds' seconds.\n"
         "    --reap                      Purge entries older then 'seconds'.\n"
         "                                Can only be used in conjunction with the seconds option.\n"
         "    --hitcount hits             For check and update commands above.\n"
         "                                Specifies that the match will only occur if source address seen hits times.\n"
         "                                May be used in conjunction with the seconds option.\n"
         "    --rttl                      For check and update commands above.\n"
         "                                Specifies that the match will only occur if the source address and the TTL\n"
         "                                match between this packet and the one which was set.\n"
         "                                Useful if you have problems with people spoofing their source address in order\n"
         "                                to DoS you via this module.\n"
         "    --name name                 Name of the recent list to be used.  DEFAULT used if none given.\n"
         "    --rsource                   Match/Save the source address of each packet in the recent list table (default).\n"
         "    --rdest                     Match/Save the destination address of each packet in the recent list table.\n"
         "    --mask netmask              Netmask that will be applied to this recent list.\n"
         "xt_recent by: Stephen Frost <sfrost@snowman.net>.\n"},
    {"hashlimit", false,
         "hashlimit match options:\n"
         "  --hashlimit-upto <avg>           max average match rate\n"
         "                                   [Packets per second unless followed by \n"
         "                                   /sec /minute /hour /day postfixes]\n"
         "  --hashlimit-above <avg>          min average match rate\n"
         "  --hashlimit-mode <mode>          mode is a comma-separated list of\n"
         "                                   dstip,srcip,dstport,srcport (or none)\n"
         "  --hashlimit-srcmask <length>     source address grouping prefix length\n"
         "  --hashlimit-dstmask <length>     destination address grouping prefix length\n"
         "  --hashlimit-name <name>          name for /proc/net/ipt_hashlimit\n"
         "  --hashlimit-burst <num>\t    number to match in a burst, default 5\n"
         "  --hashlimit-htable-size <num>    number of hashtable buckets\n"
         "  --hashlimit-htable-max <num>     number of hashtable entries\n"
         "  --hashlimit-htable-gcinterval    interval between garbage collection runs\n"
         "  --hashlimit-htable-expire        after which time are idle entries expired?\n"
         "  --hashlimit-rate-match           rate match the flow without rate-limiting it\n"
         "  --hashlimit-rate-interval        interval in seconds for hashlimit-rate-match\n"
         "\n"},
    {"TCPMSS", true,
         "TCPMSS target mutually-exclusive options:\n"
         "  --set-mss value               explicitly set MSS option to specified value\n"
         "  --clamp-mss-to-pmtu           automatically clamp MSS value to (path_MTU - 20)\n",
         ipv4_only},
    {"TCPMSS", true,
         "TCPMSS target mutually-exclusive options:\n"
         "  --set-mss value               explicitly set MSS option to specified value\n"
         "  --clamp-mss-to-pmtu           automatically clamp MSS value to (path_MTU - 40)\n",
         ipv6_only},
    {"set", false,
         "set match options:\n"
         " [!] --match-set name flags [--return-nomatch]\n"
         "   [! --update-counters] [! --update-subcounters]\n"
         "   [[!] --packets-eq value | --packets-lt value | --packets-gt value\n"
         "   [[!] --bytes-eq value | --bytes-lt value | --bytes-gt value\n"
         "\t\t 'name' is the set name from to match,\n"
         "\t\t 'flags' are the comma separated list of\n"
         "\t\t 'src' and 'dst' specifications.\n"},
    {"SET", true,
         "SET target options:\n"
         " --add-set name flags [--exist] [--timeout n]\n"
         " --del-set name flags\n"
         " --map-set name flags [--map-mark] [--map-prio] [--map-queue]\n"
         "\t\tadd/del src/dst IP/port from/to named sets,\n"
         "\t\twhere flags are the comma separated list of\n"
         "\t\t'src' and 'dst' specifications.\n"},
    {"string", false,
         "string match options:\n"
         "--from                       Offset to start searching from\n"
         "--to                         Offset to stop searching\n"
         "--algo                       Algorithm\n"
         "--icase                      Ignore case (default: 0)\n"
         "[!] --string string          Match a string in a packet\n"
         "[!] --hex-string string      Match a hex string in a packet\n"},
    {"time", false,
         "time match options:\n"
         "    --datestart time     Start and stop time, to be given in ISO 8601\n"
         "    --datestop time      (YYYY[-MM[-DD[Thh[:mm[:ss]]]]])\n"
         "    --timestart time     Start and stop daytime (hh:mm[:ss])\n"
         "    --timestop time      (between 00:00:00 and 23:59:59)\n"
         "[!] --monthdays value    List of days on which to match, separated by comma\n"
         "                         (Possible days: 1 to 31; defaults to all)\n"
         "[!] --weekdays value     List of weekdays on which to match, sep. by comma\n"
         "                         (Possible days: Mon,Tue,Wed,Thu,Fri,Sat,Sun or 1 to 7\n"
         "                         Defaults to all weekdays.)\n"
         "    --kerneltz           Work with the kernel timezone instead of UTC\n"},
    {"physdev", false,
         "physdev match options:\n"
         " [!] --physdev-in inputname[+]\t\tbridge port name ([+] for wildcard)\n"
         " [!] --physdev-out outputname[+]\tbridge port name ([+] for wildcard)\n"
         " [!] --physdev-is-in\t\t\tarrived on a bridge device\n"
         " [!] --physdev-is-out\t\t\twill leave on a bridge device\n"
         " [!] --physdev-is-bridged\t\tit's a bridged packet\n"},
    {"socket", false,
         "socket match options:\n"
         "  --nowildcard     Do not ignore LISTEN sockets bound on INADDR_ANY\n"
         "  --transparent    Ignore non-transparent sockets\n"
         "  --restore-skmark Set the packet mark to the socket mark if\n"
         "                   the socket matches and transparent / \n"
         "                   nowildcard conditions are satisfied\n"
         "\n"},
    {"icmp6", false,
         "icmpv6 match options:\n"
         "[!] --icmpv6-type typename\tmatch icmpv6 type\n"
         "\t\t\t\t(or numeric type or type/code)\n"
         "Valid ICMPv6 Types:\n"
         "destination-unreachable\n"
         "   no-route\n"
         "   communication-prohibited\n"
         "   beyond-scope\n"
         "   address-unreachable\n"
         "   port-unreachable\n"
         "   failed-policy\n"
         "   reject-route\n"
         "packet-too-big\n"
         "time-exceeded (ttl-exceeded)\n"
         "   ttl-zero-during-transit\n"
         "   ttl-zero-during-reassembly\n"
         "parameter-problem\n"
         "   bad-header\n"
         "   unknown-header-type\n"
         "   unknown-option\n"
         "echo-request (ping)\n"
         "echo-reply (pong)\n"
         "router-solicitation\n"
         "router-advertisement\n"
         "neighbour-solicitation (neighbor-solicitation)\n"
         "neighbour-advertisement (neighbor-advertisement)\n"
         "redirect\n",
         ipv6_only},
    {"REJECT", true,
         "REJECT target options:\n"
         "--reject-with type              drop input packet and send back\n"
         "                                a reply packet according to type:\n"
         "Valid reject types:\n"
         "    icmp6-no-route           \tICMPv6 no route\n"
         "    no-route                 \talias\n"
         "    icmp6-adm-prohibited     \tICMPv6 administratively prohibited\n"
         "    adm-prohibited           \talias\n"
         "    icmp6-addr-unreachable   \tICMPv6 address unreachable\n"
         "    addr-unreach             \talias\n"
         "    icmp6-port-unreachable   \tICMPv6 port unreachable\n"
         "    port-unreach             \talias\n"
         "    tcp-reset                \tTCP RST packet\n"
         "    tcp-reset                \talias\n"
         "    icmp6-policy-fail        \tICMPv6 policy fail\n"
         "    policy-fail              \talias\n"
         "    icmp6-reject-route       \tICMPv6 reject route\n"
         "    reject-route             \talias\n"
         "\n",
         ipv6_only},
    {"hl", false,
         "hl match options:\n"
         "[!] --hl-eq value\tMatch hop limit value\n"
         "  --hl-lt value\tMatch HL < value\n"
         "  --hl-gt value\tMatch HL > value\n",
         ipv6_only},
    {"HL", true,
         "HL target options\n"
         "  --hl-set value\t\tSet HL to <value 0-255>\n"
         "  --hl-dec value\t\tDecrement HL by <value 1-255>\n"
         "  --hl-inc value\t\tIncrement HL by <value 1-255>\n",
         ipv6_only},
    {"frag", false,
         "frag match options:\n"
         "[!] --fragid id[:id]           match the id (range)\n"
         "[!] --fraglen length           total length of this header\n"
         " --fragres                     check the reserved field too\n"
         " --fragfirst                   matches on the first fragment\n"
         " [--fragmore|--fraglast]       there are more fragments or this\n"
         "                               is the last one\n",
         ipv6_only},
    {"ipv6header", false,
         "ipv6header match options:\n"
         "[!] --header headers     Type of header to match, by name\n"
         "                         names: hop,dst,route,frag,auth,esp,none,prot\n"
         "                    long names: hop-by-hop,ipv6-opts,ipv6-route,\n"
         "                                ipv6-frag,ah,esp,ipv6-nonxt,protocol\n"
         "                       numbers: 0,60,43,44,51,50,59\n"
         "--soft                    The header CONTAINS the specified extensions\n",
         ipv6_only},
    {"rt", false,
         "rt match options:\n"
         "[!] --rt-type type             match the type\n"
         "[!] --rt-segsleft num[:num]    match the Segments Left field (range)\n"
         "[!] --rt-len length            total length of this header\n"
         " --rt-0-res                    check the reserved field too (type 0)\n"
         " --rt-0-addrs ADDR[,ADDR...]   Type=0 addresses (list, max: 16)\n"
         " --rt-0-not-strict             List of Type=0 addresses not a strict list\n",
         ipv6_only},
    {"hbh", false,
         "hbh match options:\n"
         "[!] --hbh-len length            total length of this header\n"
         "  --hbh-opts TYPE[:LEN][,TYPE[:LEN]...] \n"
         "                                Options and its length (list, max: 16)\n",
         ipv6_only},
    {"dst", false,
         "dst match options:\n"
         "[!] --dst-len length            total length of this header\n"
         "  --dst-opts TYPE[:LEN][,TYPE[:LEN]...]\n"
         "                                Options and its length (list, max: 16)\n",
         ipv6_only},
    {"mh", false,
         "mh match options:\n"
         "[!] --mh-type type[:type]\tmatch mh type\n"
         "Valid MH types:\n"
         "binding-refresh-request (brr)\n"
         "home-test-init (hoti)\n"
         "careof-test-init (coti)\n"
         "home-test (hot)\n"
         "careof-test (cot)\n"
         "binding-update (bu)\n"
         "binding-acknowledgement (ba)\n"
         "binding-error (be)\n",
         ipv6_only},
    {"ah", false,
         "ah match options:\n"
         "[!] --ahspi spi[:spi]          match spi (range)\n"
         "[!] --ahlen length             total length of this header\n"
         " --ahres                       check the reserved field too\n",
         ipv6_only},
    {"srh", false,
         "srh match options:\n"
         "[!] --srh-next-hdr\t\tnext-hdr        Next Header value of SRH\n"
         "[!] --srh-hdr-len-eq\t\thdr_len         Hdr Ext Len value of SRH\n"
         "[!] --srh-hdr-len-gt\t\thdr_len         Hdr Ext Len value of SRH\n"
         "[!] --srh-hdr-len-lt\t\thdr_len         Hdr Ext Len value of SRH\n"
         "[!] --srh-segs-left-eq\t\tsegs_left       Segments Left value of SRH\n"
         "[!] --srh-segs-left-gt\t\tsegs_left       Segments Left value of SRH\n"
         "[!] --srh-segs-left-lt\t\tsegs_left       Segments Left value of SRH\n"
         "[!] --srh-last-entry-eq \tlast_entry      Last Entry value of SRH\n"
         "[!] --srh-last-entry-gt \tlast_entry      Last Entry value of SRH\n"
         "[!] --srh-last-entry-lt \tlast_entry      Last Entry value of SRH\n"
         "[!] --srh-tag\t\t\ttag             Tag value of SRH\n"
         "[!] --srh-psid\t\t\taddr[/mask]\tSRH previous SID\n"
         "[!] --srh-nsid\t\t\taddr[/mask]\tSRH next SID\n"
         "[!] --srh-lsid\t\t\taddr[/mask]\tSRH Last SID\n",
         ipv6_only},
    {"SNPT", true,
         "SNPT target options:\n"
         " --src-pfx prefix/length\n"
         " --dst-pfx prefix/length\n"
         "\n",
         ipv6_only},
    {"DNPT", true,
         "DNPT target options:\n"
         " --src-pfx prefix/length\n"
         " --dst-pfx prefix/length\n"
         "\n",
         ipv6_only},
};

}  // namespace

std::string extension_help(std::string_view name, bool target, Family f) {
    // Verdicts load iptables' "standard" target.
    if (target && is_standard_verdict(name)) name = "standard";
    for (const auto& h : ext_helps)
        if (h.name == name && h.target == target && (h.families & (1u << unsigned(f)))) return str('\n', h.text);
    return str('\n', name, " does not take any options\n");
}

}  // namespace xdpt
