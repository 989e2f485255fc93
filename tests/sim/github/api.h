// github-sim's REST and GraphQL behaviour, independent of the HTTP server:
// authentication (tokens, app JWTs, installation tokens), rate limits, the
// Actions secrets endpoints, the app endpoints and the /_sim/ controls.
// Every path is served under both "/" (api.github.com) and "/api/v3/"
// (GitHub Enterprise Server); GraphQL under "/graphql" and "/api/graphql".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "sim/github/api_types.h"
#include "sim/github/credentials.h"
#include "sim/github/directory.h"
#include "sim/github/rate_limiter.h"
#include "sim/github/secret_store.h"

namespace fluxkey::sim::github {

// The caller as authenticated: copies, so that it can outlive the lock.
struct Identity {
  enum class Kind { kAnonymous, kToken, kInstallation, kApp };
  Kind kind = Kind::kAnonymous;
  PersonalToken token;             // kToken
  InstallationToken installation;  // kInstallation
  int64_t app_id = 0;              // kApp, and the app of kInstallation
  std::string rate_key;            // the primary-limit bucket: user:ID, installation:ID, ...
  std::string rate_subject;        // as GitHub names it in the limit message
  std::string log_name;            // for the request log; never a credential
};

class GithubApi {
 public:
  using ClockFn = std::function<Clock::time_point()>;
  using NoteFn = std::function<void(const std::string&)>;

  explicit GithubApi(
      ClockFn clock = [] { return Clock::now(); }, NoteFn note = nullptr);

  // One API request. `log_user` receives the caller's identity for the request log.
  ApiResponse handle(const ApiRequest& request, std::string* log_user = nullptr);

  // Controls. Each throws std::invalid_argument with a message naming the
  // bad field; results are JSON for the reply.
  nlohmann::json apply_setup(const nlohmann::json& spec);
  nlohmann::json rotate_key(const nlohmann::json& spec);
  nlohmann::json apply_limits(const nlohmann::json& spec);
  nlohmann::json state() const;  // repositories, organizations, apps with their ids
  nlohmann::json secrets() const;

  // For command-line seeding: "OWNER/NAME[:ENV,ENV]" and "TOKEN[=scope,scope]".
  static nlohmann::json repo_spec_from_flag(const std::string& flag);
  static nlohmann::json token_spec_from_flag(const std::string& flag);

 private:
  enum class Need { kAny, kToken, kJwt, kTokenOrApp };
  struct Call;
  struct Route {
    std::string method;
    std::vector<std::string> pattern;  // "*" captures one segment
    Need need = Need::kToken;
    std::string docs;          // documentation_url of this endpoint's errors
    std::string oauth_scopes;  // X-Accepted-OAuth-Scopes
    std::string resource = "core";
    std::function<ApiResponse(Call&)> handler;
  };

  void register_secret_routes();  // api_secrets.cc
  void register_repo_routes();    // api_repos.cc
  void register_app_routes();     // api_apps.cc
  void register_graphql_route();  // api_graphql.cc
  void add_route(std::string method, std::vector<std::string> pattern, Need need, std::string docs,
                 std::function<ApiResponse(Call&)> handler, std::string oauth_scopes = "");

  ApiResponse dispatch(Call& call);
  std::variant<Identity, AuthFailure> authenticate(const ApiRequest& request,
                                                   Clock::time_point now);
  PrimaryState count_primary(const Identity& id, const std::string& resource, bool* exceeded);
  PrimaryState peek_primary(const Identity& id, const std::string& resource);
  void add_rate_headers(ApiResponse& response, const PrimaryState& state) const;
  ApiResponse primary_limit_error(const Identity& id, const PrimaryState& state) const;
  ApiResponse secondary_limit_error(int retry_after) const;
  int limit_for(const Identity& id, const std::string& resource) const;

  // Access checks; nullptr with `error` set when refused.
  Repository* repo_for(Call& call, const std::string& owner, const std::string& name,
                       std::initializer_list<const char*> permissions, const char* level,
                       ApiResponse& error);
  Organization* org_for(Call& call, const std::string& login, const char* permission,
                        const char* level, ApiResponse& error);
  bool installation_reaches(const Identity& id, const Repository& repo);

  nlohmann::json repo_json(const Call& call, const Repository& repo);
  nlohmann::json installation_json(const Call& call, const App& app, const Installation& inst);
  nlohmann::json owner_json(const std::string& login);
  nlohmann::json secret_json(const Call& call, const Secret& secret);

  struct SecretTarget;
  std::optional<SecretTarget> secret_target(Call& call, ScopeKind kind, const char* level,
                                            ApiResponse& error);
  ApiResponse put_secret(Call& call, ScopeKind kind);
  ApiResponse org_secret_repositories(Call& call);
  ApiResponse set_org_secret_repositories(Call& call);
  ApiResponse change_org_secret_repository(Call& call, bool add);

  nlohmann::json state_unlocked() const;

  std::vector<Route> routes_;
  ClockFn clock_;
  NoteFn note_;
  mutable std::mutex mutex_;
  Directory directory_;
  SecretStore secrets_;
  Credentials credentials_;
  RateLimiter limiter_;
  std::chrono::milliseconds hold_{0};
  // rotate-key with after_reads: SecretScope::key -> public-key reads left
  // after each of which the key is replaced.
  std::map<std::string, int> rotate_after_reads_;
  int64_t next_user_id_ = 1'000'001;
  uint64_t request_counter_ = 0;
};

// An error reply in GitHub's shape: {"message", "documentation_url", "status"}.
ApiResponse github_error(int status, const std::string& message,
                         const std::string& documentation_url = "https://docs.github.com/rest");

}  // namespace fluxkey::sim::github
