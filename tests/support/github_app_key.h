// For the github unit tests only: one RSA key pair made at run time (never
// a key checked into the repository), in the PEM forms GitHub hands out.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fluxkey::github::testing {

class TestRsaKey {
 public:
  // Generated once per test run: RSA key generation takes a while.
  static const TestRsaKey& shared() {
    static const TestRsaKey key;
    return key;
  }

  std::string pkcs1_pem;  // "BEGIN RSA PRIVATE KEY", what GitHub's .pem files hold
  std::string pkcs8_pem;  // "BEGIN PRIVATE KEY"

  // RS256 verification with the public half.
  bool verify(std::string_view data, std::string_view signature) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
      return false;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size()) == 1;
  }

 private:
  TestRsaKey() : key_(EVP_RSA_gen(2048), EVP_PKEY_free) {
    if (!key_) throw std::runtime_error("EVP_RSA_gen failed");
    pkcs1_pem = write([&](BIO* bio) {
      return PEM_write_bio_PrivateKey_traditional(bio, key_.get(), nullptr, nullptr, 0, nullptr,
                                                  nullptr);
    });
    pkcs8_pem = write([&](BIO* bio) {
      return PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
  }

  template <typename F>
  static std::string write(F&& encode) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || encode(bio.get()) != 1) throw std::runtime_error("PEM encoding failed");
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(length));
  }

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
};

}  // namespace fluxkey::github::testing
