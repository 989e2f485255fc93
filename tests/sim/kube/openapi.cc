#include "sim/kube/openapi.h"

#include <functional>

namespace fluxkey::sim::kube {
namespace {

std::vector<std::pair<std::string, std::string>> served_group_versions(
    const ResourceRegistry& registry) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : registry.versions_of("")) out.emplace_back("", v);
  for (const auto& g : registry.groups()) {
    for (const auto& v : registry.versions_of(g)) out.emplace_back(g, v);
  }
  return out;
}

std::string gv_path(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

// Changes whenever the served set changes, so clients' caches refresh.
std::string content_hash(const ResourceRegistry& registry, const std::string& group,
                         const std::string& version) {
  std::string all;
  for (const ResourceInfo* r : registry.in_version(group, version))
    all += r->plural + r->kind + ";";
  return std::to_string(std::hash<std::string>{}(all));
}

nlohmann::json patch_operation(const ResourceInfo& r) {
  nlohmann::json params = nlohmann::json::array();
  for (const char* name : {"dryRun", "fieldManager", "fieldValidation", "force"}) {
    params.push_back({{"name", name}, {"in", "query"}, {"schema", {{"type", "string"}}}});
  }
  return {{"operationId", "patch" + r.kind},
          {"parameters", params},
          {"requestBody", {{"required", true}}},
          {"responses", {{"200", {{"description", "OK"}}}}},
          {"x-kubernetes-action", "patch"},
          {"x-kubernetes-group-version-kind",
           {{"group", r.group}, {"version", r.version}, {"kind", r.kind}}}};
}

}  // namespace

nlohmann::json openapi_v3_root(const ResourceRegistry& registry) {
  nlohmann::json paths = nlohmann::json::object();
  for (const auto& [group, version] : served_group_versions(registry)) {
    std::string p = gv_path(group, version);
    paths[p] = {{"serverRelativeURL",
                 "/openapi/v3/" + p + "?hash=" + content_hash(registry, group, version)}};
  }
  return {{"paths", paths}};
}

std::optional<nlohmann::json> openapi_v3_group_version(const ResourceRegistry& registry,
                                                       const std::string& path) {
  for (const auto& [group, version] : served_group_versions(registry)) {
    if (gv_path(group, version) != path) continue;
    nlohmann::json paths = nlohmann::json::object();
    for (const ResourceInfo* r : registry.in_version(group, version)) {
      std::string base = "/" + path + "/";
      if (r->namespaced) base += "namespaces/{namespace}/";
      paths[base + r->plural + "/{name}"] = {{"patch", patch_operation(*r)}};
    }
    return nlohmann::json{{"openapi", "3.0.0"},
                          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0-kube-sim"}}},
                          {"paths", paths},
                          {"components", {{"schemas", nlohmann::json::object()}}}};
  }
  return std::nullopt;
}

}  // namespace fluxkey::sim::kube
