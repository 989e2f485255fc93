#include "sim/kube/flux.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <regex>
#include <stdexcept>
#include <utility>

#include <CLI/CLI.hpp>

#include "core/time.h"
#include "sim/kube/kube_api.h"
#include "sim/kube/managed_fields.h"

namespace fluxkey::sim::flux {
namespace {

using nlohmann::json;

constexpr const char* kRequestedAt = "reconcile.fluxcd.io/requestedAt";
constexpr const char* kForceAt = "reconcile.fluxcd.io/forceAt";
constexpr const char* kResetAt = "reconcile.fluxcd.io/resetAt";
constexpr int kMaxDelayMs = 600'000;
constexpr int kMaxSourceWaits = 100;  // 5 s at 50 ms

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string hex_digest(const char* algorithm, const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* md_type = EVP_get_digestbyname(algorithm);
  if (md_type == nullptr || EVP_Digest(data.data(), data.size(), md, &len, md_type, nullptr) != 1) {
    throw std::runtime_error(std::string("digest ") + algorithm + " failed");
  }
  std::string out;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    out += buf;
  }
  return out;
}

// Reads a nested string field; empty when any part is missing or not a string.
std::string str_at(const json& object, std::initializer_list<const char*> path) {
  const json* cur = &object;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->contains(key)) return {};
    cur = &(*cur)[key];
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

int64_t generation_of(const json& object) {
  if (object.contains("metadata") && object["metadata"].is_object()) {
    const auto& meta = object["metadata"];
    if (meta.contains("generation") && meta["generation"].is_number_integer()) {
      return meta["generation"].get<int64_t>();
    }
  }
  return 0;
}

std::string annotation(const json& object, const char* key) {
  return str_at(object, {"metadata", "annotations", key});
}

bool has_annotation(const json& object, const char* key) {
  return object.contains("metadata") && object["metadata"].is_object() &&
         object["metadata"].contains("annotations") &&
         object["metadata"]["annotations"].is_object() &&
         object["metadata"]["annotations"].contains(key);
}

json* find_condition(json& status, const std::string& type) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (auto& c : status["conditions"]) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

// As fluxcd/pkg/runtime/conditions.Set: observedGeneration always follows the
// object, lastTransitionTime only moves when status, reason or message change,
// and Ready sorts first.
void set_condition(json& status, const std::string& type, const std::string& value,
                   const std::string& reason, const std::string& message, int64_t generation,
                   const std::string& now) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) {
    status["conditions"] = json::array();
  }
  json cond = {{"type", type},
               {"status", value},
               {"observedGeneration", generation},
               {"lastTransitionTime", now},
               {"reason", reason},
               {"message", message}};
  if (json* existing = find_condition(status, type)) {
    if (existing->value("status", "") == value && existing->value("reason", "") == reason &&
        existing->value("message", "") == message && existing->contains("lastTransitionTime")) {
      cond["lastTransitionTime"] = (*existing)["lastTransitionTime"];
    }
    *existing = cond;
  } else {
    status["conditions"].push_back(cond);
  }
  auto& conds = status["conditions"];
  std::stable_sort(conds.begin(), conds.end(), [](const json& a, const json& b) {
    std::string ta = a.value("type", ""), tb = b.value("type", "");
    if ((ta == "Ready") != (tb == "Ready")) return ta == "Ready";
    return ta < tb;
  });
}

void remove_condition(json& status, const std::string& type) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) return;
  auto& conds = status["conditions"];
  conds.erase(std::remove_if(conds.begin(), conds.end(),
                             [&](const json& c) { return c.value("type", "") == type; }),
              conds.end());
}

json status_of(const json& object) {
  if (object.contains("status") && object["status"].is_object()) return object["status"];
  return json::object();
}

std::string ns_of(const json& object) {
  return str_at(object, {"metadata", "namespace"});
}
std::string name_of(const json& object) {
  return str_at(object, {"metadata", "name"});
}

// A chart version as written, when it is one exact version (not a range).
std::string exact_version(const std::string& v) {
  static const std::regex kExact(R"(^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$)");
  return std::regex_match(v, kExact) ? v : std::string();
}

std::string default_fail_reason(Family family) {
  switch (family) {
    case Family::kKustomization:
      return "BuildFailed";
    case Family::kHelmRelease:
      return "UpgradeFailed";
    case Family::kGitRepository:
      return "GitOperationFailed";
    case Family::kOciRepository:
      return "OCIArtifactPullFailed";
    case Family::kHelmRepository:
      return "IndexationFailed";
    case Family::kHelmChart:
      return "ChartPullError";
    case Family::kBucket:
      return "BucketOperationFailed";
    case Family::kImageRepository:
      return "ReadOperationFailed";
    case Family::kImageUpdateAutomation:
      return "GitOperationFailed";
    case Family::kReceiver:
      return "TokenNotFound";
  }
  return "ReconciliationFailed";
}

