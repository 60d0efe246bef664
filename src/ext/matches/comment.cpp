// -m comment: a note attached to the rule, matching everything (xt_comment).
#include <linux/netfilter/xt_comment.h>

#include <array>

#include "ext/matches/common.hpp"

namespace xdpt {
namespace {

using namespace matches;

constexpr size_t max_comment = 255;  // XT_MAX_COMMENT_LEN without the terminating NUL

constexpr std::array<OptDef, 1> comment_opts{{
    {.name = "comment", .id = 0, .flags = opt_mand},
}};

class CommentData : public Data<CommentData> {
public:
    // Longer comments are cut to 255 bytes without a word, as libxtables does.
    Result<void> parse(const OptDef&, std::string_view arg, bool, const ExtCtx&) override {
        arg = arg.substr(0, arg.find('\0'));
        text_ = std::string(arg.substr(0, max_comment));
        return {};
    }

    void save(std::string& out) const override {
        out += " --comment";
        append_quoted(out, text_);
    }

    void print(std::string& out, bool) const override { out += str(" /* ", text_, " */"); }
    bool to_xdp(const Rule&, XdpCond&) const override { return true; }

    XtInfo to_xt(const Rule&) const override {
        xt_comment_info info{};
        text_.copy(info.comment, sizeof info.comment - 1);
        return XtInfo::of("comment", 0, info);
    }

private:
    std::string text_;
};

}  // namespace

const ExtKind match_comment{"comment", comment_opts, make_data<CommentData>};

}  // namespace xdpt
