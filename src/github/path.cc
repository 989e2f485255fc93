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

std::string graphql_url(std::string_view api_root) {
  std::string root = normalize_api_url(api_root);
  constexpr std::string_view kRestSuffix = "/api/v3";
  if (root.size() >= kRestSuffix.size() &&
      root.compare(root.size() - kRestSuffix.size(), kRestSuffix.size(), kRestSuffix) == 0) {
    return root.substr(0, root.size() - 2) + "graphql";
  }
  return root + "/graphql";
}

}  // namespace fluxkey::github
