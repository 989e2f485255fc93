// The /_sim/ controls of github-sim: seeding (setup), key rotation, limits,
// and the test-only readback of decrypted secrets.
#include <stdexcept>

#include "sim/github/api_internal.h"

namespace fluxkey::sim::github {
namespace {

[[noreturn]] void bad(const std::string& message) {
  throw std::invalid_argument(message);
}

std::pair<std::string, std::string> split_full_name(const std::string& full_name,
                                                    const std::string& where) {
  size_t slash = full_name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == full_name.size() ||
      full_name.find('/', slash + 1) != std::string::npos) {
    bad(where + ": \"" + full_name + "\" is not OWNER/NAME");
  }
  return {full_name.substr(0, slash), full_name.substr(slash + 1)};
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

const nlohmann::json& array_field(const nlohmann::json& spec, const char* name) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (!spec.contains(name)) return kEmpty;
  if (!spec[name].is_array()) bad(std::string("\"") + name + "\" must be an array");
  return spec[name];
}

std::string string_field(const nlohmann::json& obj, const char* name, const std::string& where) {
  if (!obj.contains(name) || !obj[name].is_string() || obj[name].get<std::string>().empty()) {
    bad(where + ": \"" + name + "\" must be a non-empty string");
  }
  return obj[name].get<std::string>();
}

int64_t int_field(const nlohmann::json& obj, const char* name, const std::string& where) {
  if (!obj.contains(name) || !obj[name].is_number_integer() || obj[name].get<int64_t>() <= 0) {
    bad(where + ": \"" + name + "\" must be a positive integer");
  }
  return obj[name].get<int64_t>();
}

}  // namespace

nlohmann::json GithubApi::repo_spec_from_flag(const std::string& flag) {
  size_t colon = flag.find(':');
  nlohmann::json spec = {{"full_name", flag.substr(0, colon)}};
  spec["environments"] = colon == std::string::npos
                             ? nlohmann::json::array()
                             : nlohmann::json(split_list(flag.substr(colon + 1)));
  return spec;
}

nlohmann::json GithubApi::token_spec_from_flag(const std::string& flag) {
  size_t eq = flag.find('=');
  nlohmann::json spec = {{"token", flag.substr(0, eq)}};
  if (eq != std::string::npos) spec["scopes"] = split_list(flag.substr(eq + 1));
  return spec;
}

