// The built-in kinds kube-sim serves, with the validation and defaulting of
// their real registry strategies that matter to clients.
#include <regex>
#include <tuple>

#include "core/base64.h"
#include "sim/kube/api_error.h"
#include "sim/kube/resources.h"
#include "sim/kube/validation.h"

namespace fluxkey::sim::kube {
namespace {

constexpr size_t kMaxSecretSize = 1024 * 1024;

std::string value_type_name(const nlohmann::json& v) {
  if (v.is_number()) return "number";
  if (v.is_boolean()) return "bool";
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  return "value";
}

// A decode failure: the real server fails to unmarshal the body and answers 400.
[[noreturn]] void cannot_handle(const std::string& kind, const std::string& why) {
  throw bad_request(kind + " in version \"v1\" cannot be handled as a " + kind + ": " + why);
}

void check_string_map(const std::string& kind, const nlohmann::json& obj, const char* field) {
  if (!obj.contains(field) || obj[field].is_null()) return;
  if (!obj[field].is_object()) {
    cannot_handle(kind, std::string("json: cannot unmarshal ") + value_type_name(obj[field]) +
                            " into Go struct field " + kind + "." + field +
                            " of type map[string]string");
  }
  for (const auto& [k, v] : obj[field].items()) {
    if (!v.is_string()) {
      cannot_handle(kind, "json: cannot unmarshal " + value_type_name(v) +
                              " into Go struct field " + kind + "." + field + " of type string");
    }
  }
}

void check_base64_map(const std::string& kind, const nlohmann::json& obj, const char* field) {
  check_string_map(kind, obj, field);
  if (!obj.contains(field) || obj[field].is_null()) return;
  for (const auto& [k, v] : obj[field].items()) {
    if (auto at = base64_error_offset(v.get<std::string>())) {
      cannot_handle(kind, "illegal base64 data at input byte " + std::to_string(*at));
    }
  }
}

void check_keys(const nlohmann::json& obj, const char* field, std::vector<FieldError>& errors) {
  if (!obj.contains(field) || !obj[field].is_object()) return;
  for (const auto& [k, v] : obj[field].items()) {
    if (auto e = validate_config_key(field, k)) errors.push_back(*e);
  }
}

void drop_if_empty(nlohmann::json& obj, const char* field) {
  if (obj.contains(field) &&
      (obj[field].is_null() || (obj[field].is_object() && obj[field].empty()))) {
    obj.erase(field);
  }
}

std::string name_of(const nlohmann::json& obj) {
  return obj.contains("metadata") ? obj["metadata"].value("name", "") : "";
}

void admit_secret(nlohmann::json& obj, const nlohmann::json* old) {
  check_base64_map("Secret", obj, "data");
  check_string_map("Secret", obj, "stringData");
  if (obj.contains("type") && !obj["type"].is_null() && !obj["type"].is_string()) {
    cannot_handle("Secret", "json: cannot unmarshal " + value_type_name(obj["type"]) +
                                " into Go struct field Secret.type of type v1.SecretType");
  }
  std::vector<FieldError> errors;
  check_keys(obj, "data", errors);
  check_keys(obj, "stringData", errors);
  // stringData is write-only: folded into data, as the v1 conversion does.
  if (obj.contains("stringData") && obj["stringData"].is_object()) {
    for (const auto& [k, v] : obj["stringData"].items()) {
      obj["data"][k] = base64_encode(v.get<std::string>());
    }
  }
  obj.erase("stringData");
  drop_if_empty(obj, "data");
  if (!obj.contains("type") || obj["type"].is_null() || obj["type"] == "") obj["type"] = "Opaque";
  size_t total = 0;
  if (obj.contains("data")) {
    for (const auto& [k, v] : obj["data"].items()) {
      total += k.size() + base64_decode(v.get<std::string>()).value_or("").size();
    }
  }
  if (total > kMaxSecretSize) {
    errors.push_back({"Too long", "data", nullptr,
                      "may not be more than " + std::to_string(kMaxSecretSize) + " bytes"});
  }
  if (old) {
    if (old->value("type", "Opaque") != obj["type"]) {
      errors.push_back({"Invalid value", "type", obj["type"], "field is immutable"});
    }
    if (old->value("immutable", false)) {
      if (old->value("data", nlohmann::json::object()) !=
          obj.value("data", nlohmann::json::object())) {
        errors.push_back(
            {"Forbidden", "data", nullptr, "field is immutable when `immutable` is set"});
      }
      if (!obj.value("immutable", false)) {
        errors.push_back(
            {"Forbidden", "immutable", nullptr, "field is immutable when `immutable` is set"});
      }
    }
  }
  if (!errors.empty()) throw invalid("", "Secret", name_of(obj), errors);
}

void admit_config_map(nlohmann::json& obj, const nlohmann::json* old) {
  check_string_map("ConfigMap", obj, "data");
  check_base64_map("ConfigMap", obj, "binaryData");
  std::vector<FieldError> errors;
  check_keys(obj, "data", errors);
  check_keys(obj, "binaryData", errors);
  if (obj.contains("data") && obj["data"].is_object() && obj.contains("binaryData") &&
      obj["binaryData"].is_object()) {
    for (const auto& [k, v] : obj["binaryData"].items()) {
      if (obj["data"].contains(k)) {
        errors.push_back(
            {"Invalid value", "data[" + k + "]", k, "duplicate of key present in binaryData"});
      }
    }
  }
  drop_if_empty(obj, "data");
  drop_if_empty(obj, "binaryData");
  if (old && old->value("immutable", false)) {
    if (old->value("data", nlohmann::json::object()) !=
            obj.value("data", nlohmann::json::object()) ||
        old->value("binaryData", nlohmann::json::object()) !=
            obj.value("binaryData", nlohmann::json::object())) {
      errors.push_back(
          {"Forbidden", "data", nullptr, "field is immutable when `immutable` is set"});
    }
    if (!obj.value("immutable", false)) {
      errors.push_back(
          {"Forbidden", "immutable", nullptr, "field is immutable when `immutable` is set"});
    }
  }
  if (!errors.empty()) throw invalid("", "ConfigMap", name_of(obj), errors);
}

void admit_namespace(nlohmann::json& obj, const nlohmann::json* old) {
  if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = nlohmann::json::object();
  if (!obj["spec"].contains("finalizers")) obj["spec"]["finalizers"] = {"kubernetes"};
  if (old && old->contains("status")) {
    obj["status"] = (*old)["status"];
  } else {
    obj["status"] = {{"phase", "Active"}};
  }
  // The real server labels every namespace with its own name.
  obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name_of(obj);
}

// coordination.k8s.io/v1 Lease: spec times are MicroTime, which the server
// decodes with Go's RFC3339Micro layout (exactly six fractional digits), and
// ValidateLeaseSpec's bounds.
void admit_lease(nlohmann::json& obj, const nlohmann::json*) {
  static const std::regex micro_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d))");
  if (!obj.contains("spec") || obj["spec"].is_null()) return;
  const nlohmann::json& spec = obj["spec"];
  if (!spec.is_object())
    cannot_handle("Lease", "json: cannot unmarshal into Go struct field Lease.spec");
  for (const char* field : {"acquireTime", "renewTime"}) {
    if (!spec.contains(field) || spec[field].is_null()) continue;
    if (!spec[field].is_string() || !std::regex_match(spec[field].get<std::string>(), micro_time)) {
      cannot_handle("Lease", "parsing time " + spec[field].dump() +
                                 " as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse");
    }
  }
  if (spec.contains("holderIdentity") && !spec["holderIdentity"].is_null() &&
      !spec["holderIdentity"].is_string()) {
    cannot_handle("Lease",
                  "json: cannot unmarshal " + value_type_name(spec["holderIdentity"]) +
                      " into Go struct field LeaseSpec.spec.holderIdentity of type string");
  }
  std::vector<FieldError> errors;
  for (const auto& [field, floor, detail] :
       {std::tuple{"leaseDurationSeconds", 1, "must be greater than 0"},
        std::tuple{"leaseTransitions", 0, "must be greater than or equal to 0"}}) {
    if (!spec.contains(field) || spec[field].is_null()) continue;
    if (!spec[field].is_number_integer()) {
      cannot_handle("Lease", std::string("json: cannot unmarshal ") + value_type_name(spec[field]) +
                                 " into Go struct field LeaseSpec.spec." + field +
                                 " of type int32");
    }
    if (spec[field].get<long>() < floor) {
      errors.push_back({"Invalid value", std::string("spec.") + field, spec[field], detail});
    }
  }
  if (!errors.empty()) throw invalid("coordination.k8s.io", "Lease", name_of(obj), errors);
}

}  // namespace

