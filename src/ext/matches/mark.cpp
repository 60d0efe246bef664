// -m mark: the packet mark, optionally under a mask (xt_mark revision 1).
#include <array>

#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr std::array<OptDef, 1> mark_opts{{
    {.name = "mark", .id = 0, .flags = opt_invert | opt_mand},
}};

struct MarkMask {
    uint32_t mark, mask;
};

// XTTYPE_MARKMASK32: "value[/mask]", each a number as strtoul base 0 reads it.
Result<MarkMask> parse_mark_mask(std::string_view arg) {
    arg = arg.substr(0, arg.find('\0'));
    auto bad = [] { return param_fail("mark: bad integer value for option \"--mark\", or out of range.\n"); };
    auto garbage = [] { return param_fail("mark: trailing garbage after value for option \"--mark\".\n"); };
    auto v = grammar::to_uint_prefix(arg);
    if (!v || v->value > 0xffffffff) return bad();
    MarkMask r{static_cast<uint32_t>(v->value), 0xffffffff};
    std::string_view rest = arg.substr(v->used);
    if (rest.empty()) return r;
    if (rest.front() != '/') return garbage();
    auto m = grammar::to_uint_prefix(rest.substr(1));
    if (!m || m->value > 0xffffffff) return bad();
    r.mask = static_cast<uint32_t>(m->value);
    if (m->used != rest.size() - 1) return garbage();
    return r;
}

class MarkData : public Data<MarkData> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        auto m = parse_mark_mask(arg);
        if (!m) return failure(m);
        mm_ = *m;
        inv_ = invert;
        return {};
    }

    void save(std::string& out) const override {
        out += str(inv_ ? " !" : "", " --mark", value_text());
    }

    void print(std::string& out, bool) const override {
        out += str(" mark match", inv_ ? " !" : "", value_text());
    }

private:
    MarkMask mm_{0, 0xffffffff};
    bool inv_ = false;

    std::string value_text() const {
        if (mm_.mask != 0xffffffff) return str(' ', hex(mm_.mark), '/', hex(mm_.mask));
        return str(' ', hex(mm_.mark));
    }
};

}  // namespace

const ExtKind match_mark{"mark", mark_opts, make_data<MarkData>};

}  // namespace xdpt
