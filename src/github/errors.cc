#include "github/errors.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/text.h"

namespace fluxkey::github {
namespace {

// Collapses line breaks and runs of spaces: GitHub's 422s read
// "Invalid request.\n\n...".
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  return trim(out);
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(separator, start);
    std::string part = trim(text.substr(start, end == std::string::npos ? end : end - start));
    if (!part.empty()) parts.push_back(part);
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::string join(const std::vector<std::string>& parts, const std::string& word) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? " " + word + " " : ", ";
    out += parts[i];
  }
  return out;
}

// "organization_secrets=write" -> "Organization secrets write", as the
// permission is labelled in GitHub's settings pages.
std::string permission_label(const std::string& grant) {
  size_t eq = grant.find('=');
  std::string name = trim(grant.substr(0, eq));
  std::string level = eq == std::string::npos ? "" : trim(grant.substr(eq + 1));
  std::replace(name.begin(), name.end(), '_', ' ');
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return level.empty() ? name : name + " " + level;
}

std::string default_permission(Scope scope, bool app) {
  std::string who = app ? "the App" : "the token";
  switch (scope) {
    case Scope::kRepository:
      return app ? who + " needs the Secrets write permission"
                 : who +
                       " needs the Secrets write permission (fine-grained) or the repo scope "
                       "(classic)";
    case Scope::kEnvironment:
      return app ? who + " needs the Environments write permission"
                 : who +
                       " needs the Environments write permission (fine-grained) or the repo "
                       "scope (classic)";
    case Scope::kOrganization:
      return app ? who + " needs the organization Secrets write permission"
                 : who +
                       " needs the organization Secrets write permission (fine-grained) or "
                       "the admin:org scope (classic)";
  }
  return "";
}

std::string credential_hint(bool app) {
  return app ? "check --github-app-id / GITHUB_APP_ID and --github-app-key / "
               "GITHUB_APP_PRIVATE_KEY"
             : "check GITHUB_TOKEN / --github-token-file";
}

std::string not_found_hint(const std::optional<Scope>& scope) {
  if (scope == Scope::kOrganization) {
    return "organization secrets need the admin:org scope / the App installed on the "
           "organization";
  }
  if (scope == Scope::kEnvironment) {
    return "check that the environment exists; a private repository needs the repo scope / the "
           "App installed";
  }
  return "a private repository needs the repo scope / the App installed";
}

std::optional<long long> integer_header(const http::Response& response, const char* name) {
  auto value = response.header(name);
  if (!value) return std::nullopt;
  std::string text = trim(*value);
  long long number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

}  // namespace

std::string github_message(const http::Response& response) {
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object()) {
    auto it = body.find("message");
    if (it != body.end() && it->is_string()) return one_line(it->get<std::string>());
  }
  return "";
}

std::string needed_permission(const http::Response& response, bool app) {
  const std::string who = app ? "the App" : "the token";
  if (auto header = response.header("x-accepted-github-permissions")) {
    // Sets separated by ";" are alternatives; within one, "," means all of.
    std::vector<std::string> alternatives;
    size_t grants = 0;
    // Header text ends up in a message: one line (a stray CR is possible).
    for (const auto& set : split(one_line(*header), ';')) {
      std::vector<std::string> labels;
      for (const auto& grant : split(set, ',')) labels.push_back(permission_label(grant));
      grants = std::max(grants, labels.size());
      if (!labels.empty()) alternatives.push_back(join(labels, "and"));
    }
    if (!alternatives.empty()) {
      return who + " needs the " + join(alternatives, "or") +
             (grants > 1 ? " permissions" : " permission");
    }
  }
  if (!app) {
    if (auto header = response.header("x-accepted-oauth-scopes")) {
      std::vector<std::string> scopes = split(one_line(*header), ',');
      if (scopes.size() == 1) return who + " needs the " + scopes[0] + " scope";
      if (!scopes.empty()) return who + " needs one of the scopes " + join(scopes, "or");
    }
  }
  return "";
}

GitHubError refusal(const ErrorContext& context, const http::Response& response) {
  const int status = static_cast<int>(response.status);
  std::string message = github_message(response);
  const std::string said = message.empty() ? "HTTP " + std::to_string(status) : message;
  switch (status) {
    case 401: {
      std::string hint = credential_hint(context.app);
      std::string l = lower_ascii(message);
      if (context.app &&
          (l.find("'iat'") != std::string::npos || l.find("'exp'") != std::string::npos ||
           l.find("expir") != std::string::npos)) {
        hint += ", and that the system clock is right";
      }
      return GitHubError(status,
                         context.what + ": GitHub rejected the credential (" + said + "); " + hint);
    }
    case 404:
      return GitHubError(status, context.what + " not found, or the credential cannot see it (" +
                                     said + "); " + not_found_hint(context.scope));
    case 403: {
      std::string need = needed_permission(response, context.app);
      if (need.empty() && context.scope) need = default_permission(*context.scope, context.app);
      return GitHubError(status, context.what + ": GitHub refused access (" + said + ")" +
                                     (need.empty() ? "" : "; " + need));
    }
    default:
      break;
  }
  std::string text =
      context.what + ": GitHub answered " + std::to_string(status) + " (" + said + ")";
  if (status >= 500) text += "; GitHub is failing, try again later";
  return GitHubError(status, text);
}

std::optional<RateLimitHit> rate_limit_hit(const http::Response& response, Clock::time_point now) {
  if (response.status != 403 && response.status != 429) return std::nullopt;
  RateLimitHit hit;
  hit.message = github_message(response);
  std::string l = lower_ascii(hit.message);
  // A 429 is a rate refusal whatever it says; a 403 only when it says so (a
  // plain 403 is a permission refusal and waiting would not help).
  if (response.status == 403 && l.find("rate limit") == std::string::npos) return std::nullopt;
  hit.kind = l.find("secondary") != std::string::npos ? "secondary rate limit" : "API rate limit";
  if (auto value = response.header("retry-after")) hit.wait = http::parse_retry_after(*value);
  auto remaining = integer_header(response, "x-ratelimit-remaining");
  auto reset = integer_header(response, "x-ratelimit-reset");
  // A reset time the clock cannot hold (past 2262) is as good as none.
  if (reset && remaining && *remaining == 0 && *reset >= 0 && *reset < 9'200'000'000) {
    hit.reset = Clock::time_point(std::chrono::seconds(*reset));
    if (!hit.wait) {
      auto until = std::chrono::ceil<std::chrono::milliseconds>(*hit.reset - now);
      hit.wait = std::max(until, std::chrono::milliseconds(0));
    }
  }
  return hit;
}

}  // namespace fluxkey::github
