// GitHub App authentication, first step: a short-lived JWT signed with the
// App's private key (RS256), which GitHub trades for installation tokens.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/time.h"

namespace fluxkey::github {

// The App's RSA private key, parsed once.
class AppKey {
 public:
  // PEM, PKCS#1 ("BEGIN RSA PRIVATE KEY", what GitHub hands out) or PKCS#8.
  // Throws UsageError naming --github-app-key; never quotes the key.
  explicit AppKey(const std::string& pem);
  ~AppKey();
  AppKey(AppKey&&) noexcept;
  AppKey& operator=(AppKey&&) noexcept;

  // RSASSA-PKCS1-v1_5 with SHA-256 over `data`: the raw signature bytes.
  std::string sign_rs256(std::string_view data) const;

 private:
  struct Free {
    void operator()(EVP_PKEY* key) const;
  };
  std::unique_ptr<EVP_PKEY, Free> key_;
};

// The JWT GitHub wants: iat a minute in the past (clock drift), exp nine
// minutes ahead (GitHub refuses more than ten), iss the App id as a number
// when it is all digits, else as given (a client id such as "Iv1.abc").
std::string make_app_jwt(const AppKey& key, const std::string& app_id, Clock::time_point now);

}  // namespace fluxkey::github
