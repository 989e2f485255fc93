// Checks on PEM text that users hand to fluxkey (--server-ca), so a wrong
// file is refused before anything is minted rather than written into a
// kubeconfig that cannot work.
#pragma once

#include <string>

namespace fluxkey::crypto {

// Number of X.509 certificates in a PEM bundle; 0 when the text holds none or
// anything that does not parse as a certificate.
int count_pem_certificates(const std::string& pem);

}  // namespace fluxkey::crypto
