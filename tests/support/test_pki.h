// A throwaway PKI for unit tests that talk TLS to an in-process server: a CA,
// server certificates for an IP address and client certificates, all EC
// P-256, valid for a day, returned as PEM. Test-only; the stand-ins have a
// fuller one in tests/sim/common/pki.h.
#pragma once

#include <string>

namespace fluxkey::test {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA named `name`.
TestCert make_test_ca(const std::string& name);

// A server certificate issued by `ca` whose only name is the IP address `ip`.
TestCert issue_test_server_cert(const TestCert& ca, const std::string& ip = "127.0.0.1");

// A client certificate issued by `ca` with CN=common_name.
TestCert issue_test_client_cert(const TestCert& ca, const std::string& common_name);

struct TestPki {
  TestCert ca;
  TestCert server;  // for 127.0.0.1
};

// A CA and a server certificate for 127.0.0.1 that it signed.
TestPki make_test_pki(const std::string& ca_name = "fluxkey test CA");

}  // namespace fluxkey::test
