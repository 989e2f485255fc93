#include "crypto/sealed_box.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <optional>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/error.h"

namespace fluxkey::crypto_sealed_box_test {
namespace {

struct KeyPair {
  unsigned char pk[crypto_box_PUBLICKEYBYTES];
  unsigned char sk[crypto_box_SECRETKEYBYTES];
  KeyPair() {
    ensure_sodium();
    crypto_box_keypair(pk, sk);
  }
  std::string public_base64() const {
    return base64_encode(std::string_view(reinterpret_cast<const char*>(pk), sizeof pk));
  }
  // Returns nullopt when the box does not open with this key pair.
  std::optional<std::string> open(const std::string& sealed_base64) const {
    auto sealed = base64_decode(sealed_base64);
    REQUIRE(sealed.has_value());
    if (sealed->size() < crypto_box_SEALBYTES) return std::nullopt;
    std::string plain(sealed->size() - crypto_box_SEALBYTES, '\0');
    if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(plain.data()),
                             reinterpret_cast<const unsigned char*>(sealed->data()), sealed->size(),
                             pk, sk) != 0) {
      return std::nullopt;
    }
    return plain;
  }
};

TEST_CASE("seal_for_github round-trips through crypto_box_seal_open") {
  KeyPair kp;
  for (const std::string& plain : {std::string("apiVersion: v1\nkind: Config\n"), std::string(),
                                   std::string(70000, 'x'), std::string("\0\1\2", 3)}) {
    const std::string sealed = seal_for_github(kp.public_base64(), plain);
    CHECK(sealed.size() % 4 == 0);  // padded standard base64
    CHECK(sealed.find_first_of("-_") == std::string::npos);
    auto opened = kp.open(sealed);
    REQUIRE(opened.has_value());
    CHECK(*opened == plain);
  }
}

TEST_CASE("seal_for_github uses a fresh ephemeral key each time") {
  KeyPair kp;
  CHECK(seal_for_github(kp.public_base64(), "same") != seal_for_github(kp.public_base64(), "same"));
}

TEST_CASE("a box sealed for one key does not open with another") {
  KeyPair a, b;
  CHECK_FALSE(b.open(seal_for_github(a.public_base64(), "secret")).has_value());
}

TEST_CASE("seal_for_github tolerates surrounding whitespace in the key") {
  KeyPair kp;
  auto opened = kp.open(seal_for_github(kp.public_base64() + "\n", "v"));
  REQUIRE(opened.has_value());
  CHECK(*opened == "v");
}

TEST_CASE("seal_for_github rejects keys of the wrong length") {
  KeyPair kp;
  const std::string raw(reinterpret_cast<const char*>(kp.pk), sizeof kp.pk);
  CHECK_THROWS_WITH_AS(seal_for_github(base64_encode(raw.substr(0, 31)), "v"),
                       doctest::Contains("decodes to 31 bytes"), Error);
  CHECK_THROWS_WITH_AS(seal_for_github(base64_encode(raw + "x"), "v"),
                       doctest::Contains("decodes to 33 bytes"), Error);
  CHECK_THROWS_WITH_AS(seal_for_github(base64_encode(raw + raw + raw), "v"),
                       doctest::Contains("decodes to 96 bytes"), Error);
  CHECK_THROWS_WITH_AS(seal_for_github("", "v"), doctest::Contains("decodes to 0 bytes"), Error);
}

TEST_CASE("seal_for_github rejects keys that are not standard base64") {
  KeyPair kp;
  std::string url_safe = kp.public_base64();
  // Force a character of the URL-safe alphabet into the key.
  url_safe[0] = '-';
  CHECK_THROWS_WITH_AS(seal_for_github(url_safe, "v"),
                       doctest::Contains("not valid standard base64"), Error);
  CHECK_THROWS_WITH_AS(seal_for_github("not base64!", "v"),
                       doctest::Contains("not valid standard base64"), Error);
  std::string unpadded = kp.public_base64();
  unpadded.pop_back();  // 32 bytes end in one '='
  CHECK_THROWS_AS(seal_for_github(unpadded, "v"), Error);
}

}  // namespace
}  // namespace fluxkey::crypto_sealed_box_test
