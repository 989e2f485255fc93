// Lookups clients make around secrets: repositories (for ids), environments,
// organizations, the authenticated user, and the API root gh may probe.
#include "sim/github/api_internal.h"

namespace fluxkey::sim::github {

void GithubApi::register_repo_routes() {
  add_route("GET", {}, Need::kAny, "https://docs.github.com/rest/meta/meta#github-api-root",
            [](Call& call) {
              const std::string& b = call.base_url;
              return json_reply(200, {{"current_user_url", b + "/user"},
                                      {"organization_url", b + "/orgs/{org}"},
                                      {"repository_url", b + "/repos/{owner}/{repo}"},
                                      {"rate_limit_url", b + "/rate_limit"}});
            });
  add_route(
      "GET", {"user"}, Need::kToken,
      "https://docs.github.com/rest/users/users#get-the-authenticated-user", [this](Call& call) {
        if (call.id.kind != Identity::Kind::kToken) {
          return github_error(403, "Resource not accessible by integration", call.route->docs);
        }
        nlohmann::json user = owner_json(call.id.token.login);
        user["id"] = call.id.token.user_id;
        user["node_id"] = node_id("U", call.id.token.user_id);
        user["type"] = "User";
        return json_reply(200, user);
      });
  add_route("GET", {"repos", "*", "*"}, Need::kToken, std::string(kDocsRepos) + "#get-a-repository",
            [this](Call& call) {
              ApiResponse error;
              Repository* repo =
                  repo_for(call, call.params[0], call.params[1], {"metadata"}, "read", error);
              if (repo == nullptr) return error;
              return json_reply(200, repo_json(call, *repo));
            });
  auto env_json = [](const Call& call, const Repository& repo, const Environment& env) {
    return nlohmann::json{
        {"id", env.id},
        {"node_id", node_id("EN", env.id)},
        {"name", env.name},
        {"url", call.base_url + "/repos/" + repo.full_name() + "/environments/" +
                    percent_encode_segment(env.name)},
        {"html_url",
         "https://" + call.request.header("Host") + "/" + repo.full_name() +
             "/deployments/activity_log?environments_filter=" + percent_encode_segment(env.name)},
        {"protection_rules", nlohmann::json::array()},
        {"deployment_branch_policy", nullptr}};
  };
  const std::string env_docs = "https://docs.github.com/rest/deployments/environments";
  add_route("GET", {"repos", "*", "*", "environments"}, Need::kToken,
            env_docs + "#list-environments", [this, env_json](Call& call) {
              ApiResponse error;
              Repository* repo =
                  repo_for(call, call.params[0], call.params[1], {"metadata"}, "read", error);
              if (repo == nullptr) return error;
              nlohmann::json list = nlohmann::json::array();
              for (const auto& env : repo->environments) list.push_back(env_json(call, *repo, env));
              return json_reply(
                  200, {{"total_count", repo->environments.size()}, {"environments", list}});
            });
  add_route("GET", {"repos", "*", "*", "environments", "*"}, Need::kToken,
            env_docs + "#get-an-environment", [this, env_json](Call& call) {
              ApiResponse error;
              Repository* repo =
                  repo_for(call, call.params[0], call.params[1], {"metadata"}, "read", error);
              if (repo == nullptr) return error;
              Environment* env = repo->find_environment(call.params[2]);
              if (env == nullptr) return not_found(call.route->docs);
              return json_reply(200, env_json(call, *repo, *env));
            });
  add_route("GET", {"orgs", "*"}, Need::kToken,
            "https://docs.github.com/rest/orgs/orgs#get-an-organization", [this](Call& call) {
              ApiResponse error;
              Organization* org = org_for(call, call.params[0], nullptr, "read", error);
              if (org == nullptr) return error;
              nlohmann::json j = owner_json(org->login);
              j.erase("site_admin");
              j["url"] = call.base_url + "/orgs/" + org->login;
              return json_reply(200, j);
            });
  add_route("GET", {"installation", "repositories"}, Need::kToken,
            "https://docs.github.com/rest/apps/installations"
            "#list-repositories-accessible-to-the-app-installation",
            [this](Call& call) {
              if (call.id.kind != Identity::Kind::kInstallation) {
                return github_error(403,
                                    "You must authenticate with an installation access token in "
                                    "order to list repositories for an installation.",
                                    call.route->docs);
              }
              std::vector<const Repository*> reachable;
              for (const auto& repo : directory_.repositories()) {
                if (installation_reaches(call.id, repo)) reachable.push_back(&repo);
              }
              Page page = paginate(reachable.size(), call.query,
                                   call.base_url + "/installation/repositories");
              nlohmann::json list = nlohmann::json::array();
              for (size_t i = page.begin; i < page.end; ++i) {
                list.push_back(repo_json(call, *reachable[i]));
              }
              ApiResponse r =
                  json_reply(200, {{"total_count", reachable.size()}, {"repositories", list}});
              if (!page.link.empty()) r.set_header("Link", page.link);
              return r;
            });
}

}  // namespace fluxkey::sim::github