std::string default_fail_message(Family family, const std::string& revision) {
  switch (family) {
    case Family::kKustomization:
      return "kustomize build failed: accumulating resources from 'kustomization.yaml' at "
             "revision " +
             revision + ": simulated failure";
    case Family::kGitRepository:
      return "failed to checkout and determine revision: simulated failure";
    case Family::kHelmRepository:
      return "failed to fetch Helm repository index: simulated failure";
    case Family::kImageRepository:
      return "failed to scan the image repository: simulated failure";
    default:
      return "simulated failure";
  }
}

struct HelmNames {
  std::string release_ns;
  std::string release_name;
  std::string chart;
};

HelmNames helm_names(const json& object) {
  HelmNames n;
  std::string target = str_at(object, {"spec", "targetNamespace"});
  n.release_ns = target.empty() ? ns_of(object) : target;
  n.release_name = str_at(object, {"spec", "releaseName"});
  if (n.release_name.empty()) {
    n.release_name = target.empty() ? name_of(object) : target + "-" + name_of(object);
  }
  n.chart = str_at(object, {"spec", "chart", "spec", "chart"});
  if (n.chart.empty()) n.chart = str_at(object, {"spec", "chartRef", "name"});
  if (n.chart.empty()) n.chart = name_of(object);
  return n;
}

std::string artifact_message(Family family, const std::string& revision, const json& object) {
  switch (family) {
    case Family::kOciRepository:
      return "stored artifact for digest '" + revision + "'";
    case Family::kHelmRepository:
    case Family::kBucket:
      return "stored artifact: revision '" + revision + "'";
    case Family::kHelmChart: {
      std::string chart = str_at(object, {"spec", "chart"});
      return "pulled '" + (chart.empty() ? name_of(object) : chart) + "' chart with version '" +
             revision + "'";
    }
    default:
      return "stored artifact for revision '" + revision + "'";
  }
}

std::string kind_path(const FluxKind& kind) {
  return lower(kind.kind);
}

json artifact_for(const FluxKind& kind, const json& object, const std::string& revision,
                  const std::string& now) {
  std::string digest = hex_digest(
      "SHA256", kind.resource + "/" + ns_of(object) + "/" + name_of(object) + "@" + revision);
  std::string path = kind_path(kind) + "/" + ns_of(object) + "/" + name_of(object) + "/" +
                     digest.substr(0, 40) + ".tar.gz";
  return {{"digest", "sha256:" + digest},
          {"lastUpdateTime", now},
          {"path", path},
          {"revision", revision},
          {"size", 1024 + static_cast<int>(digest[0]) * 16},
          {"url", "http://source-controller.flux-system.svc.cluster.local./" + path}};
}

// fluxcd/pkg/apis/meta HandleAnnotationRequest: the handled value is recorded
// whenever the annotation is present; the request acts only when it equals
// requestedAt and neither has been handled before.
bool handle_request(const json& object, const json& before, json& status,
                    const char* annotation_key, const char* status_field) {
  if (!has_annotation(object, annotation_key)) return false;
  std::string request = annotation(object, annotation_key);
  std::string last = before.value(status_field, std::string());
  status[status_field] = request;
  if (!has_annotation(object, kRequestedAt)) return false;
  std::string reconcile = annotation(object, kRequestedAt);
  return request == reconcile &&
         before.value("lastHandledReconcileAt", std::string()) != reconcile && last != request;
}

