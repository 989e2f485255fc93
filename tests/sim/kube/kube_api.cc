#include "sim/kube/kube_api.h"

#include <openssl/rand.h>

#include <algorithm>

#include "core/base64.h"
#include "core/time.h"
#include "sim/kube/managed_fields.h"
#include "sim/kube/protobuf.h"
#include "sim/kube/selectors.h"
#include "sim/kube/table.h"
#include "sim/kube/validation.h"
#include "sim/kube/yaml_json.h"

namespace fluxkey::sim::kube {
namespace {

const char* const kProtobuf = "application/vnd.kubernetes.protobuf";
const char* const kJsonPatch = "application/json-patch+json";
const char* const kMergePatch = "application/merge-patch+json";
const char* const kStrategicPatch = "application/strategic-merge-patch+json";
const char* const kApplyPatch = "application/apply-patch+yaml";

std::string media_type(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t;
}

nlohmann::json& metadata_of(nlohmann::json& object) {
  nlohmann::json& meta = object["metadata"];
  if (!meta.is_object()) meta = nlohmann::json::object();
  return meta;
}

std::string meta_string(const nlohmann::json& object, const char* field) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return "";
  }
  const auto& v = object["metadata"].value(field, nlohmann::json());
  return v.is_string() ? v.get<std::string>() : "";
}

// What clients may not set: the store owns these.
void strip_server_fields(nlohmann::json& object) {
  nlohmann::json& meta = metadata_of(object);
  for (const char* f :
       {"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
        "deletionTimestamp", "deletionGracePeriodSeconds"}) {
    meta.erase(f);
  }
}

void check_type(const nlohmann::json& body, const ResourceInfo& info, bool required) {
  if (!body.is_object()) {
    throw bad_request("the object provided is unrecognized (must be of type " + info.kind + ")");
  }
  std::string api_version = body.value("apiVersion", "");
  std::string kind = body.value("kind", "");
  if (required && (api_version.empty() || kind.empty())) {
    throw bad_request("invalid object type: " + (kind.empty() ? std::string("/, Kind=") : kind) +
                      ": apiVersion and kind must be set");
  }
  if (!kind.empty() && kind != info.kind) {
    throw bad_request("the object provided is unrecognized (must be of type " + info.kind +
                      "): kind \"" + kind + "\" does not match");
  }
  if (!api_version.empty() && api_version != info.api_version()) {
    throw bad_request("the API version in the data (" + api_version +
                      ") does not match the expected API version (" + info.api_version() + ")");
  }
}

void check_name_and_namespace(const nlohmann::json& body, const RequestContext& ctx) {
  std::string name = meta_string(body, "name");
  if (name != ctx.info.name) {
    throw bad_request("the name of the object (" + name + ") does not match the name on the URL (" +
                      ctx.info.name + ")");
  }
  std::string ns = meta_string(body, "namespace");
  if (ctx.resource->namespaced && !ns.empty() && ns != ctx.info.ns) {
    throw bad_request(
        "the namespace of the provided object does not match the namespace sent on the request");
  }
}

// Optimistic concurrency and uid preconditions carried in the object itself.
void check_preconditions(const nlohmann::json& wanted, const nlohmann::json& current,
                         const ResourceInfo& info, const std::string& name) {
  std::string rv = meta_string(wanted, "resourceVersion");
  if (!rv.empty() && rv != meta_string(current, "resourceVersion")) {
    throw stale_resource_version(info.group, info.plural, name);
  }
  std::string uid = meta_string(wanted, "uid");
  if (!uid.empty() && uid != meta_string(current, "uid")) {
    throw conflict(info.group, info.plural, name,
                   "Precondition failed: UID in precondition: " + uid +
                       ", UID in object meta: " + meta_string(current, "uid"));
  }
}

std::string random_suffix() {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char b[5];
  RAND_bytes(b, sizeof b);
  std::string out;
  for (unsigned char c : b) out.push_back(kAlphabet[c % (sizeof kAlphabet - 1)]);
  return out;
}

