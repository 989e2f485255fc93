#include "core/secret.h"

#include <sodium.h>

#include <atomic>

namespace fluxkey {
namespace {

std::atomic<secret_testing::WipeObserver> g_observer{nullptr};

// The buffer a SecretString owns: sized for the value up front, so it never
// reallocates (and frees an unwiped copy) while holding it.
std::unique_ptr<std::string> owned_copy(std::string_view value) {
  if (value.empty()) return nullptr;
  auto out = std::make_unique<std::string>();
  out->reserve(value.size());
  out->assign(value);
  return out;
}

}  // namespace

void wipe(std::string& s) {
  if (!s.empty()) {
    sodium_memzero(s.data(), s.size());
    if (auto observer = g_observer.load()) observer(s.data(), s.size());
  }
  s.clear();
}

SecretString::SecretString(std::string&& value) : value_(owned_copy(value)) {
  wipe(value);
}

SecretString::SecretString(std::string_view value) : value_(owned_copy(value)) {}

SecretString::~SecretString() {
  clear();
}

SecretString::SecretString(SecretString&& other) noexcept = default;

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    clear();
    value_ = std::move(other.value_);
  }
  return *this;
}

SecretString& SecretString::operator=(std::string&& value) {
  *this = std::string_view(value);
  wipe(value);
  return *this;
}

SecretString& SecretString::operator=(std::string_view value) {
  // Copy first: `value` may point into the buffer being replaced.
  std::unique_ptr<std::string> fresh = owned_copy(value);
  clear();
  value_ = std::move(fresh);
  return *this;
}

const std::string& SecretString::str() const {
  static const std::string kEmpty;
  return value_ ? *value_ : kEmpty;
}

bool operator==(const SecretString& a, std::string_view b) {
  std::string_view v = a.view();
  return v.size() == b.size() && (v.empty() || sodium_memcmp(v.data(), b.data(), v.size()) == 0);
}

void SecretString::clear() {
  if (value_) wipe(*value_);
  value_.reset();
}

namespace secret_testing {

void set_wipe_observer(WipeObserver observer) {
  g_observer.store(observer);
}

}  // namespace secret_testing

}  // namespace fluxkey