void finish_helm_release(ApiSet set, const json& object, const json& before, json& status,
                         const Behaviour& b, const std::string& revision, const std::string& now,
                         int64_t generation) {
  HelmNames n = helm_names(object);
  bool force = handle_request(object, before, status, kForceAt, "lastHandledForceAt");
  bool reset = handle_request(object, before, status, kResetAt, "lastHandledResetAt");
  if (reset) {
    status.erase("failures");
    status.erase("installFailures");
    status.erase("upgradeFailures");
  }
  json history = status.contains("history") && status["history"].is_array() ? status["history"]
                                                                            : json::array();
  bool installed = !history.empty();
  std::string action = installed ? "upgrade" : "install";
  std::string source_ns = str_at(object, {"spec", "chart", "spec", "sourceRef", "namespace"});
  if (source_ns.empty()) source_ns = ns_of(object);
  status["helmChart"] = source_ns + "/" + ns_of(object) + "-" + name_of(object);
  std::string storage = str_at(object, {"spec", "storageNamespace"});
  status["storageNamespace"] = storage.empty() ? n.release_ns : storage;
  status["lastAttemptedGeneration"] = generation;
  status["lastAttemptedRevision"] = revision;
  status["lastAttemptedReleaseAction"] = action;

  if (b.mode == Mode::kSucceed) {
    const json* latest = installed ? &history[0] : nullptr;
    // The progress step has already set Ready to Unknown; Released tells
    // whether the last release attempt went through.
    bool released = false;
    if (json* c = find_condition(status, "Released")) released = c->value("status", "") == "True";
    bool release = !installed || force || !released ||
                   before.value("lastAttemptedGeneration", int64_t{0}) != generation ||
                   latest->value("chartVersion", "") != revision;
    int version = installed ? latest->value("version", 0) : 0;
    if (release) {
      ++version;
      for (auto& h : history) {
        if (h.value("status", "") == "deployed") h["status"] = "superseded";
      }
      std::string values = object.contains("spec") && object["spec"].contains("values")
                               ? object["spec"]["values"].dump()
                               : "{}";
      std::string first = installed ? history.back().value("firstDeployed", now) : now;
      json snapshot = {
          {"name", n.release_name},
          {"namespace", n.release_ns},
          {"version", version},
          {"status", "deployed"},
          {"chartName", n.chart},
          {"chartVersion", revision},
          {"appVersion", revision},
          {"configDigest", "sha256:" + hex_digest("SHA256", values)},
          {"digest", "sha256:" + hex_digest("SHA256", n.release_ns + "/" + n.release_name + ".v" +
                                                          std::to_string(version) + revision)},
          {"firstDeployed", first},
          {"lastDeployed", now}};
      history.insert(history.begin(), snapshot);
      if (history.size() > 5) history.erase(history.begin() + 5, history.end());
    }
    status["history"] = history;
    std::string reason = b.reason;
    if (reason.empty()) reason = version <= 1 ? "InstallSucceeded" : "UpgradeSucceeded";
    std::string message = b.message;
    if (message.empty()) {
      message = std::string("Helm ") + (version <= 1 ? "install" : "upgrade") +
                " succeeded for release " + n.release_ns + "/" + n.release_name + ".v" +
                std::to_string(version) + " with chart " + n.chart + "@" + revision;
    }
    set_condition(status, "Ready", "True", reason, message, generation, now);
    set_condition(status, "Released", "True", reason, message, generation, now);
    status.erase("failures");
    status.erase("installFailures");
    status.erase("upgradeFailures");
    if (set == ApiSet::kOld) status["lastAppliedRevision"] = revision;
    return;
  }

  std::string reason =
      b.reason.empty() ? (installed ? "UpgradeFailed" : "InstallFailed") : b.reason;
  std::string message = b.message;
  if (message.empty()) {
    message = std::string("Helm ") + action + " failed for release " + n.release_ns + "/" +
              n.release_name + " with chart " + n.chart + "@" + revision + ": simulated failure";
  }
  status["failures"] = status.value("failures", int64_t{0}) + 1;
  const char* counter = installed ? "upgradeFailures" : "installFailures";
  status[counter] = status.value(counter, int64_t{0}) + 1;
  set_condition(status, "Ready", "False", reason, message, generation, now);
  set_condition(status, "Released", "False", reason, message, generation, now);
  if (b.mode == Mode::kFailStalled) {
    set_condition(status, "Stalled", "True", "RetriesExceeded",
                  "Failed to " + action + " after 1 attempt(s)", generation, now);
  }
}

}  // namespace

bool FluxKind::is_source() const {
  return family == Family::kGitRepository || family == Family::kOciRepository ||
         family == Family::kHelmRepository || family == Family::kHelmChart ||
         family == Family::kBucket;
}

ApiSet parse_api_set(const std::string& text) {
  if (text == "current") return ApiSet::kCurrent;
  if (text == "old") return ApiSet::kOld;
  throw std::invalid_argument("--flux-api must be current or old, not \"" + text + "\"");
}