// Fields of a body the kind does not have, as "name" or "metadata.name".
std::vector<std::string> unknown_fields(const nlohmann::json& body, const ResourceInfo& info) {
  static const std::vector<std::string> kMetadata = {"name",
                                                     "generateName",
                                                     "namespace",
                                                     "selfLink",
                                                     "uid",
                                                     "resourceVersion",
                                                     "generation",
                                                     "creationTimestamp",
                                                     "deletionTimestamp",
                                                     "deletionGracePeriodSeconds",
                                                     "labels",
                                                     "annotations",
                                                     "ownerReferences",
                                                     "finalizers",
                                                     "managedFields"};
  std::vector<std::string> out;
  if (info.top_level_fields.empty() || !body.is_object()) return out;
  for (const auto& [k, v] : body.items()) {
    if (std::find(info.top_level_fields.begin(), info.top_level_fields.end(), k) ==
        info.top_level_fields.end()) {
      out.push_back(k);
    }
  }
  if (body.contains("metadata") && body["metadata"].is_object()) {
    for (const auto& [k, v] : body["metadata"].items()) {
      if (std::find(kMetadata.begin(), kMetadata.end(), k) == kMetadata.end()) {
        out.push_back("metadata." + k);
      }
    }
  }
  return out;
}

bool truthy_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return false;
  std::string v = req.get_param_value(name);
  return v != "false" && v != "0";
}

}  // namespace

KubeApi::KubeApi(SimServer& server)
    : server_(server), sa_tokens_(store_, clock_), authn_(sa_tokens_) {
  store_.set_clock([this] { return clock_.now(); });
  register_core_resources(registry_);
  install_controls();
}

std::string KubeApi::now_string() const {
  return format_rfc3339(clock_.now());
}

void KubeApi::reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void KubeApi::reply_error(httplib::Response& res, const ApiError& error) {
  reply(res, error.code(), error.to_status());
}

nlohmann::json KubeApi::for_version(nlohmann::json object, const ResourceInfo& info) {
  if (object.is_object()) {
    object["apiVersion"] = info.api_version();
    object["kind"] = info.kind;
  }
  return object;
}

std::string KubeApi::field_manager(const RequestContext& ctx, const std::string& fallback) const {
  if (ctx.http->has_param("fieldManager")) return ctx.http->get_param_value("fieldManager");
  // The real server's default: the User-Agent up to its first '/'.
  std::string agent = ctx.http->get_header_value("User-Agent");
  agent = agent.substr(0, agent.find('/'));
  return agent.empty() ? fallback : agent;
}

void KubeApi::handle(const httplib::Request& req, httplib::Response& res, SimContext& sim) {
  RequestContext ctx;
  ctx.http = &req;
  std::string watch_param = req.has_param("watch") ? req.get_param_value("watch") : "";
  ctx.info = parse_request_info(req.method, req.path, watch_param);
  try {
    // What the real server shows anyone (system:public-info-viewer).
    if (!ctx.info.is_resource && (req.path == "/version" || req.path == "/healthz" ||
                                  req.path == "/livez" || req.path == "/readyz")) {
      serve_discovery(ctx, res);
      return;
    }
    auto user = authn_.authenticate(req);
    if (!user) throw unauthorized();
    ctx.user = *user;
    sim.user = user->name;
    if (ctx.info.is_resource) {
      ctx.resource = registry_.find(ctx.info.group, ctx.info.version, ctx.info.resource);
    }
    if (req.has_param("dryRun")) {
      if (req.get_param_value("dryRun") != "All") {
        throw bad_request("Invalid dry run value: " + req.get_param_value("dryRun"));
      }
      ctx.dry_run = true;
    }
    if (authorizer_) authorizer_(ctx);
    for (const auto& route : routes_) {
      if (route(ctx, res)) return;
    }
    if (ctx.info.is_resource) {
      serve_resource(ctx, res);
    } else {
      serve_discovery(ctx, res);
    }
  } catch (const ApiError& e) {
    reply_error(res, e);
  }
}

