// The Actions secrets endpoints: public keys, create/update with a sealed
// value, metadata, listing, deletion, and an organization secret's
// repositories.
#include <algorithm>

#include "sim/github/api_internal.h"
#include "sim/github/sealing_key.h"

namespace fluxkey::sim::github {
namespace {

const char* kImproperlyEncrypted =
    "Bad request - validation failed due to an improperly encrypted secret";
const char* kBase64Pattern =
    "/^(?:[A-Za-z0-9+\\/]{4})*(?:[A-Za-z0-9+\\/]{2}==|[A-Za-z0-9+\\/]{3}=|[A-Za-z0-9+\\/]{4})$/";

std::string docs(const char* anchor) {
  return std::string(kDocsSecrets) + "#" + anchor;
}

// Checks a required string property the way GitHub's schema validation words it.
std::optional<ApiResponse> require_string(const nlohmann::json& body, const char* name,
                                          const std::string& route_docs) {
  if (!body.contains(name)) {
    return invalid_request("\"" + std::string(name) + "\" wasn't supplied.", route_docs);
  }
  if (!body[name].is_string()) {
    return invalid_request(
        "For 'properties/" + std::string(name) + "', " + body[name].dump() + " is not a string.",
        route_docs);
  }
  return std::nullopt;
}

// selected_repository_ids: an array of integers.
std::optional<ApiResponse> parse_repository_ids(const nlohmann::json& body,
                                                const std::string& route_docs,
                                                std::vector<int64_t>& out) {
  const auto& ids = body["selected_repository_ids"];
  if (!ids.is_array()) {
    return invalid_request(
        "For 'properties/selected_repository_ids', " + ids.dump() + " is not an array.",
        route_docs);
  }
  for (const auto& v : ids) {
    if (!v.is_number_integer()) {
      return invalid_request("For 'items', " + v.dump() + " is not an integer.", route_docs);
    }
    out.push_back(v.get<int64_t>());
  }
  return std::nullopt;
}

}  // namespace

std::optional<GithubApi::SecretTarget> GithubApi::secret_target(Call& call, ScopeKind kind,
                                                                const char* level,
                                                                ApiResponse& error) {
  const auto& p = call.params;
  SecretTarget t;
  if (kind == ScopeKind::kOrganization) {
    Organization* org = org_for(call, p[0], "organization_secrets", level, error);
    if (org == nullptr) return std::nullopt;
    t.scope = organization_scope(org->id, org->login);
    t.key = &org->key;
    t.org = org;
    return t;
  }
  if (kind == ScopeKind::kRepository) {
    Repository* repo = repo_for(call, p[0], p[1], {"secrets"}, level, error);
    if (repo == nullptr) return std::nullopt;
    t.scope = repository_scope(repo->id, repo->owner, repo->name);
    t.key = &repo->key;
    return t;
  }
  Repository* repo = repo_for(call, p[0], p[1], {"environments", "secrets"}, level, error);
  if (repo == nullptr) return std::nullopt;
  Environment* env = repo->find_environment(p[2]);  // already percent-decoded
  if (env == nullptr) {
    error = not_found(call.route->docs);
    return std::nullopt;
  }
  t.scope = environment_scope(repo->id, repo->owner, repo->name, env->id, env->name);
  t.key = &env->key;
  return t;
}

ApiResponse GithubApi::put_secret(Call& call, ScopeKind kind) {
  const std::string& route_docs = call.route->docs;
  ApiResponse error;
  auto target = secret_target(call, kind, "write", error);
  if (!target) return error;
  auto body = call.json_body();
  if (!body) return github_error(400, "Problems parsing JSON", route_docs);
  if (auto e = require_string(*body, "encrypted_value", route_docs)) return *e;
  if (auto e = require_string(*body, "key_id", route_docs)) return *e;
  const std::string encrypted = (*body)["encrypted_value"].get<std::string>();
  if (!is_strict_base64(encrypted)) {
    return invalid_request(encrypted + " does not match " + kBase64Pattern + ".", route_docs);
  }

  std::string visibility;
  std::vector<int64_t> selected;
  if (kind == ScopeKind::kOrganization) {
    if (auto e = require_string(*body, "visibility", route_docs)) return *e;
    visibility = (*body)["visibility"].get<std::string>();
    if (visibility != "all" && visibility != "private" && visibility != "selected") {
      return invalid_request("For 'properties/visibility', \"" + visibility +
                                 "\" is not one of [\"all\", \"private\", \"selected\"].",
                             route_docs);
    }
    if (visibility == "selected") {
      if (!body->contains("selected_repository_ids")) {
        return invalid_request("\"selected_repository_ids\" wasn't supplied.", route_docs);
      }
      if (auto e = parse_repository_ids(*body, route_docs, selected)) return *e;
      for (int64_t id : selected) {
        Repository* repo = directory_.find_repository(id);
        if (repo == nullptr || !iequals(repo->owner, target->org->login)) {
          return invalid_request("Repository " + std::to_string(id) +
                                     " is not a repository of the organization " +
                                     target->org->login + ".",
                                 route_docs);
        }
      }
      std::sort(selected.begin(), selected.end());
      selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
    }
  }

  const std::string& name = call.params.back();
  if (auto message = secret_name_error(name)) return github_error(422, *message, route_docs);

  // A stale key_id (the key was rotated) and a box that does not open get
  // the same answer from GitHub.
  if ((*body)["key_id"].get<std::string>() != target->key->key_id()) {
    return github_error(422, kImproperlyEncrypted, route_docs);
  }
  auto plaintext = target->key->open(encrypted);
  if (!plaintext) return github_error(422, kImproperlyEncrypted, route_docs);

  auto result = secrets_.put(target->scope, name, std::move(*plaintext), call.now, visibility,
                             std::move(selected));
  // GitHub answers a creation with 201 and "{}" (gh fails on an empty 201).
  if (result == SecretStore::PutResult::kCreated) return json_reply(201, nlohmann::json::object());
  return no_content();
}

ApiResponse GithubApi::org_secret_repositories(Call& call) {
  ApiResponse error;
  auto target = secret_target(call, ScopeKind::kOrganization, "read", error);
  if (!target) return error;
  Secret* secret = secrets_.find(target->scope, call.params[1]);
  if (secret == nullptr) return not_found(call.route->docs);
  if (secret->visibility != "selected") {
    return github_error(409, "The secret's visibility is not 'selected'.", call.route->docs);
  }
  std::vector<Repository*> repos;
  for (int64_t id : secret->selected_repository_ids) {
    if (Repository* r = directory_.find_repository(id)) repos.push_back(r);
  }
  Page page = paginate(repos.size(), call.query,
                       call.base_url + "/orgs/" + target->org->login + "/actions/secrets/" +
                           secret->name + "/repositories");
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = page.begin; i < page.end; ++i) list.push_back(repo_json(call, *repos[i]));
  ApiResponse r = json_reply(200, {{"total_count", repos.size()}, {"repositories", list}});
  if (!page.link.empty()) r.set_header("Link", page.link);
  return r;
}

