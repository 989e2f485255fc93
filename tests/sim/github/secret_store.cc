#include "sim/github/secret_store.h"

#include <algorithm>
#include <cctype>

namespace fluxkey::sim::github {

const char* scope_kind_name(ScopeKind kind) {
  switch (kind) {
    case ScopeKind::kRepository:
      return "repo";
    case ScopeKind::kEnvironment:
      return "env";
    case ScopeKind::kOrganization:
      return "org";
  }
  return "?";
}

SecretScope repository_scope(int64_t repo_id, std::string owner, std::string repository) {
  return {ScopeKind::kRepository, "repo:" + std::to_string(repo_id), std::move(owner),
          std::move(repository), ""};
}

SecretScope environment_scope(int64_t repo_id, std::string owner, std::string repository,
                              int64_t env_id, std::string environment) {
  return {ScopeKind::kEnvironment, "env:" + std::to_string(repo_id) + ":" + std::to_string(env_id),
          std::move(owner), std::move(repository), std::move(environment)};
}

SecretScope organization_scope(int64_t org_id, std::string org) {
  return {ScopeKind::kOrganization, "org:" + std::to_string(org_id), std::move(org), "", ""};
}

std::optional<std::string> secret_name_error(std::string_view name) {
  auto alnum_or_underscore = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  bool chars_ok = !name.empty() && std::all_of(name.begin(), name.end(), alnum_or_underscore) &&
                  std::isdigit(static_cast<unsigned char>(name.front())) == 0;
  if (!chars_ok) {
    return "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or "
           "underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) or "
           "underscores (_).";
  }
  if (canonical_secret_name(name).rfind("GITHUB_", 0) == 0) {
    return "Secret names must not start with GITHUB_.";
  }
  return std::nullopt;
}

std::string canonical_secret_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

SecretStore::PutResult SecretStore::put(const SecretScope& scope, std::string_view name,
                                        std::string value, Clock::time_point now,
                                        std::string visibility,
                                        std::vector<int64_t> selected_repository_ids) {
  PutResult result = PutResult::kUpdated;
  Secret* secret = find(scope, name);
  if (secret == nullptr) {
    secret = &secrets_.emplace_back();
    secret->scope = scope;
    secret->name = canonical_secret_name(name);
    secret->created_at = now;
    result = PutResult::kCreated;
  }
  secret->value = std::move(value);
  secret->updated_at = now;
  secret->visibility = std::move(visibility);
  secret->selected_repository_ids = std::move(selected_repository_ids);
  ++secret->writes;
  return result;
}

Secret* SecretStore::find(const SecretScope& scope, std::string_view name) {
  const std::string canonical = canonical_secret_name(name);
  for (auto& secret : secrets_) {
    if (secret.scope.key == scope.key && secret.name == canonical) return &secret;
  }
  return nullptr;
}

bool SecretStore::remove(const SecretScope& scope, std::string_view name) {
  const std::string canonical = canonical_secret_name(name);
  auto it = std::find_if(secrets_.begin(), secrets_.end(), [&](const Secret& s) {
    return s.scope.key == scope.key && s.name == canonical;
  });
  if (it == secrets_.end()) return false;
  secrets_.erase(it);
  return true;
}

std::vector<const Secret*> SecretStore::list(const SecretScope& scope) const {
  std::vector<const Secret*> out;
  for (const auto& secret : secrets_) {
    if (secret.scope.key == scope.key) out.push_back(&secret);
  }
  std::sort(out.begin(), out.end(),
            [](const Secret* a, const Secret* b) { return a->name < b->name; });
  return out;
}

}  // namespace fluxkey::sim::github