void KubeApi::check_field_validation(const RequestContext& ctx, const nlohmann::json& body,
                                     httplib::Response& res) {
  std::string mode = ctx.http->has_param("fieldValidation")
                         ? ctx.http->get_param_value("fieldValidation")
                         : "Warn";
  if (mode != "Strict" && mode != "Warn" && mode != "Ignore") {
    throw bad_request("fieldValidation parameter unsupported: " + mode);
  }
  if (mode == "Ignore") return;
  std::vector<std::string> unknown = unknown_fields(body, *ctx.resource);
  if (unknown.empty()) return;
  if (mode == "Strict") {
    std::string message = "strict decoding error: ";
    for (size_t i = 0; i < unknown.size(); ++i) {
      if (i) message += ", ";
      message += "unknown field \"" + unknown[i] + "\"";
    }
    throw bad_request(message);
  }
  for (const auto& f : unknown) {
    res.headers.emplace("Warning", "299 - \"unknown field \\\"" + f + "\\\"\"");
  }
}

void KubeApi::serve_resource(RequestContext& ctx, httplib::Response& res) {
  const RequestInfo& ri = ctx.info;
  const auto& req = *ctx.http;
  if (ri.group == "authentication.k8s.io" && ri.version == "v1" &&
      ri.resource == "selfsubjectreviews" && ri.name.empty() && ri.verb == "create") {
    reply(res, 201,
          {{"kind", "SelfSubjectReview"},
           {"apiVersion", "authentication.k8s.io/v1"},
           {"metadata", {{"creationTimestamp", now_string()}}},
           {"status", {{"userInfo", ctx.user.to_json()}}}});
    return;
  }
  const ResourceInfo* info = ctx.resource;
  if (!info) throw path_not_found();
  // Scope: namespaced kinds need a namespace except to list across all;
  // cluster-scoped kinds take none.
  if (info->namespaced && ri.ns.empty() && ri.verb != "list" && ri.verb != "watch") {
    throw path_not_found();
  }
  if (!info->namespaced && !ri.ns.empty()) throw path_not_found();

  if (!ri.subresource.empty()) {
    if (info->plural == "serviceaccounts" && ri.subresource == "token") {
      if (ri.verb != "create") throw method_not_supported("", "serviceaccounts/token", ri.verb);
      nlohmann::json body = decode_body(ctx);
      if (body.contains("kind") && body["kind"] != "TokenRequest") {
        throw bad_request("the object provided is unrecognized (must be of type TokenRequest)");
      }
      reply(res, 201, sa_tokens_.create(ri.ns, ri.name, body));
      return;
    }
    if (ri.subresource != "status" || !info->status_subresource) throw path_not_found();
    if (ri.verb != "get" && ri.verb != "update" && ri.verb != "patch") {
      throw method_not_supported(info->group, info->plural + "/status", ri.verb);
    }
  }
  auto verb_allowed = [&](const std::string& v) {
    return std::find(info->verbs.begin(), info->verbs.end(), v) != info->verbs.end();
  };
  if (!verb_allowed(ri.verb)) throw method_not_supported(info->group, info->plural, ri.verb);

  if (ri.verb == "get") {
    nlohmann::json obj = get_object(ctx);
    reply(res, 200, wants_table(req) ? to_table(obj, *info, clock_.now()) : obj);
  } else if (ri.verb == "list") {
    nlohmann::json list = list_objects(ctx);
    reply(res, 200, wants_table(req) ? to_table(list, *info, clock_.now()) : list);
  } else if (ri.verb == "watch") {
    if (!watch_) throw method_not_supported(info->group, info->plural, "watch");
    watch_(ctx, res);
  } else if (ri.verb == "create") {
    int status = 201;
    nlohmann::json body = decode_body(ctx);
    check_field_validation(ctx, body, res);
    nlohmann::json created = create_object(ctx, std::move(body), &status);
    reply(res, status, for_version(created, *info));
  } else if (ri.verb == "update") {
    nlohmann::json body = decode_body(ctx);
    check_field_validation(ctx, body, res);
    reply(res, 200, for_version(update_object(ctx, std::move(body)), *info));
  } else if (ri.verb == "patch") {
    int status = 200;
    nlohmann::json patched = patch_object(ctx, res, &status);
    reply(res, status, for_version(patched, *info));
  } else if (ri.verb == "delete") {
    reply(res, 200, delete_object(ctx));
  } else if (ri.verb == "deletecollection") {
    reply(res, 200, delete_collection(ctx));
  } else {
    throw method_not_supported(info->group, info->plural, ri.verb);
  }
}

