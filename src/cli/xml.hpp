// iptables-xml: iptables-save text to XML, as iptables 1.8.9's iptables-xml writes it
// (options -c/--combine, -v/--verbose, -h/--help). Pure: text in, text out.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "cli/tools.hpp"

namespace xdpt {

// What the program prints and exits with for `args` (without argv[0]) and the input `in`
// (read from the named file instead when the arguments name one: `read_file` gets the
// path and returns the text, or an error message as iptables prints it).
struct XmlInput {
    std::string text;
    std::string error;  // non-empty: the file could not be opened
};
ToolExit iptables_xml(std::string_view prog, const std::vector<std::string>& args,
                      XmlInput (*read)(const std::string* path));

}  // namespace xdpt