const std::vector<FluxKind>& flux_kinds(ApiSet set) {
  auto build = [](bool old) {
    const std::string ks = "kustomize.toolkit.fluxcd.io", src = "source.toolkit.fluxcd.io",
                      helm = "helm.toolkit.fluxcd.io", image = "image.toolkit.fluxcd.io",
                      notif = "notification.toolkit.fluxcd.io";
    const std::string ks_v = old ? "v1beta2" : "v1", src_v = old ? "v1beta2" : "v1",
                      helm_v = old ? "v2beta2" : "v2", image_v = old ? "v1beta2" : "v1",
                      notif_v = old ? "v1beta2" : "v1";
    const std::vector<std::string> appliers = {"all", "fluxcd", "fluxcd-appliers"};
    const std::vector<std::string> sources = {"all", "fluxcd", "fluxcd-sources"};
    const std::vector<std::string> others = {"all", "fluxcd"};
    return std::vector<FluxKind>{
        {Family::kKustomization,
         ks,
         ks_v,
         "kustomizations",
         "Kustomization",
         "kustomization",
         {"ks"},
         appliers},
        {Family::kHelmRelease,
         helm,
         helm_v,
         "helmreleases",
         "HelmRelease",
         "helmrelease",
         {"hr"},
         appliers},
        {Family::kGitRepository,
         src,
         src_v,
         "gitrepositories",
         "GitRepository",
         "gitrepository",
         {"gitrepo"},
         sources},
        {Family::kOciRepository,
         src,
         src_v,
         "ocirepositories",
         "OCIRepository",
         "ocirepository",
         {"ocirepo"},
         sources},
        {Family::kHelmRepository,
         src,
         src_v,
         "helmrepositories",
         "HelmRepository",
         "helmrepository",
         {"helmrepo"},
         sources},
        {Family::kHelmChart, src, src_v, "helmcharts", "HelmChart", "helmchart", {"hc"}, sources},
        {Family::kBucket, src, src_v, "buckets", "Bucket", "bucket", {}, sources},
        {Family::kImageRepository,
         image,
         image_v,
         "imagerepositories",
         "ImageRepository",
         "imagerepository",
         {},
         others},
        {Family::kImageUpdateAutomation,
         image,
         image_v,
         "imageupdateautomations",
         "ImageUpdateAutomation",
         "imageupdateautomation",
         {},
         others},
        {Family::kReceiver, notif, notif_v, "receivers", "Receiver", "receiver", {}, others},
    };
  };
  static const std::vector<FluxKind> current = build(false);
  static const std::vector<FluxKind> old = build(true);
  return set == ApiSet::kOld ? old : current;
}

const FluxKind* find_kind(ApiSet set, const std::string& name) {
  std::string n = lower(name);
  for (const auto& k : flux_kinds(set)) {
    if (n == k.resource || n == lower(k.kind) || n == k.singular ||
        std::find(k.short_names.begin(), k.short_names.end(), n) != k.short_names.end()) {
      return &k;
    }
  }
  return nullptr;
}

BehaviourRule parse_behaviour(ApiSet set, const json& body) {
  if (!body.is_object()) throw std::invalid_argument("the body must be a JSON object");
  static const std::vector<std::string> kFields = {"kind",     "namespace", "name",   "mode",
                                                   "delay_ms", "revision",  "reason", "message"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(kFields.begin(), kFields.end(), key) == kFields.end()) {
      throw std::invalid_argument("unknown field \"" + key + "\"");
    }
    if (key == "delay_ms" ? !value.is_number_integer() : !value.is_string()) {
      throw std::invalid_argument("field \"" + key + "\" has the wrong type");
    }
  }
  BehaviourRule rule;
  if (body.contains("kind")) {
    const FluxKind* kind = find_kind(set, body["kind"].get<std::string>());
    if (kind == nullptr) {
      throw std::invalid_argument("unknown kind \"" + body["kind"].get<std::string>() +
                                  "\" (try kustomizations, helmreleases, gitrepositories ...)");
    }
    rule.resource = kind->resource;
  }
  rule.ns = body.value("namespace", std::string());
  rule.name = body.value("name", std::string());
  if (!rule.name.empty() && rule.resource.empty()) {
    throw std::invalid_argument("\"name\" needs \"kind\"");
  }
  std::string mode = body.value("mode", std::string("succeed"));
  if (mode == "succeed") {
    rule.behaviour.mode = Mode::kSucceed;
  } else if (mode == "fail") {
    rule.behaviour.mode = Mode::kFail;
  } else if (mode == "fail-stalled") {
    rule.behaviour.mode = Mode::kFailStalled;
  } else if (mode == "never") {
    rule.behaviour.mode = Mode::kNever;
  } else {
    throw std::invalid_argument("mode must be succeed, fail, fail-stalled or never, not \"" + mode +
                                "\"");
  }
  if (body.contains("delay_ms")) {
    int64_t delay = body["delay_ms"].get<int64_t>();
    if (delay < 0 || delay > kMaxDelayMs) {
      throw std::invalid_argument("delay_ms must be between 0 and " + std::to_string(kMaxDelayMs));
    }
    rule.behaviour.delay_ms = static_cast<int>(delay);
  }
  rule.behaviour.revision = body.value("revision", std::string());
  rule.behaviour.reason = body.value("reason", std::string());
  rule.behaviour.message = body.value("message", std::string());
  return rule;
}

Seen seen_of(const json& object) {
  return {generation_of(object), annotation(object, kRequestedAt)};
}

bool wants_reconcile(const std::optional<Seen>& before, const json& object) {
  if (!before) return true;
  Seen now = seen_of(object);
  return now.generation != before->generation || now.requested_at != before->requested_at;
}

