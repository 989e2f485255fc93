// Discovery (/api, /apis, /api/v1, /apis/{g}[/{v}]), /version and the health
// endpoints, built from the resource table so that kinds registered later
// (the Flux groups) show up without further work.
#include <algorithm>

#include "sim/kube/kube_api.h"
#include "sim/kube/openapi.h"

namespace fluxkey::sim::kube {
namespace {

// Groups kube-sim serves that are not in the resource table.
const char* const kAuthenticationGroup = "authentication.k8s.io";

nlohmann::json group_json(const std::string& name, const std::vector<std::string>& versions) {
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : versions) vs.push_back({{"groupVersion", name + "/" + v}, {"version", v}});
  return {{"name", name}, {"versions", vs}, {"preferredVersion", vs[0]}};
}

nlohmann::json resource_json(const ResourceInfo& r) {
  nlohmann::json j = {{"name", r.plural},
                      {"singularName", r.singular},
                      {"namespaced", r.namespaced},
                      {"kind", r.kind},
                      {"verbs", r.verbs}};
  if (!r.short_names.empty()) j["shortNames"] = r.short_names;
  if (!r.categories.empty()) j["categories"] = r.categories;
  return j;
}

}  // namespace

void KubeApi::serve_discovery(const RequestContext& ctx, httplib::Response& res) {
  const std::string& path = ctx.info.path;
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    res.status = 200;
    res.set_content("ok", "text/plain; charset=utf-8");
    return;
  }
  if (path == "/version") {
    reply(res, 200,
          {{"major", "1"},
           {"minor", "32"},
           {"gitVersion", "v1.32.0-kube-sim"},
           {"gitCommit", "0000000000000000000000000000000000000000"},
           {"gitTreeState", "clean"},
           {"buildDate", "2025-01-01T00:00:00Z"},
           {"goVersion", "go1.23.4"},
           {"compiler", "gc"},
           {"platform", "linux/amd64"}});
    return;
  }
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    reply(res, 200, openapi_v3_root(registry_));
    return;
  }
  if (path.rfind("/openapi/v3/", 0) == 0) {
    auto doc = openapi_v3_group_version(registry_, path.substr(12));
    if (!doc) throw path_not_found();
    reply(res, 200, *doc);
    return;
  }
  if (path == "/api" || path == "/api/") {
    reply(res, 200,
          {{"kind", "APIVersions"},
           {"versions", {"v1"}},
           {"serverAddressByClientCIDRs",
            {{{"clientCIDR", "0.0.0.0/0"},
              {"serverAddress", "127.0.0.1:" + std::to_string(server_.port())}}}}});
    return;
  }
  std::vector<std::string> groups = registry_.groups();
  groups.push_back(kAuthenticationGroup);
  if (path == "/apis" || path == "/apis/") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& g : groups) {
      std::vector<std::string> versions =
          g == kAuthenticationGroup ? std::vector<std::string>{"v1"} : registry_.versions_of(g);
      list.push_back(group_json(g, versions));
    }
    reply(res, 200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", list}});
    return;
  }
  // /api/v1, /apis/{g}, /apis/{g}/{v}
  std::string group, version;
  if (path == "/api/v1" || path == "/api/v1/") {
    version = "v1";
  } else if (path.rfind("/apis/", 0) == 0) {
    std::string rest = path.substr(6);
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    size_t slash = rest.find('/');
    group = rest.substr(0, slash);
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) throw path_not_found();
    std::vector<std::string> versions = group == kAuthenticationGroup
                                            ? std::vector<std::string>{"v1"}
                                            : registry_.versions_of(group);
    if (slash == std::string::npos) {
      nlohmann::json g = group_json(group, versions);
      g["kind"] = "APIGroup";
      g["apiVersion"] = "v1";
      reply(res, 200, g);
      return;
    }
    version = rest.substr(slash + 1);
    if (std::find(versions.begin(), versions.end(), version) == versions.end()) {
      throw path_not_found();
    }
  } else {
    throw path_not_found();
  }
  nlohmann::json resources = nlohmann::json::array();
  if (group == kAuthenticationGroup) {
    resources.push_back({{"name", "selfsubjectreviews"},
                         {"singularName", "selfsubjectreview"},
                         {"namespaced", false},
                         {"kind", "SelfSubjectReview"},
                         {"verbs", {"create"}}});
  }
  for (const ResourceInfo* r : registry_.in_version(group, version)) {
    resources.push_back(resource_json(*r));
    if (r->status_subresource) {
      resources.push_back({{"name", r->plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", r->namespaced},
                           {"kind", r->kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (group.empty() && r->plural == "serviceaccounts") {
      resources.push_back({{"name", "serviceaccounts/token"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"group", kAuthenticationGroup},
                           {"version", "v1"},
                           {"kind", "TokenRequest"},
                           {"verbs", {"create"}}});
    }
  }
  reply(res, 200,
        {{"kind", "APIResourceList"},
         {"apiVersion", "v1"},
         {"groupVersion", group.empty() ? version : group + "/" + version},
         {"resources", resources}});
}

}  // namespace fluxkey::sim::kube
