// -m mac: the Ethernet source address (xt_mac). The kernel allows it only where a
// packet still has its link-layer header: PREROUTING, INPUT and FORWARD.
#include <linux/netfilter/xt_mac.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr std::array<OptDef, 1> mac_opts{{
    {.name = "mac-source", .id = 0, .flags = opt_invert | opt_mand},
}};

using Mac = std::array<uint8_t, 6>;

// XTTYPE_ETHERMAC: six fields separated by ':', each what strtoul base 16 reads from at
// most two characters (so "4", "" and "ff" are fields, "0ff" is not).
Result<Mac> parse_mac(std::string_view arg) {
    std::string buf(arg.substr(0, arg.find('\0')));
    Mac mac{};
    const char* p = buf.c_str();
    for (size_t i = 0; i < mac.size(); ++i) {
        char* end = nullptr;
        unsigned long v = std::strtoul(p, &end, 16);
        const char want = i + 1 < mac.size() ? ':' : '\0';
        if (*end != want || end - p > 2) return param_fail("Invalid MAC address specified.");
        mac[i] = static_cast<uint8_t>(v);
        p = end + 1;
    }
    return mac;
}

std::string mac_text(const Mac& mac) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (auto b : mac) {
        if (!s.empty()) s += ':';
        s += digits[b >> 4];
        s += digits[b & 0xf];
    }
    return s;
}

class MacData : public Data<MacData> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        auto m = parse_mac(arg);
        if (!m) return failure(m);
        mac_ = *m;
        inv_ = invert;
        return {};
    }

    bool to_xdp(const Rule&, XdpCond& c) const override {
        c.mac.push_back({mac_, inv_});
        c.needs_ether = true;
        return true;
    }

    XtInfo to_xt(const Rule&) const override {
        xt_mac_info info{};
        std::copy(mac_.begin(), mac_.end(), info.srcaddr);
        info.invert = inv_;
        return XtInfo::of("mac", 0, info);
    }

    void save(std::string& out) const override {
        out += str(inv_ ? " !" : "", " --mac-source ", mac_text(mac_));
    }

    void print(std::string& out, bool) const override {
        out += str(" MAC ", inv_ ? "! " : "", mac_text(mac_));
    }

private:
    Mac mac_{};
    bool inv_ = false;
};

}  // namespace

const ExtKind match_mac{"mac", mac_opts, make_data<MacData>, "", "PREROUTING,INPUT,FORWARD"};

}  // namespace xdpt