bool is_suspended(const json& object) {
  return object.contains("spec") && object["spec"].is_object() &&
         object["spec"].value("suspend", false) == true;
}

json progressing_status(const FluxKind& kind, const json& object, const std::string& now) {
  json status = status_of(object);
  int64_t generation = generation_of(object);
  std::string message;
  switch (kind.family) {
    case Family::kKustomization:
    case Family::kImageUpdateAutomation:
      message = "Reconciliation in progress";
      break;
    case Family::kHelmRelease: {
      bool installed =
          status.contains("history") && status["history"].is_array() && !status["history"].empty();
      message = std::string("Running '") + (installed ? "upgrade" : "install") +
                "' action with timeout of 5m0s";
      break;
    }
    default:
      message = "reconciliation in progress";
  }
  set_condition(status, "Reconciling", "True", "Progressing", message, generation, now);
  set_condition(status, "Ready", "Unknown", "Progressing",
                kind.family == Family::kKustomization ? "Reconciliation in progress" : message,
                generation, now);
  return status;
}

std::string revision_for(const FluxKind& kind, const json& object, const Behaviour& behaviour,
                         const json* source) {
  if (!behaviour.revision.empty()) return behaviour.revision;
  std::string id = kind.resource + "/" + ns_of(object) + "/" + name_of(object);
  if (source != nullptr) {
    std::string rev = str_at(*source, {"status", "artifact", "revision"});
    // A chart's artifact revision is its version; an OCI artifact's is
    // "tag@digest", of which a HelmRelease reports the tag (the version).
    if (kind.family == Family::kHelmRelease) rev = rev.substr(0, rev.find('@'));
    if (!rev.empty()) return rev;
  }
  switch (kind.family) {
    case Family::kKustomization:
      return "main@sha1:" + hex_digest("SHA1", id);
    case Family::kGitRepository: {
      std::string ref = str_at(object, {"spec", "ref", "branch"});
      if (ref.empty()) ref = str_at(object, {"spec", "ref", "tag"});
      if (ref.empty()) ref = str_at(object, {"spec", "ref", "name"});
      if (ref.empty()) ref = "master";
      return ref + "@sha1:" + hex_digest("SHA1", id);
    }
    case Family::kOciRepository: {
      std::string tag = str_at(object, {"spec", "ref", "tag"});
      return (tag.empty() ? "latest" : tag) + "@sha256:" + hex_digest("SHA256", id);
    }
    case Family::kHelmRepository:
    case Family::kBucket:
      return "sha256:" + hex_digest("SHA256", id);
    case Family::kHelmChart: {
      std::string v = exact_version(str_at(object, {"spec", "version"}));
      return v.empty() ? "1.0.0" : v;
    }
    case Family::kHelmRelease: {
      std::string v = exact_version(str_at(object, {"spec", "chart", "spec", "version"}));
      return v.empty() ? "1.0.0" : v;
    }
    default:
      return "";
  }
}

std::optional<std::tuple<std::string, std::string, std::string>> source_ref(ApiSet set,
                                                                            const FluxKind& kind,
                                                                            const json& object) {
  std::string ref_kind, ref_name, ref_ns;
  if (kind.family == Family::kKustomization) {
    ref_kind = str_at(object, {"spec", "sourceRef", "kind"});
    ref_name = str_at(object, {"spec", "sourceRef", "name"});
    ref_ns = str_at(object, {"spec", "sourceRef", "namespace"});
  } else if (kind.family == Family::kHelmRelease) {
    ref_kind = str_at(object, {"spec", "chartRef", "kind"});
    ref_name = str_at(object, {"spec", "chartRef", "name"});
    ref_ns = str_at(object, {"spec", "chartRef", "namespace"});
  } else {
    return std::nullopt;
  }
  const FluxKind* source = ref_kind.empty() ? nullptr : find_kind(set, ref_kind);
  if (source == nullptr || !source->is_source() || ref_name.empty()) return std::nullopt;
  return std::make_tuple(source->resource, ref_ns.empty() ? ns_of(object) : ref_ns, ref_name);
}

