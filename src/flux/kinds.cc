#include "flux/kinds.h"
#include "core/text.h"

#include <algorithm>
#include <cctype>

namespace fluxkey::flux {
namespace {

const Json* find_at(const Json& object, std::initializer_list<const char*> path) {
  const Json* cur = &object;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

const Json* ready_condition(const Json& object) {
  const Json* conditions = find_at(object, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (const auto& c : *conditions) {
    if (c.is_object() && c.value("type", Json()) == "Ready") return &c;
  }
  return nullptr;
}

std::vector<KindInfo> build() {
  const std::string kustomize = "kustomize.toolkit.fluxcd.io";
  const std::string source = "source.toolkit.fluxcd.io";
  const std::string helm = "helm.toolkit.fluxcd.io";
  const std::string image = "image.toolkit.fluxcd.io";
  const std::string notification = "notification.toolkit.fluxcd.io";
  // Newest first, then what Flux releases before it served: a cluster on an
  // older Flux answers 404 for the newer version.
  const std::vector<std::string> kustomize_v = {"v1", "v1beta2"};
  const std::vector<std::string> source_v = {"v1", "v1beta2"};
  const std::vector<std::string> helm_v = {"v2", "v2beta2", "v2beta1"};
  const std::vector<std::string> image_v = {"v1", "v1beta2"};
  const std::vector<std::string> notification_v = {"v1", "v1beta2"};

  auto make = [](std::string kind, std::string plural, std::vector<std::string> short_names,
                 std::string group, std::vector<std::string> versions, std::string controller,
                 std::vector<std::string> flux_cli, RevisionRule revision) {
    KindInfo k;
    k.kind = std::move(kind);
    k.plural = std::move(plural);
    k.singular = lower_ascii(k.kind);
    k.short_names = std::move(short_names);
    k.group = std::move(group);
    k.versions = std::move(versions);
    k.controller = std::move(controller);
    k.flux_cli = std::move(flux_cli);
    k.revision = revision;
    return k;
  };

  std::vector<KindInfo> out;
  out.push_back(make("Kustomization", "kustomizations", {"ks"}, kustomize, kustomize_v,
                     "kustomize-controller", {"kustomization"},
                     RevisionRule::kLastAppliedRevision));
  out.back().source = SourceRule::kSourceRef;
  out.back().source_kinds = {"GitRepository", "OCIRepository", "Bucket"};

  out.push_back(make("HelmRelease", "helmreleases", {"hr"}, helm, helm_v, "helm-controller",
                     {"helmrelease"}, RevisionRule::kHelmRelease));
  out.back().source = SourceRule::kHelmReleaseChart;
  out.back().source_kinds = {"OCIRepository", "HelmChart"};

  out.push_back(make("GitRepository", "gitrepositories", {"gitrepo"}, source, source_v,
                     "source-controller", {"source", "git"}, RevisionRule::kArtifact));
  out.push_back(make("OCIRepository", "ocirepositories", {"ocirepo"}, source, source_v,
                     "source-controller", {"source", "oci"}, RevisionRule::kArtifact));
  out.push_back(make("HelmRepository", "helmrepositories", {"helmrepo"}, source, source_v,
                     "source-controller", {"source", "helm"}, RevisionRule::kArtifact));

  out.push_back(make("HelmChart", "helmcharts", {"hc"}, source, source_v, "source-controller",
                     {"source", "chart"}, RevisionRule::kArtifact));
  out.back().source = SourceRule::kSourceRefSameNamespace;
  out.back().source_kinds = {"HelmRepository", "GitRepository", "Bucket"};

  out.push_back(make("Bucket", "buckets", {}, source, source_v, "source-controller",
                     {"source", "bucket"}, RevisionRule::kArtifact));
  out.push_back(make("ImageRepository", "imagerepositories", {}, image, image_v,
                     "image-reflector-controller", {"image", "repository"},
                     RevisionRule::kImageScan));
  out.push_back(make("ImageUpdateAutomation", "imageupdateautomations", {}, image, image_v,
                     "image-automation-controller", {"image", "update"},
                     RevisionRule::kImageUpdateAutomation));
  out.push_back(make("Receiver", "receivers", {}, notification, notification_v,
                     "notification-controller", {"receiver"}, RevisionRule::kNone));
  out.back().success_message = "Receiver reconciliation completed";
  return out;
}

}  // namespace

std::string string_at(const Json& object, std::initializer_list<const char*> path) {
  const Json* value = find_at(object, path);
  return value != nullptr && value->is_string() ? value->get<std::string>() : "";
}

const std::vector<KindInfo>& kinds() {
  static const std::vector<KindInfo> table = build();
  return table;
}

const KindInfo* find_kind(const std::string& name) {
  std::string n = lower_ascii(name);
  for (const auto& k : kinds()) {
    if (n == k.singular || n == k.plural ||
        std::find(k.short_names.begin(), k.short_names.end(), n) != k.short_names.end()) {
      return &k;
    }
  }
  return nullptr;
}

std::string known_kinds() {
  std::string out;
  for (const auto& k : kinds()) {
    if (!out.empty()) out += ", ";
    out += k.singular;
    if (!k.short_names.empty() && (k.short_names[0] == "ks" || k.short_names[0] == "hr")) {
      out += " (" + k.short_names[0] + ")";
    }
  }
  return out;
}

std::string kinds_with_source() {
  std::vector<std::string> names;
  for (const auto& k : kinds()) {
    if (k.has_source()) names.push_back(k.singular);
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += names[i];
  }
  return out;
}

std::string revision_of(const KindInfo& kind, const Json& object) {
  switch (kind.revision) {
    case RevisionRule::kLastAppliedRevision:
      return string_at(object, {"status", "lastAppliedRevision"});
    case RevisionRule::kHelmRelease: {
      // As `flux get helmreleases`: the chart version of the newest release,
      // else what was last attempted; helm v2beta1 only had lastAppliedRevision.
      const Json* history = find_at(object, {"status", "history"});
      if (history != nullptr && history->is_array() && !history->empty()) {
        std::string version = string_at((*history)[0], {"chartVersion"});
        if (!version.empty()) return version;
      }
      std::string attempted = string_at(object, {"status", "lastAttemptedRevision"});
      if (!attempted.empty()) return attempted;
      return string_at(object, {"status", "lastAppliedRevision"});
    }
    case RevisionRule::kArtifact:
      return string_at(object, {"status", "artifact", "revision"});
    case RevisionRule::kImageUpdateAutomation:
      return string_at(object, {"status", "lastPushCommit"});
    case RevisionRule::kImageScan:
    case RevisionRule::kNone:
      return "";
  }
  return "";
}

std::string success_message(const KindInfo& kind, const Json& object) {
  switch (kind.revision) {
    case RevisionRule::kLastAppliedRevision:
    case RevisionRule::kHelmRelease:
      return "applied revision " + revision_of(kind, object);
    case RevisionRule::kArtifact:
      return "fetched revision " + revision_of(kind, object);
    case RevisionRule::kImageScan: {
      const Json* count = find_at(object, {"status", "lastScanResult", "tagCount"});
      long long n = count != nullptr && count->is_number_integer() ? count->get<long long>() : 0;
      return "scan fetched " + std::to_string(n) + " tags";
    }
    case RevisionRule::kImageUpdateAutomation: {
      if (const Json* ready = ready_condition(object)) {
        std::string message = string_at(*ready, {"message"});
        if (!message.empty()) return message;
      }
      std::string last = string_at(object, {"status", "lastAutomationRunTime"});
      return last.empty() ? "automation not yet run" : "last run " + last;
    }
    case RevisionRule::kNone:
      return kind.success_message;
  }
  return kind.success_message;
}

bool is_static(const KindInfo& kind, const Json& object) {
  return kind.kind == "HelmRepository" && string_at(object, {"spec", "type"}) == "oci";
}

}  // namespace fluxkey::flux