nlohmann::json GithubApi::apply_setup(const nlohmann::json& spec) {
  if (!spec.is_object()) bad("setup must be a JSON object");
  std::lock_guard lock(mutex_);
  // Check everything before changing anything, so a bad setup leaves no half state.
  struct RepoSeed {
    std::string owner, name;
    std::vector<std::string> environments;
    bool is_private = true;
  };
  std::vector<RepoSeed> repos;
  for (const auto& r : array_field(spec, "repos")) {
    RepoSeed seed;
    nlohmann::json obj = r.is_string() ? repo_spec_from_flag(r.get<std::string>()) : r;
    if (!obj.is_object()) bad("repos: each entry must be \"OWNER/NAME[:ENV,...]\" or an object");
    std::tie(seed.owner, seed.name) =
        split_full_name(string_field(obj, "full_name", "repos"), "repos");
    for (const auto& e : array_field(obj, "environments")) {
      if (!e.is_string() || e.get<std::string>().empty()) {
        bad("repos: environments must be non-empty strings");
      }
      seed.environments.push_back(e.get<std::string>());
    }
    if (obj.contains("private")) {
      if (!obj["private"].is_boolean()) bad("repos: \"private\" must be true or false");
      seed.is_private = obj["private"].get<bool>();
    }
    repos.push_back(std::move(seed));
  }
  std::vector<std::string> orgs;
  for (const auto& o : array_field(spec, "orgs")) {
    if (o.is_string() && !o.get<std::string>().empty()) {
      orgs.push_back(o.get<std::string>());
    } else if (o.is_object()) {
      orgs.push_back(string_field(o, "login", "orgs"));
    } else {
      bad("orgs: each entry must be a login or {\"login\": ...}");
    }
  }
  struct TokenSeed {
    std::string token, login;
    std::vector<std::string> scopes;
  };
  std::vector<TokenSeed> tokens;
  for (const auto& t : array_field(spec, "tokens")) {
    nlohmann::json obj = t.is_string() ? token_spec_from_flag(t.get<std::string>()) : t;
    if (!obj.is_object()) bad("tokens: each entry must be \"TOKEN[=scopes]\" or an object");
    TokenSeed seed;
    seed.token = string_field(obj, "token", "tokens");
    seed.login = obj.contains("login") ? string_field(obj, "login", "tokens") : "";
    if (obj.contains("scopes")) {
      for (const auto& s : array_field(obj, "scopes")) {
        if (!s.is_string()) bad("tokens: scopes must be strings");
        seed.scopes.push_back(s.get<std::string>());
      }
    } else {
      seed.scopes = {"repo", "admin:org"};
    }
    tokens.push_back(std::move(seed));
  }
  for (const auto& a : array_field(spec, "apps")) {
    if (!a.is_object()) bad("apps: each entry must be an object");
    int_field(a, "id", "apps");
    try {
      PkeyPtr key = public_key_from_pem(string_field(a, "public_key_pem", "apps"));
      if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) bad("an RSA key is needed for RS256");
    } catch (const std::exception& e) {
      bad(std::string("apps: public_key_pem: ") + e.what());
    }
    if (a.contains("client_id")) string_field(a, "client_id", "apps");
    for (const auto& i : array_field(a, "installations")) {
      if (!i.is_object()) bad("apps: installations must be objects");
      int_field(i, "id", "installations");
      string_field(i, "account", "installations");
      if (i.contains("repos")) {
        if (!i["repos"].is_array()) bad("installations: \"repos\" must be an array of names");
        for (const auto& r : i["repos"]) {
          if (!r.is_string()) bad("installations: \"repos\" must hold repository names");
        }
      }
      if (i.contains("permissions") && !i["permissions"].is_object()) {
        bad("installations: \"permissions\" must be an object");
      }
    }
  }
  if (spec.contains("reset") && !spec["reset"].is_boolean()) bad("\"reset\" must be a boolean");

  if (spec.value("reset", false)) {
    directory_ = Directory();
    secrets_.clear();
    credentials_.clear();
    limiter_.reset();
    rotate_after_reads_.clear();
  }
  for (const auto& login : orgs) directory_.add_organization(login);
  for (const auto& seed : repos) {
    Repository& repo = directory_.add_repository(seed.owner, seed.name);
    repo.is_private = seed.is_private;
    for (const auto& env : seed.environments) directory_.add_environment(repo, env);
  }
  for (auto& seed : tokens) {
    std::string login =
        seed.login.empty() ? "sim-user-" + std::to_string(next_user_id_) : seed.login;
    credentials_.add_token(seed.token, login, next_user_id_++, seed.scopes);
  }
  for (const auto& a : array_field(spec, "apps")) {
    std::string client_id =
        a.contains("client_id") ? string_field(a, "client_id", "apps") : std::string();
    App* app = &credentials_.add_app(a["id"].get<int64_t>(), client_id,
                                     a["public_key_pem"].get<std::string>());
    for (const auto& i : array_field(a, "installations")) {
      const int64_t id = i["id"].get<int64_t>();
      Installation* inst = app->find_installation(id);
      if (inst == nullptr) {
        inst = &app->installations.emplace_back();
        inst->id = id;
      }
      inst->account = i["account"].get<std::string>();
      inst->repos.reset();
      if (i.contains("repos")) {
        inst->repos.emplace();
        for (const auto& r : i["repos"]) {
          std::string name = r.get<std::string>();
          // "owner/name" is accepted too; the owner must be the account.
          if (size_t slash = name.find('/'); slash != std::string::npos)
            name = name.substr(slash + 1);
          inst->repos->push_back(name);
        }
      }
      inst->permissions =
          i.contains("permissions") ? i["permissions"] : default_installation_permissions();
    }
  }
  return state_unlocked();
}

