#include "flux/credentials.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/error.h"
#include "core/secret.h"
#include "core/text.h"

namespace fluxkey::flux {

std::string decode_kubeconfig_data(const std::string& data) {
  const SecretString text(trim(data));
  if (text.empty()) {
    throw UsageError(std::string(kKubeconfigDataEnv) +
                     " is set but empty: the secret holding the kubeconfig is missing or was not "
                     "passed to this step");
  }
  // YAML always has a ':' or a space somewhere base64 never has, so valid
  // base64 means it is the encoded form.
  if (std::optional<std::string> decoded = base64_decode(text.view())) return std::move(*decoded);
  return text.str();
}

kube::RestConfig parse_kubeconfig_data(const std::string& data,
                                       const kube::ConnectionOptions& connection) {
  // fluxkey's decoded copy of the credentials, wiped once parsed. (The
  // variable itself stays in the environment; children never get it.)
  const SecretString yaml(decode_kubeconfig_data(data));
  if (yaml.view().find(':') == std::string::npos) {
    throw UsageError(std::string(kKubeconfigDataEnv) +
                     " holds neither a kubeconfig nor the base64 of one; store the kubeconfig "
                     "YAML, or its base64 on one line");
  }
  return kube::parse_kubeconfig(yaml.str(), std::string("$") + kKubeconfigDataEnv,
                                connection.context);
}

kube::RestConfig load_reconcile_config(const kube::ConnectionOptions& connection) {
  const char* data = std::getenv(kKubeconfigDataEnv);
  if (data == nullptr) return kube::load_rest_config(connection);
  return parse_kubeconfig_data(data, connection);
}

std::optional<Clock::time_point> jwt_expiry(const std::string& token) {
  size_t first = token.find('.');
  if (first == std::string::npos) return std::nullopt;
  size_t second = token.find('.', first + 1);
  if (second == std::string::npos || token.find('.', second + 1) != std::string::npos) {
    return std::nullopt;
  }
  std::optional<std::string> json =
      base64url_decode(std::string_view(token).substr(first + 1, second - first - 1));
  if (!json) return std::nullopt;
  nlohmann::json claims = nlohmann::json::parse(*json, nullptr, false);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number()) {
    return std::nullopt;
  }
  // A claim before 1970 or past what the clock holds (2262) is no expiry to
  // report: casting or subtracting it would overflow.
  const double exp = claims["exp"].get<double>();
  if (!(exp >= 0 && exp < 9.2e9)) return std::nullopt;
  return Clock::time_point(std::chrono::seconds(static_cast<long long>(exp)));
}

std::string unauthorized_message(const kube::RestConfig& config, Clock::time_point now) {
  std::string out = "the API server " + config.server + " refused the credentials from " +
                    config.origin + " (401 Unauthorized)";
  std::optional<Clock::time_point> expiry;
  if (!config.token.empty()) expiry = jwt_expiry(config.token.str());
  if (expiry && *expiry <= now) {
    auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - *expiry);
    out += ": the token expired at " + format_rfc3339(*expiry) + " (" +
           format_duration(std::chrono::duration_cast<std::chrono::seconds>(ago)) + " ago)";
  } else if (expiry) {
    out += ": the token (valid until " + format_rfc3339(*expiry) +
           " by its own claim) was revoked, or the clocks disagree";
  } else {
    out += ": the token has expired or was revoked";
  }
  return out +
         "; the fluxkey CronJob renews it before it expires: check it with `fluxkey status`, "
         "renew now with `fluxkey rotate`";
}

}  // namespace fluxkey::flux
