// Parsing of the values users type into flags and config files. Each parser
// throws UsageError naming the flag, the bad value and what would be right.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/names.h"

namespace fluxkey::cli {

// A GitHub secret's home: a repository, or one of its environments.
struct RepoTarget {
  std::string owner;
  std::string repo;
  std::string environment;  // empty: repository secret
};

// "fluxkey/flux-reconcile". Both parts must be DNS-1123 names (namespace: a
// label; name: a subdomain), as the API server would insist.
NamespacedName parse_namespaced_name(const std::string& flag, const std::string& value);

// "owner/repo" or "owner/repo:environment".
RepoTarget parse_repo_target(const std::string& flag, const std::string& value);

// An organization login ("acme").
std::string parse_github_org(const std::string& flag, const std::string& value);

// A repository name without its owner ("app").
std::string parse_github_repo_name(const std::string& flag, const std::string& value);

// "90s", "10m", "24h", "1h30m". `minimum` names the lower bound in the error.
std::chrono::milliseconds parse_duration_flag(const std::string& flag, const std::string& value,
                                              std::chrono::milliseconds minimum = {});

// One of `allowed`, exactly.
std::string parse_choice(const std::string& flag, const std::string& value,
                         const std::vector<std::string>& allowed);

// An https:// URL with a host ("https://k8s.example.com:6443"); trailing
// slashes removed.
std::string parse_https_url(const std::string& flag, const std::string& value);

}  // namespace fluxkey::cli
