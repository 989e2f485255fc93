// The credentials a stand-in hands out or is given (ServiceAccount tokens it
// mints, installation tokens, static tokens, client keys), appended to
// STATE_DIR/issued-secrets.jsonl (mode 0600), so the test side can check that
// none of them ever shows up in fluxkey's output or in the request log
// (tests/support/secret_guard.h). Never printed, never in requests.jsonl.
#pragma once

#include <string>

namespace fluxkey::sim {

// The file name inside the state dir.
constexpr const char* kSecretLedgerFile = "issued-secrets.jsonl";

// Opens (creates 0600, appends) the process's ledger. Until it is called,
// record_secret() does nothing (unit tests of the stand-ins' pieces).
void open_secret_ledger(const std::string& state_dir);

// Appends {"kind": kind, "value": value} as one line and flushes it before
// returning, so the record exists before the reply that carries the secret.
void record_secret(const std::string& kind, const std::string& value);

}  // namespace fluxkey::sim
