// Small string helpers shared across layers.
#pragma once

#include <string>

namespace fluxkey {

// `s` without leading and trailing spaces, tabs and line breaks.
inline std::string trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

}  // namespace fluxkey
