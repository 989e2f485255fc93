#include <algorithm>
#include <cctype>

#include "http/http.h"

namespace fluxkey::http {

std::optional<std::string> Response::header(std::string_view name) const {
  auto same = [&](const std::string& candidate) {
    return std::equal(candidate.begin(), candidate.end(), name.begin(), name.end(),
                      [](char a, char b) {
                        return std::tolower(static_cast<unsigned char>(a)) ==
                               std::tolower(static_cast<unsigned char>(b));
                      });
  };
  for (const auto& [key, value] : headers) {
    if (same(key)) return value;
  }
  return std::nullopt;
}

}  // namespace fluxkey::http
