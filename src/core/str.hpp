// String building without <format> (g++ 12 has none): str(a, b, c) concatenates the
// text of every argument (strings, characters, integers).
#pragma once
#include <concepts>
#include <string>
#include <string_view>

namespace xdpt {

namespace detail {
inline void append(std::string& s, std::string_view v) { s.append(v); }
inline void append(std::string& s, const char* v) { s.append(v); }
inline void append(std::string& s, const std::string& v) { s.append(v); }
inline void append(std::string& s, char c) { s.push_back(c); }
template <std::integral T>
    requires(!std::same_as<T, char> && !std::same_as<T, bool>)
void append(std::string& s, T v) {
    s.append(std::to_string(v));
}
}  // namespace detail

template <class... A>
std::string str(const A&... a) {
    std::string s;
    (detail::append(s, a), ...);
    return s;
}

}  // namespace xdpt
