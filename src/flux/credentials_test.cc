#include "flux/credentials.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/error.h"
#include "core/text.h"
#include "support/kube_fakes.h"

namespace flux_credentials_test {

using namespace fluxkey;
using namespace fluxkey::flux;
using fluxkey::kube::testing::EnvGuard;

namespace {

const std::string kToken = "unit-test-token-value";
const std::string kKubeconfig =
    "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "
    "https://127.0.0.1:6443\nusers:\n- name: u\n  user:\n    token: " +
    kToken +
    "\ncontexts:\n- name: ci\n  context:\n    cluster: c\n    user: u\n    namespace: apps\n"
    "current-context: ci\n";

std::string jwt(long long exp) {
  return base64url_encode(R"({"alg":"ES256"})") + "." +
         base64url_encode(R"({"sub":"system:serviceaccount:fluxkey:flux-reconcile","exp":)" +
                          std::to_string(exp) + "}") +
         ".c2lnbmF0dXJl";
}

std::string usage_error(const std::string& data) {
  EnvGuard env;
  env.set(kKubeconfigDataEnv, data);
  try {
    load_reconcile_config({});
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("FLUXKEY_KUBECONFIG_DATA: raw YAML or its base64, one line or wrapped") {
  CHECK(decode_kubeconfig_data(kKubeconfig) == trim(kKubeconfig));
  CHECK(decode_kubeconfig_data(base64_encode(kKubeconfig)) == kKubeconfig);
  std::string wrapped = base64_encode(kKubeconfig);
  for (size_t i = 60; i < wrapped.size(); i += 61) wrapped.insert(i, "\n");
  CHECK(decode_kubeconfig_data(wrapped + "\n") == kKubeconfig);
}

TEST_CASE("FLUXKEY_KUBECONFIG_DATA wins over --kubeconfig and keeps its context namespace") {
  EnvGuard env;
  env.set(kKubeconfigDataEnv, base64_encode(kKubeconfig));
  kube::RestConfig config = load_reconcile_config({"/nonexistent/kubeconfig", ""});
  CHECK(config.server == "https://127.0.0.1:6443");
  CHECK(config.token == kToken);
  CHECK(config.default_namespace == "apps");
  CHECK(config.origin.find("FLUXKEY_KUBECONFIG_DATA") != std::string::npos);
}

TEST_CASE("parse_kubeconfig_data reads the value it is given, at the context asked for") {
  EnvGuard env;
  env.set(kKubeconfigDataEnv, "not: [a kubeconfig");
  kube::RestConfig config = parse_kubeconfig_data(kKubeconfig, {"", "ci"});
  CHECK(config.token == kToken);
  CHECK(config.default_namespace == "apps");
  try {
    parse_kubeconfig_data(kKubeconfig, {"", "staging"});
    FAIL("a context the kubeconfig lacks was accepted");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("staging") != std::string::npos);
    CHECK(std::string(e.what()).find(kToken) == std::string::npos);
  }
}

TEST_CASE("bad FLUXKEY_KUBECONFIG_DATA is a usage error that never quotes it") {
  std::string empty = usage_error("  \n");
  CHECK(empty.find("set but empty") != std::string::npos);
  std::string junk = usage_error(base64_encode("just some words without a colon " + kToken));
  CHECK(junk.find("neither a kubeconfig nor the base64 of one") != std::string::npos);
  CHECK(junk.find(kToken) == std::string::npos);
  std::string broken = usage_error("clusters: [\n  token: " + kToken);
  CHECK(broken.find("FLUXKEY_KUBECONFIG_DATA") != std::string::npos);
  CHECK(broken.find(kToken) == std::string::npos);
}

TEST_CASE("jwt_expiry reads exp without verifying; anything else is not a JWT") {
  auto exp = jwt_expiry(jwt(1'800'000'000));
  REQUIRE(exp.has_value());
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(exp->time_since_epoch()).count() ==
        1'800'000'000);
  CHECK_FALSE(jwt_expiry("opaque-token").has_value());
  CHECK_FALSE(jwt_expiry("a.b").has_value());
  CHECK_FALSE(jwt_expiry("a.b.c.d").has_value());
  CHECK_FALSE(jwt_expiry(base64url_encode("{}") + "." + base64url_encode(R"({"sub":"x"})") + ".s")
                  .has_value());
  CHECK_FALSE(jwt_expiry("a.!!!.c").has_value());
}

TEST_CASE("the 401 message: when the token expired, and how to renew it; never the token") {
  kube::RestConfig config;
  config.server = "https://k8s.example.com";
  config.origin = "kubeconfig $FLUXKEY_KUBECONFIG_DATA, context ci";
  Clock::time_point now = Clock::time_point(std::chrono::seconds(1'800'003'600));
  config.token = jwt(1'800'000'000);
  std::string expired = unauthorized_message(config, now);
  CHECK(expired.find("refused the credentials from kubeconfig $FLUXKEY_KUBECONFIG_DATA") !=
        std::string::npos);
  CHECK(expired.find("the token expired at 2027-01-15T08:00:00Z (1h ago)") != std::string::npos);
  CHECK(expired.find("fluxkey status") != std::string::npos);
  CHECK(expired.find("fluxkey rotate") != std::string::npos);
  CHECK(expired.find(config.token.str()) == std::string::npos);

  config.token = jwt(1'900'000'000);
  CHECK(unauthorized_message(config, now).find("was revoked, or the clocks disagree") !=
        std::string::npos);
  config.token = kToken;
  std::string opaque = unauthorized_message(config, now);
  CHECK(opaque.find("has expired or was revoked") != std::string::npos);
  CHECK(opaque.find(kToken) == std::string::npos);
  CHECK(opaque.find('\n') == std::string::npos);
}

TEST_CASE("jwt_expiry: an exp the clock cannot hold is no expiry, not an overflow (fuzz)") {
  for (double exp : {1e300, 1.79e19, 9.3e9, -1.0, -9.2e9}) {
    std::string claims = base64url_encode(nlohmann::json{{"exp", exp}}.dump());
    CHECK_FALSE(jwt_expiry("eyJhbGciOiJSUzI1NiJ9." + claims + ".c2ln").has_value());
  }
  kube::RestConfig config;
  config.token = "eyJhbGciOiJSUzI1NiJ9." + base64url_encode(R"({"exp": -8.8e9})") + ".c2ln";
  CHECK(unauthorized_message(config, Clock::now()).find("has expired or was revoked") !=
        std::string::npos);
}

}  // namespace flux_credentials_test
