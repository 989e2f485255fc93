#include "github/path.h"

#include "http/url.h"

namespace fluxkey::github {

std::string path_segment(std::string_view text) {
  return http::percent_encode(text);
}

std::string normalize_api_url(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

}  // namespace fluxkey::github