nlohmann::json KubeApi::decode_body(const RequestContext& ctx) {
  const auto& req = *ctx.http;
  std::string type = media_type(req.get_header_value("Content-Type"));
  if (type == kProtobuf) {
    if (ctx.resource && ctx.resource->custom) {
      throw unsupported_media_type(
          "the body of the request was in an unknown format - accepted media types include: "
          "application/json, application/yaml");
    }
    std::optional<ProtobufObject> decoded;
    try {
      decoded = decode_protobuf_object(req.body);
    } catch (const std::runtime_error& e) {
      throw bad_request(std::string("the object provided is unrecognized: ") + e.what());
    }
    if (!decoded) {
      throw unsupported_media_type(
          "the body of the request was in an unknown format: kube-sim decodes protobuf only for "
          "Secret, ConfigMap, ServiceAccount, Namespace, TokenRequest and DeleteOptions; send "
          "application/json");
    }
    return decoded->object;
  }
  if (type.empty() || type == "application/json") {
    if (req.body.empty()) return nlohmann::json::object();
    try {
      return nlohmann::json::parse(req.body);
    } catch (const nlohmann::json::parse_error& e) {
      throw bad_request(std::string("couldn't get version/kind; json parse error: ") + e.what());
    }
  }
  if (type == "application/yaml") {
    std::vector<nlohmann::json> docs;
    try {
      docs = parse_yaml_documents(req.body);
    } catch (const std::runtime_error& e) {
      throw bad_request(std::string("error converting YAML to JSON: ") + e.what());
    }
    if (docs.size() != 1) throw bad_request("expected exactly one YAML document");
    return docs[0];
  }
  throw unsupported_media_type(
      "the body of the request was in an unknown format - accepted media types include: "
      "application/json, application/yaml, application/vnd.kubernetes.protobuf");
}

nlohmann::json KubeApi::get_object(const RequestContext& ctx) {
  const ResourceInfo& info = *ctx.resource;
  auto obj = store_.get({info.group, info.plural, ctx.info.ns, ctx.info.name});
  if (!obj) throw not_found(info.group, info.plural, ctx.info.name);
  return for_version(*obj, info);
}

