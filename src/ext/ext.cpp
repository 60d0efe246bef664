#include "ext/ext.hpp"

#include <algorithm>
#include <bit>

#include "core/str.hpp"

namespace xdpt {

Result<void> ext_parse_option(ExtInst& inst, const OptDef& opt, std::string_view arg,
                              bool invert, const ExtCtx& ctx) {
    const unsigned bit = 1u << opt.id;
    if ((inst.seen & bit) && !(opt.flags & opt_multi))
        return param_fail(str(inst.kind->name, ": option \"--", opt.name, "\" can only be used once.\n"));
    if (invert && !(opt.flags & opt_invert))
        return param_fail(str(inst.kind->name, ": option \"--", opt.name, "\" cannot be inverted.\n"));
    if (auto r = inst.data->parse(opt, arg, invert, ctx); !r) return r;
    inst.seen |= bit;
    return {};
}

Result<void> ext_finish(ExtInst& inst, const ExtCtx& ctx) {
    const auto name = inst.kind->name;
    if (auto r = inst.data->finish(inst.seen, ctx); !r) return r;
    for (const auto& o : inst.kind->opts) {
        const unsigned bit = 1u << o.id;
        if ((o.flags & opt_mand) && !(inst.seen & bit))
            return param_fail(str(name, ": option \"--", o.name, "\" must be specified\n"));
        if (!(inst.seen & bit)) continue;
        // The others by id, each named by the first entry with that id, as
        // xtables_options_fcheck looks them up: only those it requires or excludes.
        const unsigned related = (o.also | o.excl) & ~bit;
        for (unsigned rest = related; rest; rest &= rest - 1) {
            const int id = std::countr_zero(rest);
            const unsigned ob = 1u << id;
            auto other_it = std::find_if(inst.kind->opts.begin(), inst.kind->opts.end(),
                                         [id](const OptDef& e) { return e.id == id; });
            if (other_it == inst.kind->opts.end()) continue;
            const OptDef& other = *other_it;
            if ((o.also & ob) && !(inst.seen & ob))
                return param_fail(str(name, ": option \"--", o.name, "\" also requires \"--", other.name, "\".\n"));
            if ((o.excl & ob) && (inst.seen & ob))
                return param_fail(
                    str(name, ": option \"--", o.name, "\" cannot be used together with \"--", other.name, "\".\n"));
        }
    }
    return {};
}

}  // namespace xdpt