json finished_status(const FluxKind& kind, ApiSet set, const json& object, const Behaviour& b,
                     const std::string& revision, const std::string& now) {
  const json before = status_of(object);
  json status = before;
  int64_t generation = generation_of(object);
  if (has_annotation(object, kRequestedAt)) {
    status["lastHandledReconcileAt"] = annotation(object, kRequestedAt);
  }
  const bool ok = b.mode == Mode::kSucceed;
  const bool stalled = b.mode == Mode::kFailStalled;

  if (kind.family == Family::kHelmRelease) {
    // helm-controller compares against the status as it was before this run.
    finish_helm_release(set, object, before, status, b, revision, now, generation);
  } else {
    std::string reason = b.reason.empty() ? default_fail_reason(kind.family) : b.reason;
    std::string message =
        b.message.empty() ? default_fail_message(kind.family, revision) : b.message;
    if (ok) {
      switch (kind.family) {
        case Family::kKustomization:
          status["lastAppliedRevision"] = revision;
          status["lastAttemptedRevision"] = revision;
          reason = b.reason.empty() ? "ReconciliationSucceeded" : b.reason;
          message = b.message.empty() ? "Applied revision: " + revision : b.message;
          break;
        case Family::kImageRepository:
          status["lastScanResult"] = {
              {"tagCount", 3}, {"scanTime", now}, {"latestTags", {"1.0.2", "1.0.1", "1.0.0"}}};
          status["canonicalImageName"] = str_at(object, {"spec", "image"});
          reason = b.reason.empty() ? "Succeeded" : b.reason;
          message = b.message.empty() ? "successful scan: found 3 tags" : b.message;
          break;
        case Family::kImageUpdateAutomation:
          status["lastAutomationRunTime"] = now;
          reason = b.reason.empty() ? "Succeeded" : b.reason;
          message = b.message.empty() ? "repository up-to-date" : b.message;
          break;
        case Family::kReceiver: {
          std::string path =
              "/hook/" + hex_digest("SHA256", str_at(object, {"spec", "secretRef", "name"}) +
                                                  name_of(object) + ns_of(object));
          status["webhookPath"] = path;
          reason = b.reason.empty() ? "Succeeded" : b.reason;
          message = b.message.empty() ? "Receiver initialized for path: " + path : b.message;
          break;
        }
        default:  // sources
          status["artifact"] = artifact_for(kind, object, revision, now);
          reason = b.reason.empty()
                       ? (kind.family == Family::kHelmChart ? "ChartPullSucceeded" : "Succeeded")
                       : b.reason;
          message = b.message.empty() ? artifact_message(kind.family, revision, object) : b.message;
          set_condition(status, "ArtifactInStorage", "True", "Succeeded", message, generation, now);
          remove_condition(status, "FetchFailed");
          break;
      }
      set_condition(status, "Ready", "True", reason, message, generation, now);
    } else {
      if (kind.family == Family::kKustomization) status["lastAttemptedRevision"] = revision;
      if (kind.is_source())
        set_condition(status, "FetchFailed", "True", reason, message, generation, now);
      set_condition(status, "Ready", "False", reason, message, generation, now);
      if (stalled) set_condition(status, "Stalled", "True", reason, message, generation, now);
    }
  }

  if (ok) {
    remove_condition(status, "Reconciling");
    remove_condition(status, "Stalled");
    status["observedGeneration"] = generation;
  } else if (stalled) {
    // A stalled object will not be retried: no longer reconciling, and its
    // generation counts as observed.
    remove_condition(status, "Reconciling");
    status["observedGeneration"] = generation;
  } else {
    // A failed run is retried: Reconciling stays, with ProgressingWithRetry,
    // and observedGeneration keeps the last successful generation.
    remove_condition(status, "Stalled");
    json* rc = find_condition(status, "Reconciling");
    std::string message = rc != nullptr ? rc->value("message", "") : "reconciliation in progress";
    set_condition(status, "Reconciling", "True", "ProgressingWithRetry", message, generation, now);
  }
  return status;
}

std::string now_rfc3339() {
  return format_rfc3339(Clock::now());
}

Controller::Controller(ApiSet set, ObjectAccess& access) : set_(set), access_(access) {}

Controller::~Controller() {
  stop();
}

void Controller::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Controller::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Controller::observe(const std::string& resource, const json& object, bool deleted) {
  if (find_kind(set_, resource) == nullptr) return;
  Key key{resource, ns_of(object), name_of(object)};
  std::lock_guard lock(mu_);
  if (deleted) {
    seen_.erase(key);
    ++epochs_[key];  // drops pending work for the object
    return;
  }
  std::optional<Seen> before;
  if (auto it = seen_.find(key); it != seen_.end()) before = it->second;
  bool wants = wants_reconcile(before, object);
  seen_[key] = seen_of(object);
  if (!wants) return;
  uint64_t epoch = ++epochs_[key];
  jobs_.push_back({std::chrono::steady_clock::now(), key, Step::kStart, epoch});
  cv_.notify_all();
}

void Controller::set_behaviour(const BehaviourRule& rule) {
  std::lock_guard lock(mu_);
  rules_.erase(std::remove_if(rules_.begin(), rules_.end(),
                              [&](const BehaviourRule& r) {
                                return r.resource == rule.resource && r.ns == rule.ns &&
                                       r.name == rule.name;
                              }),
               rules_.end());
  rules_.push_back(rule);
}

