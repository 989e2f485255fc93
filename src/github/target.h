// Where a GitHub Actions secret lives: a repository, one of its
// environments, or an organization. Each has its own public key.
#pragma once

#include <string>
#include <vector>

namespace fluxkey::github {

enum class Scope { kRepository, kEnvironment, kOrganization };

struct Target {
  Scope scope = Scope::kRepository;
  std::string owner;        // repository owner, or the organization
  std::string repo;         // empty for organizations
  std::string environment;  // kEnvironment only

  static Target repository(std::string owner, std::string repo);
  static Target environment_of(std::string owner, std::string repo, std::string environment);
  static Target organization(std::string org);

  // Stable key, as users write it and as the cluster Secret records it:
  // "acme/app", "acme/app:prod", "org:acme".
  std::string id() const;
  // For messages: "repository acme/app", "environment prod of acme/app",
  // "organization acme".
  std::string describe() const;
  // API path of the secrets collection, environment names percent-encoded:
  // "/repos/acme/app/actions/secrets", "/repos/acme/app/environments/prod/secrets",
  // "/orgs/acme/actions/secrets".
  std::string secrets_path() const;

  friend bool operator==(const Target&, const Target&) = default;
};

// What an organization secret is shared with. For "selected", the
// repositories are names in the organization, resolved to ids on push.
struct OrgAccess {
  std::string visibility = "private";  // all, private, selected
  std::vector<std::string> selected_repos;
};

// GitHub's rules for secret names: letters, digits and underscores, not
// starting with a digit or GITHUB_ (case-insensitive). Throws UsageError
// naming `flag`, the value and the rule.
void validate_secret_name(const std::string& flag, const std::string& name);

}  // namespace fluxkey::github
