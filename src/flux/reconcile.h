// What `flux reconcile` does, natively over the Kubernetes API: request a
// reconcile through the reconcile.fluxcd.io/requestedAt annotation (the
// source first with --with-source), then wait until the controller has
// handled exactly that request and the object is Ready.
//
// One generic algorithm; the kinds differ only in a table (flux/kinds.h):
// API group and versions, how to find the source, which revision to report.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "kube/client.h"

namespace fluxkey::flux {

struct ReconcileOptions {
  std::string kind = "kustomization";  // as the user typed it: kind, plural or short name
  std::string name = "flux-system";
  std::string namespace_ = "flux-system";
  bool with_source = false;
  bool force = false;  // helmrelease only
  bool reset = false;  // helmrelease only
  std::chrono::milliseconds timeout{5 * 60 * 1000};
  bool wait = true;  // false: annotate and return (--no-wait)
};

// One object reconciled (the source, then the object itself).
struct ObjectResult {
  std::string kind;  // "Kustomization", "GitRepository"
  std::string namespace_;
  std::string name;
  bool ready = false;
  std::string revision;  // the revision it ended on ("main@sha1:abc..."), or ""
  std::string message;   // Ready's message, or why it failed
};

struct ReconcileResult {
  bool ready = false;
  std::string revision;  // of the requested object
  std::string message;
  std::chrono::milliseconds duration{0};
  std::vector<ObjectResult> objects;  // in the order they were reconciled, source first
};

// Thrown when the object failed to become ready: exit 1 (Stalled, Ready
// False at the end is a timeout, exit 4). Carries the partial result for
// the action's outputs and summary.
class ReconcileError : public Error {
 public:
  ReconcileError(const std::string& message, ExitCode code, ReconcileResult result)
      : Error(message, code), message_(message), result_(std::move(result)) {}
  const ReconcileResult& result() const { return result_; }
  // As Flux wrote it, line breaks and all (a kustomize build error spans
  // lines); what() has them escaped. The action's outputs keep them.
  const std::string& message() const { return message_; }

 private:
  std::string message_;
  ReconcileResult result_;
};

// Usage errors (unknown kind, --force on a kind other than helmrelease) are
// UsageError; a missing or suspended object, an RBAC refusal, a network
// failure are Error (exit 1); not ready in time is ReconcileError with exit
// 4; Stalled or a failed reconcile is ReconcileError with exit 1. Progress
// goes to the logger (stderr), as flux prints it.
ReconcileResult reconcile(const ReconcileOptions& options, kube::Client& client);

}  // namespace fluxkey::flux