nlohmann::json KubeApi::list_objects(const RequestContext& ctx) {
  const ResourceInfo& info = *ctx.resource;
  const auto& req = *ctx.http;
  LabelSelector labels = parse_label_selector(
      req.has_param("labelSelector") ? req.get_param_value("labelSelector") : "");
  FieldSelector fields = parse_field_selector(
      req.has_param("fieldSelector") ? req.get_param_value("fieldSelector") : "",
      info.field_selectors);
  uint64_t rv = 0;
  std::vector<nlohmann::json> all = store_.list(info.group, info.plural, ctx.info.ns, &rv);
  std::vector<nlohmann::json> matched;
  for (auto& obj : all) {
    if (labels.matches(obj) && fields.matches(obj)) matched.push_back(std::move(obj));
  }
  size_t start = 0;
  if (req.has_param("continue") && !req.get_param_value("continue").empty()) {
    auto raw = base64_decode(req.get_param_value("continue"));
    nlohmann::json token = raw ? nlohmann::json::parse(*raw, nullptr, false) : nlohmann::json();
    if (!token.is_object() || !token.contains("start") || !token["start"].is_number_unsigned()) {
      throw bad_request("continue key is not valid: incorrect encoded start resourceVersion");
    }
    start = token["start"].get<size_t>();
  }
  size_t limit = 0;
  if (req.has_param("limit")) {
    try {
      limit = std::stoul(req.get_param_value("limit"));
    } catch (const std::exception&) {
      throw bad_request("limit must be a non-negative integer");
    }
  }
  nlohmann::json items = nlohmann::json::array();
  size_t end = matched.size();
  if (limit > 0 && start + limit < end) end = start + limit;
  for (size_t i = start; i < end && i < matched.size(); ++i) {
    nlohmann::json item = for_version(matched[i], info);
    // Typed lists of built-in kinds leave apiVersion and kind out of items.
    if (!info.custom) {
      item.erase("apiVersion");
      item.erase("kind");
    }
    items.push_back(std::move(item));
  }
  nlohmann::json meta = {{"resourceVersion", std::to_string(rv)}};
  if (end < matched.size()) {
    meta["continue"] = base64_encode(nlohmann::json({{"rv", rv}, {"start", end}}).dump());
    meta["remainingItemCount"] = matched.size() - end;
  }
  return {{"kind", info.kind + "List"},
          {"apiVersion", info.api_version()},
          {"metadata", meta},
          {"items", items}};
}

nlohmann::json KubeApi::create_object(const RequestContext& ctx, nlohmann::json body, int* status) {
  const ResourceInfo& info = *ctx.resource;
  check_type(body, info, false);
  nlohmann::json& meta = metadata_of(body);
  std::string ns = ctx.info.ns;
  if (info.namespaced) {
    std::string body_ns = meta_string(body, "namespace");
    if (!body_ns.empty() && body_ns != ns) {
      throw bad_request(
          "the namespace of the provided object does not match the namespace sent on the request");
    }
  }
  std::string name = meta_string(body, "name");
  if (name.empty() && !meta_string(body, "generateName").empty()) {
    name = meta_string(body, "generateName") + random_suffix();
  }
  if (auto e = validate_object_name(name, info.kind == "Namespace")) {
    throw invalid(info.group, info.kind, name, {*e});
  }
  if (info.namespaced && !store_.get({"", "namespaces", "", ns})) {
    throw not_found("", "namespaces", ns);
  }
  strip_server_fields(body);
  meta["name"] = name;
  if (info.status_subresource && info.kind != "Namespace") body.erase("status");
  ManagerId who{field_manager(ctx, "unknown"), "Update", info.api_version(), ""};
  record_update(body, nullptr, who, info, now_string());
  if (info.admit) info.admit(body, nullptr);
  ObjectKey key{info.group, info.plural, info.namespaced ? ns : "", name};
  nlohmann::json stored = store_.transact(
      info, key,
      [&](const nlohmann::json* current) {
        if (current) throw already_exists(info.group, info.plural, name);
        return Write::put(body);
      },
      ctx.dry_run);
  if (!ctx.dry_run) after_create(info, stored);
  *status = 201;
  return stored;
}

nlohmann::json KubeApi::update_object(const RequestContext& ctx, nlohmann::json body) {
  const ResourceInfo& info = *ctx.resource;
  check_type(body, info, false);
  check_name_and_namespace(body, ctx);
  const std::string& sub = ctx.info.subresource;
  ManagerId who{field_manager(ctx, "unknown"), "Update", info.api_version(), sub};
  std::string now = now_string();
  return store_.transact(
      info, {info.group, info.plural, ctx.info.ns, ctx.info.name},
      [&](const nlohmann::json* current) {
        if (!current) throw not_found(info.group, info.plural, ctx.info.name);
        check_preconditions(body, *current, info, ctx.info.name);
        nlohmann::json candidate;
        if (sub == "status") {
          candidate = *current;
          candidate["status"] = body.value("status", nlohmann::json::object());
        } else {
          candidate = body;
          strip_server_fields(candidate);
          if (info.status_subresource) {
            if (current->contains("status")) {
              candidate["status"] = (*current)["status"];
            } else {
              candidate.erase("status");
            }
          }
        }
        record_update(candidate, current, who, info, now);
        if (info.admit) info.admit(candidate, current);
        return Write::put(candidate);
      },
      ctx.dry_run);
}

