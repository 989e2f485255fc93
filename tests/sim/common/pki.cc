#include "sim/common/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace fluxkey::sim {
namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
struct X509ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, X509ExtFree>;

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

BioPtr mem_bio(const std::string& text) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw_openssl("BIO_new_mem_buf");
  return bio;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext) throw_openssl(std::string("X509V3_EXT_conf_nid ") + value);
  if (X509_add_ext(cert, ext.get(), -1) != 1) throw_openssl("X509_add_ext");
}

void add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    throw_openssl("X509_NAME_add_entry_by_txt");
  }
}

// Builds and signs a certificate; issuer null means self-signed.
X509Ptr make_cert(EVP_PKEY* key, const CertSubject& subject, const CertAndKey* issuer,
                  std::chrono::seconds validity,
                  const std::vector<std::pair<int, std::string>>& exts) {
  X509Ptr cert(X509_new());
  if (!cert) throw_openssl("X509_new");
  X509_set_version(cert.get(), 2);
  // 127-bit random serial: unique enough that clients never see a reuse.
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
    throw_openssl("BN_rand");
  }
  if (!BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    throw_openssl("BN_to_ASN1_INTEGER");
  }
  // Backdated a little so that a client whose clock is slightly behind accepts it.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity.count()));
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& org : subject.organizations) add_name_entry(name, "O", org);
  add_name_entry(name, "CN", subject.common_name);
  X509* issuer_cert = issuer ? issuer->cert.get() : cert.get();
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : key;
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  if (X509_set_pubkey(cert.get(), key) != 1) throw_openssl("X509_set_pubkey");
  for (const auto& [nid, value] : exts) add_ext(cert.get(), issuer_cert, nid, value.c_str());
  if (X509_sign(cert.get(), signing_key, EVP_sha256()) <= 0) throw_openssl("X509_sign");
  return cert;
}

}  // namespace

void throw_openssl(const std::string& what) {
  std::string message = what + " failed";
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    message += ": ";
    message += buf;
  }
  throw std::runtime_error(message);
}

PkeyPtr generate_ec_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw_openssl("EVP_EC_gen");
  return key;
}

std::string cert_to_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) throw_openssl("PEM_write_bio_X509");
  return bio_string(bio.get());
}

std::string private_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw_openssl("PEM_write_bio_PrivateKey");
  }
  return bio_string(bio.get());
}

std::string public_key_to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) throw_openssl("PEM_write_bio_PUBKEY");
  return bio_string(bio.get());
}

PkeyPtr private_key_from_pem(const std::string& pem) {
  BioPtr bio = mem_bio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw_openssl("PEM_read_bio_PrivateKey");
  return key;
}

PkeyPtr public_key_from_pem(const std::string& pem) {
  BioPtr bio = mem_bio(pem);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw_openssl("PEM_read_bio_PUBKEY");
  return key;
}

X509Ptr cert_from_pem(const std::string& pem) {
  BioPtr bio = mem_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw_openssl("PEM_read_bio_X509");
  return cert;
}

std::string server_names_error(const std::string& names) {
  if (names.empty()) return "no names given";
  size_t start = 0;
  while (start <= names.size()) {
    size_t comma = names.find(',', start);
    std::string entry = names.substr(start, comma == std::string::npos ? comma : comma - start);
    if (entry.rfind("IP:", 0) == 0) {
      std::string ip = entry.substr(3);
      unsigned char buf[16];
      if (::inet_pton(AF_INET, ip.c_str(), buf) != 1 &&
          ::inet_pton(AF_INET6, ip.c_str(), buf) != 1) {
        return "\"" + entry + "\" is not an IP address";
      }
    } else if (entry.rfind("DNS:", 0) == 0) {
      std::string dns = entry.substr(4);
      bool ok = !dns.empty() && dns.find_first_not_of(
                                    "abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.*") == std::string::npos;
      if (!ok) return "\"" + entry + "\" is not a DNS name";
    } else {
      return "\"" + entry + "\" is neither IP:ADDRESS nor DNS:NAME";
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

Pki::Pki(const std::string& ca_name, const std::string& server_names) {
  if (std::string problem = server_names_error(server_names); !problem.empty()) {
    throw std::invalid_argument("server names: " + problem);
  }
  ca_.key = generate_ec_key();
  ca_.cert = make_cert(ca_.key.get(), {ca_name, {}}, nullptr, std::chrono::hours(24 * 365),
                       {{NID_basic_constraints, "critical,CA:TRUE"},
                        {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                        {NID_subject_key_identifier, "hash"}});
  ca_pem_ = cert_to_pem(ca_.cert.get());
  server_.key = generate_ec_key();
  server_.cert = make_cert(server_.key.get(), {"localhost", {}}, &ca_, std::chrono::hours(24 * 30),
                           {{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                            {NID_ext_key_usage, "serverAuth"},
                            {NID_authority_key_identifier, "keyid:always"},
                            {NID_subject_alt_name, server_names}});
}

CertAndKey Pki::issue_client(const std::string& user, const std::vector<std::string>& groups,
                             std::chrono::seconds validity) const {
  CertAndKey out;
  out.key = generate_ec_key();
  out.cert = make_cert(out.key.get(), {user, groups}, &ca_, validity,
                       {{NID_basic_constraints, "critical,CA:FALSE"},
                        {NID_key_usage, "critical,digitalSignature"},
                        {NID_ext_key_usage, "clientAuth"},
                        {NID_authority_key_identifier, "keyid:always"}});
  return out;
}

X509StorePtr Pki::make_trust_store() const {
  X509StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), ca_.cert.get()) != 1) {
    throw_openssl("X509_STORE_add_cert");
  }
  return store;
}

CertSubject subject_of(X509* cert) {
  CertSubject out;
  X509_NAME* name = X509_get_subject_name(cert);
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                      static_cast<size_t>(ASN1_STRING_length(data)));
    if (nid == NID_commonName) out.common_name = value;
    if (nid == NID_organizationName) out.organizations.push_back(value);
  }
  return out;
}

}  // namespace fluxkey::sim
