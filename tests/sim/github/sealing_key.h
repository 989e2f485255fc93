// The libsodium key pair GitHub keeps for every secret scope (repository,
// environment, organization). Clients fetch the public half with its key_id;
// the stand-in holds the private half so that it can open what they seal, as
// GitHub does.
#pragma once

#include <sodium.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace fluxkey::sim::github {

class SealingKey {
 public:
  // A fresh key pair with a fresh key_id.
  SealingKey();
  ~SealingKey();
  SealingKey(const SealingKey&) = default;
  SealingKey& operator=(const SealingKey&) = default;

  // GitHub's key_ids are decimal strings of 18-19 digits.
  const std::string& key_id() const { return key_id_; }
  // Standard padded base64 of the 32-byte public key, as in "key".
  std::string public_key_base64() const;

  // Opens a sealed box given as standard base64; nullopt when it is not
  // base64 or was not sealed for this key.
  std::optional<std::string> open(std::string_view sealed_base64) const;

 private:
  std::string key_id_;
  std::array<unsigned char, crypto_box_PUBLICKEYBYTES> public_{};
  std::array<unsigned char, crypto_box_SECRETKEYBYTES> secret_{};
};

// The strict check GitHub applies to "encrypted_value" before trying to open it:
// canonical standard base64 with padding.
bool is_strict_base64(std::string_view text);

}  // namespace fluxkey::sim::github
