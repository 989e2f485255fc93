// Small string helpers shared across layers.
#pragma once

#include <string>
#include <string_view>

namespace fluxkey {

// `s` without leading and trailing spaces, tabs and line breaks.
inline std::string trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// `s` with A-Z as a-z. ASCII alone, whatever the locale: what it serves
// (header names, Kubernetes kinds, GitHub's error texts) is ASCII, and a
// locale's rules could change what matches.
inline std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// `s` fit to quote in a one-line message: line breaks and other control
// characters written as escapes (\n, \t, \x1b), so that a value someone
// typed or a server sent can neither split nor forge a line of output.
inline std::string printable(const std::string& s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// `s` in double quotes, written as printable() writes it: how a message
// names a value someone gave. (Not `quoted`: unqualified, that name would
// find std::quoted by argument-dependent lookup wherever <iomanip> is in.)
inline std::string quote(const std::string& s) {
  return "\"" + printable(s) + "\"";
}

}  // namespace fluxkey
