// The "[!] --mark value[/mask]" match that mark and connmark share (xt_mark_mtinfo1 and
// xt_connmark_mtinfo1 have one layout: mark, mask, invert); only the name, the packet or
// connection mark, and the -L text differ.
#pragma once
#include <array>

#include "ext/matches/common.hpp"

namespace xdpt::matches {

struct MarkValueSpec {
    std::string_view name;       // -m NAME, the x_tables name, the messages' prefix
    uint8_t rev;
    std::string_view listed;     // -L text before the value
    std::string_view inverted;   // the same for `! --mark`
};

inline constexpr std::array<OptDef, 1> mark_value_opts{{
    {.name = "mark", .id = 0, .flags = opt_invert | opt_mand},
}};

// `Info` is the kernel's structure.
template <const MarkValueSpec& S, class Info>
class MarkValueData : public Data<MarkValueData<S, Info>> {
public:
    Result<void> parse(const OptDef&, std::string_view arg, bool invert, const ExtCtx&) override {
        auto m = ext::parse_mark_mask(S.name, "mark", arg.substr(0, arg.find('\0')));
        if (!m) return failure(m);
        mm_ = *m;
        inv_ = invert;
        return {};
    }

    XtInfo to_xt(const Rule&) const override {
        Info info{};
        info.mark = mm_.mark, info.mask = mm_.mask;
        info.invert = inv_;
        return XtInfo::of(S.name, S.rev, info);
    }

    void save(std::string& out) const override { out += str(inv_ ? " !" : "", " --mark", value_text()); }
    void print(std::string& out, bool) const override { out += str(inv_ ? S.inverted : S.listed, value_text()); }

private:
    ext::MarkMask mm_{0, 0xffffffff};
    bool inv_ = false;

    std::string value_text() const {
        if (mm_.mask != 0xffffffff) return str(' ', hex(mm_.mark), '/', hex(mm_.mask));
        return str(' ', hex(mm_.mark));
    }
};

}  // namespace xdpt::matches
