// -m eui64: the source address's interface identifier is the EUI-64 of the source MAC
// (ip6t_eui64), no options; the kernel allows it in PREROUTING, INPUT and FORWARD.
#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

class Eui64Data : public Data<Eui64Data> {
public:
    Result<void> parse(const OptDef&, std::string_view, bool, const ExtCtx&) override { return {}; }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("eui64", 0, int{0}); }

    void save(std::string&) const override {}
    // libip6t_eui64 has no print: ip6tables prints the name and a space.
    void print(std::string& out, bool) const override { out += "eui64 "; }
};

}  // namespace

const ExtKind match_eui64{"eui64", {}, make_data<Eui64Data>, {}, "PREROUTING,INPUT,FORWARD", {}, ipv6_only};

}  // namespace xdpt
