#include "crypto/library_versions.h"

#include <openssl/crypto.h>
#include <sodium.h>

namespace fluxkey::crypto {

std::string openssl_version() {
  const char* version = OpenSSL_version(OPENSSL_VERSION_STRING);
  return version != nullptr ? version : "unknown";
}

std::string libsodium_version() {
  const char* version = sodium_version_string();
  return version != nullptr ? version : "unknown";
}

}  // namespace fluxkey::crypto
