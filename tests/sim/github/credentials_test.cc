#include "sim/github/credentials.h"

#include <doctest/doctest.h>

#include "sim/common/jwt.h"
#include "sim/github/test_keys.h"

namespace fluxkey::sim::github::github_credentials_test {
namespace {

int64_t epoch(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

struct AppFixture {
  PkeyPtr key = generate_rsa_key();
  Credentials creds;
  Clock::time_point now = Clock::now();
  AppFixture() { creds.add_app(42, "Iv1.abc123", public_key_to_pem(key.get())); }
  std::string jwt(const nlohmann::json& claims, EVP_PKEY* signer = nullptr) {
    return jwt_sign(claims, signer != nullptr ? signer : key.get());
  }
  // The claims GitHub's docs recommend: iat 60 s back, exp 10 minutes ahead.
  nlohmann::json good_claims(const nlohmann::json& iss = 42) {
    return {{"iat", epoch(now) - 60}, {"exp", epoch(now) + 600}, {"iss", iss}};
  }
  std::string failure(const std::string& token) {
    auto r = creds.verify_app_jwt(token, now);
    if (auto* f = std::get_if<AuthFailure>(&r)) return std::to_string(f->status) + " " + f->message;
    return "ok";
  }
};

TEST_CASE("an app JWT as GitHub documents it is accepted, by app id or client id") {
  AppFixture f;
  for (const nlohmann::json& iss :
       {nlohmann::json(42), nlohmann::json("42"), nlohmann::json("Iv1.abc123")}) {
    auto r = f.creds.verify_app_jwt(f.jwt(f.good_claims(iss)), f.now);
    REQUIRE(std::holds_alternative<App*>(r));
    CHECK(std::get<App*>(r)->id == 42);
  }
}

TEST_CASE("app JWTs with bad times are refused with GitHub's messages") {
  AppFixture f;
  const int64_t now = epoch(f.now);
  CHECK(f.failure(f.jwt({{"iat", now - 60}, {"exp", now + 601}, {"iss", 42}})) ==
        "401 'Expiration time' claim ('exp') is too far in the future");
  CHECK(f.failure(f.jwt({{"iat", now - 700}, {"exp", now - 100}, {"iss", 42}}))
            .find("401 'Expiration time' claim ('exp') must be a numeric value") == 0);
  CHECK(f.failure(f.jwt({{"iat", now - 60}, {"iss", 42}})).find("'Expiration time'") == 4);
  // 60 s of skew is allowed for iat, not more.
  CHECK(f.failure(f.jwt({{"iat", now + 60}, {"exp", now + 300}, {"iss", 42}})) == "ok");
  CHECK(f.failure(f.jwt({{"iat", now + 61}, {"exp", now + 300}, {"iss", 42}}))
            .find("401 'Issued at' claim ('iat') must be an Integer") == 0);
  CHECK(f.failure(f.jwt({{"iat", "yesterday"}, {"exp", now + 300}, {"iss", 42}}))
            .find("'Issued at'") == 4);
}

TEST_CASE("app JWTs with a bad signature or issuer are refused") {
  AppFixture f;
  PkeyPtr other = generate_rsa_key();
  CHECK(f.failure(f.jwt(f.good_claims(), other.get())) ==
        "401 A JSON web token could not be decoded");
  CHECK(f.failure(f.jwt(f.good_claims(7))) == "404 Integration not found");
  CHECK(f.failure("eyJhbGciOiJub25lIn0.eyJpc3MiOjQyfQ.") ==
        "401 A JSON web token could not be decoded");
  PkeyPtr ec = generate_ec_key();  // ES256 instead of RS256
  CHECK(f.failure(jwt_sign(f.good_claims(), ec.get())) ==
        "401 A JSON web token could not be decoded");
  CHECK(f.failure("not.a.jwt") == "401 A JSON web token could not be decoded");
}

TEST_CASE("only RSA public keys can be registered for apps") {
  Credentials creds;
  PkeyPtr ec = generate_ec_key();
  CHECK_THROWS(creds.add_app(1, "", public_key_to_pem(ec.get())));
  CHECK_THROWS(creds.add_app(1, "", "not a pem"));
}

TEST_CASE("installation tokens look like GitHub's and expire") {
  AppFixture f;
  App* app = f.creds.find_app(42);
  Installation& inst = app->installations.emplace_back();
  inst.id = 7;
  inst.account = "acme";
  const auto expires = f.now + std::chrono::hours(1);
  auto& token = f.creds.mint_installation_token(*app, inst, expires, std::nullopt,
                                                default_installation_permissions());
  CHECK(token.token.rfind("ghs_", 0) == 0);
  CHECK(token.token.size() == 40);
  CHECK(f.creds.find_installation_token(token.token, f.now) != nullptr);
  CHECK(f.creds.find_installation_token(token.token, expires) == nullptr);
  CHECK(f.creds.find_installation_token("ghs_nope", f.now) == nullptr);
  CHECK(app->installation_for_account("ACME") == &inst);
}

TEST_CASE("personal token scopes follow GitHub's hierarchy") {
  Credentials creds;
  auto& t = creds.add_token("ghp_x", "alice", 5, {"repo", "admin:org"});
  CHECK(t.has_scope("repo"));
  CHECK(t.has_scope("read:org"));
  CHECK(t.has_scope("write:org"));
  CHECK_FALSE(t.has_scope("workflow"));
  CHECK(t.scopes_header() == "repo, admin:org");
  CHECK(creds.find_token("ghp_x") == &t);
  CHECK(creds.find_token("ghp_y") == nullptr);
}

}  // namespace
}  // namespace fluxkey::sim::github::github_credentials_test
