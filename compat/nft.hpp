// The netfilter layer: the whole ruleset as one nftables table owned by xdptables, with
// iptables' hooks and priorities, so that the kernel judges every packet XDP passes up
// exactly as iptables 1.8.9 would. The IP header part of a rule becomes native nftables
// expressions; its matches and targets run as the kernel's own x_tables extensions
// (nft_compat), so their semantics are iptables' by construction.
//
// XDP stays an exact prefilter in front of it: it drops (and counts) only what it can
// decide, and passes the rest up uncounted, to be judged and counted here.
#pragma once
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "model/ruleset.hpp"

namespace xdpt::nft {

// The nftables table (family ip) that holds iptables table `t` of `rs`: "xdptables-<t>",
// or iptables' own name when a rule of it uses an x_tables extension that the kernel
// allows only in a table of that name (CT in raw, CHECKSUM in mangle) and has no native
// nftables form. Either way xdptables marks the tables it owns and touches no other.
std::string table_name(const Table& t);

// Replaces xdptables' tables with those of `rs`, every counter zero, in one netlink
// batch: the kernel applies all of it or nothing. Tables it does not own are never
// touched; a name it needs that another owner holds is an error.
Result<void> install(const Ruleset& rs);

// Deletes xdptables' tables, if there are any.
Result<void> remove();

// Adds what the table counted since `install` to the counters of `rs` (the ruleset it
// was installed from); chains whose rules do not line up with `rs` are left out.
Result<void> add_counters(Ruleset& rs);

}  // namespace xdpt::nft
