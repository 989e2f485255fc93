#pragma once

#include <string>

namespace fluxkey::crypto {

// The versions of the libraries loaded at run time, not of the headers
// fluxkey was built with: OpenSSL is a shared library, and a bug report needs
// the one the host has.
std::string openssl_version();    // "3.0.15"
std::string libsodium_version();  // "1.0.18"

}  // namespace fluxkey::crypto
