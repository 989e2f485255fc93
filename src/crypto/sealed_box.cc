#include "crypto/sealed_box.h"

#include <sodium.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"

namespace fluxkey {
namespace {

// Clears a byte buffer when it goes out of scope, so that copies of the
// plaintext do not linger in freed memory.
class WipedBytes {
 public:
  explicit WipedBytes(size_t size) : bytes_(size) {}
  ~WipedBytes() { sodium_memzero(bytes_.data(), bytes_.size()); }
  WipedBytes(const WipedBytes&) = delete;
  WipedBytes& operator=(const WipedBytes&) = delete;
  unsigned char* data() { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }

 private:
  std::vector<unsigned char> bytes_;
};

std::string to_base64(const unsigned char* data, size_t size) {
  const size_t max_len = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
  std::string out(max_len, '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return out;
}

}  // namespace

void ensure_sodium() {
  // sodium_init is thread-safe and idempotent; a static makes it run once.
  static const int rc = sodium_init();
  if (rc < 0) throw Error("libsodium could not be initialised; check the system's random source");
}

std::string seal_for_github(std::string_view public_key_base64, std::string_view plaintext) {
  ensure_sodium();
  // Decode into a buffer as large as the input so that a wrong length is
  // reported as such, not as a base64 error.
  std::vector<unsigned char> key(public_key_base64.size() + 1);
  size_t key_len = 0;
  const char* end = nullptr;
  // GitHub's key is standard base64 with padding; surrounding whitespace from
  // a file or an echo is tolerated, anything else is an error.
  if (sodium_base642bin(key.data(), key.size(), public_key_base64.data(), public_key_base64.size(),
                        " \t\r\n", &key_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != public_key_base64.data() + public_key_base64.size()) {
    throw Error("GitHub public key is not valid standard base64; check the key endpoint's answer");
  }
  if (key_len != crypto_box_PUBLICKEYBYTES) {
    throw Error("GitHub public key decodes to " + std::to_string(key_len) +
                " bytes, a libsodium key has 32; check the key endpoint's answer");
  }

  // One spare byte keeps data() valid for an empty secret.
  WipedBytes message(plaintext.size() + 1);
  if (!plaintext.empty()) std::copy(plaintext.begin(), plaintext.end(), message.data());
  std::vector<unsigned char> sealed(plaintext.size() + crypto_box_SEALBYTES);
  if (crypto_box_seal(sealed.data(), message.data(), plaintext.size(), key.data()) != 0) {
    throw Error("libsodium refused to seal the secret for GitHub; check the public key");
  }
  return to_base64(sealed.data(), sealed.size());
}

}  // namespace fluxkey
