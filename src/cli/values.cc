#include "cli/values.h"

#include <cctype>

#include "core/error.h"
#include "core/time.h"

namespace fluxkey::cli {
namespace {

bool all_of(const std::string& s, bool (*ok)(char)) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool alnum(char c) {
  return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

// Letters/digits allowed by `ok`, inner '-' allowed, at both ends `ok` only.
bool is_hyphenated(const std::string& s, bool (*ok)(char), size_t max) {
  if (s.empty() || s.size() > max || s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (c != '-' && !ok(c)) return false;
  }
  return true;
}

// RFC 1123 label (namespaces) and subdomain (most object names).
bool is_dns_label(const std::string& s) {
  return is_hyphenated(s, lower_alnum, 63);
}

bool is_dns_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    if (!is_hyphenated(s.substr(start, dot - start), lower_alnum, 63)) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

// GitHub: owners are alphanumerics and single hyphens; repository names also
// allow '.' and '_'.
bool is_github_owner(const std::string& s) {
  return is_hyphenated(s, alnum, 39);
}

bool is_github_repo(const std::string& s) {
  return !s.empty() && s.size() <= 100 && s != "." && s != ".." &&
         all_of(s, [](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

// https://HOST[:PORT][/PATH]: HOST a name or a bracketed IPv6 address.
bool is_https_url(const std::string& s) {
  const std::string scheme = "https://";
  if (s.compare(0, scheme.size(), scheme) != 0) return false;
  std::string rest = s.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  std::string host = authority, port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos || close == 1) return false;
    host = authority.substr(1, close - 1);
    if (!all_of(host, [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      return false;
    }
    port = authority.substr(close + 1);
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    port = colon == std::string::npos ? "" : authority.substr(colon);
    if (host.empty() || !all_of(host, [](char c) { return alnum(c) || c == '.' || c == '-'; })) {
      return false;
    }
  }
  if (!port.empty()) {
    std::string digits = port.substr(1);
    if (port[0] != ':' || digits.empty() || digits.size() > 5 ||
        !all_of(digits, [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
  }
  return all_of(path, [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
}

[[noreturn]] void bad(const std::string& flag, const std::string& value, const std::string& want) {
  // The value and its parts are quoted as typed, control characters escaped.
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

std::string parse_github_org(const std::string& flag, const std::string& value) {
  if (!is_github_owner(value)) {
    bad(flag, value,
        "want an organization name such as acme (letters, digits and single hyphens; "
        "repositories go to --github-repo)");
  }
  return value;
}

std::string parse_github_repo_name(const std::string& flag, const std::string& value) {
  if (!is_github_repo(value)) bad(flag, value, "not a valid GitHub repository name");
  return value;
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
  if (!is_https_url(value)) {
    bad(flag, value, "want an https:// URL, e.g. https://k8s.example.com:6443");
  }
  std::string out = value;
  while (out.size() > 8 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace fluxkey::cli
