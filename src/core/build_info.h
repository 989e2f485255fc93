// What `fluxkey version` reports, and its three renderings. Pure data and
// text, so the output is tested without the real build or libraries.
#pragma once

#include <string>

namespace fluxkey {

struct BuildInfo {
  std::string version;     // "v1.2.3", from the release tag
  std::string commit;      // 40 hex digits, or "unknown"
  std::string build_date;  // RFC 3339 UTC, or "unknown"
  std::string platform;    // "linux/amd64", as Go and kubectl name targets
  std::string compiler;    // "gcc 12.2.0"
  // The libraries fluxkey runs with (not the headers it was built against).
  std::string libcurl;
  std::string openssl;
  std::string libsodium;
};

// "fluxkey v1.2.3" and then one aligned "Label: value" line a field.
std::string build_info_text(const BuildInfo& info);
// One JSON object, keys in camelCase as kubectl's, libraries nested.
std::string build_info_json(const BuildInfo& info);
// The same keys and shape as JSON.
std::string build_info_yaml(const BuildInfo& info);

}  // namespace fluxkey
