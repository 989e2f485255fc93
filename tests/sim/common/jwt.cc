#include "sim/common/jwt.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <memory>

#include "core/base64.h"
#include "sim/common/pki.h"

namespace fluxkey::sim {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

bool is_ec(EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC;
}

// JWS wants ES256 signatures as the raw 32-byte R and S; OpenSSL speaks DER.
std::string der_to_raw(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) throw_openssl("d2i_ECDSA_SIG");
  std::string raw(64, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + 32, 32) != 32) {
    throw_openssl("BN_bn2binpad");
  }
  return raw;
}

std::optional<std::string> raw_to_der(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(raw.data());
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(in, 32, nullptr);
  BIGNUM* s = BN_bin2bn(in + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

}  // namespace

std::string base64url_encode(std::string_view data) {
  std::string out = base64_encode(data);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string standard(text);
  for (char& c : standard) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;
    }
  }
  while (standard.size() % 4 != 0) standard.push_back('=');
  return base64_decode(standard);
}

std::string jwt_sign(const nlohmann::json& claims, EVP_PKEY* key, const std::string& kid) {
  nlohmann::json header = {{"alg", is_ec(key) ? "ES256" : "RS256"}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    throw_openssl("EVP_DigestSign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    throw_openssl("EVP_DigestSign");
  }
  sig.resize(len);
  if (is_ec(key)) sig = der_to_raw(sig);
  return signing_input + "." + base64url_encode(sig);
}

std::optional<VerifiedJwt> jwt_verify(std::string_view token, EVP_PKEY* public_key) {
  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto header_raw = base64url_decode(token.substr(0, dot1));
  auto claims_raw = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto sig = base64url_decode(token.substr(dot2 + 1));
  if (!header_raw || !claims_raw || !sig) return std::nullopt;
  VerifiedJwt out;
  out.header = nlohmann::json::parse(*header_raw, nullptr, false);
  out.claims = nlohmann::json::parse(*claims_raw, nullptr, false);
  if (!out.header.is_object() || !out.claims.is_object()) return std::nullopt;
  std::string expected_alg = is_ec(public_key) ? "ES256" : "RS256";
  if (out.header.value("alg", "") != expected_alg) return std::nullopt;
  if (is_ec(public_key)) {
    auto der = raw_to_der(*sig);
    if (!der) return std::nullopt;
    sig = std::move(der);
  }
  std::string_view signing_input = token.substr(0, dot2);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key) != 1) {
    throw_openssl("EVP_DigestVerifyInit");
  }
  int ok = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  if (ok != 1) return std::nullopt;
  return out;
}

}  // namespace fluxkey::sim
