// Standard base64 (RFC 4648, with padding), as Kubernetes and GitHub use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fluxkey {

std::string base64_encode(std::string_view data);

// Decodes standard base64; whitespace (line breaks in PEM-ish data) is
// ignored. Returns nullopt when the input is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

// base64url without padding (RFC 7515), the encoding of JWT parts.
std::string base64url_encode(std::string_view data);
// Decodes base64url, with or without padding; nullopt when it is not valid.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace fluxkey