nlohmann::json GithubApi::state() const {
  std::lock_guard lock(mutex_);
  return state_unlocked();
}

nlohmann::json GithubApi::state_unlocked() const {
  nlohmann::json repos = nlohmann::json::array();
  for (const auto& repo : directory_.repositories()) {
    nlohmann::json envs = nlohmann::json::array();
    for (const auto& env : repo.environments) {
      envs.push_back({{"name", env.name}, {"id", env.id}, {"key_id", env.key.key_id()}});
    }
    repos.push_back({{"full_name", repo.full_name()},
                     {"id", repo.id},
                     {"private", repo.is_private},
                     {"key_id", repo.key.key_id()},
                     {"environments", envs}});
  }
  nlohmann::json orgs = nlohmann::json::array();
  for (const auto& org : directory_.organizations()) {
    orgs.push_back({{"login", org.login}, {"id", org.id}, {"key_id", org.key.key_id()}});
  }
  nlohmann::json apps = nlohmann::json::array();
  for (const auto& app : credentials_.apps()) {
    nlohmann::json insts = nlohmann::json::array();
    for (const auto& inst : app.installations) {
      insts.push_back({{"id", inst.id}, {"account", inst.account}});
    }
    apps.push_back({{"id", app.id}, {"client_id", app.client_id}, {"installations", insts}});
  }
  // Token values are credentials: only their logins are shown.
  nlohmann::json users = nlohmann::json::array();
  for (const auto& t : credentials_.tokens()) {
    users.push_back({{"login", t.login}, {"id", t.user_id}, {"scopes", t.scopes}});
  }
  return {{"repos", repos}, {"orgs", orgs}, {"apps", apps}, {"token_users", users}};
}

nlohmann::json GithubApi::rotate_key(const nlohmann::json& spec) {
  if (!spec.is_object()) bad("rotate-key: body must be a JSON object");
  std::lock_guard lock(mutex_);
  const std::string scope = string_field(spec, "scope", "rotate-key");
  SealingKey* key = nullptr;
  std::string scope_key;  // SecretScope::key, for after_reads
  if (scope == "org") {
    const std::string login = string_field(spec, "org", "rotate-key");
    Organization* org = directory_.find_organization(login);
    if (org == nullptr) bad("rotate-key: no organization \"" + login + "\"");
    key = &org->key;
    scope_key = organization_scope(org->id, org->login).key;
  } else if (scope == "repo" || scope == "env") {
    auto [owner, name] = split_full_name(string_field(spec, "repo", "rotate-key"), "rotate-key");
    Repository* repo = directory_.find_repository(owner, name);
    if (repo == nullptr) bad("rotate-key: no repository \"" + owner + "/" + name + "\"");
    key = &repo->key;
    scope_key = repository_scope(repo->id, repo->owner, repo->name).key;
    if (scope == "env") {
      const std::string env_name = string_field(spec, "environment", "rotate-key");
      Environment* env = repo->find_environment(env_name);
      if (env == nullptr) bad("rotate-key: no environment \"" + env_name + "\"");
      key = &env->key;
      scope_key = environment_scope(repo->id, repo->owner, repo->name, env->id, env->name).key;
    }
  } else {
    bad("rotate-key: \"scope\" must be repo, env or org");
  }
  if (spec.contains("after_reads")) {
    // Not now, but right after each of the next N reads of the public key:
    // a client then always seals with a key that has just become stale, as
    // when GitHub rotates it between a client's GET and its PUT.
    const int64_t reads = int_field(spec, "after_reads", "rotate-key");
    if (reads > 1000) bad("rotate-key: \"after_reads\" must be at most 1000");
    rotate_after_reads_[scope_key] = static_cast<int>(reads);
    return {{"key_id", key->key_id()}, {"after_reads", reads}};
  }
  const std::string old_id = key->key_id();
  *key = SealingKey();
  return {{"key_id", key->key_id()}, {"previous_key_id", old_id}};
}

