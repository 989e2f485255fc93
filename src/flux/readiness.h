// When a reconcile request counts as answered: the controller has handled
// exactly the request fluxkey sent, has seen the current generation, and
// says Ready. Stalled means it gave up and will not retry: no use waiting.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace fluxkey::flux {

enum class ReadyState {
  kPending,  // not handled yet, handled but still in progress, or Ready False (retried)
  kReady,
  kStalled,
};

struct Readiness {
  ReadyState state = ReadyState::kPending;
  bool handled = false;  // lastHandledReconcileAt equals the request
  // Ready's (or, when stalled, Stalled's) message: what the user is told on
  // success, on failure and on a timeout. Empty while there is none.
  std::string message;
  std::string reason;
};

Readiness readiness(const nlohmann::json& object, const std::string& requested_at);

}  // namespace fluxkey::flux
