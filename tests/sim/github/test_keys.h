// RSA keys for tests of GitHub App authentication (RS256 JWTs).
#pragma once

#include <openssl/rsa.h>

#include "sim/common/pki.h"

namespace fluxkey::sim::github {

inline PkeyPtr generate_rsa_key() {
  PkeyPtr key(EVP_RSA_gen(2048));
  if (!key) throw_openssl("EVP_RSA_gen");
  return key;
}

}  // namespace fluxkey::sim::github