nlohmann::json KubeApi::patch_object(const RequestContext& ctx, httplib::Response& res,
                                     int* status) {
  const ResourceInfo& info = *ctx.resource;
  const auto& req = *ctx.http;
  const std::string& sub = ctx.info.subresource;
  std::string type = media_type(req.get_header_value("Content-Type"));
  bool apply = type == kApplyPatch;
  bool force = truthy_param(req, "force");
  if (apply && (!req.has_param("fieldManager") || req.get_param_value("fieldManager").empty())) {
    throw invalid("meta.k8s.io", "PatchOptions", "",
                  {{"Required value", "fieldManager", nullptr, "is required for apply patch"}});
  }
  if (!apply && req.has_param("force")) {
    throw invalid("meta.k8s.io", "PatchOptions", "",
                  {{"Forbidden", "force", nullptr, "may not be specified for non-apply patch"}});
  }
  std::string accepted =
      info.custom ? "application/json-patch+json, application/merge-patch+json, "
                    "application/apply-patch+yaml"
                  : "application/json-patch+json, application/merge-patch+json, "
                    "application/strategic-merge-patch+json, application/apply-patch+yaml";
  bool known = type == kJsonPatch || type == kMergePatch || apply ||
               (type == kStrategicPatch && !info.custom);
  if (!known) {
    throw unsupported_media_type(
        "the body of the request was in an unknown format - accepted media types include: " +
        accepted);
  }
  nlohmann::json patch;
  if (apply) {
    std::vector<nlohmann::json> docs;
    try {
      docs = parse_yaml_documents(req.body);
    } catch (const std::runtime_error& e) {
      throw bad_request(std::string("error decoding YAML: ") + e.what());
    }
    if (docs.size() != 1 || !docs[0].is_object()) {
      throw bad_request("the apply configuration must be exactly one object");
    }
    patch = docs[0];
    check_type(patch, info, true);
    check_field_validation(ctx, patch, res);
    check_name_and_namespace(patch, ctx);
  } else {
    try {
      patch = nlohmann::json::parse(req.body);
    } catch (const nlohmann::json::parse_error& e) {
      throw bad_request(std::string("error decoding patch: ") + e.what());
    }
    if (type == kJsonPatch ? !patch.is_array() : !patch.is_object()) {
      throw bad_request(type == kJsonPatch ? "json patch must be a JSON array"
                                           : "patch must be a JSON object");
    }
  }
  std::string manager = field_manager(ctx, apply ? "" : "unknown");
  std::string now = now_string();
  // Looked up before the transaction: the store lock is not re-entrant.
  bool namespace_exists = !info.namespaced || store_.get({"", "namespaces", "", ctx.info.ns});
  bool created = false;
  nlohmann::json result = store_.transact(
      info, {info.group, info.plural, ctx.info.ns, ctx.info.name},
      [&](const nlohmann::json* current) {
        if (apply) {
          std::string rv = meta_string(patch, "resourceVersion");
          if (!rv.empty() && (!current || rv != meta_string(*current, "resourceVersion"))) {
            throw stale_resource_version(info.group, info.plural, ctx.info.name);
          }
          if (!current) {
            if (auto e = validate_object_name(ctx.info.name, info.kind == "Namespace")) {
              throw invalid(info.group, info.kind, ctx.info.name, {*e});
            }
            if (!namespace_exists) {
              throw not_found("", "namespaces", ctx.info.ns);
            }
          }
          ManagerId who{manager, "Apply", info.api_version(), sub};
          nlohmann::json merged = server_side_apply(current, patch, who, force, info, now);
          if (!current && info.status_subresource && sub.empty()) merged.erase("status");
          if (info.admit) info.admit(merged, current);
          created = current == nullptr;
          return Write::put(merged);
        }
        if (!current) throw not_found(info.group, info.plural, ctx.info.name);
        nlohmann::json base = *current;
        base["metadata"].erase("managedFields");
        nlohmann::json patched;
        if (type == kJsonPatch) {
          try {
            patched = base.patch(patch);
          } catch (const nlohmann::json::exception& e) {
            throw ApiError(422, "Invalid",
                           std::string("the server rejected our request due to an "
                                       "error in our request: ") +
                               e.what());
          }
        } else {
          patched = base;
          patched.merge_patch(patch);
        }
        if (!patched.is_object()) throw bad_request("the patched object is not an object");
        if (meta_string(patched, "name") != ctx.info.name) {
          throw bad_request("the name of the object (" + meta_string(patched, "name") +
                            ") does not match the name on the URL (" + ctx.info.name + ")");
        }
        check_preconditions(patched, *current, info, ctx.info.name);
        nlohmann::json candidate;
        if (sub == "status") {
          candidate = *current;
          if (patched.contains("status")) {
            candidate["status"] = patched["status"];
          } else {
            candidate.erase("status");
          }
        } else {
          candidate = patched;
          if (info.status_subresource) {
            if (current->contains("status")) {
              candidate["status"] = (*current)["status"];
            } else {
              candidate.erase("status");
            }
          }
        }
        strip_server_fields(candidate);
        record_update(candidate, current, {manager, "Update", info.api_version(), sub}, info, now);
        if (info.admit) info.admit(candidate, current);
        return Write::put(candidate);
      },
      ctx.dry_run);
  if (created && !ctx.dry_run) after_create(info, result);
  *status = created ? 201 : 200;
  return result;
}

