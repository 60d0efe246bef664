#include "cli/tools.hpp"

#include <cstdio>

#include "cli/getopt.hpp"
#include "core/str.hpp"
#include "xdpt_config.h"

namespace xdpt {

namespace {

std::vector<std::string> with_argv0(std::string_view prog, const std::vector<std::string>& args) {
    std::vector<std::string> argv{std::string(prog)};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::string version_line(const Brand& brand, std::string_view tool) {
    return str(brand.name, tool, " v", XDPT_IPTABLES_VERSION, " (", brand.flavour, ")\n");
}

// parse_wait_time / parse_wait_interval: the attached argument, else the next one if it
// does not look like an option.
std::optional<std::string> optional_value(GetOpt& g) {
    if (g.has_optarg) return g.optarg;
    if (g.next_is_arg()) return g.argv[g.optind++];
    return std::nullopt;
}

std::unexpected<Error> at_line0(std::string msg) {
    Error e{Exit::parameter, std::move(msg)};
    e.line = 0;
    return std::unexpected(std::move(e));
}

}  // namespace

std::variant<SaveArgs, ToolExit> parse_save_args(std::string_view prog, const std::vector<std::string>& args,
                                                 const Brand& brand) {
    static const std::vector<LongOpt> longs = {
        {"counters", no_arg, 'c'}, {"dump", no_arg, 'd'},     {"table", req_arg, 't'},
        {"modprobe", req_arg, 'M'}, {"file", req_arg, 'f'},   {"version", no_arg, 'V'},
    };
    const auto argv = with_argv0(prog, args);
    GetOpt g(argv, "bcdt:M:f:V", false);
    SaveArgs s;
    for (int c; (c = g.next(longs)) != -1;) {
        switch (c) {
            case 'b': s.notices += "-b/--binary option is not implemented\n"; break;
            case 'c': s.counters = true; break;
            case 't': s.table = g.optarg; break;
            case 'M': break;
            case 'f': s.file = g.optarg; break;
            case 'd': s.dump = true; return s;
            case 'V': return ToolExit{version_line(brand, "-save"), s.notices, 0};
            default:
                return ToolExit{"", str(s.notices, g.message, "Look at manual page `", brand.name, "-save.8' for more information.\n"), 1};
        }
    }
    if (!g.positional.empty()) return ToolExit{"", s.notices + "Unknown arguments found on commandline\n", 1};
    return s;
}

Result<std::variant<RestoreArgs, ToolExit>> parse_restore_args(std::string_view prog,
                                                              const std::vector<std::string>& args,
                                                              const Brand& brand) {
    static const std::vector<LongOpt> longs = {
        {"counters", no_arg, 'c'}, {"verbose", no_arg, 'v'},  {"version", no_arg, 'V'},
        {"test", no_arg, 't'},     {"help", no_arg, 'h'},     {"noflush", no_arg, 'n'},
        {"modprobe", req_arg, 'M'}, {"table", req_arg, 'T'},  {"wait", opt_arg, 'w'},
        {"wait-interval", opt_arg, 'W'},
    };
    const auto argv = with_argv0(prog, args);
    GetOpt g(argv, "bcvVthnwWM:T:", false);
    RestoreArgs r;
    r.o.prog = str(brand.name, "-restore");
    r.o.brand = brand;
    bool wait_interval = false;
    using Out = std::variant<RestoreArgs, ToolExit>;
    for (int c; (c = g.next(longs)) != -1;) {
        switch (c) {
            case 'b': r.notices += "-b/--binary option is not implemented\n"; break;
            case 'c': r.o.counters = true; break;
            case 'v': ++r.o.verbose; break;
            case 'V': return Out(ToolExit{version_line(brand, "-restore"), r.notices, 0});
            case 't': r.o.test = true; break;
            case 'h':
                return Out(ToolExit{"", r.notices + str("Usage: ", brand.name, "-restore"
                    " [-c] [-v] [-V] [-t] [-h] [-n] [-w secs] [-W usecs] [-T table] [-M command] [file]\n"
                    "\t   [ --counters ]\n\t   [ --verbose ]\n\t   [ --version]\n\t   [ --test ]\n"
                    "\t   [ --help ]\n\t   [ --noflush ]\n\t   [ --wait=<seconds>\n"
                    "\t   [ --table=<TABLE> ]\n\t   [ --modprobe=<command> ]\n"), 0});
            case 'n': r.o.noflush = true; break;
            case 'w': {
                r.wait = -1;
                // sscanf("%i"): hex, octal, trailing text ignored.
                if (auto v = optional_value(g); v && std::sscanf(v->c_str(), "%i", &r.wait) != 1)
                    return at_line0("wait seconds not numeric");
                break;
            }
            case 'W': {
                auto v = optional_value(g);
                if (!v) return at_line0("wait interval value required");
                unsigned usec = 0;
                if (std::sscanf(v->c_str(), "%u", &usec) != 1) return at_line0("wait interval not numeric");
                if (usec > 999999) return at_line0(str("too long usec wait ", usec, " > 999999 usec"));
                r.notices += "Ignoring deprecated --wait-interval option.\n";
                wait_interval = true;
                break;
            }
            case 'M': break;
            case 'T': r.o.only_table = g.optarg; break;
            default:
                return Out(ToolExit{"", str(r.notices, g.message, "Try `", brand.name, "-restore -h' for more information.\n"), 1});
        }
    }
    if (g.positional.size() == 1) r.file = g.positional.front();
    else if (g.positional.size() > 1) return Out(ToolExit{"", r.notices + "Unknown arguments found on commandline\n", 1});
    r.interval_without_wait = wait_interval && !r.wait;
    return Out(std::move(r));
}

}  // namespace xdpt