ApiResponse GithubApi::set_org_secret_repositories(Call& call) {
  const std::string& route_docs = call.route->docs;
  ApiResponse error;
  auto target = secret_target(call, ScopeKind::kOrganization, "write", error);
  if (!target) return error;
  Secret* secret = secrets_.find(target->scope, call.params[1]);
  if (secret == nullptr) return not_found(route_docs);
  auto body = call.json_body();
  if (!body) return github_error(400, "Problems parsing JSON", route_docs);
  if (!body->contains("selected_repository_ids")) {
    return invalid_request("\"selected_repository_ids\" wasn't supplied.", route_docs);
  }
  std::vector<int64_t> ids;
  if (auto e = parse_repository_ids(*body, route_docs, ids)) return *e;
  if (secret->visibility != "selected") {
    return github_error(409, "The secret's visibility is not 'selected'.", route_docs);
  }
  for (int64_t id : ids) {
    Repository* repo = directory_.find_repository(id);
    if (repo == nullptr || !iequals(repo->owner, target->org->login)) {
      return invalid_request("Repository " + std::to_string(id) +
                                 " is not a repository of the organization " + target->org->login +
                                 ".",
                             route_docs);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  secret->selected_repository_ids = std::move(ids);
  return no_content();
}

ApiResponse GithubApi::change_org_secret_repository(Call& call, bool add) {
  const std::string& route_docs = call.route->docs;
  ApiResponse error;
  auto target = secret_target(call, ScopeKind::kOrganization, "write", error);
  if (!target) return error;
  Secret* secret = secrets_.find(target->scope, call.params[1]);
  if (secret == nullptr) return not_found(route_docs);
  int64_t id = 0;
  try {
    id = std::stoll(call.params[2]);
  } catch (const std::exception&) {
    return not_found(route_docs);
  }
  if (secret->visibility != "selected") {
    return github_error(409, "The secret's visibility is not 'selected'.", route_docs);
  }
  Repository* repo = directory_.find_repository(id);
  if (repo == nullptr || !iequals(repo->owner, target->org->login)) {
    return github_error(422,
                        "Repository " + call.params[2] +
                            " is not a repository of the organization " + target->org->login + ".",
                        route_docs);
  }
  auto& ids = secret->selected_repository_ids;
  auto it = std::find(ids.begin(), ids.end(), id);
  if (add && it == ids.end()) {
    ids.push_back(id);
    std::sort(ids.begin(), ids.end());
  } else if (!add && it != ids.end()) {
    ids.erase(it);
  }
  return no_content();
}

void GithubApi::register_secret_routes() {
  struct Family {
    ScopeKind kind;
    std::vector<std::string> prefix;  // up to and including "secrets"
    std::string scopes;               // X-Accepted-OAuth-Scopes
    const char* key_doc;
    const char* list_doc;
    const char* get_doc;
    const char* put_doc;
    const char* delete_doc;
  };
  const Family families[] = {
      {ScopeKind::kRepository,
       {"repos", "*", "*", "actions", "secrets"},
       "repo",
       "get-a-repository-public-key",
       "list-repository-secrets",
       "get-a-repository-secret",
       "create-or-update-a-repository-secret",
       "delete-a-repository-secret"},
      {ScopeKind::kEnvironment,
       {"repos", "*", "*", "environments", "*", "secrets"},
       "repo",
       "get-an-environment-public-key",
       "list-environment-secrets",
       "get-an-environment-secret",
       "create-or-update-an-environment-secret",
       "delete-an-environment-secret"},
      {ScopeKind::kOrganization,
       {"orgs", "*", "actions", "secrets"},
       "admin:org",
       "get-an-organization-public-key",
       "list-organization-secrets",
       "get-an-organization-secret",
       "create-or-update-an-organization-secret",
       "delete-an-organization-secret"},
  };
  for (const Family& f : families) {
    const ScopeKind kind = f.kind;
    auto path = [&](std::initializer_list<const char*> tail) {
      std::vector<std::string> p = f.prefix;
      p.insert(p.end(), tail.begin(), tail.end());
      return p;
    };
    add_route(
        "GET", path({"public-key"}), Need::kToken, docs(f.key_doc),
        [this, kind](Call& call) {
          ApiResponse error;
          auto target = secret_target(call, kind, "read", error);
          if (!target) return error;
          ApiResponse reply = json_reply(
              200, {{"key_id", target->key->key_id()}, {"key", target->key->public_key_base64()}});
          auto pending = rotate_after_reads_.find(target->scope.key);
          if (pending != rotate_after_reads_.end()) {
            *target->key = SealingKey();  // the reply above holds the key just replaced
            if (--pending->second <= 0) rotate_after_reads_.erase(pending);
          }
          return reply;
        },
        f.scopes);
    add_route(
        "GET", path({}), Need::kToken, docs(f.list_doc),
        [this, kind](Call& call) {
          ApiResponse error;
          auto target = secret_target(call, kind, "read", error);
          if (!target) return error;
          std::string url = call.base_url;
          for (const auto& s : call.segments) url += "/" + percent_encode_segment(s);
          auto all = secrets_.list(target->scope);
          Page page = paginate(all.size(), call.query, url);
          nlohmann::json list = nlohmann::json::array();
          for (size_t i = page.begin; i < page.end; ++i) {
            list.push_back(secret_json(call, *all[i]));
          }
          ApiResponse r = json_reply(200, {{"total_count", all.size()}, {"secrets", list}});
          if (!page.link.empty()) r.set_header("Link", page.link);
          return r;
        },
        f.scopes);
    add_route(
        "GET", path({"*"}), Need::kToken, docs(f.get_doc),
        [this, kind](Call& call) {
          ApiResponse error;
          auto target = secret_target(call, kind, "read", error);
          if (!target) return error;
          Secret* secret = secrets_.find(target->scope, call.params.back());
          if (secret == nullptr) return not_found(call.route->docs);
          return json_reply(200, secret_json(call, *secret));
        },
        f.scopes);
    add_route(
        "PUT", path({"*"}), Need::kToken, docs(f.put_doc),
        [this, kind](Call& call) { return put_secret(call, kind); }, f.scopes);
    add_route(
        "DELETE", path({"*"}), Need::kToken, docs(f.delete_doc),
        [this, kind](Call& call) {
          ApiResponse error;
          auto target = secret_target(call, kind, "write", error);
          if (!target) return error;
          if (!secrets_.remove(target->scope, call.params.back())) {
            return not_found(call.route->docs);
          }
          return no_content();
        },
        f.scopes);
  }
  const std::vector<std::string> repos_path = {"orgs",    "*", "actions",
                                               "secrets", "*", "repositories"};
  auto with = [&](const char* tail) {
    auto p = repos_path;
    p.push_back(tail);
    return p;
  };
  add_route(
      "GET", repos_path, Need::kToken,
      docs("list-selected-repositories-for-an-organization-secret"),
      [this](Call& call) { return org_secret_repositories(call); }, "admin:org");
  add_route(
      "PUT", repos_path, Need::kToken, docs("set-selected-repositories-for-an-organization-secret"),
      [this](Call& call) { return set_org_secret_repositories(call); }, "admin:org");
  add_route(
      "PUT", with("*"), Need::kToken, docs("add-selected-repository-to-an-organization-secret"),
      [this](Call& call) { return change_org_secret_repository(call, true); }, "admin:org");
  add_route(
      "DELETE", with("*"), Need::kToken,
      docs("remove-selected-repository-from-an-organization-secret"),
      [this](Call& call) { return change_org_secret_repository(call, false); }, "admin:org");
}

}  // namespace fluxkey::sim::github
