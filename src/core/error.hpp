// One error channel for every folder: the iptables exit class, the message, and how the
// front end has to print it so that the text matches iptables 1.8.9 byte for byte.
#pragma once
#include <expected>
#include <string>
#include <utility>

namespace xdpt {

// iptables' exit classes (xtables_exittype).
enum class Exit : int { ok = 0, other = 1, parameter = 2, version = 3, resource = 4 };

struct Error {
    // How the message reaches stderr.
    enum class Style {
        // "<prog> v1.8.9 (<flavour>): <msg>\n" then, for parameter problems,
        // "Try `<prog> -h' ..." (xtables_error).
        prefixed,
        // "<prog>: <msg>.\n" (what iptables prints for a libiptc failure).
        runtime,
        // "<prog>: <msg>. Run `dmesg' for more information.\n" (libiptc EINVAL).
        runtime_dmesg,
        // <msg> exactly as given, then the try-help lines for parameter problems.
        bare,
    };
    Exit code = Exit::other;
    std::string msg;
    Style style = Style::prefixed;
    int line = -1;  // restore input line, printed as "Error occurred at line: N"
    std::string out = {};  // what the command printed on stdout before failing (-v echoes)
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Exit code, std::string msg,
                                   Error::Style style = Error::Style::prefixed) {
    return std::unexpected(Error{code, std::move(msg), style});
}
inline std::unexpected<Error> param_fail(std::string msg) {
    return fail(Exit::parameter, std::move(msg));
}
// A libiptc-style runtime failure: "iptables: <msg>." and exit 1.
inline std::unexpected<Error> runtime_fail(std::string msg) {
    return fail(Exit::other, std::move(msg), Error::Style::runtime);
}

}  // namespace xdpt
