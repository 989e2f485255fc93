#include "flux/readiness.h"

#include "flux/kinds.h"

namespace fluxkey::flux {
namespace {

const Json* condition(const Json& object, const char* type) {
  if (!object.is_object() || !object.contains("status")) return nullptr;
  const Json& status = object["status"];
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) {
    return nullptr;
  }
  for (const auto& c : status["conditions"]) {
    if (c.is_object() && c.value("type", Json()) == type) return &c;
  }
  return nullptr;
}

bool is_true(const Json* c) {
  return c != nullptr && c->value("status", Json()) == "True";
}

// An integer field, or -1 when absent (so that absent never equals present).
long long integer_at(const Json& object, const char* outer, const char* key) {
  if (!object.is_object() || !object.contains(outer) || !object[outer].is_object()) return -1;
  const Json& parent = object[outer];
  auto it = parent.find(key);
  return it != parent.end() && it->is_number_integer() ? it->get<long long>() : -1;
}

}  // namespace

Readiness readiness(const Json& object, const std::string& requested_at) {
  Readiness out;
  const Json* ready = condition(object, "Ready");
  if (ready != nullptr) {
    // string_at, not value(): a field of another type must not throw.
    out.message = string_at(*ready, {"message"});
    out.reason = string_at(*ready, {"reason"});
  }
  out.handled = string_at(object, {"status", "lastHandledReconcileAt"}) == requested_at;
  // Until the controller has recorded this very request, every condition
  // is from an earlier run (a Stalled left over included).
  if (!out.handled) return out;

  if (const Json* stalled = condition(object, "Stalled"); is_true(stalled)) {
    out.state = ReadyState::kStalled;
    std::string message = string_at(*stalled, {"message"});
    if (!message.empty()) out.message = message;
    if (auto it = stalled->find("reason"); it != stalled->end() && it->is_string()) {
      out.reason = it->get<std::string>();
    }
    return out;
  }
  long long generation = integer_at(object, "metadata", "generation");
  bool generation_seen =
      generation >= 0 && integer_at(object, "status", "observedGeneration") == generation;
  // As kstatus: Reconciling True is work in progress whatever Ready says.
  if (is_true(ready) && generation_seen && !is_true(condition(object, "Reconciling"))) {
    out.state = ReadyState::kReady;
  }
  return out;
}

}  // namespace fluxkey::flux
