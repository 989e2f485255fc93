// Compact JWS (JWT) signing and verification, as the stand-ins need it:
// kube-sim signs ServiceAccount tokens (ES256), github-sim verifies GitHub
// App JWTs (RS256).
#pragma once

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace fluxkey::sim {

std::string base64url_encode(std::string_view data);
std::optional<std::string> base64url_decode(std::string_view text);

// header.payload.signature; alg is "ES256" for EC keys, "RS256" for RSA keys.
// `kid`, when not empty, goes into the header.
std::string jwt_sign(const nlohmann::json& claims, EVP_PKEY* key, const std::string& kid = "");

struct VerifiedJwt {
  nlohmann::json header;
  nlohmann::json claims;
};

// Checks the shape and the signature only (claims such as exp are the
// caller's business). nullopt when malformed or the signature is wrong.
std::optional<VerifiedJwt> jwt_verify(std::string_view token, EVP_PKEY* public_key);

}  // namespace fluxkey::sim
