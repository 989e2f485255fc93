// A credential held in memory (a token, a private key, a kubeconfig that
// carries one): the bytes are overwritten with zeros (sodium_memzero, which
// the compiler may not optimise away) when the holder is destroyed, cleared
// or reassigned, so a heap page freed later, a core file (also disabled in
// main.cc) or a swapped-out page does not keep the secret. The bytes live in
// one heap buffer that a move hands over whole: a moved-from SecretString
// holds nothing, not even a stale copy (a moved std::string may keep a short
// value's bytes inside itself).
//
// What this does not cover, honestly: copies made outside fluxkey's own
// buffers. libcurl keeps the Authorization header and the client key blob,
// nlohmann::json and yaml-cpp build their own std::string temporaries while
// parsing or emitting, and a std::string that reallocates frees its old
// buffer unwiped. fluxkey wipes what it owns for the life of the process,
// which is where a long-lived secret sits.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace fluxkey {

class SecretString {
 public:
  SecretString() = default;
  // Adopts `value`: copied into a buffer of exactly its size, then the
  // caller's string is wiped and cleared.
  explicit SecretString(std::string&& value);
  // Copies a value this object cannot wipe at its source (an environment
  // variable, a parsed document): wipe the source yourself when you own it.
  explicit SecretString(std::string_view value);
  ~SecretString();

  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  // No silent duplicates of a secret: clone() says it out loud.
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;

  SecretString& operator=(std::string&& value);
  SecretString& operator=(std::string_view value);
  // A literal is not a buffer anyone can wipe, and the overloads above would
  // be ambiguous for it.
  SecretString& operator=(const char* value) { return *this = std::string_view(value); }

  SecretString clone() const { return SecretString(view()); }

  std::string_view view() const { return str(); }
  // For APIs that take const std::string& (the HTTP headers, YAML emitters):
  // no copy is made here; the API's own copies are its business.
  const std::string& str() const;
  const char* c_str() const { return str().c_str(); }
  bool empty() const { return !value_ || value_->empty(); }
  size_t size() const { return value_ ? value_->size() : 0; }

  // Wipes and empties.
  void clear();

  // Constant time for equal lengths (sodium_memcmp), so a comparison does
  // not tell by its timing how much of a guess was right.
  friend bool operator==(const SecretString& a, std::string_view b);
  friend bool operator==(const SecretString& a, const SecretString& b) { return a == b.view(); }

 private:
  std::unique_ptr<std::string> value_;  // null when empty or moved from
};

// Overwrites the bytes of `s` with zeros, then clears it (its capacity is
// kept, holding zeros, until it is freed).
void wipe(std::string& s);

namespace secret_testing {
// Called by wipe() with the buffer just zeroed, before it is cleared or
// freed: lets a unit test see the wipe without reading freed memory. Null
// (the default) in the product.
using WipeObserver = void (*)(const char* data, size_t size);
void set_wipe_observer(WipeObserver observer);
}  // namespace secret_testing

}  // namespace fluxkey
