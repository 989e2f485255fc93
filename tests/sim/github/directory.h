// What github-sim knows exists: repositories with their environments, and
// organizations. Each of them owns a sealing key, as on GitHub. Names are
// matched case-insensitively, as GitHub does for owners, repositories and
// environments.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "sim/github/sealing_key.h"

namespace fluxkey::sim::github {

struct Environment {
  int64_t id = 0;
  std::string name;
  SealingKey key;
};

struct Repository {
  int64_t id = 0;
  std::string owner;
  std::string name;
  bool is_private = true;
  SealingKey key;
  std::deque<Environment> environments;

  std::string full_name() const { return owner + "/" + name; }
  Environment* find_environment(std::string_view env_name);
};

struct Organization {
  int64_t id = 0;
  std::string login;
  SealingKey key;
};

bool iequals(std::string_view a, std::string_view b);

class Directory {
 public:
  // Adding what exists already returns the existing entry (ids stay stable).
  Repository& add_repository(std::string_view owner, std::string_view name);
  Environment& add_environment(Repository& repo, std::string_view env_name);
  Organization& add_organization(std::string_view login);

  Repository* find_repository(std::string_view owner, std::string_view name);
  Repository* find_repository(int64_t id);
  Organization* find_organization(std::string_view login);
  std::vector<Repository*> repositories_of(std::string_view owner);
  const std::deque<Repository>& repositories() const { return repos_; }
  const std::deque<Organization>& organizations() const { return orgs_; }

  // The numeric id of an account (organization or user): organizations have
  // theirs, other owners get a stable one on first use.
  int64_t account_id(std::string_view login);
  bool is_organization(std::string_view login) { return find_organization(login) != nullptr; }

 private:
  std::deque<Repository> repos_;
  std::deque<Organization> orgs_;
  std::vector<std::pair<std::string, int64_t>> users_;
  // Distinct ranges make a repository id passed where an org id belongs fail loudly.
  int64_t next_repo_id_ = 500'000'001;
  int64_t next_org_id_ = 90'000'001;
  int64_t next_user_id_ = 10'000'001;
  int64_t next_env_id_ = 700'000'001;
};

}  // namespace fluxkey::sim::github
