#include "test_pki.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace fluxkey::test {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Extension = std::unique_ptr<X509_EXTENSION, Free>;
using Bio = std::unique_ptr<BIO, Free>;
using Bignum = std::unique_ptr<BIGNUM, Free>;

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "";
  ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error("test PKI: " + what + ": " + reason);
}

void check(int ok, const char* what) {
  if (ok != 1) fail(what);
}

std::string read_all(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string to_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  return read_all(bio.get());
}

std::string to_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  return read_all(bio.get());
}

Cert cert_from(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) fail("reading a certificate");
  return cert;
}

Key key_from(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) fail("reading a key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext) fail(std::string("extension ") + OBJ_nid2sn(nid));
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

struct Leaf {
  std::string common_name;
  const char* basic_constraints;
  const char* key_usage;
  const char* extended_key_usage;  // nullptr: none
  std::string subject_alt_name;    // empty: none
};

// Signs a new certificate for a fresh key; issuer == nullptr makes it self-signed.
TestCert issue(const Leaf& leaf, X509* issuer, EVP_PKEY* issuer_key) {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen");
  Cert cert(X509_new());
  check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");

  unsigned char serial_bytes[16];
  check(RAND_bytes(serial_bytes, sizeof serial_bytes), "RAND_bytes");
  serial_bytes[0] &= 0x7f;  // positive
  Bignum serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    fail("serial number");
  }
  // Backdated a minute so a clock a little behind still accepts it.
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600)) {
    fail("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(leaf.common_name.c_str()),
                                   -1, -1, 0),
        "subject");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  EVP_PKEY* signer_key = issuer_key != nullptr ? issuer_key : key.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)), "issuer");
  check(X509_set_pubkey(cert.get(), key.get()), "X509_set_pubkey");

  add_extension(cert.get(), signer, NID_basic_constraints, leaf.basic_constraints);
  add_extension(cert.get(), signer, NID_key_usage, leaf.key_usage);
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid");
  if (leaf.extended_key_usage != nullptr) {
    add_extension(cert.get(), signer, NID_ext_key_usage, leaf.extended_key_usage);
  }
  if (!leaf.subject_alt_name.empty()) {
    add_extension(cert.get(), signer, NID_subject_alt_name, leaf.subject_alt_name.c_str());
  }
  if (X509_sign(cert.get(), signer_key, EVP_sha256()) <= 0) fail("X509_sign");
  return TestCert{to_pem(cert.get()), to_pem(key.get())};
}

TestCert issue_by(const TestCert& ca, const Leaf& leaf) {
  Cert ca_cert = cert_from(ca.cert_pem);
  Key ca_key = key_from(ca.key_pem);
  return issue(leaf, ca_cert.get(), ca_key.get());
}

}  // namespace

TestCert make_test_ca(const std::string& name) {
  return issue({name, "critical,CA:TRUE", "critical,keyCertSign,cRLSign", nullptr, ""}, nullptr,
               nullptr);
}

TestCert issue_test_server_cert(const TestCert& ca, const std::string& ip) {
  return issue_by(ca, {"test server " + ip, "critical,CA:FALSE", "critical,digitalSignature",
                       "serverAuth", "IP:" + ip});
}

TestCert issue_test_client_cert(const TestCert& ca, const std::string& common_name) {
  return issue_by(
      ca, {common_name, "critical,CA:FALSE", "critical,digitalSignature", "clientAuth", ""});
}

TestPki make_test_pki(const std::string& ca_name) {
  TestPki pki;
  pki.ca = make_test_ca(ca_name);
  pki.server = issue_test_server_cert(pki.ca);
  return pki;
}

}  // namespace fluxkey::test
