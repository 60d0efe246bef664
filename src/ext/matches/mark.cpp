// -m mark: the packet mark, optionally under a mask (xt_mark revision 1).
#include <linux/netfilter/xt_mark.h>

#include <array>

#include "ext/matches/common.hpp"
#include "grammar/values.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr std::array<OptDef, 1> mark_opts{{
    {.name = "mark", .id = 0, .flags = opt_invert | opt_mand},
}};

class MarkData : public Data<MarkData> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        auto m = ext::parse_mark_mask("mark", "mark", arg.substr(0, arg.find('\0')));
        if (!m) return failure(m);
        mm_ = *m;
        inv_ = invert;
        return {};
    }

    // xt_mark_mtinfo1 (revision 1).
    XtInfo to_xt(const Rule&) const override {
        xt_mark_mtinfo1 info{};
        info.mark = mm_.mark, info.mask = mm_.mask;
        info.invert = inv_;
        return XtInfo::of("mark", 1, info);
    }

    void save(std::string& out) const override {
        out += str(inv_ ? " !" : "", " --mark", value_text());
    }

    void print(std::string& out, bool) const override {
        out += str(" mark match", inv_ ? " !" : "", value_text());
    }

private:
    ext::MarkMask mm_{0, 0xffffffff};
    bool inv_ = false;

    std::string value_text() const {
        if (mm_.mask != 0xffffffff) return str(' ', hex(mm_.mark), '/', hex(mm_.mask));
        return str(' ', hex(mm_.mark));
    }
};

}  // namespace

const ExtKind match_mark{"mark", mark_opts, make_data<MarkData>};

}  // namespace xdpt
