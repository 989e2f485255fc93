// The endpoints a GitHub App calls with its JWT: itself, where it is
// installed, and installation access tokens.
#include <algorithm>

#include "sim/github/api_internal.h"

namespace fluxkey::sim::github {
namespace {

std::string docs(const char* anchor) {
  return std::string(kDocsApps) + "#" + anchor;
}

constexpr std::chrono::milliseconds kInstallationTokenLifetime{3'600'000};

}  // namespace

void GithubApi::register_app_routes() {
  add_route("GET", {"app"}, Need::kJwt, docs("get-the-authenticated-app"), [this](Call& call) {
    App* app = credentials_.find_app(call.id.app_id);
    nlohmann::json permissions = nlohmann::json::object();
    for (const auto& inst : app->installations) permissions.update(inst.permissions);
    return json_reply(
        200, {{"id", app->id},
              {"slug", app->slug},
              {"node_id", node_id("A", app->id)},
              {"client_id", app->client_id},
              {"owner", owner_json("github-sim")},
              {"name", app->slug},
              {"description", "GitHub App registered in github-sim"},
              {"external_url", "https://127.0.0.1/"},
              {"html_url", "https://" + call.request.header("Host") + "/apps/" + app->slug},
              {"permissions", permissions},
              {"events", nlohmann::json::array()},
              {"installations_count", app->installations.size()}});
  });
  add_route("GET", {"app", "installations"}, Need::kJwt,
            docs("list-installations-for-the-authenticated-app"), [this](Call& call) {
              App* app = credentials_.find_app(call.id.app_id);
              nlohmann::json list = nlohmann::json::array();
              for (const auto& inst : app->installations) {
                list.push_back(installation_json(call, *app, inst));
              }
              return json_reply(200, list);
            });
  add_route("GET", {"app", "installations", "*"}, Need::kJwt,
            docs("get-an-installation-for-the-authenticated-app"), [this](Call& call) {
              App* app = credentials_.find_app(call.id.app_id);
              Installation* inst = nullptr;
              try {
                inst = app->find_installation(std::stoll(call.params[0]));
              } catch (const std::exception&) {
              }
              if (inst == nullptr) return not_found(call.route->docs);
              return json_reply(200, installation_json(call, *app, *inst));
            });
  add_route("GET", {"repos", "*", "*", "installation"}, Need::kJwt,
            docs("get-a-repository-installation-for-the-authenticated-app"), [this](Call& call) {
              App* app = credentials_.find_app(call.id.app_id);
              Repository* repo = directory_.find_repository(call.params[0], call.params[1]);
              Installation* inst =
                  repo != nullptr ? app->installation_for_account(repo->owner) : nullptr;
              if (inst != nullptr && inst->repos &&
                  std::none_of(inst->repos->begin(), inst->repos->end(),
                               [&](const std::string& n) { return iequals(n, repo->name); })) {
                inst = nullptr;
              }
              if (inst == nullptr) return not_found(call.route->docs);
              return json_reply(200, installation_json(call, *app, *inst));
            });
  for (const char* kind : {"orgs", "users"}) {
    const bool org = std::string(kind) == "orgs";
    add_route("GET", {kind, "*", "installation"}, Need::kJwt,
              docs(org ? "get-an-organization-installation-for-the-authenticated-app"
                       : "get-a-user-installation-for-the-authenticated-app"),
              [this, org](Call& call) {
                App* app = credentials_.find_app(call.id.app_id);
                Installation* inst = app->installation_for_account(call.params[0]);
                if (inst == nullptr || directory_.is_organization(inst->account) != org) {
                  return not_found(call.route->docs);
                }
                return json_reply(200, installation_json(call, *app, *inst));
              });
  }
  add_route(
      "POST", {"app", "installations", "*", "access_tokens"}, Need::kJwt,
      docs("create-an-installation-access-token-for-an-app"), [this](Call& call) {
        const std::string& route_docs = call.route->docs;
        App* app = credentials_.find_app(call.id.app_id);
        Installation* inst = nullptr;
        try {
          inst = app->find_installation(std::stoll(call.params[0]));
        } catch (const std::exception&) {
        }
        if (inst == nullptr) return not_found(route_docs);

        nlohmann::json body = nlohmann::json::object();
        if (!call.request.body.empty()) {
          auto parsed = call.json_body();
          if (!parsed) return github_error(400, "Problems parsing JSON", route_docs);
          body = *parsed;
        }
        // The repositories the installation can reach, then the narrowing asked for.
        Identity probe;
        probe.app_id = app->id;
        probe.installation.installation_id = inst->id;
        std::vector<const Repository*> reachable;
        for (const auto& repo : directory_.repositories()) {
          if (installation_reaches(probe, repo)) reachable.push_back(&repo);
        }
        const char* not_accessible =
            "There is at least one repository that does not exist or is not accessible to the "
            "parent installation.";
        std::optional<std::vector<int64_t>> narrowed;
        if (body.contains("repositories")) {
          if (!body["repositories"].is_array()) {
            return invalid_request("For 'properties/repositories', " + body["repositories"].dump() +
                                       " is not an array.",
                                   route_docs);
          }
          narrowed.emplace();
          for (const auto& name : body["repositories"]) {
            auto it = std::find_if(reachable.begin(), reachable.end(), [&](const Repository* r) {
              return name.is_string() && iequals(r->name, name.get<std::string>());
            });
            if (it == reachable.end()) return github_error(422, not_accessible, route_docs);
            narrowed->push_back((*it)->id);
          }
        }
        if (body.contains("repository_ids")) {
          if (!body["repository_ids"].is_array()) {
            return invalid_request("For 'properties/repository_ids', " +
                                       body["repository_ids"].dump() + " is not an array.",
                                   route_docs);
          }
          if (!narrowed) narrowed.emplace();
          for (const auto& id : body["repository_ids"]) {
            auto it = std::find_if(reachable.begin(), reachable.end(), [&](const Repository* r) {
              return id.is_number_integer() && r->id == id.get<int64_t>();
            });
            if (it == reachable.end()) return github_error(422, not_accessible, route_docs);
            narrowed->push_back((*it)->id);
          }
        }
        nlohmann::json permissions = inst->permissions;
        if (body.contains("permissions")) {
          if (!body["permissions"].is_object()) {
            return invalid_request("For 'properties/permissions', " + body["permissions"].dump() +
                                       " is not an object.",
                                   route_docs);
          }
          for (const auto& [name, level] : body["permissions"].items()) {
            if (!level.is_string() || !inst->permissions.contains(name) ||
                permission_level(inst->permissions[name].get<std::string>()) <
                    permission_level(level.get<std::string>()) ||
                permission_level(level.get<std::string>()) == 0) {
              return github_error(422,
                                  "The permissions requested are not granted to this "
                                  "installation.",
                                  route_docs);
            }
          }
          permissions = body["permissions"];
        }

        const auto expires_at = call.now + limiter_.scaled(kInstallationTokenLifetime);
        InstallationToken& token =
            credentials_.mint_installation_token(*app, *inst, expires_at, narrowed, permissions);
        nlohmann::json reply = {
            {"token", token.token},
            {"expires_at", rfc3339(expires_at)},
            {"permissions", permissions},
            {"repository_selection", narrowed || inst->repos ? "selected" : "all"}};
        if (narrowed) {
          nlohmann::json repos = nlohmann::json::array();
          for (int64_t id : *narrowed) {
            if (Repository* r = directory_.find_repository(id))
              repos.push_back(repo_json(call, *r));
          }
          reply["repositories"] = repos;
        }
        return json_reply(201, reply);
      });
}

}  // namespace fluxkey::sim::github
