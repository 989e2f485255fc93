#include "crypto/pem.h"

#include <doctest/doctest.h>

namespace crypto_pem_test {

using fluxkey::crypto::count_pem_certificates;

namespace {
// A throwaway self-signed CA, only ever used as test data.
const char* kCert = R"(-----BEGIN CERTIFICATE-----
MIIBizCCATGgAwIBAgIUGn7eCuyF+i2KjaIYeNX4lIG9E10wCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPZmx1eGtleS10ZXN0LWNhMCAXDTI2MTEyODE3NTA0MloYDzIx
MjYxMTA0MTc1MDQyWjAaMRgwFgYDVQQDDA9mbHV4a2V5LXRlc3QtY2EwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAATd+DGbAYNQbiEI1w12YiYtBmCQqpbqw4GQy3Pe
ghhsjDDpPQb2uHfOmR1zfLyiUc7AQ79zzZtKecrMVOCQa9hLo1MwUTAdBgNVHQ4E
FgQU2fZm9kcuF/oJEOZjfljuk9iRykowHwYDVR0jBBgwFoAU2fZm9kcuF/oJEOZj
fljuk9iRykowDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBZ4AkG
Es76N27MZ37CJ/0khrBF+NbGNEGx4xSigeln5QIhAIg7kHa3DaC8nclDgMCXkDPO
TXFtLbbC8LqIgqcweGKo
-----END CERTIFICATE-----
)";
}  // namespace

TEST_CASE("count_pem_certificates counts a bundle") {
  CHECK(count_pem_certificates(kCert) == 1);
  CHECK(count_pem_certificates(std::string(kCert) + kCert) == 2);
}

TEST_CASE("count_pem_certificates refuses what is not a certificate bundle") {
  CHECK(count_pem_certificates("") == 0);
  CHECK(count_pem_certificates("apiVersion: v1\nkind: Config\n") == 0);
  std::string broken = kCert;
  broken[100] = '!';
  CHECK(count_pem_certificates(broken) == 0);
}

}  // namespace crypto_pem_test
