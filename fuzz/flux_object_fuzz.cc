// How fluxkey reads the Flux objects the API server returns: readiness
// (conditions, lastHandledReconcileAt, generations), the source to
// reconcile first, the revision and the success line; and what the flux
// CLI prints (parse_flux_output). The first line names the kind; the rest
// is the object as JSON.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "flux/flux_cli.h"
#include "flux/kinds.h"
#include "flux/readiness.h"
#include "flux/source.h"
#include "fuzz_support.h"

namespace {

using fluxkey::fuzz::expect_errors_only;
using fluxkey::fuzz::require;

// What the seeds' objects carry in status.lastHandledReconcileAt.
constexpr const char* kRequestedAt = "2026-11-28T10:00:00.123456789Z";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Lambdas cannot capture structured bindings in C++20.
  const auto parts = fluxkey::fuzz::split_first_line(input);
  const std::string& kind_name = parts.first;
  const std::string_view body = parts.second;
  const auto& kinds = fluxkey::flux::kinds();
  const fluxkey::flux::KindInfo* kind = fluxkey::flux::find_kind(kind_name);
  if (kind == nullptr) kind = &kinds[kind_name.size() % kinds.size()];

  const nlohmann::json object = nlohmann::json::parse(body, nullptr, false);
  expect_errors_only("readiness", [&] {
    auto r = fluxkey::flux::readiness(object, kRequestedAt);
    require(r.state == fluxkey::flux::ReadyState::kPending || r.handled,
            "ready or stalled before the request was handled");
  });
  expect_errors_only("source_of", [&] {
    if (auto ref = fluxkey::flux::source_of(*kind, object)) {
      require(kind->has_source(), "a source for a kind without one");
      require(ref->kind != nullptr && !ref->name.empty(), "a source without kind or name");
      ref->str();
    }
  });
  expect_errors_only("revision_of", [&] { fluxkey::flux::revision_of(*kind, object); });
  expect_errors_only("success_message", [&] { fluxkey::flux::success_message(*kind, object); });
  expect_errors_only("is_static", [&] { fluxkey::flux::is_static(*kind, object); });

  const std::string text(input);
  expect_errors_only("parse_flux_output", [&] {
    auto out = fluxkey::flux::parse_flux_output(text);
    require(
        out.success.find('\n') == std::string::npos && out.failure.find('\n') == std::string::npos,
        "flux output lines span lines");
  });
  return 0;
}
