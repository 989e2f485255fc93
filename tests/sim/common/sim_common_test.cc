#include <doctest/doctest.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "sim/common/faults.h"
#include "sim/common/jwt.h"
#include "sim/common/pki.h"

namespace fluxkey::sim::common_sim_common_test {

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

TEST_CASE("server certificate names: the default, a test's own, and bad lists refused") {
  Pki usual("test CA");
  CHECK(X509_check_ip_asc(usual.server_cert(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_host(usual.server_cert(), "localhost", 0, 0, nullptr) == 1);

  // A certificate for another host: a client dialling 127.0.0.1 must refuse it.
  Pki wrong("test CA", "DNS:sim.invalid");
  CHECK(X509_check_ip_asc(wrong.server_cert(), "127.0.0.1", 0) == 0);
  CHECK(X509_check_host(wrong.server_cert(), "localhost", 0, 0, nullptr) == 0);
  CHECK(X509_check_host(wrong.server_cert(), "sim.invalid", 0, 0, nullptr) == 1);
  CHECK(X509_verify(wrong.server_cert(), X509_get0_pubkey(wrong.ca_cert())) == 1);

  CHECK(server_names_error("IP:::1,DNS:a-b.example") == "");
  CHECK(server_names_error("").find("no names") != std::string::npos);
  CHECK(server_names_error("IP:300.1.1.1").find("not an IP") != std::string::npos);
  CHECK(server_names_error("DNS:").find("not a DNS") != std::string::npos);
  CHECK(server_names_error("localhost").find("neither") != std::string::npos);
  CHECK_THROWS_AS(Pki("test CA", "URI:x"), std::invalid_argument);
}

TEST_CASE("faults: skip lets the first matching requests through, to later faults too") {
  CHECK_THROWS_AS(parse_fault({{"skip", -1}}), std::invalid_argument);
  FaultSet set;
  set.add(parse_fault({{"method", "PATCH"}, {"path", "/s$"}, {"skip", 1}, {"times", -1}}));
  set.add(parse_fault({{"path", "/s$"}, {"status", 500}}));
  CHECK(set.take("PATCH", "/x/s")->status == 500);  // skipped by the first, caught by the second
  CHECK(set.take("PATCH", "/x/s")->status == 503);  // from now on, every time
  CHECK(set.take("PATCH", "/x/s")->status == 503);
  CHECK(set.take("GET", "/x/s") == std::nullopt);
  CHECK(set.list()[0].contains("skip") == false);
  set.add(parse_fault({{"path", "/t"}, {"skip", 2}}));
  CHECK(set.list()[1]["skip"] == 2);
}

TEST_CASE("faults: a reset mid-body is a phase of reset only") {
  Fault f = parse_fault({{"action", "reset"}, {"phase", "mid-body"}});
  CHECK(f.mid_body);
  CHECK_FALSE(f.after);
  CHECK(f.to_json()["phase"] == "mid-body");
  CHECK(parse_fault({{"action", "reset"}, {"phase", "after"}}).to_json()["phase"] == "after");
  CHECK_THROWS_AS(parse_fault({{"action", "truncate"}, {"phase", "mid-body"}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(parse_fault({{"action", "reset"}, {"phase", "during"}}), std::invalid_argument);
}

}  // namespace fluxkey::sim::common_sim_common_test
