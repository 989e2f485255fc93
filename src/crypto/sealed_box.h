// GitHub stores Actions secrets sealed with the target's public key
// (libsodium crypto_box_seal); only GitHub holds the private half.
#pragma once

#include <string>
#include <string_view>

namespace fluxkey {

// Seals plaintext for the GitHub public key given as standard base64 (what
// GET .../secrets/public-key returns in "key"). Returns the sealed box as
// standard padded base64, ready for the "encrypted_value" field.
// Throws Error when the key is not base64 or not 32 bytes.
std::string seal_for_github(std::string_view public_key_base64, std::string_view plaintext);

// Makes sure sodium_init() has run; callable from any thread, any number of times.
void ensure_sodium();

}  // namespace fluxkey
