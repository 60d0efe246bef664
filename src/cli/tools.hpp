// The command lines of iptables-save and iptables-restore (getopt_long with the option
// tables and short-option strings of 1.8.9, permuting, glibc's messages). Pure: what the
// parse prints and how it exits is returned, nothing is printed.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/restore.hpp"
#include "core/error.hpp"

namespace xdpt {

// Parsing ended the program: print `out` on stdout, `err` on stderr, exit with `status`.
struct ToolExit {
    std::string out, err;
    int status = 0;
};

struct SaveArgs {
    bool counters = false;              // -c
    std::optional<std::string> table;   // -t
    std::optional<std::string> file;    // -f: stdout goes there
    bool dump = false;                  // -d: dump what -t selected so far, exit 0
    std::string notices;                // stderr before anything else (-b)
};

// `args` without argv[0]; `prog` is argv[0] as getopt's messages name it; `brand` names the
// tool in -V, -h and the manual page it points to.
std::variant<SaveArgs, ToolExit> parse_save_args(std::string_view prog, const std::vector<std::string>& args,
                                                 const Brand& brand = xdptables_brand);

struct RestoreArgs {
    RestoreOptions o;                   // -c -v -t -n -T
    int wait = 0;                       // -w: -1 forever, N seconds, 0 not given
    std::optional<std::string> file;    // the one positional argument
    bool interval_without_wait = false; // -W without -w: refused once the file is open
    std::string notices;                // stderr before anything else (-b, -W)
};

// An Error (with line 0, as iptables-restore reports -w/-W problems) or what to do.
Result<std::variant<RestoreArgs, ToolExit>> parse_restore_args(std::string_view prog,
                                                              const std::vector<std::string>& args,
                                                              const Brand& brand = xdptables_brand);

}  // namespace xdpt
