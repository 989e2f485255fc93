#include "sim/github/sealing_key.h"

#include <doctest/doctest.h>

#include "core/base64.h"
#include "crypto/sealed_box.h"

namespace fluxkey::sim::github::github_sealing_key_test {
namespace {

TEST_CASE("SealingKey opens what seal_for_github sealed for it") {
  SealingKey key;
  CHECK(key.public_key_base64().size() == 44);
  CHECK(key.key_id().size() == 18);
  auto opened = key.open(seal_for_github(key.public_key_base64(), "kubeconfig"));
  REQUIRE(opened.has_value());
  CHECK(*opened == "kubeconfig");
  auto empty = key.open(seal_for_github(key.public_key_base64(), ""));
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
}

TEST_CASE("SealingKey refuses boxes for other keys and garbage") {
  SealingKey a, b;
  CHECK(a.key_id() != b.key_id());
  CHECK_FALSE(b.open(seal_for_github(a.public_key_base64(), "x")).has_value());
  CHECK_FALSE(a.open("not base64").has_value());
  CHECK_FALSE(a.open(base64_encode("too short")).has_value());
}

TEST_CASE("copies of a SealingKey share the key pair; a new one is different") {
  SealingKey a;
  SealingKey copy = a;
  CHECK(copy.key_id() == a.key_id());
  CHECK(copy.open(seal_for_github(a.public_key_base64(), "v")) == std::optional<std::string>("v"));
  a = SealingKey();
  CHECK(a.key_id() != copy.key_id());
}

TEST_CASE("is_strict_base64 follows GitHub's encrypted_value pattern") {
  CHECK(is_strict_base64("c2VjcmV0"));
  CHECK(is_strict_base64("YQ=="));
  CHECK(is_strict_base64("YWI="));
  CHECK_FALSE(is_strict_base64(""));
  CHECK_FALSE(is_strict_base64("YQ"));
  CHECK_FALSE(is_strict_base64("YQ=a"));
  CHECK_FALSE(is_strict_base64("Y==="));
  CHECK_FALSE(is_strict_base64("ainsdr-34234vsdf-dfdf"));
  CHECK_FALSE(is_strict_base64("YWJj\nZGVm"));
}

}  // namespace
}  // namespace fluxkey::sim::github::github_sealing_key_test
