// The Flux kinds fluxkey reconciles, as one table: where each is served,
// the names users type for it, how its source is found, which revision it
// reports and how the flux CLI spells it. Everything kind-specific lives
// here, so the algorithm in reconcile.cc stays one for all kinds.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fluxkey::flux {

using Json = nlohmann::json;

// Where the object that must be reconciled first is named.
enum class SourceRule {
  kNone,
  // Kustomization: spec.sourceRef, namespace defaulting to the object's.
  kSourceRef,
  // HelmChart: spec.sourceRef, always in the chart's own namespace.
  kSourceRefSameNamespace,
  // HelmRelease: spec.chartRef, else the HelmChart the controller made
  // from spec.chart ("<namespace>-<name>" in the chart source's namespace).
  kHelmReleaseChart,
};

// Which field holds the revision the reconcile ended on, and what flux
// prints once the object is ready.
enum class RevisionRule {
  kNone,                   // no revision; flux prints a fixed message
  kLastAppliedRevision,    // "applied revision R" (Kustomization)
  kHelmRelease,            // history[0].chartVersion, else lastAttemptedRevision
  kArtifact,               // "fetched revision R" (sources)
  kImageScan,              // "scan fetched N tags"
  kImageUpdateAutomation,  // the Ready message; revision: lastPushCommit
};

struct KindInfo {
  std::string kind;      // "Kustomization"
  std::string plural;    // "kustomizations"
  std::string singular;  // "kustomization"
  std::vector<std::string> short_names;
  std::string group;
  std::vector<std::string> versions;  // preferred first, then the ones to fall back to
  std::string controller;             // who answers the request, for messages
  std::vector<std::string> flux_cli;  // `flux reconcile` subcommand: {"source", "git"}
  SourceRule source = SourceRule::kNone;
  std::vector<std::string> source_kinds;  // kinds the source may be (Kind names)
  RevisionRule revision = RevisionRule::kNone;
  std::string success_message;  // for kNone

  bool has_source() const { return source != SourceRule::kNone; }
};

const std::vector<KindInfo>& kinds();

// By Kind, singular, plural or short name, case-insensitively; nullptr when
// unknown.
const KindInfo* find_kind(const std::string& name);

// "kustomization (ks), helmrelease (hr), gitrepository, ..." for messages.
std::string known_kinds();

// The kinds taking --with-source, for messages: "kustomization, helmrelease
// and helmchart".
std::string kinds_with_source();

// The revision `object` reports, "" when the kind has none or it is unset.
std::string revision_of(const KindInfo& kind, const Json& object);

// What flux prints (after "✔ ") once `object` is ready.
std::string success_message(const KindInfo& kind, const Json& object);

// Objects no controller reconciles (a HelmRepository of type oci): flux
// reports success without annotating them.
bool is_static(const KindInfo& kind, const Json& object);

// A string at a path of keys, "" when any part is missing or not a string.
std::string string_at(const Json& object, std::initializer_list<const char*> path);

}  // namespace fluxkey::flux