nlohmann::json GithubApi::apply_limits(const nlohmann::json& spec) {
  if (!spec.is_object()) bad("limits: body must be a JSON object");
  LimitConfig c = limiter_.config();
  auto take_int = [&](const char* name, int& field, int min, int max) {
    if (!spec.contains(name)) return;
    if (!spec[name].is_number_integer() || spec[name].get<int64_t>() < min ||
        spec[name].get<int64_t>() > max) {
      bad("limits: \"" + std::string(name) + "\" must be an integer from " + std::to_string(min) +
          " to " + std::to_string(max));
    }
    field = spec[name].get<int>();
  };
  take_int("primary", c.primary, 0, 1'000'000'000);
  take_int("graphql", c.graphql, 0, 1'000'000'000);
  take_int("unauthenticated", c.unauthenticated, 0, 1'000'000'000);
  take_int("writes_per_minute", c.writes_per_minute, 0, 1'000'000'000);
  take_int("max_concurrent", c.max_concurrent, 1, 1'000'000);
  take_int("primary_status", c.primary_status, 403, 429);
  take_int("secondary_status", c.secondary_status, 403, 429);
  for (int status : {c.primary_status, c.secondary_status}) {
    if (status != 403 && status != 429) bad("limits: statuses must be 403 or 429");
  }
  if (spec.contains("time_scale")) {
    if (!spec["time_scale"].is_number() || spec["time_scale"].get<double>() <= 0) {
      bad("limits: \"time_scale\" must be a positive number");
    }
    c.time_scale = spec["time_scale"].get<double>();
  }
  int hold_ms = static_cast<int>(hold_.count());
  take_int("hold_ms", hold_ms, 0, 60'000);
  if (spec.contains("reset_counts") && !spec["reset_counts"].is_boolean()) {
    bad("limits: \"reset_counts\" must be a boolean");
  }
  limiter_.configure(c);
  if (spec.value("reset_counts", false)) limiter_.reset();
  {
    std::lock_guard lock(mutex_);
    hold_ = std::chrono::milliseconds(hold_ms);
  }
  return {{"primary", c.primary},
          {"graphql", c.graphql},
          {"unauthenticated", c.unauthenticated},
          {"writes_per_minute", c.writes_per_minute},
          {"max_concurrent", c.max_concurrent},
          {"primary_status", c.primary_status},
          {"secondary_status", c.secondary_status},
          {"time_scale", c.time_scale},
          {"hold_ms", hold_ms}};
}

nlohmann::json GithubApi::secrets() const {
  std::lock_guard lock(mutex_);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : secrets_.all()) {
    nlohmann::json j = {{"scope", scope_kind_name(s.scope.kind)},
                        {"owner", s.scope.owner},
                        {"name", s.name},
                        {"value", s.value},
                        {"created_at", rfc3339(s.created_at)},
                        {"updated_at", rfc3339(s.updated_at)},
                        {"writes", s.writes}};
    if (s.scope.kind != ScopeKind::kOrganization) j["repository"] = s.scope.repository;
    if (s.scope.kind == ScopeKind::kEnvironment) j["environment"] = s.scope.environment;
    if (s.scope.kind == ScopeKind::kOrganization) {
      j["visibility"] = s.visibility;
      j["selected_repository_ids"] = s.selected_repository_ids;
    }
    list.push_back(j);
  }
  return {{"secrets", list}};
}

}  // namespace fluxkey::sim::github
