#include "action/kubeconfig_input.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/error.h"

namespace action_kubeconfig_input_test {

using namespace fluxkey;
using namespace fluxkey::action;

namespace {

// An unsigned-looking JWT (the signature is never checked here).
std::string jwt(const nlohmann::json& claims) {
  return base64url_encode(R"({"alg":"ES256","kid":"k"})") + "." + base64url_encode(claims.dump()) +
         "." + base64url_encode("not-a-real-signature");
}

std::string kubeconfig(const std::string& token) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: prod\n"
         "  cluster:\n"
         "    server: https://127.0.0.1:6443\n"
         "contexts:\n"
         "- name: flux\n"
         "  context:\n"
         "    cluster: prod\n"
         "    user: flux-reconcile\n"
         "    namespace: flux-system\n"
         "current-context: flux\n"
         "users:\n"
         "- name: flux-reconcile\n"
         "  user:\n"
         "    token: " +
         token + "\n";
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string usage_error(const std::string& input, Clock::time_point now = Clock::now()) {
  try {
    load_input(input, now);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

const Clock::time_point kNow = Clock::time_point(std::chrono::seconds(1'800'000'000));

}  // namespace

TEST_CASE("raw YAML and base64 (one line or wrapped) decode to the same kubeconfig") {
  std::string yaml = kubeconfig("tok-123");
  DecodedInput raw = decode_input(yaml);
  CHECK_FALSE(raw.base64);
  CHECK(raw.yaml == yaml);

  DecodedInput encoded = decode_input(base64_encode(yaml));
  CHECK(encoded.base64);
  CHECK(encoded.yaml == yaml);

  std::string wrapped = base64_encode(yaml);
  for (size_t at = 76; at < wrapped.size(); at += 77) wrapped.insert(at, "\n");
  DecodedInput w = decode_input(wrapped + "\n");
  CHECK(w.base64);
  CHECK(w.yaml == yaml);
}

TEST_CASE("empty and undecodable inputs are usage errors that never quote the input") {
  CHECK(usage_error("").starts_with("the kubeconfig input is empty;"));
  CHECK(usage_error(" \n ").starts_with("the kubeconfig input is empty;"));
  std::string garbage = "not-a-kubeconfig!!";
  std::string message = usage_error(garbage);
  CHECK(message.starts_with("the kubeconfig input is neither a kubeconfig (YAML) nor base64;"));
  CHECK(message.find(garbage) == std::string::npos);
  CHECK(message.find("secrets.FLUX_KUBECONFIG") != std::string::npos);
  // Valid base64 of something that is not a kubeconfig.
  std::string binary = base64_encode(std::string("\x01\x02\x03\x04garbage", 11));
  CHECK(usage_error(binary).starts_with("the kubeconfig input is base64, but what it decodes to"));
}

TEST_CASE("a kubeconfig without a user or credentials is a usage error naming the input") {
  std::string no_user = kubeconfig("x");
  no_user = no_user.substr(0, no_user.find("users:"));
  no_user.replace(no_user.find("    user: flux-reconcile\n"), 25, "");
  CHECK(usage_error(no_user).starts_with("kubeconfig input: context \"flux\" names no user"));

  std::string no_token = kubeconfig("x");
  no_token.replace(no_token.find("    token: x\n"), 13, "    {}\n");
  std::string message = usage_error(base64_encode(no_token));
  CHECK(message.starts_with("kubeconfig input: user \"flux-reconcile\" has no credentials"));
  CHECK(message.find("secrets.FLUX_KUBECONFIG") != std::string::npos);
}

TEST_CASE("the kubeconfig input loads for its current context") {
  std::string token =
      jwt({{"sub", "system:serviceaccount:fluxkey:flux-reconcile"}, {"exp", 1'800'003'600}});
  kube::RestConfig config = load_input(base64_encode(kubeconfig(token)), kNow);
  CHECK(config.server == "https://127.0.0.1:6443");
  CHECK(config.token == token);
  CHECK(config.default_namespace == "flux-system");
  CHECK(config.origin == "kubeconfig input, context flux");
}

TEST_CASE("an expired JWT is refused before any request, saying when and what to do") {
  std::string token = jwt({{"exp", 1'800'000'000 - 3 * 3600 - 60}});
  std::string message = usage_error(kubeconfig(token), kNow);
  CHECK(message.starts_with("the token in the kubeconfig input expired at 2027-01-15T04:59:00Z"));
  CHECK(message.find("(3h1m ago)") != std::string::npos);
  CHECK(message.find("fluxkey status") != std::string::npos);
  CHECK(message.find("fluxkey rotate") != std::string::npos);
  CHECK(message.find(token) == std::string::npos);
  // Exactly at exp counts as expired, as the API server sees it.
  CHECK_FALSE(usage_error(kubeconfig(jwt({{"exp", 1'800'000'000}})), kNow).empty());
  CHECK(usage_error(kubeconfig(jwt({{"exp", 1'800'000'001}})), kNow).empty());
}

TEST_CASE("a token that is not a JWT has no expiry to check") {
  CHECK(usage_error(kubeconfig("static-token-abcdef"), kNow).empty());
  CHECK(usage_error(kubeconfig(jwt({{"sub", "no exp"}})), kNow).empty());
}

TEST_CASE("secrets to mask: the one-line input and every credential inside") {
  std::string token = jwt({{"exp", 1}});
  std::string yaml = kubeconfig(token) +
                     "- name: other\n"
                     "  user:\n"
                     "    client-certificate-data: Y2VydA==\n"
                     "    client-key-data: a2V5LWRhdGE=\n"
                     "- name: old\n"
                     "  user:\n"
                     "    auth-provider:\n"
                     "      config:\n"
                     "        id-token: \"idtok\"\n"
                     "        refresh-token: reftok\n";

  SUBCASE("raw YAML: the credentials, not the lines") {
    auto secrets = secrets_in_input(yaml);
    CHECK(contains(secrets, token));
    CHECK(contains(secrets, "a2V5LWRhdGE="));
    CHECK(contains(secrets, "idtok"));
    CHECK(contains(secrets, "reftok"));
    CHECK_FALSE(contains(secrets, "Y2VydA=="));
    CHECK_FALSE(contains(secrets, "apiVersion: v1"));
    CHECK(secrets.size() == 4);
  }
  SUBCASE("base64 on one line: the input itself too") {
    std::string input = base64_encode(yaml);
    auto secrets = secrets_in_input(input + "\n");
    CHECK(secrets.front() == input);
    CHECK(contains(secrets, token));
    CHECK(contains(secrets, "a2V5LWRhdGE="));
    CHECK(secrets.size() == 5);
  }
  SUBCASE("wrapped base64: each line") {
    std::string input = base64_encode(yaml);
    std::string wrapped;
    for (size_t at = 0; at < input.size(); at += 64) wrapped += input.substr(at, 64) + "\n";
    auto secrets = secrets_in_input(wrapped);
    CHECK(contains(secrets, input.substr(0, 64)));
    CHECK(contains(secrets, input.substr(64, 64)));
    CHECK(contains(secrets, token));
  }
  SUBCASE("broken YAML still gives up its token lines") {
    std::string broken = "users:\n- name: x\n  user:\n    token: 'abc-def-123'\n  : : [\n";
    auto secrets = secrets_in_input(broken);
    CHECK(contains(secrets, "abc-def-123"));
  }
  SUBCASE("empty and garbage inputs") {
    CHECK(secrets_in_input("").empty());
    CHECK(secrets_in_input("not-a-kubeconfig!!") == std::vector<std::string>{"not-a-kubeconfig!!"});
  }
}

TEST_CASE("raw input with a NUL byte is refused: it would load with its token unmasked (fuzz)") {
  std::string input = kubeconfig("abc.def.ghi");
  input.insert(input.find("clusters"), std::string("#\0\n", 3));
  CHECK(usage_error(input).starts_with("the kubeconfig input holds a NUL byte"));
  CHECK(usage_error(input).find("abc.def.ghi") == std::string::npos);
}

TEST_CASE(
    "the token that loads is masked, even from a file only its final newline makes valid (fuzz)") {
  // A tag glued to an unclosed quote: yaml-cpp refuses it at the end of the
  // text and reads `def` after a line break. The action trims the input and
  // gives it its final newline, so the token loads as `def`.
  std::string input = kubeconfig("!abc\"def");
  input.pop_back();
  CHECK(load_input(input, kNow).token.str() == "def");
  CHECK(contains(secrets_in_input(input), "def"));
}

}  // namespace action_kubeconfig_input_test
