#include <doctest/doctest.h>
#include <openssl/rsa.h>

#include "sim/common/faults.h"
#include "sim/common/jwt.h"
#include "sim/common/pki.h"

namespace fluxkey::sim {

TEST_CASE("JWT ES256 and RS256: sign, verify, refuse tampering and the wrong key") {
  PkeyPtr ec = generate_ec_key();
  std::string token = jwt_sign({{"sub", "x"}, {"n", 1}}, ec.get(), "kid-1");
  auto ok = jwt_verify(token, ec.get());
  REQUIRE(ok.has_value());
  CHECK(ok->header["alg"] == "ES256");
  CHECK(ok->header["kid"] == "kid-1");
  CHECK(ok->claims["sub"] == "x");
  std::string tampered = token;
  tampered[tampered.find('.') + 2] ^= 1;
  CHECK_FALSE(jwt_verify(tampered, ec.get()).has_value());
  CHECK_FALSE(jwt_verify(token, generate_ec_key().get()).has_value());
  CHECK_FALSE(jwt_verify("a.b", ec.get()).has_value());

  PkeyPtr rsa(EVP_RSA_gen(2048));
  REQUIRE(rsa);
  std::string signed_rs = jwt_sign({{"iss", "1"}}, rsa.get());
  PkeyPtr rsa_public = public_key_from_pem(public_key_to_pem(rsa.get()));
  auto verified = jwt_verify(signed_rs, rsa_public.get());
  REQUIRE(verified.has_value());
  CHECK(verified->header["alg"] == "RS256");
  CHECK_FALSE(jwt_verify(signed_rs, ec.get()).has_value());
}

TEST_CASE("base64url has no padding and round-trips") {
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64url_decode("-_8") == std::string("\xfb\xff"));
  CHECK_FALSE(base64url_decode("a+b").has_value());
}

TEST_CASE("client certificates carry the user as CN and groups as O") {
  Pki pki("test CA");
  CertAndKey c = pki.issue_client("jane", {"dev", "ops"});
  CertSubject s = subject_of(c.cert.get());
  CHECK(s.common_name == "jane");
  CHECK(s.organizations == std::vector<std::string>{"dev", "ops"});
  X509Ptr parsed = cert_from_pem(c.cert_pem());
  CHECK(X509_verify(parsed.get(), X509_get0_pubkey(pki.ca_cert())) == 1);
  CHECK(private_key_from_pem(c.key_pem()) != nullptr);
}

TEST_CASE("faults: parsing, order, method filter and counts") {
  CHECK_THROWS_AS(parse_fault({{"action", "explode"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_fault({{"path", "("}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_fault({{"action", "delay"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_fault({{"times", 0}}), std::invalid_argument);
  FaultSet set;
  set.add(parse_fault({{"method", "post"}, {"path", "^/a"}, {"status", 500}, {"times", 2}}));
  set.add(parse_fault({{"path", "^/a"}, {"action", "reset"}, {"times", -1}}));
  CHECK(set.take("POST", "/a/x")->status == 500);
  CHECK(set.take("GET", "/a/x")->action == FaultAction::kReset);
  CHECK(set.take("POST", "/a")->status == 500);
  CHECK(set.take("POST", "/a")->action == FaultAction::kReset);
  CHECK_FALSE(set.take("GET", "/b").has_value());
  CHECK(set.list().size() == 1);
  set.clear();
  CHECK_FALSE(set.take("GET", "/a").has_value());
}

}  // namespace fluxkey::sim
