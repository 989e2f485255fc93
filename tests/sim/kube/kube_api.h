// The Kubernetes API as kube-sim serves it: authentication, then the
// extension routes, then discovery and the generic verbs over the resource
// table and the store.
//
// Extension points (for the Flux kinds, watch and RBAC, added in their own
// files and installed from main.cc):
//   registry().add({...})        a new kind, served and discovered at once
//   store().subscribe(...)       every committed change, in order
//   set_authorizer(...)          throw ApiError (forbidden()) to refuse a request
//   set_watch_handler(...)       serves verb "watch" (405 until set)
//   add_route(...)               first look at every authenticated request
//   hooks via ResourceInfo::admit  validation/defaulting per kind
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/common/sim_server.h"
#include "sim/kube/api_error.h"
#include "sim/kube/auth.h"
#include "sim/kube/request_info.h"
#include "sim/kube/resources.h"
#include "sim/kube/store.h"

namespace fluxkey::sim::kube {

struct RequestContext {
  RequestInfo info;
  const ResourceInfo* resource = nullptr;  // null for non-resource paths
  UserInfo user;
  const httplib::Request* http = nullptr;
  bool dry_run = false;  // ?dryRun=All
};

class KubeApi {
 public:
  using Authorizer = std::function<void(const RequestContext&)>;
  using Route = std::function<bool(const RequestContext&, httplib::Response&)>;  // true: handled
  using WatchHandler = std::function<void(const RequestContext&, httplib::Response&)>;

  explicit KubeApi(SimServer& server);

  ResourceRegistry& registry() { return registry_; }
  Store& store() { return store_; }
  SimClock& clock() { return clock_; }
  Authenticator& authenticator() { return authn_; }
  ServiceAccountTokens& sa_tokens() { return sa_tokens_; }
  SimServer& server() { return server_; }

  void set_authorizer(Authorizer authorizer) { authorizer_ = std::move(authorizer); }
  void set_watch_handler(WatchHandler handler) { watch_ = std::move(handler); }
  void add_route(Route route) { routes_.push_back(std::move(route)); }

  // The SimServer handler.
  void handle(const httplib::Request& req, httplib::Response& res, SimContext& sim);

  // Creates or replaces an object as test setup does (seeds, /_sim/objects):
  // any registered kind, its namespace created when missing; returns it as
  // stored. Accepts kind List (items). Throws ApiError.
  nlohmann::json seed(const nlohmann::json& object);

  // An object as a client of `info`'s version sees it.
  static nlohmann::json for_version(nlohmann::json object, const ResourceInfo& info);
  static void reply(httplib::Response& res, int status, const nlohmann::json& body);
  static void reply_error(httplib::Response& res, const ApiError& error);

  // The generic verbs, for extensions that wrap them.
  nlohmann::json get_object(const RequestContext& ctx);
  nlohmann::json list_objects(const RequestContext& ctx);
  // Decodes a create/update body (JSON, YAML or protobuf); throws ApiError.
  nlohmann::json decode_body(const RequestContext& ctx);

 private:
  void serve_resource(RequestContext& ctx, httplib::Response& res);
  void serve_discovery(const RequestContext& ctx, httplib::Response& res);
  nlohmann::json create_object(const RequestContext& ctx, nlohmann::json body, int* status);
  nlohmann::json update_object(const RequestContext& ctx, nlohmann::json body);
  nlohmann::json patch_object(const RequestContext& ctx, httplib::Response& res, int* status);
  void check_field_validation(const RequestContext& ctx, const nlohmann::json& body,
                              httplib::Response& res);
  nlohmann::json delete_object(const RequestContext& ctx);
  nlohmann::json delete_collection(const RequestContext& ctx);
  void after_create(const ResourceInfo& info, const nlohmann::json& object);
  std::string field_manager(const RequestContext& ctx, const std::string& fallback) const;
  std::string now_string() const;
  void install_controls();

  SimServer& server_;
  ResourceRegistry registry_;
  SimClock clock_;
  Store store_;
  ServiceAccountTokens sa_tokens_;
  Authenticator authn_;
  Authorizer authorizer_;
  WatchHandler watch_;
  std::vector<Route> routes_;
};

}  // namespace fluxkey::sim::kube
