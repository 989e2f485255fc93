#include "sim/github/directory.h"

#include <cctype>

namespace fluxkey::sim::github {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Environment* Repository::find_environment(std::string_view env_name) {
  for (auto& env : environments) {
    if (iequals(env.name, env_name)) return &env;
  }
  return nullptr;
}

Repository& Directory::add_repository(std::string_view owner, std::string_view name) {
  if (Repository* existing = find_repository(owner, name)) return *existing;
  Repository& repo = repos_.emplace_back();
  repo.id = next_repo_id_++;
  repo.owner = owner;
  repo.name = name;
  return repo;
}

Environment& Directory::add_environment(Repository& repo, std::string_view env_name) {
  if (Environment* existing = repo.find_environment(env_name)) return *existing;
  Environment& env = repo.environments.emplace_back();
  env.id = next_env_id_++;
  env.name = env_name;
  return env;
}

Organization& Directory::add_organization(std::string_view login) {
  if (Organization* existing = find_organization(login)) return *existing;
  Organization& org = orgs_.emplace_back();
  org.id = next_org_id_++;
  org.login = login;
  return org;
}

Repository* Directory::find_repository(std::string_view owner, std::string_view name) {
  for (auto& repo : repos_) {
    if (iequals(repo.owner, owner) && iequals(repo.name, name)) return &repo;
  }
  return nullptr;
}

Repository* Directory::find_repository(int64_t id) {
  for (auto& repo : repos_) {
    if (repo.id == id) return &repo;
  }
  return nullptr;
}

Organization* Directory::find_organization(std::string_view login) {
  for (auto& org : orgs_) {
    if (iequals(org.login, login)) return &org;
  }
  return nullptr;
}

std::vector<Repository*> Directory::repositories_of(std::string_view owner) {
  std::vector<Repository*> out;
  for (auto& repo : repos_) {
    if (iequals(repo.owner, owner)) out.push_back(&repo);
  }
  return out;
}

int64_t Directory::account_id(std::string_view login) {
  if (Organization* org = find_organization(login)) return org->id;
  for (const auto& [name, id] : users_) {
    if (iequals(name, login)) return id;
  }
  users_.emplace_back(std::string(login), next_user_id_);
  return next_user_id_++;
}

}  // namespace fluxkey::sim::github