void Controller::clear_behaviours() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

Behaviour Controller::behaviour_for(const std::string& resource, const std::string& ns,
                                    const std::string& name) const {
  std::lock_guard lock(mu_);
  const BehaviourRule* best = nullptr;
  int best_score = -1;
  for (const auto& r : rules_) {
    if ((!r.resource.empty() && r.resource != resource) || (!r.ns.empty() && r.ns != ns) ||
        (!r.name.empty() && r.name != name)) {
      continue;
    }
    int score = (r.name.empty() ? 0 : 4) + (r.ns.empty() ? 0 : 2) + (r.resource.empty() ? 0 : 1);
    if (score >= best_score) {
      best = &r;
      best_score = score;
    }
  }
  return best != nullptr ? best->behaviour : Behaviour();
}

json Controller::behaviours_json() const {
  std::lock_guard lock(mu_);
  json out = json::array();
  static const char* const kModes[] = {"succeed", "fail", "fail-stalled", "never"};
  for (const auto& r : rules_) {
    out.push_back({{"kind", r.resource},
                   {"namespace", r.ns},
                   {"name", r.name},
                   {"mode", kModes[static_cast<int>(r.behaviour.mode)]},
                   {"delay_ms", r.behaviour.delay_ms},
                   {"revision", r.behaviour.revision},
                   {"reason", r.behaviour.reason},
                   {"message", r.behaviour.message}});
  }
  return out;
}

void Controller::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
    auto next = std::min_element(jobs_.begin(), jobs_.end(),
                                 [](const Job& a, const Job& b) { return a.due < b.due; });
    // Bounded sleeps: wake at least every second even with nothing due.
    if (next == jobs_.end() || next->due > now) {
      auto until = now + std::chrono::seconds(1);
      if (next != jobs_.end()) until = std::min(until, next->due);
      cv_.wait_until(lock, until);
      continue;
    }
    Job job = *next;
    jobs_.erase(next);
    if (epochs_[job.key] != job.epoch) continue;  // superseded by a newer change
    lock.unlock();
    try {
      run(job);
    } catch (const std::exception& e) {
      std::cerr << "kube-sim: flux controller: " << e.what() << "\n";
    }
    lock.lock();
  }
}

void Controller::run(const Job& job) {
  const auto& [resource, ns, name] = job.key;
  const FluxKind* kind = find_kind(set_, resource);
  if (kind == nullptr) return;
  Behaviour b = behaviour_for(resource, ns, name);
  if (b.mode == Mode::kNever) return;
  auto object = access_.get(resource, ns, name);
  if (!object || is_suspended(*object)) return;
  if (job.step == Step::kStart) {
    access_.write_status(resource, ns, name, progressing_status(*kind, *object, now_rfc3339()));
    std::lock_guard lock(mu_);
    if (epochs_[job.key] != job.epoch || stopping_) return;
    jobs_.push_back({std::chrono::steady_clock::now() + std::chrono::milliseconds(b.delay_ms),
                     job.key, Step::kFinish, job.epoch});
    cv_.notify_all();
    return;
  }
  std::optional<json> source;
  if (auto ref = source_ref(set_, *kind, *object)) {
    const auto& [src_resource, src_ns, src_name] = *ref;
    source = access_.get(src_resource, src_ns, src_name);
    // As kustomize-controller: a source that exists but has no artifact yet
    // is waited for (here briefly), so the revision applied is the source's.
    bool no_artifact =
        source.has_value() && str_at(*source, {"status", "artifact", "revision"}).empty();
    if (no_artifact && b.revision.empty() && job.waits < kMaxSourceWaits) {
      std::lock_guard lock(mu_);
      if (epochs_[job.key] == job.epoch && !stopping_) {
        jobs_.push_back({std::chrono::steady_clock::now() + std::chrono::milliseconds(50), job.key,
                         Step::kFinish, job.epoch, job.waits + 1});
        cv_.notify_all();
      }
      return;
    }
  }
  std::string revision = revision_for(*kind, *object, b, source ? &*source : nullptr);
  access_.write_status(resource, ns, name,
                       finished_status(*kind, set_, *object, b, revision, now_rfc3339()));
}

void add_flags(CLI::App& app, FluxFlags& flags) {
  app.add_option("--flux-api", flags.api,
                 "Flux API versions to serve: current (kustomize v1, source v1, helm v2, image v1, "
                 "notification v1) or old (v1beta2, helm v2beta2)")
      ->check(CLI::IsMember({"current", "old"}));
}

