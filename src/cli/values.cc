#include "cli/values.h"

#include <regex>

#include "core/error.h"
#include "core/time.h"

namespace fluxkey::cli {
namespace {

// RFC 1123 label (namespaces) and subdomain (most object names).
bool is_dns_label(const std::string& s) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  return s.size() <= 63 && std::regex_match(s, re);
}

bool is_dns_subdomain(const std::string& s) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return s.size() <= 253 && std::regex_match(s, re);
}

// GitHub: owners are alphanumerics and single hyphens; repository names also
// allow '.' and '_'.
bool is_github_owner(const std::string& s) {
  static const std::regex re("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?");
  return s.size() <= 39 && std::regex_match(s, re);
}

bool is_github_repo(const std::string& s) {
  static const std::regex re("[A-Za-z0-9._-]+");
  return s.size() <= 100 && s != "." && s != ".." && std::regex_match(s, re);
}

[[noreturn]] void bad(const std::string& flag, const std::string& value, const std::string& want) {
  throw UsageError("invalid " + flag + " \"" + value + "\": " + want);
}

}  // namespace

NamespacedName parse_namespaced_name(const std::string& flag, const std::string& value) {
  auto slash = value.find('/');
  if (slash == std::string::npos || value.find('/', slash + 1) != std::string::npos) {
    bad(flag, value, "want NAMESPACE/NAME, e.g. fluxkey/flux-reconcile");
  }
  NamespacedName out{value.substr(0, slash), value.substr(slash + 1)};
  if (!is_dns_label(out.namespace_)) {
    bad(flag, value,
        "namespace \"" + out.namespace_ +
            "\" must be lower-case letters, digits and '-', at most 63 characters");
  }
  if (!is_dns_subdomain(out.name)) {
    bad(flag, value, "name \"" + out.name + "\" must be lower-case letters, digits, '-' and '.'");
  }
  return out;
}

RepoTarget parse_repo_target(const std::string& flag, const std::string& value) {
  RepoTarget out;
  std::string repo_part = value;
  if (auto colon = value.find(':'); colon != std::string::npos) {
    repo_part = value.substr(0, colon);
    out.environment = value.substr(colon + 1);
    // GitHub environment names: up to 255 characters, no control characters.
    if (out.environment.empty() || out.environment.size() > 255) {
      bad(flag, value, "environment after ':' must be 1 to 255 characters");
    }
    for (unsigned char c : out.environment) {
      if (c < 0x20 || c == 0x7f) bad(flag, value, "environment name has a control character");
    }
  }
  auto slash = repo_part.find('/');
  if (slash == std::string::npos) bad(flag, value, "want OWNER/REPO or OWNER/REPO:ENVIRONMENT");
  out.owner = repo_part.substr(0, slash);
  out.repo = repo_part.substr(slash + 1);
  if (!is_github_owner(out.owner)) {
    bad(flag, value, "owner \"" + out.owner + "\" is not a valid GitHub user or organization");
  }
  if (!is_github_repo(out.repo)) {
    bad(flag, value, "repository \"" + out.repo + "\" is not a valid GitHub repository name");
  }
  return out;
}

std::chrono::milliseconds parse_duration_flag(const std::string& flag, const std::string& value,
                                              std::chrono::milliseconds minimum) {
  auto d = parse_duration(value);
  if (!d) bad(flag, value, "want a duration such as 90s, 10m, 24h or 1h30m");
  if (*d < minimum) bad(flag, value, "must be at least " + format_duration(minimum));
  return *d;
}

std::string parse_choice(const std::string& flag, const std::string& value,
                         const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& a : allowed) {
    if (a == value) return value;
    list += list.empty() ? a : "|" + a;
  }
  bad(flag, value, "want one of " + list);
}

std::string parse_https_url(const std::string& flag, const std::string& value) {
  static const std::regex re(
      R"(https://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(/[^\s]*)?)");
  if (!std::regex_match(value, re)) {
    bad(flag, value, "want an https:// URL, e.g. https://k8s.example.com:6443");
  }
  std::string out = value;
  while (out.size() > 8 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace fluxkey::cli
