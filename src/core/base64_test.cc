#include "core/base64.h"

#include <doctest/doctest.h>

namespace core_base64_test {

using namespace fluxkey;

TEST_CASE("base64 round trip with padding") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_decode("Zm9v\nYmE=") == std::optional<std::string>("fooba"));
  std::string binary("\0\xff\x10", 3);
  CHECK(base64_decode(base64_encode(binary)) == binary);
}

TEST_CASE("base64_decode refuses what is not base64") {
  CHECK_FALSE(base64_decode("Zm9v!"));
  CHECK_FALSE(base64_decode("Zg"));
  CHECK_FALSE(base64_decode("apiVersion: v1"));
}

TEST_CASE("base64url: the URL alphabet, no padding; decoding takes it with or without") {
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64url_encode("ab") == "YWI");
  CHECK(base64url_decode("-_8") == "\xfb\xff");
  CHECK(base64url_decode("YWI=") == "ab");
  CHECK_FALSE(base64url_decode("a$b").has_value());
}

}  // namespace core_base64_test
