// Pieces shared by github-sim's endpoint files; not for use outside api*.cc.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/github/api.h"

namespace fluxkey::sim::github {

struct GithubApi::Call {
  const ApiRequest& request;
  Clock::time_point now;
  std::vector<std::string> segments;  // after the /api/v3 prefix
  std::map<std::string, std::string> query;
  bool enterprise = false;  // reached under /api/v3 or /api/graphql
  std::string base_url;     // https://HOST or https://HOST/api/v3, for URLs in replies
  Identity id;
  const Route* route = nullptr;
  std::vector<std::string> params;  // the captured "*" segments

  // Parses the body as a JSON object; nullopt when it is not one.
  std::optional<nlohmann::json> json_body() const;
};

struct GithubApi::SecretTarget {
  SecretScope scope;
  SealingKey* key = nullptr;
  Organization* org = nullptr;  // organization secrets
};

constexpr const char* kDocsSecrets = "https://docs.github.com/rest/actions/secrets";
constexpr const char* kDocsApps = "https://docs.github.com/rest/apps/apps";
constexpr const char* kDocsRepos = "https://docs.github.com/rest/repos/repos";
constexpr const char* kDocsRateLimits =
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api";

inline ApiResponse not_found(const std::string& docs) {
  return github_error(404, "Not Found", docs);
}
inline ApiResponse no_content() {
  ApiResponse r;
  r.status = 204;
  return r;
}
inline ApiResponse json_reply(int status, const nlohmann::json& body) {
  ApiResponse r;
  r.set_json(status, body);
  return r;
}

// GitHub's JSON-schema style 422 ("Invalid request.\n\n...").
ApiResponse invalid_request(const std::string& detail, const std::string& docs);

// One page of `total` items per the per_page/page query (GitHub's defaults:
// 30 a page, at most 100), with the Link header GitHub sends.
struct Page {
  size_t begin = 0;
  size_t end = 0;
  std::string link;  // empty when everything fits one page
};
Page paginate(size_t total, const std::map<std::string, std::string>& query,
              const std::string& url_without_query);

// read < write < admin; 0 for anything else.
int permission_level(const std::string& level);

std::string node_id(const char* prefix, int64_t id);
std::string rfc3339(Clock::time_point t);

}  // namespace fluxkey::sim::github
