#include "core/secret.h"

#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

namespace fluxkey::core_secret_test {
namespace {

// What wipe() reported, copied while the buffer is still alive: the test
// never reads memory after it is freed.
std::vector<std::string>& observed() {
  static std::vector<std::string> seen;
  return seen;
}

void observe(const char* data, size_t size) {
  observed().emplace_back(data, size);
}

// Installs the observer for one test case.
struct Observing {
  Observing() {
    observed().clear();
    secret_testing::set_wipe_observer(&observe);
  }
  ~Observing() { secret_testing::set_wipe_observer(nullptr); }
};

bool all_zero(const std::string& s) {
  return s.find_first_not_of('\0') == std::string::npos;
}

const std::string kToken = "eyJhbGciOiJFUzI1NiJ9.test-only-token-value.signature";

}  // namespace

static_assert(!std::is_copy_constructible_v<SecretString>);
static_assert(!std::is_copy_assignable_v<SecretString>);
static_assert(std::is_nothrow_move_constructible_v<SecretString>);
static_assert(!std::is_convertible_v<SecretString, std::string>);
static_assert(!std::is_convertible_v<std::string, SecretString>);

TEST_CASE("SecretString zeroes its buffer when destroyed") {
  Observing on;
  {
    SecretString s{std::string_view(kToken)};
    CHECK(s.view() == kToken);
    CHECK(s.size() == kToken.size());
    CHECK(observed().empty());
  }
  REQUIRE(observed().size() == 1);
  CHECK(observed()[0].size() == kToken.size());
  CHECK(all_zero(observed()[0]));
}

TEST_CASE("SecretString adopts an rvalue string and wipes the caller's copy") {
  Observing on;
  std::string source = kToken;
  SecretString s(std::move(source));
  CHECK(s.view() == kToken);
  // The source was wiped in place (and cleared), not merely moved from.
  REQUIRE(observed().size() == 1);
  CHECK(observed()[0].size() == kToken.size());
  CHECK(all_zero(observed()[0]));
  CHECK(source.empty());  // NOLINT(bugprone-use-after-move): it is ours to check
}

TEST_CASE("a short value is wiped too: it lives in the owned heap buffer, not inline") {
  Observing on;
  std::string short_value = "s3cr3t!!";  // fits the small-string buffer
  {
    SecretString s(std::move(short_value));
    CHECK(s.view() == "s3cr3t!!");
  }
  REQUIRE(observed().size() == 2);  // the adopted source, then the owned buffer
  for (const auto& wiped : observed()) CHECK(all_zero(wiped));
}

TEST_CASE("moving hands the buffer over: nothing stays behind in the moved-from object") {
  Observing on;
  SecretString a{std::string_view(kToken)};
  SecretString b(std::move(a));
  CHECK(observed().empty());  // no copy was made, so there was nothing to wipe
  CHECK(a.empty());           // NOLINT(bugprone-use-after-move)
  CHECK(a.view().empty());    // NOLINT(bugprone-use-after-move)
  CHECK(b.view() == kToken);

  SecretString c{std::string_view("another-secret-value")};
  c = std::move(b);  // c's old value is wiped before it takes b's buffer
  REQUIRE(observed().size() == 1);
  CHECK(observed()[0].size() == std::string("another-secret-value").size());
  CHECK(all_zero(observed()[0]));
  CHECK(c.view() == kToken);
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("reassigning and clearing wipe the previous value") {
  Observing on;
  SecretString s;
  CHECK(s.empty());
  CHECK(s.str().empty());
  s = kToken;  // from a string (copied: the caller owns its source)
  CHECK(observed().empty());
  s = "replacement-value";
  REQUIRE(observed().size() == 1);
  CHECK(observed()[0].size() == kToken.size());
  CHECK(all_zero(observed()[0]));
  s.clear();
  REQUIRE(observed().size() == 2);
  CHECK(all_zero(observed()[1]));
  CHECK(s.empty());
}

TEST_CASE("assigning a view of its own value keeps the value") {
  SecretString s{std::string_view(kToken)};
  s = s.view();
  CHECK(s.view() == kToken);
}

TEST_CASE("clone is the only copy, and an explicit one") {
  SecretString s{std::string_view(kToken)};
  SecretString t = s.clone();
  CHECK(t.view() == kToken);
  CHECK(s.view() == kToken);
  CHECK(t.view().data() != s.view().data());
  CHECK(std::string(t.c_str()) == kToken);
}

TEST_CASE("comparisons read the value without copying it out") {
  SecretString s{std::string_view(kToken)};
  CHECK(s == kToken);
  CHECK(kToken == s);
  CHECK_FALSE(s == "short");
  CHECK_FALSE(s == std::string(kToken.size(), 'x'));
  CHECK(s == s.clone());
  CHECK(SecretString() == "");
}

TEST_CASE("wipe zeroes a std::string that fluxkey owns") {
  Observing on;
  std::string kubeconfig = "users:\n- user:\n    token: " + kToken + "\n";
  wipe(kubeconfig);
  CHECK(kubeconfig.empty());
  REQUIRE(observed().size() == 1);
  CHECK(all_zero(observed()[0]));
  std::string empty;
  wipe(empty);
  CHECK(observed().size() == 1);
}

}  // namespace fluxkey::core_secret_test
