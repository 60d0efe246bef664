// glibc's getopt_long, as the iptables programs see it: short options from an optstring,
// long options by unambiguous prefix, "return in order" (iptables' "-:" optstring) or
// permuting (iptables-save, iptables-restore), and the messages glibc prints when opterr
// is set. Pure: no globals, nothing printed.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "ext/ext.hpp"

namespace xdpt {

// getopt has_arg values.
enum : int { no_arg = 0, req_arg = 1, opt_arg = 2 };

struct LongOpt {
    std::string_view name;
    int has_arg;
    int code;           // what getopt returns for it
    int ext = -1;       // iptables: index of the extension that owns it, -1 for base options
    const OptDef* def = nullptr;
};

class GetOpt {
public:
    // `optstring` without glibc's leading mode characters; `in_order`: the "-" mode in
    // which a non-option argument is returned as code 1, else non-options are collected
    // (in `positional`, as getopt leaves them at the end of argv).
    GetOpt(const std::vector<std::string>& argv, std::string_view optstring, bool in_order)
        : argv(argv), optstring_(optstring), in_order_(in_order) {}

    // The next option's code, 1 for a non-option ("return in order" mode), '?' for an
    // unknown or ambiguous option or an argument given to one that takes none, ':' for a
    // missing argument, -1 at the end. `longs` is the current long-option table.
    int next(const std::vector<LongOpt>& longs, const LongOpt** matched = nullptr);

    // xs_has_arg: the next argument exists and does not look like an option ("" counts).
    bool next_is_arg() const {
        return optind < argv.size() &&
               (argv[optind].empty() || (argv[optind][0] != '-' && argv[optind][0] != '!'));
    }

    const std::vector<std::string>& argv;  // argv[0] is the program name
    // argv[optind - 1]: the element iptables names after an option (its argument when
    // that stands apart; the option itself, argument and all, when attached: "-pudp"),
    // and in its messages about '?' and ':' (the element before, inside a cluster).
    const std::string& last_element() const { return argv[optind - 1]; }
    size_t optind = 1;
    size_t nextchar = 0;  // position inside the element being read while in a short-option cluster, else 0
    std::string optarg;
    bool has_optarg = false;
    std::string message;          // what glibc prints for it (with opterr set)
    std::vector<std::string> positional;  // permuting mode: the non-options, in order

private:
    int short_has_arg(char c) const;
    int next_long(const std::vector<LongOpt>& longs, const LongOpt** matched);

    size_t cluster_ = 0;  // the element nextchar reads (optind may have moved on, or back)
    std::string_view optstring_;
    bool in_order_;
};

}  // namespace xdpt
