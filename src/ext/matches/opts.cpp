// -m hbh and -m dst: the IPv6 hop-by-hop and destination options headers. The kernel
// checks both with one module (ip6t_hbh) and one structure (ip6t_opts), and libip6t_hbh
// and libip6t_dst differ only in their names and one message: one implementation here,
// an OptsKind for each.
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <linux/netfilter_ipv6/ip6t_opts.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

enum : int { o_len, o_opts };

struct OptsKind {
    std::string_view name;
    std::array<OptDef, 2> opts;
    std::string_view pad0;  // the message for PAD0 with a length
};

constexpr OptsKind hbh_kind{"hbh",
                            {{{.name = "hbh-len", .id = o_len, .flags = opt_invert}, {.name = "hbh-opts", .id = o_opts}}},
                            "PAD0 has not got length"};
constexpr OptsKind dst_kind{"dst",
                            {{{.name = "dst-len", .id = o_len, .flags = opt_invert}, {.name = "dst-opts", .id = o_opts}}},
                            "PAD0 hasn't got length"};

// One number of the list, as strtoul base 0 reads it (what = "opt" or "length").
Result<unsigned long> opts_num(const OptsKind& k, const std::string& s, std::string_view what) {
    char* end = nullptr;
    errno = 0;
    const unsigned long v = std::strtoul(s.c_str(), &end, 0);
    if (end == s.c_str()) return param_fail(str(k.name, ": no valid digits in ", what, " `", s, "'"));
    if (v == ULONG_MAX && errno == ERANGE) return param_fail(str(what, " `", s, "' specified too big: would overflow"));
    if (!s.empty() && *end != '\0') return param_fail(str(k.name, ": error parsing ", what, " `", s, "'"));
    return v;
}

// "TYPE[:LEN][,TYPE[:LEN]...]": each option type << 8 | its length (0xff: any length).
Result<void> parse_list(const OptsKind& k, std::string_view arg, ip6t_opts& info) {
    unsigned n = 0;
    size_t pos = 0;
    for (bool more = true; more; ++n) {
        if (n == IP6T_OPTS_OPTSNR) return param_fail("too many addresses specified");
        const size_t comma = arg.find(',', pos);
        more = comma != arg.npos;
        std::string item(arg.substr(pos, more ? comma - pos : arg.npos));
        pos = comma + 1;
        const size_t colon = item.find(':');
        std::string len;
        if (colon != item.npos) {
            if (n == IP6T_OPTS_OPTSNR - 1) return param_fail("too many ports specified");
            len = item.substr(colon + 1);
            item.resize(colon);
        }
        auto type = opts_num(k, item, "opt");
        if (!type) return failure(type);
        uint16_t v = static_cast<uint16_t>((*type & 0xff) << 8);
        if (colon != std::string::npos) {
            if (v == 0) return param_fail(std::string(k.pad0));
            auto l = opts_num(k, len, "length");
            if (!l) return failure(l);
            v |= static_cast<uint16_t>(*l & 0xff);
        } else {
            v |= 0xff;
        }
        info.opts[n] = v;
    }
    info.optsnr = static_cast<uint8_t>(n);
    return {};
}

template <const OptsKind& K>
class OptsData : public Data<OptsData<K>> {
public:
    Result<void> parse(const OptDef& opt, std::string_view arg, bool invert, const ExtCtx&) override {
        if (opt.id == o_len) {
            if (auto r = parse_u32(K.name, opt.name, arg, info_.hdrlen); !r) return r;
            if (invert) info_.invflags |= IP6T_OPTS_INV_LEN;
            info_.flags |= IP6T_OPTS_LEN;
            return {};
        }
        if (auto r = parse_list(K, arg.substr(0, arg.find('\0')), info_); !r) return r;
        info_.flags |= IP6T_OPTS_OPTS;
        return {};
    }

    XtInfo to_xt(const Rule&) const override { return XtInfo::of(K.name, 0, info_); }

    void save(std::string& out) const override {
        if (info_.flags & IP6T_OPTS_LEN)
            out += str(info_.invflags & IP6T_OPTS_INV_LEN ? " !" : "", " --", K.opts[0].name, ' ', info_.hdrlen);
        if (info_.flags & IP6T_OPTS_OPTS) out += str(" --", K.opts[1].name);
        list(out);
    }

    void print(std::string& out, bool) const override {
        out += str(' ', K.name);
        if (info_.flags & IP6T_OPTS_LEN) out += str(" length:", info_.invflags & IP6T_OPTS_INV_LEN ? "!" : "", info_.hdrlen);
        if (info_.flags & IP6T_OPTS_OPTS) out += " opts";
        list(out);
    }

private:
    ip6t_opts info_{};

    void list(std::string& out) const {
        for (unsigned i = 0; i < info_.optsnr; ++i) {
            out += str(i == 0 ? ' ' : ',', info_.opts[i] >> 8);
            if ((info_.opts[i] & 0xff) != 0xff) out += str(':', info_.opts[i] & 0xff);
        }
    }
};

}  // namespace

const ExtKind match_hbh{"hbh", hbh_kind.opts, make_data<OptsData<hbh_kind>>, {}, {}, {}, ipv6_only};
const ExtKind match_dst{"dst", dst_kind.opts, make_data<OptsData<dst_kind>>, {}, {}, {}, ipv6_only};

}  // namespace xdpt