void register_core_resources(ResourceRegistry& registry) {
  ResourceInfo secrets{
      .version = "v1", .plural = "secrets", .singular = "secret", .kind = "Secret"};
  secrets.admit = admit_secret;
  secrets.map_fields = {{"data"}, {"stringData"}};
  secrets.field_selectors = {"type"};
  secrets.top_level_fields = {"apiVersion", "kind", "metadata", "data",
                              "stringData", "type", "immutable"};
  secrets.printer_columns = {{"Type", ".type"}, {"Data", "#.data"}};
  registry.add(secrets);

  ResourceInfo config_maps{
      .version = "v1", .plural = "configmaps", .singular = "configmap", .kind = "ConfigMap"};
  config_maps.short_names = {"cm"};
  config_maps.admit = admit_config_map;
  config_maps.map_fields = {{"data"}, {"binaryData"}};
  config_maps.top_level_fields = {"apiVersion", "kind",       "metadata",
                                  "data",       "binaryData", "immutable"};
  config_maps.printer_columns = {{"Data", "#.data"}};
  registry.add(config_maps);

  ResourceInfo service_accounts{.version = "v1",
                                .plural = "serviceaccounts",
                                .singular = "serviceaccount",
                                .kind = "ServiceAccount"};
  service_accounts.short_names = {"sa"};
  service_accounts.top_level_fields = {"apiVersion",       "kind",
                                       "metadata",         "secrets",
                                       "imagePullSecrets", "automountServiceAccountToken"};
  service_accounts.printer_columns = {{"Secrets", "#.secrets"}};
  registry.add(service_accounts);

  ResourceInfo namespaces{
      .version = "v1", .plural = "namespaces", .singular = "namespace", .kind = "Namespace"};
  namespaces.namespaced = false;
  namespaces.short_names = {"ns"};
  namespaces.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  namespaces.status_subresource = true;
  namespaces.admit = admit_namespace;
  namespaces.field_selectors = {"status.phase"};
  namespaces.top_level_fields = {"apiVersion", "kind", "metadata", "spec", "status"};
  namespaces.printer_columns = {{"Status", ".status.phase"}};
  registry.add(namespaces);

  ResourceInfo leases{.group = "coordination.k8s.io",
                      .version = "v1",
                      .plural = "leases",
                      .singular = "lease",
                      .kind = "Lease"};
  leases.admit = admit_lease;
  leases.top_level_fields = {"apiVersion", "kind", "metadata", "spec"};
  leases.printer_columns = {{"Holder", ".spec.holderIdentity"}};
  registry.add(leases);
}

}  // namespace fluxkey::sim::kube
