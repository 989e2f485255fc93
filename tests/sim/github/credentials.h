// Who may call github-sim: personal access tokens (classic, with scopes),
// GitHub Apps (RS256 JWTs checked against the registered public key) and the
// installation access tokens those apps mint.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "sim/common/pki.h"

namespace fluxkey::sim::github {

struct PersonalToken {
  std::string token;
  std::string login;
  int64_t user_id = 0;
  std::vector<std::string> scopes;  // classic OAuth scopes, e.g. repo, admin:org
  bool has_scope(std::string_view scope) const;
  std::string scopes_header() const;  // "repo, admin:org", as X-OAuth-Scopes
};

struct Installation {
  int64_t id = 0;
  std::string account;                            // organization or user login
  std::optional<std::vector<std::string>> repos;  // repository names; nullopt = all
  nlohmann::json permissions;                     // {"secrets":"write", ...}
};

struct App {
  int64_t id = 0;
  std::string client_id;
  std::string slug;
  PkeyPtr public_key;
  std::deque<Installation> installations;

  Installation* find_installation(int64_t installation_id);
  Installation* installation_for_account(std::string_view account);
};

struct InstallationToken {
  std::string token;
  int64_t app_id = 0;
  int64_t installation_id = 0;
  Clock::time_point expires_at;
  std::optional<std::vector<int64_t>> repository_ids;  // narrowed at creation; nullopt = all
  nlohmann::json permissions;
};

// A refusal in GitHub's words: HTTP status and message.
struct AuthFailure {
  int status = 401;
  std::string message;
};

// The permissions a fresh installation gets unless setup says otherwise:
// what fluxkey needs, nothing more.
nlohmann::json default_installation_permissions();

// Decodes a JWT's claims without checking anything (to find the issuer).
std::optional<nlohmann::json> peek_jwt_claims(std::string_view token);
bool looks_like_jwt(std::string_view token);

class Credentials {
 public:
  PersonalToken& add_token(std::string token, std::string login, int64_t user_id,
                           std::vector<std::string> scopes);
  App& add_app(int64_t id, std::string client_id, const std::string& public_key_pem);

  PersonalToken* find_token(std::string_view token);
  App* find_app(int64_t id);
  // By numeric app id (number or numeric string) or client id, as "iss" may be either.
  App* find_app_by_issuer(const nlohmann::json& iss);
  // A valid (not expired) installation token; nullptr otherwise.
  InstallationToken* find_installation_token(std::string_view token, Clock::time_point now);

  // Verifies an app JWT as GitHub does: RS256 signature with the app's key,
  // iat not in the future (60 s of skew allowed), exp in the future and at
  // most 10 minutes ahead, iss the app id or client id.
  std::variant<App*, AuthFailure> verify_app_jwt(std::string_view jwt, Clock::time_point now);

  InstallationToken& mint_installation_token(const App& app, const Installation& installation,
                                             Clock::time_point expires_at,
                                             std::optional<std::vector<int64_t>> repository_ids,
                                             nlohmann::json permissions);

  const std::deque<PersonalToken>& tokens() const { return tokens_; }
  const std::deque<App>& apps() const { return apps_; }
  void clear();

 private:
  std::deque<PersonalToken> tokens_;
  std::deque<App> apps_;
  std::deque<InstallationToken> installation_tokens_;
};

}  // namespace fluxkey::sim::github