nlohmann::json KubeApi::delete_object(const RequestContext& ctx) {
  const ResourceInfo& info = *ctx.resource;
  nlohmann::json options = nlohmann::json::object();
  if (!ctx.http->body.empty()) options = decode_body(ctx);
  bool dry_run = ctx.dry_run;
  if (options.contains("dryRun") && options["dryRun"].is_array()) {
    for (const auto& v : options["dryRun"]) dry_run = dry_run || v == "All";
  }
  nlohmann::json pre = options.value("preconditions", nlohmann::json::object());
  if (!pre.is_object()) pre = nlohmann::json::object();
  nlohmann::json last = store_.transact(
      info, {info.group, info.plural, ctx.info.ns, ctx.info.name},
      [&](const nlohmann::json* current) {
        if (!current) throw not_found(info.group, info.plural, ctx.info.name);
        std::string uid = pre.value("uid", "");
        if (!uid.empty() && uid != meta_string(*current, "uid")) {
          throw conflict(info.group, info.plural, ctx.info.name,
                         "Precondition failed: UID in precondition: " + uid +
                             ", UID in object meta: " + meta_string(*current, "uid"));
        }
        std::string rv = pre.value("resourceVersion", "");
        if (!rv.empty() && rv != meta_string(*current, "resourceVersion")) {
          throw conflict(
              info.group, info.plural, ctx.info.name,
              "Precondition failed: ResourceVersion in precondition: " + rv +
                  ", ResourceVersion in object meta: " + meta_string(*current, "resourceVersion"));
        }
        return Write::remove();
      },
      dry_run);
  if (info.kind == "Namespace") {
    // The namespace controller empties a deleted namespace; kube-sim does it
    // at once.
    if (!dry_run) {
      for (const std::string& group : [&] {
             std::vector<std::string> g = registry_.groups();
             g.insert(g.begin(), "");
             return g;
           }()) {
        for (const std::string& version : registry_.versions_of(group)) {
          for (const ResourceInfo* r : registry_.in_version(group, version)) {
            if (!r->namespaced) continue;
            for (const auto& obj : store_.list(r->group, r->plural, ctx.info.name, nullptr)) {
              store_.transact(*r, {r->group, r->plural, ctx.info.name, meta_string(obj, "name")},
                              [](const nlohmann::json*) { return Write::remove(); });
            }
          }
        }
      }
    }
    last["metadata"]["deletionTimestamp"] = now_string();
    last["status"]["phase"] = "Terminating";
    return for_version(last, info);
  }
  if (info.custom) return for_version(last, info);
  nlohmann::json details = {
      {"name", ctx.info.name}, {"kind", info.plural}, {"uid", meta_string(last, "uid")}};
  if (!info.group.empty()) details["group"] = info.group;
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", nlohmann::json::object()},
          {"status", "Success"},
          {"details", details}};
}

