// What a request path means to the API server: discovery, or a resource
// request with verb, group, version, resource, subresource, namespace and
// name (the same split as k8s.io/apiserver's RequestInfoFactory).
#pragma once

#include <string>

namespace fluxkey::sim::kube {

struct RequestInfo {
  bool is_resource = false;
  std::string verb;        // get list watch create update patch delete deletecollection
  std::string api_prefix;  // "api" or "apis"
  std::string group;
  std::string version;
  std::string ns;
  std::string resource;
  std::string subresource;
  std::string name;
  std::string path;
};

// `watch_param` is the value of ?watch= (true/1 turn a list into a watch).
// Non-resource paths (/api, /apis/g, /version, ...) come back with
// is_resource false and only `path` set.
RequestInfo parse_request_info(const std::string& method, const std::string& path,
                               const std::string& watch_param);

}  // namespace fluxkey::sim::kube
