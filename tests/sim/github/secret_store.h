// The Actions secrets github-sim holds, decrypted: the stand-in keeps the
// plaintext so that tests can read back exactly what a client sealed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace fluxkey::sim::github {

enum class ScopeKind { kRepository, kEnvironment, kOrganization };

const char* scope_kind_name(ScopeKind kind);  // "repo", "env", "org"

// Where a secret lives. `key` identifies the scope by ids, so that renaming
// case ("Acme" vs "acme") never splits one scope in two.
struct SecretScope {
  ScopeKind kind = ScopeKind::kRepository;
  std::string key;
  std::string owner;        // repository owner, or the organization
  std::string repository;   // empty for organizations
  std::string environment;  // only for environments
};

SecretScope repository_scope(int64_t repo_id, std::string owner, std::string repository);
SecretScope environment_scope(int64_t repo_id, std::string owner, std::string repository,
                              int64_t env_id, std::string environment);
SecretScope organization_scope(int64_t org_id, std::string org);

struct Secret {
  SecretScope scope;
  std::string name;  // upper case, as GitHub stores it
  std::string value;
  Clock::time_point created_at;
  Clock::time_point updated_at;
  std::string visibility;  // organization secrets only: all, private or selected
  std::vector<int64_t> selected_repository_ids;
  int writes = 0;  // PUTs that stored a value since the secret was created
};

// GitHub's rule for secret names; returns the message GitHub answers with
// (422) when the name breaks it, nullopt when the name is fine.
std::optional<std::string> secret_name_error(std::string_view name);

std::string canonical_secret_name(std::string_view name);

class SecretStore {
 public:
  enum class PutResult { kCreated, kUpdated };

  // Stores the value. For organization secrets, visibility and selected ids
  // replace the old ones.
  PutResult put(const SecretScope& scope, std::string_view name, std::string value,
                Clock::time_point now, std::string visibility = "",
                std::vector<int64_t> selected_repository_ids = {});

  Secret* find(const SecretScope& scope, std::string_view name);
  bool remove(const SecretScope& scope, std::string_view name);
  // Sorted by name, as GitHub lists them.
  std::vector<const Secret*> list(const SecretScope& scope) const;
  const std::vector<Secret>& all() const { return secrets_; }
  // Forgets every secret (a fresh /_sim/setup with "reset").
  void clear() { secrets_.clear(); }

 private:
  std::vector<Secret> secrets_;
};

}  // namespace fluxkey::sim::github
