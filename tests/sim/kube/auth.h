// Who is calling: bearer tokens (the admin token, static tokens registered
// through /_sim/tokens, ServiceAccount tokens minted by TokenRequest) and
// client certificates signed by the stand-in's CA (CN = user, O = groups).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/common/pki.h"
#include "sim/kube/store.h"

namespace fluxkey::sim::kube {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  nlohmann::json to_json() const;  // authentication.k8s.io/v1 UserInfo
};

// Wall clock plus an offset tests can move (POST /_sim/clock), so tokens
// can be made to expire without waiting.
class SimClock {
 public:
  std::chrono::system_clock::time_point now() const {
    return std::chrono::system_clock::now() + std::chrono::seconds(offset_.load());
  }
  void set_offset(int64_t seconds) { offset_ = seconds; }
  int64_t offset() const { return offset_; }

 private:
  std::atomic<int64_t> offset_{0};
};

// TokenRequest and the tokens it mints (ES256 JWTs shaped like the real
// ones: iss, sub, aud, exp, iat, nbf, jti, kubernetes.io{...}). A token stays
// valid while it is unexpired, its ServiceAccount exists with the same uid,
// and, when bound, its Secret exists with the same uid.
class ServiceAccountTokens {
 public:
  static constexpr const char* kIssuer = "https://kubernetes.default.svc.cluster.local";

  ServiceAccountTokens(Store& store, const SimClock& clock);

  // Handles POST .../serviceaccounts/{name}/token. Throws ApiError as the
  // real registry does (404 SA or Secret, 422 expirationSeconds, 400 kind,
  // 409 uid).
  nlohmann::json create(const std::string& ns, const std::string& name,
                        const nlohmann::json& request);

  std::optional<UserInfo> authenticate(const std::string& token) const;

  // Metadata of every minted token (never the token itself): sub, jti, iat,
  // exp, audiences, bound secret, alive now.
  nlohmann::json minted() const;

  // The audiences the API server accepts (and TokenRequest defaults to).
  const std::vector<std::string>& api_audiences() const { return api_audiences_; }

 private:
  struct Minted {
    std::string jti, ns, sa, sa_uid, secret, secret_uid;
    std::vector<std::string> audiences;
    int64_t iat = 0, exp = 0;
  };
  // Why a minted token is no longer accepted; empty when it is.
  std::string why_invalid(const Minted& m) const;

  Store& store_;
  const SimClock& clock_;
  PkeyPtr key_;
  std::string kid_;
  std::vector<std::string> api_audiences_ = {kIssuer};
  mutable std::mutex mu_;
  std::map<std::string, Minted> minted_;  // by jti
};

class Authenticator {
 public:
  explicit Authenticator(const ServiceAccountTokens& sa_tokens) : sa_tokens_(sa_tokens) {}

  // Registers a static bearer token (system:authenticated is added).
  void add_token(const std::string& token, UserInfo user);

  // nullopt: no credentials, or none that are valid (both mean 401).
  std::optional<UserInfo> authenticate(const httplib::Request& req) const;

 private:
  const ServiceAccountTokens& sa_tokens_;
  mutable std::mutex mu_;
  std::map<std::string, UserInfo> tokens_;
};

// 32 random bytes, base64url: for the admin token.
std::string random_token();

}  // namespace fluxkey::sim::kube
