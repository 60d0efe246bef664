#include "model/ruleset.hpp"

#include "model/tables.hpp"

#include <algorithm>
#include <array>

namespace xdpt {

bool Rule::same_as(const Rule& o) const {
    if (!(src == o.src && dst == o.dst && inv_src == o.inv_src && inv_dst == o.inv_dst &&
          iface_under_mask(in_iface) == iface_under_mask(o.in_iface) &&
          iface_under_mask(out_iface) == iface_under_mask(o.out_iface) && inv_in == o.inv_in &&
          inv_out == o.inv_out && proto == o.proto && inv_proto == o.inv_proto && proto_given == o.proto_given &&
          frag == o.frag && inv_frag == o.inv_frag && target_name == o.target_name &&
          is_goto == o.is_goto && matches.size() == o.matches.size()))
        return false;
    for (size_t i = 0; i < matches.size(); ++i)
        if (matches[i].kind != o.matches[i].kind ||
            matches[i].exact_text() != o.matches[i].exact_text())
            return false;
    if (target.kind != o.target.kind) return false;
    return target.exact_text() == o.target.exact_text();
}

bool Rule::ends_chain() const {
    return !target.kind && !is_goto && is_standard_verdict(target_name) && src == IpNet{} && dst == IpNet{} &&
           !inv_src && !inv_dst && in_iface.empty() && out_iface.empty() && !inv_in && !inv_out && proto == 0 &&
           !proto_given && !inv_proto && !frag && !inv_frag && matches.empty();
}

size_t Chain::live_end() const {
    for (size_t i = 0; i < rules.size(); ++i)
        if (rules[i].ends_chain()) return i + 1;
    return rules.size();
}

std::optional<std::vector<std::string_view>> builtin_chains(std::string_view table) {
    const TableSpec* t = find_table_spec(table);
    if (!t) return std::nullopt;
    std::vector<std::string_view> out;
    for (const BuiltinChain& c : t->chains()) out.push_back(c.name);
    return out;
}

Table make_table(std::string_view name, Family family) {
    Table t;
    t.family = family;
    t.name = std::string(name);
    const auto names = *builtin_chains(name);
    for (auto c : names) {
        Chain ch;
        ch.name = std::string(c);
        ch.builtin = true;
        ch.policy = "ACCEPT";
        t.chains.push_back(std::move(ch));
    }
    return t;
}

namespace {
// The first user chain: the builtins (at most five) come first.
std::vector<Chain>::iterator user_chains(std::vector<Chain>& chains) {
    return std::find_if(chains.begin(), chains.end(), [](const Chain& c) { return !c.builtin; });
}
}  // namespace

Chain* Table::find(std::string_view chain) {
    auto users = user_chains(chains);
    for (auto it = chains.begin(); it != users; ++it)
        if (it->name == chain) return &*it;
    auto it = std::lower_bound(users, chains.end(), chain,
                               [](const Chain& c, std::string_view n) { return c.name < n; });
    return it != chains.end() && it->name == chain ? &*it : nullptr;
}
const Chain* Table::find(std::string_view chain) const {
    return const_cast<Table*>(this)->find(chain);
}

unsigned Table::references(std::string_view chain) const {
    unsigned n = 0;
    for (const auto& c : chains)
        for (const auto& r : c.rules)
            if (!r.target.kind && r.target_name == chain) ++n;
    return n;
}

Chain& Table::add_user_chain(std::string name) {
    auto it = std::upper_bound(user_chains(chains), chains.end(), name,
                               [](const std::string& n, const Chain& c) { return n < c.name; });
    Chain ch;
    ch.name = std::move(name);
    return *chains.insert(it, std::move(ch));
}

void Table::add_user_chains(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    const size_t old_end = chains.size();
    chains.reserve(old_end + names.size());
    for (auto& n : names) {
        Chain ch;
        ch.name = std::move(n);
        chains.push_back(std::move(ch));
    }
    std::inplace_merge(user_chains(chains), chains.begin() + old_end, chains.end(),
                       [](const Chain& a, const Chain& b) { return a.name < b.name; });
}

Table* Ruleset::find(std::string_view name) {
    for (auto& t : tables)
        if (t.name == name) return &t;
    return nullptr;
}
const Table* Ruleset::find(std::string_view name) const {
    return const_cast<Ruleset*>(this)->find(name);
}

Table& Ruleset::instantiate(std::string_view name) {
    if (auto* t = find(name)) return *t;
    tables.insert(tables.begin(), make_table(name, family));
    return tables.front();
}

}  // namespace xdpt
