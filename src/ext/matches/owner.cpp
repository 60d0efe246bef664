// -m owner: the local socket's owner (xt_owner revision 1): UID and GID, each one id or a
// range, supplementary groups, whether a socket exists. Only the kernel knows the socket,
// and only in OUTPUT and POSTROUTING (the match's hooks); such rules are never in XDP.
#include <grp.h>
#include <linux/netfilter/xt_owner.h>
#include <pwd.h>

#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdlib>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_uid, o_gid, o_socket, o_suppl = 6 };  // libxt_owner's ids

constexpr std::array<OptDef, 4> owner_opts{{
    {.name = "uid-owner", .id = o_uid, .flags = opt_invert},
    {.name = "gid-owner", .id = o_gid, .flags = opt_invert},
    {.name = "socket-exists", .id = o_socket, .has_arg = false, .flags = opt_invert},
    {.name = "suppl-groups", .id = o_suppl, .has_arg = false},
}};

// xtables_strtoui with base 0 into [0, UINT32_MAX - 1] (-1 is no id): the number at the
// start of `s`, and where it ends; nullopt when there is none or it is out of range.
std::optional<std::pair<uint32_t, const char*>> id_prefix(const char* s) {
    char* end = nullptr;
    errno = 0;
    const uintmax_t v = std::strtoumax(s, &end, 0);
    if (end == s || errno == ERANGE || v > 0xfffffffeu) return std::nullopt;
    return std::pair{static_cast<uint32_t>(v), static_cast<const char*>(end)};
}

Result<void> bad_value(std::string_view opt, std::string_view arg) {
    return param_fail(str("owner: Bad value for \"--", opt, "\" option: \"", arg, "\""));
}

// A user or group name, else "id", "id-id" or "id:id" (owner_parse_range).
Result<std::pair<uint32_t, uint32_t>> parse_ids(std::string_view opt, const std::string& arg, bool user) {
    if (user) {
        if (const passwd* pw = getpwnam(arg.c_str())) return std::pair{uint32_t(pw->pw_uid), uint32_t(pw->pw_uid)};
    } else if (const group* gr = getgrnam(arg.c_str())) {
        return std::pair{uint32_t(gr->gr_gid), uint32_t(gr->gr_gid)};
    }
    auto from = id_prefix(arg.c_str());
    if (!from) return std::unexpected(bad_value(opt, arg).error());
    uint32_t to = from->first;
    const char* end = from->second;
    if (*end == '-' || *end == ':') {
        auto t = id_prefix(end + 1);
        if (!t) return std::unexpected(bad_value(opt, arg).error());
        to = t->first, end = t->second;
    }
    if (*end != '\0') return std::unexpected(bad_value(opt, arg).error());
    return std::pair{from->first, to};
}

class OwnerData : public Data<OwnerData> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        const std::string a(arg.substr(0, arg.find('\0')));
        uint8_t flag = 0;
        switch (opt.id) {
        case o_uid:
        case o_gid: {
            auto ids = parse_ids(opt.name, a, opt.id == o_uid);
            if (!ids) return failure(ids);
            flag = opt.id == o_uid ? XT_OWNER_UID : XT_OWNER_GID;
            (opt.id == o_uid ? info_.uid_min : info_.gid_min) = ids->first;
            (opt.id == o_uid ? info_.uid_max : info_.gid_max) = ids->second;
            break;
        }
        case o_socket: flag = XT_OWNER_SOCKET; break;
        default:
            if (!(info_.match & XT_OWNER_GID)) return bad_value("suppl-groups", "you need to use --gid-owner first");
            flag = XT_OWNER_SUPPL_GROUPS;
            break;
        }
        if (invert) info_.invert |= flag;
        info_.match |= flag;
        return {};
    }

    Result<void> finish(unsigned seen, const ExtCtx&) override {
        if (seen == 0) return param_fail("owner: At least one of --uid-owner, --gid-owner or --socket-exists is required");
        return {};
    }

    // owner_check: a range must not end below its start.
    bool kernel_accepts(const Rule&, const ExtCtx&) const override {
        if ((info_.match & XT_OWNER_UID) && info_.uid_max < info_.uid_min) return false;
        if ((info_.match & XT_OWNER_GID) && info_.gid_max < info_.gid_min) return false;
        return true;
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of("owner", 1, info_); }

    void save(std::string& out) const override {
        item(out, "--socket-exists", XT_OWNER_SOCKET, true);
        item(out, "--uid-owner", XT_OWNER_UID, true);
        item(out, "--gid-owner", XT_OWNER_GID, true);
        item(out, "--suppl-groups", XT_OWNER_SUPPL_GROUPS, true);
    }

    void print(std::string& out, bool numeric) const override {
        item(out, "owner socket exists", XT_OWNER_SOCKET, numeric);
        item(out, "owner UID match", XT_OWNER_UID, numeric);
        item(out, "owner GID match", XT_OWNER_GID, numeric);
        item(out, "incl. suppl. groups", XT_OWNER_SUPPL_GROUPS, numeric);
    }

private:
    xt_owner_match_info info_{};

    // owner_mt_print_item: a range as numbers, one id by name unless numeric.
    void item(std::string& out, std::string_view label, uint8_t flag, bool numeric) const {
        if (!(info_.match & flag)) return;
        if (info_.invert & flag) out += " !";
        out += str(' ', label);
        if (flag != XT_OWNER_UID && flag != XT_OWNER_GID) return;
        const bool uid = flag == XT_OWNER_UID;
        const uint32_t lo = uid ? info_.uid_min : info_.gid_min, hi = uid ? info_.uid_max : info_.gid_max;
        if (lo != hi) {
            out += str(' ', lo, '-', hi);
            return;
        }
        if (!numeric) {
            if (uid) {
                if (const passwd* pw = getpwuid(lo); pw && pw->pw_name) return void(out += str(' ', pw->pw_name));
            } else if (const group* gr = getgrgid(lo); gr && gr->gr_name) {
                return void(out += str(' ', gr->gr_name));
            }
        }
        out += str(' ', lo);
    }
};

}  // namespace

extern const ExtKind match_owner{
    .name = "owner",
    .opts = owner_opts,
    .make = make_data<OwnerData>,
    .hooks = "OUTPUT,POSTROUTING",
};

}  // namespace xdpt
