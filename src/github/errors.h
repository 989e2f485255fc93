// Turning GitHub's refusals into one-line messages that name the target,
// quote GitHub's own words and say what to fix.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/time.h"
#include "github/client.h"
#include "github/target.h"
#include "http/http.h"

namespace fluxkey::github {

// What a request was about, for its error message.
struct ErrorContext {
  std::string what;            // "repository acme/app", "the GitHub App 77"
  std::optional<Scope> scope;  // the kind of target, for the 403/404 hints
  bool app = false;            // the credential is a GitHub App's
};

// GitHub's `message`, on one line; "" when the body has none.
std::string github_message(const http::Response& response);

// The permissions a 403 says are needed, from x-accepted-github-permissions
// ("secrets=write; environments=write" -> "the Secrets write or
// Environments write permission") or x-accepted-oauth-scopes ("admin:org" ->
// "the admin:org scope"); "" when neither header names any.
std::string needed_permission(const http::Response& response, bool app);

// The GitHubError for a response that is not a success.
GitHubError refusal(const ErrorContext& context, const http::Response& response);

// A 403 or 429 that refuses on rate grounds rather than permissions.
struct RateLimitHit {
  std::string kind;     // "secondary rate limit", "API rate limit"
  std::string message;  // GitHub's
  // How long GitHub asks to wait (retry-after, or until x-ratelimit-reset
  // when nothing remains); nullopt when it does not say.
  std::optional<std::chrono::milliseconds> wait;
  std::optional<Clock::time_point> reset;  // when the primary limit resets
};
std::optional<RateLimitHit> rate_limit_hit(const http::Response& response, Clock::time_point now);

}  // namespace fluxkey::github
