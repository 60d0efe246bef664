// ip6tables' extensions: what ip6tables-legacy 1.8.9 saves, lists and sends the kernel
// (the diff cases in tests/diff/cases/ipv6-ext.txt compare whole command sequences).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_connlimit.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <linux/netfilter_ipv6/ip6t_HL.h>
#include <linux/netfilter_ipv6/ip6t_NPT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_frag.h>
#include <linux/netfilter_ipv6/ip6t_srh.h>

#include "ext/matches/common.hpp"
#include "tests/unit/ext_helpers.hpp"

namespace xdpt {
extern const ExtKind target_REJECT, target_REJECT6, target_HL, target_SNAT, target_NETMAP, target_SNPT, target_DNPT;
}

namespace xdpt::test {
namespace {

using Opts = std::vector<std::pair<std::string, std::string>>;

ExtRun run6(const ExtKind& k, Opts opts, const Rule& rule = {}, std::string_view table = "filter",
            ExtInst* parsed = nullptr) {
    return run_ext(&k, std::move(opts), rule, table, parsed, Family::ipv6);
}

Rule proto(uint16_t p) {
    Rule r;
    r.proto = p;
    return r;
}

TEST_CASE("ipv6: the registry picks the extension of the family") {
    CHECK(find_match("icmp6", Family::ipv6) == &match_icmp6);
    CHECK(find_match("icmpv6", Family::ipv6) == &match_icmp6);
    CHECK(find_match("ipv6-icmp", Family::ipv6) == &match_icmp6);
    CHECK(find_match("icmp6", Family::ipv4) == nullptr);
    CHECK(find_match("icmp", Family::ipv6) == nullptr);
    CHECK(find_match("ttl", Family::ipv6) == nullptr);
    CHECK(find_match("hl", Family::ipv4) == nullptr);
    CHECK(find_match("ah", Family::ipv4) == &match_ah);
    CHECK(find_match("ah", Family::ipv6) == &match_ah6);
    CHECK(find_target("REJECT", Family::ipv4) == &target_REJECT);
    CHECK(find_target("REJECT", Family::ipv6) == &target_REJECT6);
    CHECK(find_target("HL", Family::ipv4) == nullptr);
    CHECK(find_match("iprange", Family::ipv6) == &match_iprange);
}

TEST_CASE("ipv6: icmp6") {
    auto r = run6(match_icmp6, {{"--icmpv6-type", "echo-request"}}, proto(58));
    REQUIRE(r.ok);
    CHECK(r.save == " --icmpv6-type 128");
    CHECK(r.print == " ipv6-icmp echo-request");
    CHECK(r.print_numeric == " ipv6-icmptype 128");
    r = run6(match_icmp6, {{"!", ""}, {"--icmpv6-type", "1/3:5"}}, proto(58));
    REQUIRE(r.ok);
    CHECK(r.save == " ! --icmpv6-type 1/3");
    CHECK(r.print == " ipv6-icmp !type 1 codes 3-5");
    CHECK(run6(match_icmp6, {{"--icmpv6-type", "router"}}).error ==
          "Ambiguous ICMPv6 type `router': `router-solicitation' or `router-advertisement'?");
    CHECK(run6(match_icmp6, {{"--icmpv6-type", "1:2"}}).error == "ICMPv6 type range not supported");
    CHECK(run6(match_icmp6, {{"--icmpv6-type", "300"}}).error == "Unknown ICMPv6 type `300'");
    ExtInst inst;
    REQUIRE(run6(match_icmp6, {{"--icmpv6-type", "2"}}, proto(58), "filter", &inst).ok);
    ip6t_icmp icmp;
    const XtBlob b = xt_blob(inst, icmp);
    CHECK(b.name == "icmp6");
    CHECK(b.rev == 0);
    CHECK(icmp.type == 2);
    CHECK(icmp.code[0] == 0);
    CHECK(icmp.code[1] == 0xff);
}

TEST_CASE("ipv6: hl and HL") {
    auto r = run6(match_hl, {{"!", ""}, {"--hl", "7"}});
    REQUIRE(r.ok);
    CHECK(r.save == " ! --hl-eq 7");
    CHECK(r.print == " HL match HL != 7");
    CHECK(run6(match_hl, {}).error == "HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'");
    CHECK(run6(match_hl, {{"--hl-eq", "256"}}).error == "hl: bad value for option \"--hl-eq\", or out of range (0-255).\n");
    r = run6(target_HL, {{"--hl-dec", "3"}}, {}, "mangle");
    REQUIRE(r.ok);
    CHECK(r.save == " --hl-dec 3");
    CHECK(r.print == " HL decrement by 3");
    CHECK(run6(target_HL, {{"--hl-inc", "0"}}).error == "HL: bad value for option \"--hl-inc\", or out of range (1-255).\n");
    CHECK(run6(target_HL, {}).error == "HL: You must specify an action");
    auto blob = xt_blob<ip6t_HL_info>(&target_HL, {{"--hl-inc", "9"}}, "HL", 0);
    REQUIRE(blob);
    CHECK(blob->mode == IP6T_HL_INC);
    CHECK(blob->hop_limit == 9);
}

TEST_CASE("ipv6: REJECT") {
    auto r = run6(target_REJECT6, {});
    REQUIRE(r.ok);
    CHECK(r.save == " --reject-with icmp6-port-unreachable");
    r = run6(target_REJECT6, {{"--reject-with", "adm"}});
    REQUIRE(r.ok);
    CHECK(r.print == " reject-with icmp6-adm-prohibited");
    CHECK(run6(target_REJECT6, {{"--reject-with", "echo-reply"}}).error == "unknown reject type \"echo-reply\"");
    CHECK(run6(target_REJECT6, {{"--reject-with", "icmp-port-unreachable"}}).error ==
          "unknown reject type \"icmp-port-unreachable\"");
    ExtInst inst;
    REQUIRE(run6(target_REJECT6, {{"--reject-with", "tcp-reset"}}, {}, "filter", &inst).ok);
    ExtCtx ctx;
    ctx.family = Family::ipv6;
    CHECK_FALSE(inst.data->kernel_accepts(Rule{}, ctx));
    CHECK(inst.data->kernel_accepts(proto(6), ctx));
    ip6t_reject_info info;
    CHECK(xt_blob(inst, info).name == "REJECT");
    CHECK(info.with == IP6T_TCP_RESET);
}

TEST_CASE("ipv6: frag, rt, hbh, mh, ipv6header") {
    auto r = run6(match_frag, {{"!", ""}, {"--fragid", "0:4294967295"}, {"--fraglast", ""}});
    REQUIRE(r.ok);
    CHECK(r.save == " --fraglast");
    CHECK(r.print == " frag ids:!0:4294967295 last");
    CHECK(run6(match_frag, {{"--fragmore", ""}, {"--fraglast", ""}}).error ==
          "frag: option \"--fragmore\" cannot be used together with \"--fraglast\".\n");
    r = run6(match_rt, {{"--rt-type", "0"}, {"--rt-0-addrs", "2001:db8::1,::2"}, {"--rt-0-not-strict", ""}});
    REQUIRE(r.ok);
    CHECK(r.save == " --rt-type 0 --rt-0-addrs 2001:db8::1,::2 --rt-0-not-strict");
    CHECK(r.print == " rt type:0 0-addrs 2001:db8::1,::2 0-not-strict");
    CHECK(run6(match_rt, {{"--rt-0-res", ""}}).error == "`--rt-type 0' required before `--rt-0-res'");
    r = run6(match_hbh, {{"--hbh-opts", "1:2,0x10"}});
    REQUIRE(r.ok);
    CHECK(r.save == " --hbh-opts 1:2,16");
    CHECK(run6(match_hbh, {{"--hbh-opts", "0:4"}}).error == "PAD0 has not got length");
    CHECK(run6(match_dst, {{"--dst-opts", "0:4"}}).error == "PAD0 hasn't got length");
    r = run6(match_mh, {{"--mh-type", "bu:be"}}, proto(135));
    REQUIRE(r.ok);
    CHECK(r.save == " --mh-type 5:7");
    CHECK(r.print == " mh binding-update:binding-error");
    r = run6(match_ipv6header, {{"--header", "hop,frag"}, {"--soft", ""}});
    REQUIRE(r.ok);
    CHECK(r.save == " --header hop-by-hop,ipv6-frag --soft");
    CHECK(r.print_numeric == " ipv6header flags:0x90 soft");
}

TEST_CASE("ipv6: srh (revision 1)") {
    CHECK(find_match("srh", Family::ipv4) == nullptr);
    auto r = run6(match_srh, {{"!", ""}, {"--srh-psid", "a::1/64"}, {"--srh-hdr-len-eq", "3"}, {"--srh-hdr-len-lt", "9"},
                              {"--srh-tag", "65535"}});
    REQUIRE(r.ok);
    // The three length options share one field: the last value given is the one kept.
    CHECK(r.save == " --srh-hdr-len-eq 9 --srh-hdr-len-lt 9 --srh-tag 65535 ! --srh-psid a::1/64");
    CHECK(r.print == " srh hdr-len-eq:9 hdr-len-lt:9 tag:65535 psid ! a::1/64");
    CHECK(run6(match_srh, {{"--srh-nsid", "b::/128"}}).print == " srh nsid  b::/128");
    CHECK(run6(match_srh, {{"--srh-tag", "65536"}}).error ==
          "srh: bad value for option \"--srh-tag\", or out of range (0-65535).\n");
    CHECK(run6(match_srh, {{"--srh-next-hdr", "256"}}).error ==
          "srh: bad value for option \"--srh-next-hdr\", or out of range (0-255).\n");
    ExtInst inst;
    REQUIRE(run6(match_srh, {{"--srh-lsid", "c::5/8"}, {"!", ""}, {"--srh-segs-left-gt", "2"}}, {}, "filter", &inst).ok);
    ip6t_srh1 srh;
    const XtBlob b = xt_blob(inst, srh);
    CHECK(b.name == "srh");
    CHECK(b.rev == 1);
    CHECK(b.size == 112);
    const ip6t_srh1* blob = &srh;
    CHECK(blob->mt_flags == (IP6T_SRH_LSID | IP6T_SRH_SEGS_GT));
    CHECK(blob->mt_invflags == IP6T_SRH_INV_SEGS_GT);
    CHECK(blob->segs_left == 2);
    CHECK(blob->lsid_addr.s6_addr[1] == 0x0c);
    CHECK(blob->lsid_addr.s6_addr[15] == 5);  // kept unmasked, as libxtables does
    CHECK(blob->lsid_msk.s6_addr[0] == 0xff);
    CHECK(blob->lsid_msk.s6_addr[1] == 0);
}

TEST_CASE("ipv6: SNPT and DNPT") {
    CHECK(find_target("SNPT", Family::ipv4) == nullptr);
    CHECK(target_SNPT.tables == "mangle");
    CHECK(target_DNPT.hooks == "PREROUTING,OUTPUT");
    ExtInst inst;
    auto r = run6(target_SNPT, {{"--src-pfx", "fd00::/48"}, {"--dst-pfx", "2001:db8::/64"}}, {}, "mangle", &inst);
    REQUIRE(r.ok);
    CHECK(r.save == " --src-pfx fd00::/48 --dst-pfx 2001:db8::/64");
    CHECK(r.print == " SNPT src-pfx fd00::/48 dst-pfx 2001:db8::/64");
    ip6t_npt_tginfo info;
    const XtBlob b = xt_blob(inst, info);
    CHECK(b.name == "SNPT");
    CHECK(b.rev == 0);
    CHECK(b.size == 40);
    CHECK(info.src_pfx_len == 48);
    CHECK(info.dst_pfx_len == 64);
    CHECK(info.src_pfx.in6.s6_addr[0] == 0xfd);
    ExtCtx ctx;
    ctx.family = Family::ipv6;
    CHECK(inst.data->kernel_accepts(Rule{}, ctx));
    // ip6t_npt_checkentry: at most 64 bits, no host bit.
    for (auto bad : {"dead::beef", "dead::/65", "dead::1/64", "dead::/ffff::ff"}) {
        REQUIRE(run6(target_DNPT, {{"--src-pfx", bad}, {"--dst-pfx", "::/0"}}, {}, "mangle", &inst).ok);
        CHECK_FALSE(inst.data->kernel_accepts(Rule{}, ctx));
    }
    // save leaves a ::/0 prefix out; the exact form keeps it.
    REQUIRE(run6(target_DNPT, {{"--src-pfx", "::/0"}, {"--dst-pfx", "1c3::/64"}}, {}, "mangle", &inst).ok);
    CHECK(inst.save_text() == " --dst-pfx 1c3::/64");
    CHECK(inst.exact_text() == " --src-pfx ::/0 --dst-pfx 1c3::/64");
    CHECK(run6(target_DNPT, {{"--src-pfx", "::/0"}}, {}, "mangle").error == "DNPT: option \"--dst-pfx\" must be specified\n");
}

TEST_CASE("ipv6: addresses of the family") {
    auto r = run6(match_iprange, {{"--src-range", "2001:db8::1-2001:db8::ff"}});
    REQUIRE(r.ok);
    CHECK(r.save == " --src-range 2001:db8::1-2001:db8::ff");
    CHECK(run6(match_iprange, {{"--src-range", "1.2.3.4"}}).error == "iprange: Bad value for \"--src-range\" option: \"1.2.3.4\"");
    r = run6(match_connlimit, {{"--connlimit-above", "2"}});
    REQUIRE(r.ok);
    CHECK(r.save == " --connlimit-above 2 --connlimit-mask 128 --connlimit-saddr");
    ExtInst cl_inst;
    REQUIRE(run6(match_connlimit, {{"--connlimit-above", "2"}, {"--connlimit-mask", "64"}}, {}, "filter", &cl_inst).ok);
    xt_connlimit_info cl;
    CHECK(xt_blob(cl_inst, cl).rev == 1);
    CHECK(cl.v6_mask[1] == 0xffffffff);
    CHECK(cl.v6_mask[2] == 0);
    // A mask with holes is a full one (XTTYPE_HOSTMASK's prefix length of -1).
    r = run6(match_conntrack, {{"--ctorigdst", "2001:db8::/ffff::ffff"}});
    REQUIRE(r.ok);
    CHECK(r.save == " --ctorigdst 2001:db8::");
    r = run6(match_conntrack, {{"--ctorigdst", "2001:db8::/48"}});
    REQUIRE(r.ok);
    CHECK(r.print_numeric == " ctorigdst 2001:db8::/48");
    r = run6(target_SNAT, {{"--to-source", "[2001:db8::1-2001:db8::2]:80-90"}}, proto(6), "nat");
    REQUIRE(r.ok);
    CHECK(r.save == " --to-source [2001:db8::1-2001:db8::2]:80-90");
    ExtInst inst;
    REQUIRE(run6(target_SNAT, {{"--to-source", "2001:db8::1"}}, {}, "nat", &inst).ok);
    nf_nat_range range;
    const XtBlob b = xt_blob(inst, range);
    CHECK(b.rev == 1);
    CHECK(b.size == (sizeof(nf_nat_range) + 7) / 8 * 8);
    CHECK(range.flags == NF_NAT_RANGE_MAP_IPS);
    CHECK(range.min_addr.ip6[0] == htonl(0x20010db8));
    r = run6(target_NETMAP, {{"--to", "2001:db8::5/64"}}, {}, "nat");
    REQUIRE(r.ok);
    CHECK(r.save == " --to 2001:db8::/64");
}

}  // namespace
}  // namespace xdpt::test
