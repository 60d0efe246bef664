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
    uint32_t ct_key = 0;         // for nftables: the mark is conntrack's (NFT_CT_MARK), not the packet's
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

    // meta mark (or ct mark), masked, against the value: the match tests
    // ((mark & mask) == value) ^ invert, the value unmasked, and without a conntrack
    // entry the connection mark matches nothing either way (ct fails the rule).
    bool to_nft(const Rule&, nftx::Exprs& out) const override {
        if (S.ct_key) out.push_back(nftx::Ct{S.ct_key});
        else out.push_back(nftx::Meta{NFT_META_MARK});
        if (mm_.mask != 0xffffffff) out.push_back(nftx::Bitwise{nftx::host32(mm_.mask)});
        out.push_back(nftx::Cmp{inv_ ? uint32_t(NFT_CMP_NEQ) : uint32_t(NFT_CMP_EQ), nftx::host32(mm_.mark)});
        return true;
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
