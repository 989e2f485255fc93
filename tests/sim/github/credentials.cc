#include "sim/github/credentials.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>

#include "crypto/sealed_box.h"
#include "sim/common/jwt.h"
#include "sim/common/secret_ledger.h"

namespace fluxkey::sim::github {
namespace {

constexpr int64_t kIatSkewSeconds = 60;
constexpr int64_t kMaxJwtLifetimeSeconds = 600;

// GitHub's installation tokens: "ghs_" and 36 base62 characters.
std::string random_ghs_token() {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  ensure_sodium();
  std::string out = "ghs_";
  for (int i = 0; i < 36; ++i) out.push_back(kAlphabet[randombytes_uniform(62)]);
  return out;
}

int64_t epoch_seconds(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// JWT NumericDate: a JSON number; GitHub wants integers for iat.
std::optional<int64_t> numeric_claim(const nlohmann::json& claims, const char* name,
                                     bool integer_only) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!integer_only && it->is_number_float()) {
    return static_cast<int64_t>(std::floor(it->get<double>()));
  }
  return std::nullopt;
}

}  // namespace

bool PersonalToken::has_scope(std::string_view scope) const {
  for (const auto& s : scopes) {
    if (s == scope) return true;
    // GitHub's scope hierarchy: admin:org covers write:org and read:org.
    if (s == "admin:org" && (scope == "write:org" || scope == "read:org")) return true;
    if (s == "write:org" && scope == "read:org") return true;
  }
  return false;
}

std::string PersonalToken::scopes_header() const {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

Installation* App::find_installation(int64_t installation_id) {
  for (auto& inst : installations) {
    if (inst.id == installation_id) return &inst;
  }
  return nullptr;
}

Installation* App::installation_for_account(std::string_view account) {
  for (auto& inst : installations) {
    if (inst.account.size() == account.size() &&
        std::equal(inst.account.begin(), inst.account.end(), account.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return &inst;
    }
  }
  return nullptr;
}

nlohmann::json default_installation_permissions() {
  return {{"secrets", "write"},
          {"environments", "write"},
          {"organization_secrets", "write"},
          {"metadata", "read"}};
}

std::optional<nlohmann::json> peek_jwt_claims(std::string_view token) {
  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return std::nullopt;
  auto raw = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!raw) return std::nullopt;
  auto claims = nlohmann::json::parse(*raw, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  return claims;
}

bool looks_like_jwt(std::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2 && token.rfind("eyJ", 0) == 0;
}

PersonalToken& Credentials::add_token(std::string token, std::string login, int64_t user_id,
                                      std::vector<std::string> scopes) {
  record_secret("personal access token", token);
  if (PersonalToken* existing = find_token(token)) {
    existing->login = std::move(login);
    existing->user_id = user_id;
    existing->scopes = std::move(scopes);
    return *existing;
  }
  return tokens_.emplace_back(
      PersonalToken{std::move(token), std::move(login), user_id, std::move(scopes)});
}

App& Credentials::add_app(int64_t id, std::string client_id, const std::string& public_key_pem) {
  PkeyPtr key = public_key_from_pem(public_key_pem);
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    throw std::runtime_error("app " + std::to_string(id) +
                             ": public_key_pem must be an RSA key (GitHub Apps sign RS256)");
  }
  App* app = find_app(id);
  if (app == nullptr) app = &apps_.emplace_back();
  app->id = id;
  app->client_id = std::move(client_id);
  app->slug = "app-" + std::to_string(id);
  app->public_key = std::move(key);
  return *app;
}

PersonalToken* Credentials::find_token(std::string_view token) {
  for (auto& t : tokens_) {
    // Constant-time compare: a stand-in, but no reason to teach bad habits.
    if (t.token.size() == token.size() &&
        sodium_memcmp(t.token.data(), token.data(), token.size()) == 0) {
      return &t;
    }
  }
  return nullptr;
}

App* Credentials::find_app(int64_t id) {
  for (auto& app : apps_) {
    if (app.id == id) return &app;
  }
  return nullptr;
}

App* Credentials::find_app_by_issuer(const nlohmann::json& iss) {
  if (iss.is_number_integer()) return find_app(iss.get<int64_t>());
  if (!iss.is_string()) return nullptr;
  const auto& s = iss.get_ref<const std::string&>();
  for (auto& app : apps_) {
    if (!app.client_id.empty() && app.client_id == s) return &app;
    if (s == std::to_string(app.id)) return &app;
  }
  return nullptr;
}

InstallationToken* Credentials::find_installation_token(std::string_view token,
                                                        Clock::time_point now) {
  for (auto& t : installation_tokens_) {
    if (t.token.size() == token.size() &&
        sodium_memcmp(t.token.data(), token.data(), token.size()) == 0) {
      return now < t.expires_at ? &t : nullptr;
    }
  }
  return nullptr;
}

std::variant<App*, AuthFailure> Credentials::verify_app_jwt(std::string_view jwt,
                                                            Clock::time_point now) {
  const AuthFailure undecodable{401, "A JSON web token could not be decoded"};
  auto claims = peek_jwt_claims(jwt);
  if (!claims) return undecodable;
  App* app = find_app_by_issuer(claims->value("iss", nlohmann::json()));
  if (app == nullptr) return AuthFailure{404, "Integration not found"};
  if (!jwt_verify(jwt, app->public_key.get())) return undecodable;

  const int64_t now_s = epoch_seconds(now);
  auto iat = numeric_claim(*claims, "iat", true);
  if (!iat || *iat > now_s + kIatSkewSeconds) {
    return AuthFailure{401,
                       "'Issued at' claim ('iat') must be an Integer representing the time that "
                       "the assertion was issued"};
  }
  auto exp = numeric_claim(*claims, "exp", false);
  if (!exp || *exp <= now_s) {
    return AuthFailure{401,
                       "'Expiration time' claim ('exp') must be a numeric value representing the "
                       "future time at which the assertion expires"};
  }
  if (*exp > now_s + kMaxJwtLifetimeSeconds) {
    return AuthFailure{401, "'Expiration time' claim ('exp') is too far in the future"};
  }
  return app;
}

InstallationToken& Credentials::mint_installation_token(
    const App& app, const Installation& installation, Clock::time_point expires_at,
    std::optional<std::vector<int64_t>> repository_ids, nlohmann::json permissions) {
  InstallationToken& minted = installation_tokens_.emplace_back(
      InstallationToken{random_ghs_token(), app.id, installation.id, expires_at,
                        std::move(repository_ids), std::move(permissions)});
  record_secret("installation token", minted.token);
  return minted;
}

void Credentials::clear() {
  tokens_.clear();
  apps_.clear();
  installation_tokens_.clear();
}

}  // namespace fluxkey::sim::github
