#include "sim/kube/request_info.h"

#include <vector>

namespace fluxkey::sim::kube {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

}  // namespace

RequestInfo parse_request_info(const std::string& method, const std::string& path,
                               const std::string& watch_param) {
  RequestInfo info;
  info.path = path;
  std::vector<std::string> parts = split_path(path);
  if (parts.empty() || (parts[0] != "api" && parts[0] != "apis")) return info;
  info.api_prefix = parts[0];
  size_t i = 1;
  if (info.api_prefix == "apis") {
    if (parts.size() < 3) return info;  // /apis, /apis/group: discovery
    info.group = parts[1];
    info.version = parts[2];
    i = 3;
  } else {
    if (parts.size() < 2) return info;  // /api
    info.version = parts[1];
    i = 2;
  }
  if (parts.size() <= i) return info;  // /api/v1, /apis/g/v: discovery
  info.is_resource = true;

  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  bool legacy_watch = false;
  if (rest[0] == "watch") {  // the deprecated /watch/ prefix
    legacy_watch = true;
    rest.erase(rest.begin());
    if (rest.empty()) {
      info.is_resource = false;
      return info;
    }
  }
  // /namespaces/{ns}/{resource}... except the namespace's own subresources.
  if (rest[0] == "namespaces" && rest.size() > 1) {
    info.ns = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  info.resource = rest[0];
  if (rest.size() >= 2) info.name = rest[1];
  if (rest.size() >= 3) info.subresource = rest[2];
  if (rest.size() > 3) info.is_resource = false;  // nothing is that deep
  // A namespace addressed as /api/v1/namespaces/{name}: the name, not a scope.
  if (info.resource == "namespaces") info.ns.clear();

  bool watch = legacy_watch || watch_param == "true" || watch_param == "1";
  if (method == "GET" || method == "HEAD") {
    if (watch) {
      info.verb = "watch";
    } else {
      info.verb = info.name.empty() ? "list" : "get";
    }
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  } else {
    info.verb = "unknown";
  }
  return info;
}

}  // namespace fluxkey::sim::kube
