// The resource table: every kind kube-sim serves is one ResourceInfo. The
// router, discovery (/api, /apis) and the store all read this table, so a
// new kind (the Flux kinds, say) is one call with designated initializers:
//   registry.add({.group = "kustomize.toolkit.fluxcd.io", .version = "v1",
//                 .plural = "kustomizations", .kind = "Kustomization",
//                 .short_names = {"ks"}, .status_subresource = true, .custom = true});
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace fluxkey::sim::kube {

struct ResourceInfo {
  std::string group = "";  // "" for the core group
  std::string version = "";
  std::string plural = "";  // "secrets": the path segment
  std::string singular = "";
  std::string kind = "";
  bool namespaced = true;
  std::vector<std::string> short_names = {};
  std::vector<std::string> categories = {};
  std::vector<std::string> verbs = {"create", "delete", "deletecollection", "get",
                                    "list",   "patch",  "update",           "watch"};
  // status is written only through /status; writes to the main resource keep it.
  bool status_subresource = false;
  // A CustomResourceDefinition kind: metadata.generation is kept, DELETE
  // returns the object, strategic merge patch and protobuf are refused, and
  // list items carry apiVersion and kind.
  bool custom = false;
  // Called on every create/update of this kind after the write was merged,
  // with the object as it will be stored (mutable: defaulting, folding
  // stringData) and the previous version (null on create). Throws ApiError
  // (invalid()) to refuse.
  std::function<void(nlohmann::json& object, const nlohmann::json* old)> admit = nullptr;
  // Paths whose children are map keys (not struct fields): they get a "."
  // entry in managedFields, as the real server writes it.
  std::vector<std::vector<std::string>> map_fields = {};
  // Top-level fields the kind has, for fieldValidation (Strict: 400 on any
  // other; Warn: a Warning header). Empty: not checked (custom kinds).
  std::vector<std::string> top_level_fields = {};
  // Field selectors beyond metadata.name and metadata.namespace ("type" for Secrets).
  std::vector<std::string> field_selectors = {};
  // Extra columns for `kubectl get` tables: {header, path}; ".spec.suspend" shows
  // the value, "#.data" the number of entries.
  std::vector<std::pair<std::string, std::string>> printer_columns = {};

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // "secrets", "kustomizations.kustomize.toolkit.fluxcd.io"
  std::string group_resource() const { return group.empty() ? plural : plural + "." + group; }
};

class ResourceRegistry {
 public:
  // Adds a kind (or a further version of a known kind: same group and plural,
  // other version; the store then holds one object seen through every version).
  void add(ResourceInfo info);

  const ResourceInfo* find(const std::string& group, const std::string& version,
                           const std::string& plural) const;
  // By apiVersion ("v1", "group/version") and kind.
  const ResourceInfo* find_kind(const std::string& api_version, const std::string& kind) const;
  // Every version served for a group, in registration order (the first is preferred).
  std::vector<std::string> versions_of(const std::string& group) const;
  // Groups other than core, in registration order.
  std::vector<std::string> groups() const;
  std::vector<const ResourceInfo*> in_version(const std::string& group,
                                              const std::string& version) const;

 private:
  mutable std::mutex mu_;
  // deque-like stability: pointers handed out stay valid as entries are added.
  std::vector<std::unique_ptr<ResourceInfo>> resources_;
};

// Secrets, ConfigMaps, ServiceAccounts, Namespaces with their validation.
void register_core_resources(ResourceRegistry& registry);

}  // namespace fluxkey::sim::kube
