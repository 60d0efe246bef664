// -m socket: a local socket the packet belongs to (xt_socket revision 3, the highest
// iptables 1.8.9 and this kernel share). Sockets are the kernel's: rules with it are
// left to netfilter (no to_xdp).
#include <linux/netfilter/xt_socket.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_transparent, o_nowildcard, o_restore_skmark };

constexpr std::array<OptDef, 3> socket_opts{{
    {.name = "transparent", .id = o_transparent, .has_arg = false},
    {.name = "nowildcard", .id = o_nowildcard, .has_arg = false},
    {.name = "restore-skmark", .id = o_restore_skmark, .has_arg = false},
}};

// Each option's flag, in the order iptables prints them.
constexpr std::array<std::pair<uint8_t, std::string_view>, 3> socket_flags{{
    {XT_SOCKET_TRANSPARENT, " --transparent"},
    {XT_SOCKET_NOWILDCARD, " --nowildcard"},
    {XT_SOCKET_RESTORESKMARK, " --restore-skmark"},
}};

class SocketData : public Data<SocketData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view, bool, const ExtCtx&) override {
        info_.flags |= socket_flags[static_cast<size_t>(opt.id)].first;
        return {};
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("socket", 3, info_); }

    void save(std::string& out) const override {
        for (const auto& [bit, text] : socket_flags)
            if (info_.flags & bit) out += text;
    }
    void print(std::string& out, bool) const override {
        out += " socket";
        save(out);
    }

private:
    xt_socket_mtinfo3 info_{};
};

}  // namespace

// xt_socket looks the socket up before routing or on local delivery only.
const ExtKind match_socket{
    .name = "socket",
    .opts = socket_opts,
    .make = make_data<SocketData>,
    .hooks = "PREROUTING,INPUT",
};

}  // namespace xdpt
