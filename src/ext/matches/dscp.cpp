// -m dscp: the DiffServ code point, the upper six bits of the IPv4 TOS byte (xt_dscp),
// given as a number or a class name. XDP does not classify by TOS: rules with it are left
// to netfilter (no to_xdp).
#include <linux/netfilter/xt_dscp.h>

#include <array>
#include <strings.h>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_dscp, o_class };

constexpr std::array<OptDef, 2> dscp_opts{{
    {.name = "dscp", .id = o_dscp, .flags = opt_invert, .excl = 1u << o_class},
    {.name = "dscp-class", .id = o_class, .flags = opt_invert, .excl = 1u << o_dscp},
}};

struct DsClass {
    std::string_view name;
    uint8_t dscp;
};
// In the order iptables tries them: the first name the argument starts with wins.
constexpr std::array<DsClass, 22> ds_classes{{
    {"CS0", 0x00},  {"CS1", 0x08},  {"CS2", 0x10},  {"CS3", 0x18},  {"CS4", 0x20},
    {"CS5", 0x28},  {"CS6", 0x30},  {"CS7", 0x38},  {"BE", 0x00},   {"AF11", 0x0a},
    {"AF12", 0x0c}, {"AF13", 0x0e}, {"AF21", 0x12}, {"AF22", 0x14}, {"AF23", 0x16},
    {"AF31", 0x1a}, {"AF32", 0x1c}, {"AF33", 0x1e}, {"AF41", 0x22}, {"AF42", 0x24},
    {"AF43", 0x26}, {"EF", 0x2e},
}};

// iptables compares only the class name's length of the argument, so "EFx" is EF.
Result<uint32_t> class_dscp(std::string_view arg) {
    for (const auto& c : ds_classes)
        if (arg.size() >= c.name.size() && strncasecmp(arg.data(), c.name.data(), c.name.size()) == 0)
            return c.dscp;
    return param_fail(str("Invalid DSCP value `", arg, "'"));
}

class DscpData : public Data<DscpData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        arg = arg.substr(0, arg.find('\0'));
        auto v = opt.id == o_dscp ? parse_uint("dscp", "dscp", arg, 0, XT_DSCP_MAX) : class_dscp(arg);
        if (!v) return failure(v);
        dscp_ = uint8_t(*v);
        if (invert) inv_ = true;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("DSCP match: Parameter --dscp is required");
        return {};
    }

    XtInfo to_xt(const Rule&) const override {
        xt_dscp_info info{};
        info.dscp = dscp_, info.invert = inv_;
        return XtInfo::of("dscp", 0, info);
    }

    void save(std::string& out) const override {
        out += str(inv_ ? " !" : "", " --dscp ", text());
    }

    void print(std::string& out, bool) const override {
        out += str(" DSCP match ", inv_ ? "!" : "", text());
    }

private:
    uint8_t dscp_ = 0;
    bool inv_ = false;

    std::string text() const {  // "0x%02x"
        constexpr char digits[] = "0123456789abcdef";
        return str("0x", digits[dscp_ >> 4], digits[dscp_ & 15]);
    }
};

}  // namespace

const ExtKind match_dscp{"dscp", dscp_opts, make_data<DscpData>};

}  // namespace xdpt