nlohmann::json KubeApi::delete_collection(const RequestContext& ctx) {
  const ResourceInfo& info = *ctx.resource;
  nlohmann::json list = list_objects(ctx);
  nlohmann::json deleted = nlohmann::json::array();
  for (const auto& item : list["items"]) {
    std::string name = meta_string(item, "name");
    std::string ns = info.namespaced ? meta_string(item, "namespace") : "";
    nlohmann::json last = store_.transact(
        info, {info.group, info.plural, ns, name},
        [](const nlohmann::json* current) { return current ? Write::remove() : Write::none(); },
        ctx.dry_run);
    if (!last.is_null()) deleted.push_back(for_version(last, info));
  }
  list["items"] = deleted;
  return list;
}

void KubeApi::after_create(const ResourceInfo& info, const nlohmann::json& object) {
  // The ServiceAccount controller gives every namespace a "default" account.
  if (info.kind != "Namespace" || info.group != "") return;
  std::string ns = meta_string(object, "name");
  const ResourceInfo* sa = registry_.find("", "v1", "serviceaccounts");
  nlohmann::json account = {{"apiVersion", "v1"},
                            {"kind", "ServiceAccount"},
                            {"metadata", {{"name", "default"}, {"namespace", ns}}}};
  store_.transact(*sa, {"", "serviceaccounts", ns, "default"}, [&](const nlohmann::json* current) {
    return current ? Write::none() : Write::put(account);
  });
}

}  // namespace fluxkey::sim::kube

namespace fluxkey::sim::kube {

nlohmann::json KubeApi::seed(const nlohmann::json& object) {
  if (!object.is_object()) throw bad_request("a seed document must be an object");
  if (object.value("kind", "") == "List") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : object.value("items", nlohmann::json::array())) {
      nlohmann::json stored = seed(item);
      if (stored.is_array()) {
        for (auto& s : stored) out.push_back(std::move(s));
      } else {
        out.push_back(std::move(stored));
      }
    }
    return out;
  }
  std::string api_version = object.value("apiVersion", "");
  std::string kind = object.value("kind", "");
  const ResourceInfo* info = registry_.find_kind(api_version, kind);
  if (!info) throw bad_request("kube-sim does not serve " + api_version + " " + kind);
  nlohmann::json body = object;
  std::string name = meta_string(body, "name");
  if (auto e = validate_object_name(name, info->kind == "Namespace")) {
    throw invalid(info->group, info->kind, name, {*e});
  }
  std::string ns;
  if (info->namespaced) {
    ns = meta_string(body, "namespace");
    if (ns.empty()) ns = "default";
    if (!store_.get({"", "namespaces", "", ns})) {
      seed({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
    }
  }
  strip_server_fields(body);
  ManagerId who{"kube-sim-seed", "Update", info->api_version(), ""};
  std::string now = now_string();
  bool created = false;
  nlohmann::json stored = store_.transact(*info, {info->group, info->plural, ns, name},
                                          [&](const nlohmann::json* current) {
                                            record_update(body, current, who, *info, now);
                                            if (info->admit) info->admit(body, current);
                                            created = current == nullptr;
                                            return Write::put(body);
                                          });
  if (created) after_create(*info, stored);
  return stored;
}

}  // namespace fluxkey::sim::kube
