// Every extension xdptables knows, by the name given to -m / -j.
#include <array>

#include "ext/ext.hpp"

namespace xdpt {

// Matches (src/ext/match_*.cpp).
extern const ExtKind match_tcp, match_udp, match_icmp, match_multiport, match_iprange,
    match_comment, match_conntrack, match_state, match_length, match_ttl, match_mac,
    match_limit, match_mark, match_sctp, match_addrtype, match_pkttype, match_dscp,
    match_connlimit, match_esp, match_ah, match_recent, match_hashlimit;
extern const ExtKind match_statistic, match_owner, match_connmark;
extern const ExtKind match_icmp6, match_hl, match_frag, match_ipv6header, match_rt, match_hbh, match_dst,
    match_eui64, match_mh, match_ah6, match_srh;
// Targets (src/ext/target_*.cpp).
extern const ExtKind target_REJECT, target_LOG, target_NFLOG, target_TCPMSS, target_CT,
    target_CHECKSUM, target_MARK, target_NOTRACK, target_SNAT, target_DNAT, target_MASQUERADE,
    target_REDIRECT, target_NETMAP;
extern const ExtKind match_set, target_SET;
extern const ExtKind match_string, match_time, match_physdev, match_socket;
extern const ExtKind target_NFQUEUE, target_TEE, target_CONNMARK;
extern const ExtKind target_REJECT6, target_HL, target_SNPT, target_DNPT;

namespace {
constexpr std::array matches{
    &match_tcp, &match_udp, &match_icmp, &match_multiport, &match_iprange,
    &match_comment, &match_conntrack, &match_state, &match_length, &match_ttl,
    &match_mac, &match_limit, &match_mark, &match_sctp, &match_addrtype,
    &match_pkttype, &match_dscp, &match_connlimit, &match_esp, &match_ah,
    &match_recent, &match_hashlimit,
    &match_set,
    &match_string,
    &match_time,
    &match_physdev,
    &match_socket,
    &match_statistic, &match_owner, &match_connmark,
    &match_icmp6, &match_hl, &match_frag, &match_ipv6header, &match_rt, &match_hbh, &match_dst,
    &match_eui64, &match_mh, &match_ah6, &match_srh,
};
constexpr std::array targets{
    &target_REJECT, &target_LOG, &target_NFLOG, &target_TCPMSS,
    &target_CT, &target_CHECKSUM, &target_MARK, &target_NOTRACK,
    &target_SNAT, &target_DNAT, &target_MASQUERADE, &target_REDIRECT, &target_NETMAP,
    &target_SET,
    &target_NFQUEUE, &target_TEE, &target_CONNMARK,
    &target_REJECT6, &target_HL, &target_SNPT, &target_DNPT,
};
}  // namespace

std::string_view match_load_name(std::string_view name) {
    return name == "icmpv6" || name == "ipv6-icmp" ? "icmp6" : name;
}

const ExtKind* find_match(std::string_view name, Family f) {
    name = match_load_name(name);
    for (auto* k : matches)
        if (k->name == name && k->in(f)) return k;
    return nullptr;
}

const ExtKind* find_target(std::string_view name, Family f) {
    for (auto* k : targets)
        if (k->name == name && k->in(f)) return k;
    return nullptr;
}

bool is_standard_verdict(std::string_view name) {
    return name == "ACCEPT" || name == "DROP" || name == "RETURN" || name == "QUEUE";
}

}  // namespace xdpt
