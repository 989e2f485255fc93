#include "github/app_jwt.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/error.h"

namespace fluxkey::github {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Without a callback OpenSSL would prompt on the terminal for the passphrase
// of an encrypted key; fluxkey runs unattended, so it has none.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

const char* kKeyFlag = "--github-app-key (or GITHUB_APP_PRIVATE_KEY)";

// A key pasted into a CI variable often arrives with literal "\n" instead of
// line breaks; PEM needs the real ones.
std::string with_real_newlines(const std::string& pem) {
  if (pem.find('\n') != std::string::npos || pem.find("\\n") == std::string::npos) return pem;
  std::string out;
  out.reserve(pem.size());  // no reallocation leaves a stray copy of the key behind
  for (size_t i = 0; i < pem.size(); ++i) {
    if (pem[i] == '\\' && i + 1 < pem.size() && pem[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += pem[i];
    }
  }
  return out;
}

}  // namespace

void AppKey::Free::operator()(EVP_PKEY* key) const {
  EVP_PKEY_free(key);
}

AppKey::AppKey(const std::string& pem) {
  if (pem.find("-----BEGIN") == std::string::npos) {
    throw UsageError(std::string(kKeyFlag) +
                     " is not a PEM private key; use the .pem file GitHub generated for the App");
  }
  std::string text = with_real_newlines(pem);
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw Error("out of memory reading the GitHub App key");
  key_.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  OPENSSL_cleanse(text.data(), text.size());
  ERR_clear_error();
  if (!key_) {
    throw UsageError(std::string(kKeyFlag) +
                     " cannot be read as an unencrypted PEM private key; use the .pem file "
                     "GitHub generated for the App");
  }
  if (EVP_PKEY_base_id(key_.get()) != EVP_PKEY_RSA) {
    key_.reset();
    throw UsageError(std::string(kKeyFlag) +
                     " is not an RSA key; GitHub Apps sign with the RSA key GitHub generated");
  }
}

AppKey::~AppKey() = default;
AppKey::AppKey(AppKey&&) noexcept = default;
AppKey& AppKey::operator=(AppKey&&) noexcept = default;

std::string AppKey::sign_rs256(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t length = 0;
  auto bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1) {
    ERR_clear_error();
    throw Error("cannot sign the GitHub App JWT with the key of --github-app-key");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes,
                     data.size()) != 1) {
    ERR_clear_error();
    throw Error("cannot sign the GitHub App JWT with the key of --github-app-key");
  }
  signature.resize(length);
  return signature;
}

std::string make_app_jwt(const AppKey& key, const std::string& app_id, Clock::time_point now) {
  using nlohmann::json;
  const long long seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  json issuer = app_id;
  bool numeric =
      !app_id.empty() && app_id.size() < 19 &&
      std::all_of(app_id.begin(), app_id.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (numeric) issuer = std::stoll(app_id);
  // Signed a minute back so a server clock slightly behind ours still sees
  // it as issued; nine minutes ahead stays under GitHub's ten.
  json claims = {{"iat", seconds - 60}, {"exp", seconds + 9 * 60}, {"iss", issuer}};
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  return signing_input + "." + base64url_encode(key.sign_rs256(signing_input));
}

}  // namespace fluxkey::github
