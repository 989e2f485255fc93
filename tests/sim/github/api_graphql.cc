// POST /graphql (and /api/graphql): repository lookups by owner and name,
// as `gh secret set --org O --repos a,b` sends them.
#include <algorithm>

#include "sim/github/api_internal.h"
#include "sim/github/graphql.h"

namespace fluxkey::sim::github {
namespace {

nlohmann::json location(const GraphqlField& f) {
  return nlohmann::json::array({{{"line", f.line}, {"column", f.column}}});
}

nlohmann::json undefined_field(const GraphqlField& f, const std::string& type,
                               const nlohmann::json& path) {
  return {{"path", path},
          {"extensions", {{"code", "undefinedField"}, {"typeName", type}, {"fieldName", f.name}}},
          {"locations", location(f)},
          {"message", "Field '" + f.name + "' doesn't exist on type '" + type + "'"}};
}

}  // namespace

void GithubApi::register_graphql_route() {
  add_route(
      "POST", {"graphql"}, Need::kTokenOrApp, "https://docs.github.com/graphql",
      [this](Call& call) {
        if (call.id.kind == Identity::Kind::kApp) {
          return github_error(403, "Resource not accessible by integration", call.route->docs);
        }
        auto body = call.json_body();
        if (!body || !(*body)["query"].is_string()) {
          return github_error(400, "Problems parsing JSON", call.route->docs);
        }
        nlohmann::json variables =
            body->contains("variables") ? (*body)["variables"] : nlohmann::json();
        GraphqlDocument doc = parse_graphql((*body)["query"].get<std::string>(), variables);
        if (doc.error) {
          return json_reply(200, {{"errors", nlohmann::json::array({{{"message", *doc.error}}})}});
        }

        // Validation first, as GraphQL does: any unknown field fails the
        // whole query with no data.
        static const std::vector<std::string> kRepoFields = {
            "id",         "databaseId", "name",  "nameWithOwner", "isPrivate",
            "visibility", "url",        "owner", "__typename"};
        nlohmann::json errors = nlohmann::json::array();
        for (const auto& f : doc.fields) {
          if (f.name != "repository") {
            errors.push_back(undefined_field(f, "Query", {"query", f.alias}));
            continue;
          }
          for (const auto& sub : f.selection) {
            if (std::find(kRepoFields.begin(), kRepoFields.end(), sub.name) == kRepoFields.end()) {
              errors.push_back(undefined_field(sub, "Repository", {"query", f.alias, sub.alias}));
            }
          }
        }
        if (!errors.empty()) {
          note_("unsupported GraphQL query: " + errors[0]["message"].get<std::string>());
          return json_reply(200, {{"errors", errors}});
        }

        nlohmann::json data = nlohmann::json::object();
        for (const auto& f : doc.fields) {
          std::string owner, name;
          for (const auto& [arg, value] : f.arguments) {
            if (arg == "owner" && value.is_string()) owner = value.get<std::string>();
            if (arg == "name" && value.is_string()) name = value.get<std::string>();
          }
          Repository* repo = directory_.find_repository(owner, name);
          bool visible = repo != nullptr;
          if (visible && call.id.kind == Identity::Kind::kToken && repo->is_private &&
              !call.id.token.has_scope("repo")) {
            visible = false;
          }
          if (visible && call.id.kind == Identity::Kind::kInstallation &&
              !installation_reaches(call.id, *repo)) {
            visible = false;
          }
          if (!visible) {
            data[f.alias] = nullptr;
            errors.push_back({{"type", "NOT_FOUND"},
                              {"path", {f.alias}},
                              {"locations", location(f)},
                              {"message", "Could not resolve to a Repository with the name '" +
                                              owner + "/" + name + "'."}});
            continue;
          }
          nlohmann::json out = nlohmann::json::object();
          for (const auto& sub : f.selection) {
            nlohmann::json v;
            if (sub.name == "id") v = node_id("R", repo->id);
            if (sub.name == "databaseId") v = repo->id;
            if (sub.name == "name") v = repo->name;
            if (sub.name == "nameWithOwner") v = repo->full_name();
            if (sub.name == "isPrivate") v = repo->is_private;
            if (sub.name == "visibility") v = repo->is_private ? "PRIVATE" : "PUBLIC";
            if (sub.name == "url") {
              v = "https://" + call.request.header("Host") + "/" + repo->full_name();
            }
            if (sub.name == "__typename") v = "Repository";
            if (sub.name == "owner") {
              v = nlohmann::json::object();
              for (const auto& o : sub.selection) {
                if (o.name == "login") v[o.alias] = repo->owner;
                if (o.name == "__typename") {
                  v[o.alias] = directory_.is_organization(repo->owner) ? "Organization" : "User";
                }
              }
            }
            out[sub.alias] = v;
          }
          data[f.alias] = out;
        }
        nlohmann::json reply = {{"data", data}};
        if (!errors.empty()) reply["errors"] = errors;
        return json_reply(200, reply);
      });
}

}  // namespace fluxkey::sim::github