namespace {

// The field manager each real controller writes status as.
std::string status_manager(Family family) {
  switch (family) {
    case Family::kKustomization:
      return "gotk-kustomize-controller";
    case Family::kHelmRelease:
      return "gotk-helm-controller";
    case Family::kImageRepository:
      return "gotk-image-reflector-controller";
    case Family::kImageUpdateAutomation:
      return "gotk-image-automation-controller";
    case Family::kReceiver:
      return "gotk-notification-controller";
    default:
      return "gotk-source-controller";
  }
}

class StoreAccess : public ObjectAccess {
 public:
  StoreAccess(kube::KubeApi& api, ApiSet set) : api_(api), set_(set) {}

  std::optional<json> get(const std::string& resource, const std::string& ns,
                          const std::string& name) override {
    const kube::ResourceInfo* info = info_of(resource);
    if (info == nullptr) return std::nullopt;
    return api_.store().get({info->group, info->plural, ns, name});
  }

  bool write_status(const std::string& resource, const std::string& ns, const std::string& name,
                    const json& status) override {
    const kube::ResourceInfo* info = info_of(resource);
    if (info == nullptr) return false;
    const FluxKind* kind = find_kind(set_, resource);
    kube::ManagerId who{status_manager(kind->family), "Update", info->api_version(), "status"};
    std::string now = format_rfc3339(api_.clock().now());
    bool written = false;
    api_.store().transact(*info, {info->group, info->plural, ns, name}, [&](const json* current) {
      if (current == nullptr) return kube::Write::none();
      json updated = *current;
      updated["status"] = status;
      kube::record_update(updated, current, who, *info, now);
      written = true;
      return kube::Write::put(std::move(updated));
    });
    return written;
  }

 private:
  const kube::ResourceInfo* info_of(const std::string& resource) const {
    const FluxKind* kind = find_kind(set_, resource);
    if (kind == nullptr) return nullptr;
    return api_.registry().find(kind->group, kind->version, kind->resource);
  }

  kube::KubeApi& api_;
  ApiSet set_;
};

void control_error(httplib::Response& res, int status, const std::string& message) {
  reply_json(res, status, {{"message", message}});
}

}  // namespace

FluxService::FluxService(kube::KubeApi& api, ApiSet set) : api_(api), set_(set) {
  for (const auto& k : flux_kinds(set)) {
    api_.registry().add({.group = k.group,
                         .version = k.version,
                         .plural = k.resource,
                         .singular = k.singular,
                         .kind = k.kind,
                         .namespaced = true,
                         .short_names = k.short_names,
                         .categories = k.categories,
                         .status_subresource = true,
                         .custom = true});
  }
  access_ = std::make_unique<StoreAccess>(api_, set_);
  controller_ = std::make_unique<Controller>(set_, *access_);
  Controller* controller = controller_.get();
  listener_ = api_.store().subscribe([controller, set](const kube::StoreEvent& e) {
    const FluxKind* kind = find_kind(set, e.key.resource);
    if (kind == nullptr || kind->group != e.key.group) return;
    controller->observe(e.key.resource, e.object, e.type == "DELETED");
  });

  api_.server().add_control(
      "POST", "/_sim/flux", [this](const httplib::Request& req, httplib::Response& res) {
        json body = parse_json_body(req);
        if (body.is_discarded()) {
          control_error(res, 400,
                        "the body must be JSON: {\"kind\", \"namespace\", \"name\", "
                        "\"mode\", \"delay_ms\", \"revision\", \"reason\", \"message\"}");
          return;
        }
        try {
          controller_->set_behaviour(parse_behaviour(set_, body));
        } catch (const std::invalid_argument& e) {
          control_error(res, 400, e.what());
          return;
        }
        reply_json(res, 200, {{"behaviours", controller_->behaviours_json()}});
      });
  api_.server().add_control("GET", "/_sim/flux",
                            [this](const httplib::Request&, httplib::Response& res) {
                              reply_json(res, 200,
                                         {{"api", set_ == ApiSet::kOld ? "old" : "current"},
                                          {"behaviours", controller_->behaviours_json()}});
                            });
  api_.server().add_control("DELETE", "/_sim/flux",
                            [this](const httplib::Request&, httplib::Response& res) {
                              controller_->clear_behaviours();
                              reply_json(res, 200, {{"behaviours", json::array()}});
                            });
}

FluxService::~FluxService() {
  stop();
  api_.store().unsubscribe(listener_);
}

void FluxService::start() {
  // Objects that exist already (seeded before the subscription) are seen
  // once here; observe() ignores what it has seen.
  for (const auto& k : flux_kinds(set_)) {
    for (const auto& object : api_.store().list(k.group, k.resource, "", nullptr)) {
      controller_->observe(k.resource, object);
    }
  }
  controller_->start();
}

void FluxService::stop() {
  controller_->stop();
}

}  // namespace fluxkey::sim::flux
