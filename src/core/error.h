// Errors carry the exit code of the contract (INTERFACE.md, "Exit codes"), so
// that every layer can fail with the right code and main() only maps.
#pragma once

#include <stdexcept>
#include <string>

#include "core/text.h"

namespace fluxkey {

enum class ExitCode : int {
  kOk = 0,
  kFailed = 1,   // API refusal, TLS or network failure, failed reconcile
  kUsage = 2,    // usage or configuration error, found before any change
  kPartial = 3,  // cluster Secret updated, some GitHub targets failed
  kTimeout = 4,  // timed out waiting for readiness
};

// The message is one line meant for a person: it names the thing and the fix.
// Whatever it quotes (a path, a name, a server's words) cannot break that
// line: control characters are written as escapes (printable()).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::kFailed)
      : std::runtime_error(printable(message)), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Bad flags, bad values, unreadable configuration: exit 2, nothing sent yet.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message, ExitCode::kUsage) {}
};

}  // namespace fluxkey
