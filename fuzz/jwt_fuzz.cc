// flux::jwt_expiry, which reads the `exp` claim of the kubeconfig's token
// without verifying anything, and unauthorized_message, which reports it.
// The input is tried as the token itself and as the JSON claims of one.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/base64.h"
#include "flux/credentials.h"
#include "fuzz_support.h"

namespace {

using fluxkey::fuzz::require;

const fluxkey::Clock::time_point kNow{std::chrono::seconds(1795824000)};

std::string message_for(const std::string& token) {
  fluxkey::kube::RestConfig config;
  config.server = "https://127.0.0.1:6443";
  config.origin = "kubeconfig input, context fuzz";
  config.token = token;
  std::string message;
  fluxkey::fuzz::expect_errors_only(
      "unauthorized_message", [&] { message = fluxkey::flux::unauthorized_message(config, kNow); });
  fluxkey::fuzz::check_message(message, "unauthorized_message");
  return message;
}

void check_token(const std::string& token) {
  std::optional<fluxkey::Clock::time_point> expiry;
  fluxkey::fuzz::expect_errors_only("jwt_expiry",
                                    [&] { expiry = fluxkey::flux::jwt_expiry(token); });
  if (expiry) fluxkey::format_rfc3339(*expiry);

  // The token is a secret: no message may quote it (confirmed with its
  // letters changed, since a token can also be words the message says).
  if (token.size() >= 8 && message_for(token).find(token) != std::string::npos) {
    const std::string changed = fluxkey::fuzz::altered(token);
    require(changed == token || message_for(changed).find(changed) == std::string::npos,
            "unauthorized_message quotes the token");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  check_token(input);

  // The input as the claims of a token: {"alg":"RS256"}.CLAIMS.signature.
  const std::string token = "eyJhbGciOiJSUzI1NiJ9." + fluxkey::base64url_encode(input) + ".c2ln";
  check_token(token);
  auto claims = nlohmann::json::parse(input, nullptr, false);
  if (claims.is_object() && claims.contains("exp") && claims["exp"].is_number_integer()) {
    // A plausible exp (years 1970 to 2200) is read back exactly.
    long long exp = claims["exp"].get<long long>();
    if (exp >= 0 && exp < 7258118400LL) {
      auto expiry = fluxkey::flux::jwt_expiry(token);
      require(expiry && *expiry == fluxkey::Clock::time_point(std::chrono::seconds(exp)),
              "exp " + std::to_string(exp) + " was not read back");
    }
  }
  return 0;
}
