#include "flux/readiness.h"

#include <doctest/doctest.h>

namespace flux_readiness_test {

using namespace fluxkey::flux;
using nlohmann::json;

namespace {

const std::string kAt = "2026-03-01T10:00:00.123456789Z";

json condition(const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message) {
  return {{"type", type}, {"status", status}, {"reason", reason}, {"message", message}};
}

// A vector, not a json: a braced list of one json would be a copy of that
// json for clang and an array for g++.
json object(int generation, int observed, const std::string& handled,
            const std::vector<json>& conditions) {
  json o = {{"metadata", {{"name", "apps"}, {"generation", generation}}},
            {"status", {{"observedGeneration", observed}, {"conditions", conditions}}}};
  if (!handled.empty()) o["status"]["lastHandledReconcileAt"] = handled;
  return o;
}

}  // namespace

TEST_CASE("ready: the request handled, the generation observed, Ready True") {
  json o = object(3, 3, kAt,
                  {condition("Ready", "True", "ReconciliationSucceeded", "Applied revision: r")});
  Readiness r = readiness(o, kAt);
  CHECK(r.state == ReadyState::kReady);
  CHECK(r.handled);
  CHECK(r.message == "Applied revision: r");
  CHECK(r.reason == "ReconciliationSucceeded");
}

TEST_CASE("an earlier request's Ready True does not count") {
  json o = object(3, 3, "2026-03-01T09:00:00Z", {condition("Ready", "True", "Succeeded", "old")});
  Readiness r = readiness(o, kAt);
  CHECK(r.state == ReadyState::kPending);
  CHECK_FALSE(r.handled);
  // Nor does a leftover Stalled from an earlier run.
  o["status"]["conditions"].push_back(condition("Stalled", "True", "Old", "old stall"));
  CHECK(readiness(o, kAt).state == ReadyState::kPending);
}

TEST_CASE("a generation not yet observed is still pending") {
  json o = object(4, 3, kAt, {condition("Ready", "True", "Succeeded", "Applied")});
  CHECK(readiness(o, kAt).state == ReadyState::kPending);
  o["status"].erase("observedGeneration");
  CHECK(readiness(o, kAt).state == ReadyState::kPending);
}

TEST_CASE("Reconciling True is work in progress, even with Ready True") {
  json o = object(3, 3, kAt,
                  {condition("Ready", "True", "Succeeded", "Applied"),
                   condition("Reconciling", "True", "Progressing", "Reconciliation in progress")});
  CHECK(readiness(o, kAt).state == ReadyState::kPending);
}

TEST_CASE("Ready False keeps waiting (the controller retries), with its message at hand") {
  json o = object(3, 2, kAt,
                  {condition("Ready", "False", "BuildFailed", "kustomize build failed"),
                   condition("Reconciling", "True", "ProgressingWithRetry", "retrying")});
  Readiness r = readiness(o, kAt);
  CHECK(r.state == ReadyState::kPending);
  CHECK(r.handled);
  CHECK(r.message == "kustomize build failed");
  CHECK(r.reason == "BuildFailed");
}

TEST_CASE("Stalled True ends the wait with its message") {
  json o = object(
      3, 3, kAt,
      {condition("Ready", "False", "UpgradeFailed", "Helm upgrade failed"),
       condition("Stalled", "True", "RetriesExceeded", "Failed to upgrade after 1 attempt(s)")});
  Readiness r = readiness(o, kAt);
  CHECK(r.state == ReadyState::kStalled);
  CHECK(r.message == "Failed to upgrade after 1 attempt(s)");
  CHECK(r.reason == "RetriesExceeded");
  o["status"]["conditions"][1]["status"] = "False";
  CHECK(readiness(o, kAt).state == ReadyState::kPending);
}

TEST_CASE("no status at all is pending, not an error") {
  CHECK(readiness(json::object(), kAt).state == ReadyState::kPending);
  CHECK(readiness(json{{"status", "weird"}}, kAt).state == ReadyState::kPending);
  CHECK(readiness(json{{"status", {{"conditions", "weird"}}}}, kAt).state == ReadyState::kPending);
}

TEST_CASE("conditions with fields of the wrong type are read as empty, not thrown (fuzz)") {
  json o = object(3, 3, kAt, {});
  o["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}, {"message", 5}},
                               {{"type", "Stalled"}, {"status", "True"}, {"reason", nullptr}}};
  Readiness r = readiness(o, kAt);
  CHECK(r.state == ReadyState::kStalled);
  CHECK(r.message.empty());
  CHECK(r.reason.empty());
}

}  // namespace flux_readiness_test
