// A throwaway PKI for the stand-ins: one CA per process, a server certificate
// for 127.0.0.1/localhost (or the names a test asks for), and client
// certificates on demand. Keys stay in
// memory; only the CA certificate is written out for clients to trust.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace fluxkey::sim {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct X509StoreFree {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreFree>;

// Throws std::runtime_error with the OpenSSL error queue appended.
[[noreturn]] void throw_openssl(const std::string& what);

// A fresh EC P-256 key.
PkeyPtr generate_ec_key();

std::string cert_to_pem(X509* cert);
std::string private_key_to_pem(EVP_PKEY* key);         // PKCS#8, unencrypted
std::string public_key_to_pem(EVP_PKEY* key);          // SubjectPublicKeyInfo
PkeyPtr private_key_from_pem(const std::string& pem);  // throws on bad input
PkeyPtr public_key_from_pem(const std::string& pem);   // throws on bad input
X509Ptr cert_from_pem(const std::string& pem);         // throws on bad input

struct CertAndKey {
  X509Ptr cert;
  PkeyPtr key;
  std::string cert_pem() const { return cert_to_pem(cert.get()); }
  std::string key_pem() const { return private_key_to_pem(key.get()); }
};

// Subject of a client certificate as Kubernetes reads it: CN is the user,
// each O is a group.
struct CertSubject {
  std::string common_name;
  std::vector<std::string> organizations;
};

// The server certificate's default subject alternative names.
inline constexpr const char* kDefaultServerNames = "IP:127.0.0.1,DNS:localhost";

// Checks a server name list ("IP:127.0.0.1,DNS:localhost"): comma-separated
// IP:ADDRESS (IPv4 or IPv6) and DNS:NAME entries. Returns "" when valid, else
// what is wrong.
std::string server_names_error(const std::string& names);

class Pki {
 public:
  // Generates the CA and the server certificate, whose subject alternative
  // names are `server_names` (see server_names_error; throws
  // std::invalid_argument when invalid). Tests pass other names to make a
  // certificate that is wrong for the URL a client dials.
  explicit Pki(const std::string& ca_name, const std::string& server_names = kDefaultServerNames);

  X509* ca_cert() const { return ca_.cert.get(); }
  const std::string& ca_pem() const { return ca_pem_; }
  X509* server_cert() const { return server_.cert.get(); }
  EVP_PKEY* server_key() const { return server_.key.get(); }

  // A client certificate (CN=user, one O per group), valid for `validity`.
  CertAndKey issue_client(const std::string& user, const std::vector<std::string>& groups,
                          std::chrono::seconds validity = std::chrono::hours(24)) const;

  // A store holding only this CA, for verifying client certificates. The
  // caller owns it (SSL_CTX_set_cert_store takes ownership).
  X509StorePtr make_trust_store() const;

 private:
  CertAndKey ca_;
  std::string ca_pem_;
  CertAndKey server_;
};

// Reads CN and O entries from a certificate's subject.
CertSubject subject_of(X509* cert);

}  // namespace fluxkey::sim
