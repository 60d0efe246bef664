#include "cli/getopt.hpp"

#include "core/str.hpp"

namespace xdpt {

int GetOpt::short_has_arg(char c) const {
    auto pos = optstring_.find(c);
    if (pos == std::string_view::npos || c == ':') return -1;
    if (pos + 1 < optstring_.size() && optstring_[pos + 1] == ':') {
        if (pos + 2 < optstring_.size() && optstring_[pos + 2] == ':') return opt_arg;
        return req_arg;
    }
    return no_arg;
}

int GetOpt::next(const std::vector<LongOpt>& longs, const LongOpt** matched) {
    const LongOpt* dummy = nullptr;
    if (!matched) matched = &dummy;
    *matched = nullptr;
    has_optarg = false;
    optarg.clear();
    if (nextchar == 0) {
        for (;;) {
            if (optind >= argv.size()) return -1;
            const std::string& a = argv[optind];
            if (a == "--") {
                ++optind;
                if (!in_order_)
                    while (optind < argv.size()) positional.push_back(argv[optind++]);
                return -1;
            }
            if (a.size() >= 2 && a[0] == '-') break;
            ++optind;
            if (in_order_) {
                optarg = a;
                has_optarg = true;
                return 1;
            }
            positional.push_back(a);
        }
        const std::string& a = argv[optind];
        if (a[1] == '-') return next_long(longs, matched);
        cluster_ = optind;
        nextchar = 1;
    }
    // glibc keeps its place in a cluster of short options apart from optind (which a
    // caller may move: iptables steps it back to rerun an option), and counts the
    // element as read (++optind) when it starts on the element's last character: an
    // unknown option inside a cluster leaves optind on the cluster.
    const std::string& a = argv[cluster_];
    char c = a[nextchar++];
    const bool last = nextchar >= a.size();
    if (last) ++optind;
    int ha = short_has_arg(c);
    if (ha < 0) {
        if (last) nextchar = 0;
        message = str(argv[0], ": invalid option -- '", c, "'\n");
        return '?';
    }
    if (ha == no_arg) {
        if (last) nextchar = 0;
        return c;
    }
    if (!last) {
        optarg = a.substr(nextchar);
        has_optarg = true;
        ++optind, nextchar = 0;
        return c;
    }
    nextchar = 0;
    if (ha == opt_arg) return c;
    if (optind >= argv.size()) {
        message = str(argv[0], ": option requires an argument -- '", c, "'\n");
        return ':';
    }
    optarg = argv[optind++];
    has_optarg = true;
    return c;
}

int GetOpt::next_long(const std::vector<LongOpt>& longs, const LongOpt** matched) {
    const std::string& a = argv[optind];
    std::string_view body = std::string_view(a).substr(2);
    auto eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    const LongOpt* found = nullptr;
    std::vector<const LongOpt*> candidates;  // the prefix matches that differ
    bool ambiguous = false;
    for (const auto& lo : longs) {
        if (lo.name.substr(0, name.size()) != name) continue;
        if (lo.name.size() == name.size()) {
            found = &lo;
            ambiguous = false;
            break;
        }
        if (!found) {
            found = &lo;
        } else if (found->has_arg != lo.has_arg || found->code != lo.code) {
            if (candidates.empty()) candidates.push_back(found);
            candidates.push_back(&lo);
            ambiguous = true;
        }
    }
    ++optind;
    if (!found) {
        message = str(argv[0], ": unrecognized option '", a, "'\n");
        return '?';
    }
    if (ambiguous) {
        message = str(argv[0], ": option '", a, "' is ambiguous; possibilities:");
        for (const auto& lo : longs)  // in table order
            for (const LongOpt* cand : candidates)
                if (cand == &lo) message += str(" '--", lo.name, "'");
        message += '\n';
        return '?';
    }
    if (eq != std::string_view::npos) {
        if (found->has_arg == no_arg) {
            message = str(argv[0], ": option '--", found->name, "' doesn't allow an argument\n");
            return '?';
        }
        optarg = std::string(body.substr(eq + 1));
        has_optarg = true;
    } else if (found->has_arg == req_arg) {
        if (optind >= argv.size()) {
            message = str(argv[0], ": option '--", found->name, "' requires an argument\n");
            return ':';
        }
        optarg = argv[optind++];
        has_optarg = true;
    }
    *matched = found;
    return found->code;
}

}  // namespace xdpt
