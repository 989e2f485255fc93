#include "sim/github/sealing_key.h"

#include <cstdint>
#include <string>
#include <vector>

#include "core/base64.h"
#include "crypto/sealed_box.h"

namespace fluxkey::sim::github {

SealingKey::SealingKey() {
  ensure_sodium();
  crypto_box_keypair(public_.data(), secret_.data());
  // 18 digits, never starting with 0, so it reads like GitHub's ids.
  uint64_t n = 0;
  randombytes_buf(&n, sizeof n);
  key_id_ = std::to_string(100'000'000'000'000'000ULL + n % 900'000'000'000'000'000ULL);
}

SealingKey::~SealingKey() {
  sodium_memzero(secret_.data(), secret_.size());
}

std::string SealingKey::public_key_base64() const {
  return base64_encode(
      std::string_view(reinterpret_cast<const char*>(public_.data()), public_.size()));
}

std::optional<std::string> SealingKey::open(std::string_view sealed_base64) const {
  auto sealed = base64_decode(sealed_base64);
  if (!sealed || sealed->size() < crypto_box_SEALBYTES) return std::nullopt;
  std::string plain(sealed->size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(plain.data()),
                           reinterpret_cast<const unsigned char*>(sealed->data()), sealed->size(),
                           public_.data(), secret_.data()) != 0) {
    return std::nullopt;
  }
  return plain;
}

bool is_strict_base64(std::string_view text) {
  // The pattern wants at least one group, so an empty value is refused too.
  if (text.empty() || text.size() % 4 != 0) return false;
  auto is_alpha = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      // Padding only in the last two places of the last group.
      if (i + 2 < text.size()) return false;
      ++pad;
    } else if (pad > 0 || !is_alpha(c)) {
      return false;
    }
  }
  return pad <= 2;
}

}  // namespace fluxkey::sim::github
