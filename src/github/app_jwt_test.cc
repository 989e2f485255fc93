#include "github/app_jwt.h"

#include <doctest/doctest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/base64.h"
#include "core/error.h"
#include "support/github_app_key.h"

namespace github_app_jwt_test {

using namespace fluxkey;
using namespace fluxkey::github;
using fluxkey::github::testing::TestRsaKey;

namespace {

std::string base64url_decode(std::string_view text) {
  auto decoded = fluxkey::base64url_decode(text);
  REQUIRE(decoded.has_value());
  return *decoded;
}

struct JwtParts {
  nlohmann::json header, claims;
  std::string signing_input, signature;
};

JwtParts split_jwt(const std::string& jwt) {
  size_t first = jwt.find('.');
  size_t second = jwt.find('.', first + 1);
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(jwt.find('.', second + 1) == std::string::npos);
  JwtParts parts;
  parts.header = nlohmann::json::parse(base64url_decode(jwt.substr(0, first)));
  parts.claims = nlohmann::json::parse(base64url_decode(jwt.substr(first + 1, second - first - 1)));
  parts.signing_input = jwt.substr(0, second);
  parts.signature = base64url_decode(jwt.substr(second + 1));
  return parts;
}

std::string usage_error_of(const std::string& pem) {
  try {
    AppKey key(pem);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("github: App JWT is RS256 with GitHub's claims and verifies with the public key") {
  const TestRsaKey& rsa = TestRsaKey::shared();
  const Clock::time_point now = Clock::time_point(std::chrono::seconds(1'800'000'000));
  CHECK(rsa.pkcs1_pem.find("BEGIN RSA PRIVATE KEY") != std::string::npos);
  CHECK(rsa.pkcs8_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
  for (const std::string& pem : {rsa.pkcs1_pem, rsa.pkcs8_pem}) {
    AppKey key(pem);
    std::string jwt = make_app_jwt(key, "77", now);
    CHECK(jwt.find('=') == std::string::npos);
    CHECK(jwt.find('+') == std::string::npos);
    CHECK(jwt.find('/') == std::string::npos);
    JwtParts parts = split_jwt(jwt);
    CHECK(parts.header == nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}});
    CHECK(parts.claims["iat"] == 1'800'000'000 - 60);
    CHECK(parts.claims["exp"] == 1'800'000'000 + 9 * 60);
    CHECK(parts.claims["iss"].is_number_integer());
    CHECK(parts.claims["iss"] == 77);
    CHECK(rsa.verify(parts.signing_input, parts.signature));
    // A changed claim no longer verifies.
    std::string tampered = parts.signing_input;
    tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
    CHECK_FALSE(rsa.verify(tampered, parts.signature));
  }
}

TEST_CASE("github: App JWT issuer is a string for a client id") {
  AppKey key(TestRsaKey::shared().pkcs1_pem);
  const Clock::time_point now = Clock::now();
  JwtParts parts = split_jwt(make_app_jwt(key, "Iv1.abc123", now));
  CHECK(parts.claims["iss"] == "Iv1.abc123");
  const long long seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  // GitHub refuses an exp more than ten minutes ahead and an iat in the future.
  CHECK(parts.claims["exp"].get<long long>() < seconds + 600);
  CHECK(parts.claims["iat"].get<long long>() <= seconds);
}

TEST_CASE("github: a key with literal \\n sequences (a CI variable) is accepted") {
  std::string pem = TestRsaKey::shared().pkcs1_pem;
  std::string escaped;
  for (char c : pem) escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  AppKey key(escaped);
  JwtParts parts = split_jwt(make_app_jwt(key, "1", Clock::now()));
  CHECK(TestRsaKey::shared().verify(parts.signing_input, parts.signature));
}

TEST_CASE("github: a bad App key is a usage error naming --github-app-key, never the key") {
  std::string msg = usage_error_of("not a key at all");
  CHECK(msg.find("--github-app-key") != std::string::npos);
  CHECK(msg.find("not a key") == std::string::npos);

  std::string broken =
      "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n"
      "-----END RSA PRIVATE KEY-----\n";
  msg = usage_error_of(broken);
  CHECK(msg.find("--github-app-key") != std::string::npos);
  CHECK(msg.find("MIIBOgIBAAJBAKj34GkxFhD9") == std::string::npos);

  // A key of the wrong kind.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_EC_gen("P-256"), EVP_PKEY_free);
  REQUIRE(ec);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio_PrivateKey(bio.get(), ec.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
          1);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  msg = usage_error_of(std::string(data, static_cast<size_t>(length)));
  CHECK(msg.find("--github-app-key") != std::string::npos);
  CHECK(msg.find("not an RSA key") != std::string::npos);
}

}  // namespace github_app_jwt_test
