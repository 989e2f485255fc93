// fluxkey's sealed boxes (C libsodium) against libsodium-wrappers (npm), the
// library GitHub's documentation uses: each side opens what the other sealed.
#include <doctest/doctest.h>
#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/base64.h"
#include "core/process.h"
#include "crypto/sealed_box.h"
#include "support/sim_process.h"

namespace fluxkey::testing::sealed_box_interop_test {
namespace {

using Json = nlohmann::json;

// Runs interop.js with one JSON request on stdin (keys never go to argv).
Json node(const Json& request) {
  const std::string dir = binary_from_env("SODIUM_INTEROP_DIR");
  if (!std::filesystem::exists(dir + "/node_modules/libsodium-wrappers")) {
    FAIL("libsodium-wrappers is not installed: run `npm ci --prefix " << dir << "` (./dev does)");
  }
  ProcessSpec spec;
  spec.argv = {"node", dir + "/interop.js"};
  spec.inherit_env = false;
  const char* path = std::getenv("PATH");
  spec.env_set = {{"PATH", path != nullptr ? path : "/usr/bin:/bin"}};
  spec.stdin_data = request.dump();
  spec.timeout = std::chrono::seconds(30);
  ProcessResult r = run_process(spec);
  INFO("node stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE(r.exit_code == 0);
  Json reply = Json::parse(r.out, nullptr, false);
  REQUIRE(reply.is_object());
  return reply;
}

const std::string kMessages[] = {
    "apiVersion: v1\nkind: Config\nusers:\n- name: flux\n  user:\n    token: eyJhbGciOi...\n",
    std::string(1, '\0') + "binary\xff\xfe",
    std::string(100'000, 'k'),
    "",
};

TEST_CASE("libsodium-wrappers opens boxes sealed by seal_for_github") {
  Json kp = node({{"op", "keypair"}});
  for (const auto& message : kMessages) {
    const std::string sealed = seal_for_github(kp["publicKey"].get<std::string>(), message);
    Json opened = node({{"op", "open"},
                        {"publicKey", kp["publicKey"]},
                        {"privateKey", kp["privateKey"]},
                        {"sealed", sealed}});
    REQUIRE(opened.contains("message"));
    CHECK(base64_decode(opened["message"].get<std::string>()) == message);
  }
  Json other = node({{"op", "keypair"}});
  Json refused = node({{"op", "open"},
                       {"publicKey", other["publicKey"]},
                       {"privateKey", other["privateKey"]},
                       {"sealed", seal_for_github(kp["publicKey"].get<std::string>(), "x")}});
  CHECK(refused.contains("error"));
}

TEST_CASE("C libsodium opens boxes sealed by libsodium-wrappers") {
  ensure_sodium();
  unsigned char pk[crypto_box_PUBLICKEYBYTES];
  unsigned char sk[crypto_box_SECRETKEYBYTES];
  crypto_box_keypair(pk, sk);
  const std::string pk_b64 =
      base64_encode(std::string_view(reinterpret_cast<const char*>(pk), sizeof pk));
  for (const auto& message : kMessages) {
    Json sealed =
        node({{"op", "seal"}, {"publicKey", pk_b64}, {"message", base64_encode(message)}});
    auto box = base64_decode(sealed["sealed"].get<std::string>());
    REQUIRE(box.has_value());
    REQUIRE(box->size() == message.size() + crypto_box_SEALBYTES);
    std::string opened(message.size(), '\0');
    REQUIRE(crypto_box_seal_open(reinterpret_cast<unsigned char*>(opened.data()),
                                 reinterpret_cast<const unsigned char*>(box->data()), box->size(),
                                 pk, sk) == 0);
    CHECK(opened == message);
  }
  sodium_memzero(sk, sizeof sk);
}

}  // namespace
}  // namespace fluxkey::testing::sealed_box_interop_test
