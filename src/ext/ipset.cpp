#include "ext/ipset.hpp"

// netinet/in.h before linux/netfilter.h (which pulls linux/in.h in).
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/str.hpp"
#include "ext/support.hpp"
#include "grammar/values.hpp"

namespace xdpt::ext {
namespace {

SetLookup current_lookup = kernel_set_lookup;

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

// libxt_set.h's get_version + get_set_byname: a raw socket, the protocol version, then
// the index and family of the name.
Result<SetId> kernel_set_lookup(std::string_view name) {
    Fd s{::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)};
    if (s.fd < 0) return fail(Exit::other, "Can't open socket to ipset.\n");
    ip_set_req_version ver{};
    ver.op = IP_SET_OP_VERSION;
    socklen_t size = sizeof ver;
    if (::getsockopt(s.fd, SOL_IP, SO_IP_SET, &ver, &size) != 0)
        return fail(Exit::other, "Kernel module xt_set is not loaded in.\n");
    ip_set_req_get_set_family req{};
    req.op = IP_SET_OP_GET_FNAME;
    req.version = ver.version;
    name.copy(req.set.name, std::min(name.size(), size_t{IPSET_MAXNAMELEN - 1}));
    size = sizeof req;
    if (::getsockopt(s.fd, SOL_IP, SO_IP_SET, &req, &size) != 0)
        return fail(Exit::other, str("Problem when communicating with ipset, errno=", errno, ".\n"));
    if (size != sizeof req)
        return fail(Exit::other, str("Incorrect return size from kernel during ipset lookup, (want ", sizeof req,
                                     ", got ", size, ")\n"));
    return SetId{req.set.index, static_cast<uint8_t>(req.family)};
}

SetLookup set_lookup_hook(SetLookup lookup) {
    auto old = current_lookup;
    current_lookup = lookup;
    return old;
}

Result<void> parse_set_ref(SetRef& ref, std::string_view what, std::string_view name, const ExtCtx& ctx) {
    name = name.substr(0, name.find('\0'));
    if (ref.given()) return param_fail(str("--", what, " can be specified only once"));
    const bool have_flags = ctx.argv && ctx.next && *ctx.next < ctx.argv->size();
    std::string_view flags = have_flags ? std::string_view((*ctx.argv)[*ctx.next]) : std::string_view{};
    flags = flags.substr(0, flags.find('\0'));
    if (!have_flags || flags.starts_with('-') || flags.starts_with('!'))
        return param_fail(str("--", what, " requires two args."));
    if (name.size() > IPSET_MAXNAMELEN - 1)
        return param_fail(str("setname `", name, "' too long, max ", IPSET_MAXNAMELEN - 1, " characters."));
    auto id = current_lookup(name);
    if (!id) return std::unexpected(id.error());
    if (id->index == IPSET_INVALID_ID) return param_fail(str("Set ", name, " doesn't exist.\n"));
    if (id->family != NFPROTO_IPV4 && id->family != NFPROTO_UNSPEC)
        return param_fail(str("The protocol family of set ", name, " is ",
                              id->family == NFPROTO_IPV4 ? "IPv4" : "IPv6", ", which is not applicable.\n"));
    SetRef r{std::string(name), {id->index, 0, 0}};
    // parse_dirs: up to IPSET_DIM_MAX comma items, each starting with "src" or "dst".
    auto items = grammar::split(flags, ',');
    for (auto item : items) {
        if (r.info.dim == IPSET_DIM_MAX)
            return param_fail(str("Can't be more src/dst options than ", int{IPSET_DIM_MAX}, "."));
        ++r.info.dim;
        if (item.starts_with("src")) r.info.flags |= 1u << r.info.dim;
        else if (!item.starts_with("dst"))
            return param_fail("You must spefify (the comma separated list of) 'src' or 'dst'.");
    }
    ++*ctx.next;
    ref = std::move(r);
    return {};
}

void append_set_ref(std::string& out, std::string_view prefix, const SetRef& ref, bool quote) {
    if (!ref.given()) return;
    out += str(' ', prefix);
    if (quote) append_quoted(out, ref.name);
    else out += str(' ', ref.name);
    for (unsigned i = 1; i <= ref.info.dim; ++i)
        out += str(i == 1 ? " " : ",", ref.info.flags & (1u << i) ? "src" : "dst");
}

}  // namespace xdpt::ext
