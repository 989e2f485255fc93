#include "sim/kube/rbac.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "sim/kube/kube_api.h"

namespace fluxkey::sim::rbac {
namespace {

constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Go's %q for the names and paths that appear in refusals.
std::string go_quote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  // "!" marks a quoted (non-plain) scalar; an explicit !!str tag also keeps text.
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return text;
  static const std::regex kNull("^(|~|null|Null|NULL)$");
  static const std::regex kTrue("^(true|True|TRUE)$");
  static const std::regex kFalse("^(false|False|FALSE)$");
  static const std::regex kInt("^[-+]?[0-9]+$");
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(text, kNull)) return nullptr;
  if (std::regex_match(text, kTrue)) return true;
  if (std::regex_match(text, kFalse)) return false;
  try {
    if (std::regex_match(text, kInt)) return std::stoll(text);
    if (std::regex_match(text, kFloat)) return std::stod(text);
  } catch (const std::out_of_range&) {
    return text;
  }
  return text;
}

nlohmann::json node_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(node_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = node_to_json(kv.second);
      return out;
    }
  }
  return nullptr;
}

std::string object_label(const nlohmann::json& object) {
  std::string kind = object.value("kind", std::string("object"));
  std::string name;
  if (object.contains("metadata") && object["metadata"].is_object()) {
    name = object["metadata"].value("name", std::string());
  }
  return name.empty() ? kind : kind + " " + go_quote(name);
}

[[noreturn]] void bad(const nlohmann::json& object, const std::string& what) {
  throw std::invalid_argument(object_label(object) + ": " + what);
}

std::vector<std::string> string_list(const nlohmann::json& parent, const char* key,
                                     const nlohmann::json& object) {
  std::vector<std::string> out;
  if (!parent.contains(key) || parent[key].is_null()) return out;
  if (!parent[key].is_array()) bad(object, std::string(key) + " must be a list of strings");
  for (const auto& item : parent[key]) {
    if (!item.is_string()) bad(object, std::string(key) + " must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> string_map(const nlohmann::json& parent, const char* key,
                                              const nlohmann::json& object) {
  std::map<std::string, std::string> out;
  if (!parent.contains(key) || parent[key].is_null()) return out;
  if (!parent[key].is_object()) bad(object, std::string(key) + " must be a map of strings");
  for (const auto& [k, v] : parent[key].items()) {
    if (!v.is_string()) bad(object, std::string(key) + " must be a map of strings");
    out[k] = v.get<std::string>();
  }
  return out;
}

std::string string_field(const nlohmann::json& parent, const char* key) {
  if (!parent.is_object() || !parent.contains(key) || !parent[key].is_string()) return {};
  return parent[key].get<std::string>();
}

PolicyRule parse_rule(const nlohmann::json& rule, const nlohmann::json& object, bool namespaced) {
  if (!rule.is_object()) bad(object, "each rule must be an object");
  PolicyRule out;
  out.verbs = string_list(rule, "verbs", object);
  out.api_groups = string_list(rule, "apiGroups", object);
  out.resources = string_list(rule, "resources", object);
  out.resource_names = string_list(rule, "resourceNames", object);
  out.non_resource_urls = string_list(rule, "nonResourceURLs", object);
  // The API server's validation, so a manifest kube-sim accepts would apply.
  if (out.verbs.empty())
    bad(object, "rules[].verbs: Required value: verbs must contain at least one value");
  if (!out.non_resource_urls.empty()) {
    if (namespaced)
      bad(object,
          "rules[].nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource "
          "URLs");
    if (!out.api_groups.empty() || !out.resources.empty()) {
      bad(object,
          "rules[].nonResourceURLs: Invalid value: rules cannot apply to both regular resources "
          "and non-resource URLs");
    }
  } else {
    if (out.api_groups.empty())
      bad(object,
          "rules[].apiGroups: Required value: resource rules must supply at least one api group");
    if (out.resources.empty())
      bad(object,
          "rules[].resources: Required value: resource rules must supply at least one resource");
  }
  return out;
}

LabelSelector parse_selector(const nlohmann::json& selector, const nlohmann::json& object) {
  if (!selector.is_object()) bad(object, "aggregationRule.clusterRoleSelectors[] must be objects");
  LabelSelector out;
  out.match_labels = string_map(selector, "matchLabels", object);
  if (selector.contains("matchExpressions") && selector["matchExpressions"].is_array()) {
    for (const auto& expr : selector["matchExpressions"]) {
      LabelSelector::Requirement req;
      req.key = string_field(expr, "key");
      req.op = string_field(expr, "operator");
      req.values = string_list(expr, "values", object);
      if (req.op != "In" && req.op != "NotIn" && req.op != "Exists" && req.op != "DoesNotExist") {
        bad(object, "unsupported label selector operator " + go_quote(req.op));
      }
      out.match_expressions.push_back(std::move(req));
    }
  }
  return out;
}

void add_role(Policy& policy, const nlohmann::json& object, bool cluster) {
  const nlohmann::json& meta = object.contains("metadata") ? object["metadata"] : nlohmann::json();
  Role role;
  role.name = string_field(meta, "name");
  if (role.name.empty()) bad(object, "metadata.name: Required value");
  // As `kubectl apply` does with a namespaced object that names none.
  role.ns = cluster ? "" : string_field(meta, "namespace");
  if (!cluster && role.ns.empty()) role.ns = "default";
  role.labels = string_map(meta, "labels", object);
  if (object.contains("rules") && !object["rules"].is_null()) {
    if (!object["rules"].is_array()) bad(object, "rules must be a list");
    for (const auto& rule : object["rules"])
      role.rules.push_back(parse_rule(rule, object, !cluster));
  }
  if (cluster && object.contains("aggregationRule") && object["aggregationRule"].is_object()) {
    const auto& agg = object["aggregationRule"];
    if (agg.contains("clusterRoleSelectors") && agg["clusterRoleSelectors"].is_array()) {
      for (const auto& sel : agg["clusterRoleSelectors"]) {
        role.aggregation.push_back(parse_selector(sel, object));
      }
    }
  }
  policy.roles.push_back(std::move(role));
}

void add_binding(Policy& policy, const nlohmann::json& object, bool cluster) {
  const nlohmann::json& meta = object.contains("metadata") ? object["metadata"] : nlohmann::json();
  Binding binding;
  binding.name = string_field(meta, "name");
  if (binding.name.empty()) bad(object, "metadata.name: Required value");
  binding.ns = cluster ? "" : string_field(meta, "namespace");
  if (!cluster && binding.ns.empty()) binding.ns = "default";
  if (!object.contains("roleRef") || !object["roleRef"].is_object()) {
    bad(object, "roleRef: Required value");
  }
  const auto& ref = object["roleRef"];
  binding.role_kind = string_field(ref, "kind");
  binding.role_name = string_field(ref, "name");
  if (string_field(ref, "apiGroup") != kRbacGroup) {
    bad(object, "roleRef.apiGroup: Unsupported value: " + go_quote(string_field(ref, "apiGroup")) +
                    ": supported values: \"rbac.authorization.k8s.io\"");
  }
  if (binding.role_name.empty()) bad(object, "roleRef.name: Required value");
  if (cluster ? binding.role_kind != "ClusterRole"
              : binding.role_kind != "Role" && binding.role_kind != "ClusterRole") {
    bad(object, "roleRef.kind: Unsupported value: " + go_quote(binding.role_kind));
  }
  if (object.contains("subjects") && object["subjects"].is_array()) {
    for (const auto& s : object["subjects"]) {
      Subject subject;
      subject.kind = string_field(s, "kind");
      subject.name = string_field(s, "name");
      subject.ns = string_field(s, "namespace");
      if (subject.name.empty()) bad(object, "subjects[].name: Required value");
      if (subject.kind != "User" && subject.kind != "Group" && subject.kind != "ServiceAccount") {
        bad(object, "subjects[].kind: Unsupported value: " + go_quote(subject.kind));
      }
      if (subject.kind == "ServiceAccount" && cluster && subject.ns.empty()) {
        bad(object, "subjects[].namespace: Required value");
      }
      binding.subjects.push_back(std::move(subject));
    }
  }
  policy.bindings.push_back(std::move(binding));
}

bool applies_to(const Subject& subject, const Attributes& a, const std::string& binding_ns) {
  if (subject.kind == "User") return a.user == subject.name;
  if (subject.kind == "Group") return contains(a.groups, subject.name);
  if (subject.kind == "ServiceAccount") {
    const std::string& ns = subject.ns.empty() ? binding_ns : subject.ns;
    if (ns.empty()) return false;
    return a.user == "system:serviceaccount:" + ns + ":" + subject.name;
  }
  return false;
}

bool verb_matches(const PolicyRule& rule, const std::string& verb) {
  return contains(rule.verbs, "*") || contains(rule.verbs, verb);
}

bool group_matches(const PolicyRule& rule, const std::string& group) {
  return contains(rule.api_groups, "*") || contains(rule.api_groups, group);
}

// Only "*", the exact resource or resource/subresource, and "*/subresource"
// match: Kubernetes has no "resource/*" wildcard.
bool resource_matches(const PolicyRule& rule, const std::string& combined,
                      const std::string& subresource) {
  for (const auto& r : rule.resources) {
    if (r == "*" || r == combined) return true;
    if (!subresource.empty() && r == "*/" + subresource) return true;
  }
  return false;
}

bool name_matches(const PolicyRule& rule, const std::string& name) {
  return rule.resource_names.empty() || contains(rule.resource_names, name);
}

bool url_matches(const PolicyRule& rule, const std::string& path) {
  for (const auto& u : rule.non_resource_urls) {
    if (u == "*" || u == path) return true;
    if (!u.empty() && u.back() == '*' && path.rfind(u.substr(0, u.size() - 1), 0) == 0) {
      return true;
    }
  }
  return false;
}

bool rule_allows(const PolicyRule& rule, const Attributes& a) {
  if (a.resource_request) {
    std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    return verb_matches(rule, a.verb) && group_matches(rule, a.api_group) &&
           resource_matches(rule, combined, a.subresource) && name_matches(rule, a.name);
  }
  return verb_matches(rule, a.verb) && url_matches(rule, a.path);
}

const Role* find_role(const Policy& policy, const std::string& ns, const std::string& name) {
  for (const auto& role : policy.roles) {
    if (role.ns == ns && role.name == name) return &role;
  }
  return nullptr;
}

// The rules of a role, with an aggregated ClusterRole's rules gathered from
// the ClusterRoles its selectors pick, as the aggregation controller does.
std::vector<PolicyRule> rules_of(const Policy& policy, const Role& role) {
  if (role.aggregation.empty()) return role.rules;
  std::vector<PolicyRule> rules;
  for (const auto& other : policy.roles) {
    if (!other.ns.empty() || &other == &role) continue;
    bool picked = std::any_of(role.aggregation.begin(), role.aggregation.end(),
                              [&](const LabelSelector& s) { return s.matches(other.labels); });
    if (picked) rules.insert(rules.end(), other.rules.begin(), other.rules.end());
  }
  return rules;
}

nlohmann::json rule_json(std::vector<std::string> verbs, std::vector<std::string> groups,
                         std::vector<std::string> resources, std::vector<std::string> urls) {
  nlohmann::json rule = {{"verbs", std::move(verbs)}};
  if (!urls.empty()) {
    rule["nonResourceURLs"] = std::move(urls);
  } else {
    rule["apiGroups"] = std::move(groups);
    rule["resources"] = std::move(resources);
  }
  return rule;
}

nlohmann::json cluster_role_json(const std::string& name, nlohmann::json rules) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRole"},
          {"metadata", {{"name", name}}},
          {"rules", std::move(rules)}};
}

nlohmann::json cluster_binding_json(const std::string& name,
                                    const std::vector<std::string>& groups) {
  nlohmann::json subjects = nlohmann::json::array();
  for (const auto& g : groups) {
    subjects.push_back({{"apiGroup", kRbacGroup}, {"kind", "Group"}, {"name", g}});
  }
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRoleBinding"},
          {"metadata", {{"name", name}}},
          {"roleRef", {{"apiGroup", kRbacGroup}, {"kind", "ClusterRole"}, {"name", name}}},
          {"subjects", subjects}};
}

}  // namespace

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& req : match_expressions) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    if (req.op == "Exists" && !has) return false;
    if (req.op == "DoesNotExist" && has) return false;
    if (req.op == "In" && (!has || !contains(req.values, it->second))) return false;
    if (req.op == "NotIn" && has && contains(req.values, it->second)) return false;
  }
  // An empty selector picks nothing, as in the aggregation controller.
  return !match_labels.empty() || !match_expressions.empty();
}

void Policy::append(const Policy& other) {
  roles.insert(roles.end(), other.roles.begin(), other.roles.end());
  bindings.insert(bindings.end(), other.bindings.begin(), other.bindings.end());
}

bool add_object(Policy& policy, const nlohmann::json& object) {
  if (!object.is_object()) return false;
  std::string kind = string_field(object, "kind");
  if (kind == "List" || (kind.size() > 4 && kind.ends_with("List"))) {
    bool any = false;
    if (object.contains("items") && object["items"].is_array()) {
      for (const auto& item : object["items"]) any = add_object(policy, item) || any;
    }
    return any;
  }
  std::string api_version = string_field(object, "apiVersion");
  if (api_version.rfind(std::string(kRbacGroup) + "/", 0) != 0) return false;
  if (kind == "Role") {
    add_role(policy, object, false);
  } else if (kind == "ClusterRole") {
    add_role(policy, object, true);
  } else if (kind == "RoleBinding") {
    add_binding(policy, object, false);
  } else if (kind == "ClusterRoleBinding") {
    add_binding(policy, object, true);
  } else {
    return false;
  }
  return true;
}

std::vector<nlohmann::json> yaml_documents_to_json(const std::string& text) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(std::string("invalid YAML: ") + e.what());
  }
  std::vector<nlohmann::json> out;
  for (const auto& doc : docs) {
    if (doc.IsNull()) continue;  // empty documents between "---" separators
    out.push_back(node_to_json(doc));
  }
  return out;
}

Policy parse_policy_yaml(const std::string& text) {
  Policy policy;
  auto docs = yaml_documents_to_json(text);
  for (size_t i = 0; i < docs.size(); ++i) {
    try {
      add_object(policy, docs[i]);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("document " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  return policy;
}

Policy bootstrap_policy() {
  Policy policy;
  const std::vector<std::string> get = {"get"};
  add_object(policy, cluster_role_json("cluster-admin", {rule_json({"*"}, {"*"}, {"*"}, {}),
                                                         rule_json({"*"}, {}, {}, {"*"})}));
  add_object(policy, cluster_binding_json("cluster-admin", {"system:masters"}));
  add_object(policy, cluster_role_json("system:discovery",
                                       {rule_json(get, {}, {},
                                                  {"/api", "/api/*", "/apis", "/apis/*", "/healthz",
                                                   "/livez", "/openapi", "/openapi/*", "/readyz",
                                                   "/version", "/version/"})}));
  add_object(policy, cluster_binding_json("system:discovery", {"system:authenticated"}));
  add_object(policy,
             cluster_role_json(
                 "system:basic-user",
                 {rule_json({"create"}, {"authorization.k8s.io"},
                            {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}, {}),
                  rule_json({"create"}, {"authentication.k8s.io"}, {"selfsubjectreviews"}, {})}));
  add_object(policy, cluster_binding_json("system:basic-user", {"system:authenticated"}));
  add_object(
      policy,
      cluster_role_json(
          "system:public-info-viewer",
          {rule_json(get, {}, {}, {"/healthz", "/livez", "/readyz", "/version", "/version/"})}));
  add_object(policy, cluster_binding_json("system:public-info-viewer",
                                          {"system:authenticated", "system:unauthenticated"}));
  return policy;
}

Decision authorize(const Policy& policy, const Attributes& a) {
  // The API server's privileged-group authorizer runs before RBAC.
  if (contains(a.groups, "system:masters")) return {true, ""};
  std::vector<std::string> errors;
  auto allows = [&](const Binding& binding) {
    bool applies = std::any_of(binding.subjects.begin(), binding.subjects.end(),
                               [&](const Subject& s) { return applies_to(s, a, binding.ns); });
    if (!applies) return false;
    bool cluster_role = binding.role_kind == "ClusterRole";
    const Role* role = find_role(policy, cluster_role ? "" : binding.ns, binding.role_name);
    if (role == nullptr) {
      errors.push_back(std::string(cluster_role ? "clusterrole" : "role") + "." + kRbacGroup + " " +
                       go_quote(binding.role_name) + " not found");
      return false;
    }
    auto rules = rules_of(policy, *role);
    return std::any_of(rules.begin(), rules.end(),
                       [&](const PolicyRule& r) { return rule_allows(r, a); });
  };
  for (const auto& binding : policy.bindings) {
    if (binding.ns.empty() && allows(binding)) return {true, ""};
  }
  if (a.resource_request && !a.ns.empty()) {
    for (const auto& binding : policy.bindings) {
      if (binding.ns == a.ns && allows(binding)) return {true, ""};
    }
  }
  Decision denied;
  if (errors.size() == 1) {
    denied.reason = "RBAC: " + errors.front();
  } else if (!errors.empty()) {
    denied.reason = "RBAC: [";
    for (size_t i = 0; i < errors.size(); ++i) {
      denied.reason += (i ? ", " : "") + errors[i];
    }
    denied.reason += "]";
  }
  return denied;
}

std::string forbidden_message(const Attributes& a, const std::string& reason) {
  std::string detail;
  if (!a.resource_request) {
    detail = "User " + go_quote(a.user) + " cannot " + a.verb + " path " + go_quote(a.path);
  } else {
    std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    detail = "User " + go_quote(a.user) + " cannot " + a.verb + " resource " + go_quote(resource) +
             " in API group " + go_quote(a.api_group) +
             (a.ns.empty() ? std::string(" at the cluster scope")
                           : " in the namespace " + go_quote(a.ns));
  }
  if (!reason.empty()) detail += ": " + reason;
  if (!a.resource_request) return "forbidden: " + detail;
  std::string group_resource = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
  if (a.name.empty()) return group_resource + " is forbidden: " + detail;
  return group_resource + " " + go_quote(a.name) + " is forbidden: " + detail;
}

nlohmann::json forbidden_status(const Attributes& a, const std::string& reason) {
  nlohmann::json details = nlohmann::json::object();
  if (a.resource_request) {
    if (!a.name.empty()) details["name"] = a.name;
    if (!a.api_group.empty()) details["group"] = a.api_group;
    details["kind"] = a.resource;
  }
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", nlohmann::json::object()},
          {"status", "Failure"},
          {"message", forbidden_message(a, reason)},
          {"reason", "Forbidden"},
          {"details", details},
          {"code", 403}};
}

std::string resource_verb(const std::string& method, bool has_name, bool watch) {
  if (method == "GET" || method == "HEAD") {
    if (has_name) return "get";
    return watch ? "watch" : "list";
  }
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return has_name ? "delete" : "deletecollection";
  return non_resource_verb(method);
}

std::string non_resource_verb(const std::string& method) {
  std::string verb = method;
  std::transform(verb.begin(), verb.end(), verb.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return verb;
}

std::string name_from_field_selector(const std::string& selector) {
  size_t start = 0;
  while (start <= selector.size()) {
    size_t end = selector.find(',', start);
    if (end == std::string::npos) end = selector.size();
    std::string term = selector.substr(start, end - start);
    size_t eq = term.find('=');
    if (eq != std::string::npos && (eq == 0 || term[eq - 1] != '!')) {
      std::string key = term.substr(0, eq);
      std::string value = term.substr(eq + 1);
      if (!value.empty() && value.front() == '=') value.erase(0, 1);
      auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(' '));
        s.erase(s.find_last_not_of(' ') + 1);
        return s;
      };
      key = trim(key);
      value = trim(value);
      // As path.IsValidPathSegmentName: a name that could not be a path segment is ignored.
      bool valid = !value.empty() && value != "." && value != ".." &&
                   value.find_first_of("/%") == std::string::npos;
      if (key == "metadata.name" && valid) return value;
    }
    start = end + 1;
  }
  return {};
}

void Authorizer::set_policy(Policy policy) {
  Policy effective = bootstrap_policy();
  effective.append(policy);
  std::lock_guard lock(mu_);
  loaded_ = std::move(policy);
  effective_ = std::move(effective);
  enabled_ = true;
}

void Authorizer::disable() {
  std::lock_guard lock(mu_);
  enabled_ = false;
  loaded_ = Policy();
  effective_ = Policy();
}

bool Authorizer::enabled() const {
  std::lock_guard lock(mu_);
  return enabled_;
}

Decision Authorizer::authorize(const Attributes& attributes) const {
  std::lock_guard lock(mu_);
  if (!enabled_) return {true, ""};
  return rbac::authorize(effective_, attributes);
}

Policy Authorizer::policy() const {
  std::lock_guard lock(mu_);
  return loaded_;
}

void add_flags(CLI::App& app, RbacFlags& flags) {
  app.add_option("--rbac", flags.files,
                 "enforce RBAC with the Roles, ClusterRoles and bindings of this manifest file "
                 "(repeatable; other kinds in it are skipped)")
      ->check(CLI::ExistingFile);
}

namespace {

struct RbacKind {
  const char* plural;
  const char* kind;
  bool namespaced;
};
constexpr RbacKind kRbacKinds[] = {{"roles", "Role", true},
                                   {"clusterroles", "ClusterRole", false},
                                   {"rolebindings", "RoleBinding", true},
                                   {"clusterrolebindings", "ClusterRoleBinding", false}};

// The RBAC objects of a manifest stream, Lists unpacked.
void collect_rbac(const nlohmann::json& doc, std::vector<nlohmann::json>& out) {
  if (!doc.is_object()) return;
  std::string kind = string_field(doc, "kind");
  if (kind == "List" || (kind.size() > 4 && kind.ends_with("List"))) {
    if (doc.contains("items") && doc["items"].is_array()) {
      for (const auto& item : doc["items"]) collect_rbac(item, out);
    }
    return;
  }
  Policy scratch;
  if (add_object(scratch, doc)) out.push_back(doc);
}

void control_error(httplib::Response& res, int status, const std::string& message) {
  reply_json(res, status, {{"message", message}});
}

}  // namespace

RbacService::RbacService(kube::KubeApi& api) : api_(api) {
  for (const auto& k : kRbacKinds) {
    std::string kind = k.kind;
    std::string singular = kind;
    std::transform(singular.begin(), singular.end(), singular.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // Refuse what the API server's validation refuses, with its message shape.
    auto admit = [kind](nlohmann::json& object, const nlohmann::json*) {
      nlohmann::json typed = object;
      typed["apiVersion"] = std::string(kRbacGroup) + "/v1";
      typed["kind"] = kind;
      Policy scratch;
      try {
        add_object(scratch, typed);
      } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        std::string prefix = object_label(typed) + ": ";
        if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
        std::string name = string_field(typed.value("metadata", nlohmann::json()), "name");
        throw kube::ApiError(
            422, "Invalid", kind + "." + kRbacGroup + " " + go_quote(name) + " is invalid: " + what,
            {{"name", name}, {"group", kRbacGroup}, {"kind", kind}});
      }
    };
    api_.registry().add({.group = kRbacGroup,
                         .version = "v1",
                         .plural = k.plural,
                         .singular = singular,
                         .kind = kind,
                         .namespaced = k.namespaced,
                         .admit = admit});
  }
  listener_ = api_.store().subscribe([this](const kube::StoreEvent& e) {
    if (e.key.group == kRbacGroup) dirty_ = true;
  });
  api_.set_authorizer([this](const kube::RequestContext& ctx) { authorize(ctx); });

  api_.server().add_control("POST", "/_sim/rbac",
                            [this](const httplib::Request& req, httplib::Response& res) {
                              try {
                                size_t stored = replace(req.body);
                                reply_json(res, 200, {{"enabled", true}, {"objects", stored}});
                              } catch (const std::invalid_argument& e) {
                                control_error(res, 400, e.what());
                              }
                            });
  api_.server().add_control("DELETE", "/_sim/rbac",
                            [this](const httplib::Request&, httplib::Response& res) {
                              disable();
                              reply_json(res, 200, {{"enabled", false}});
                            });
  api_.server().add_control(
      "GET", "/_sim/rbac", [this](const httplib::Request&, httplib::Response& res) {
        nlohmann::json objects = nlohmann::json::array();
        for (const auto& k : kRbacKinds) {
          for (const auto& o : api_.store().list(kRbacGroup, k.plural, "", nullptr)) {
            objects.push_back({{"kind", k.kind},
                               {"namespace", string_field(o["metadata"], "namespace")},
                               {"name", string_field(o["metadata"], "name")}});
          }
        }
        reply_json(res, 200, {{"enabled", enabled()}, {"objects", objects}});
      });
}

RbacService::~RbacService() {
  api_.store().unsubscribe(listener_);
}

void RbacService::seed(const std::vector<nlohmann::json>& documents) {
  for (const auto& doc : documents) {
    try {
      api_.seed(doc);
    } catch (const kube::ApiError& e) {
      throw std::invalid_argument(object_label(doc) + ": " + e.what());
    }
  }
}

void RbacService::load_files(const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  std::vector<nlohmann::json> objects;
  for (const auto& path : paths) {
    std::ifstream in(path);
    if (!in) {
      throw std::invalid_argument("cannot read --rbac file " + path + ": " + std::strerror(errno));
    }
    std::stringstream text;
    text << in.rdbuf();
    try {
      parse_policy_yaml(text.str());  // validates, naming the document
      for (const auto& doc : yaml_documents_to_json(text.str())) collect_rbac(doc, objects);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("--rbac " + path + ": " + e.what());
    }
  }
  seed(objects);
  dirty_ = true;
  enabled_ = true;
}

size_t RbacService::replace(const std::string& yaml) {
  parse_policy_yaml(yaml);
  std::vector<nlohmann::json> objects;
  for (const auto& doc : yaml_documents_to_json(yaml)) collect_rbac(doc, objects);
  for (const auto& k : kRbacKinds) {
    const kube::ResourceInfo* info = api_.registry().find(kRbacGroup, "v1", k.plural);
    for (const auto& o : api_.store().list(kRbacGroup, k.plural, "", nullptr)) {
      kube::ObjectKey key{kRbacGroup, k.plural, string_field(o["metadata"], "namespace"),
                          string_field(o["metadata"], "name")};
      api_.store().transact(*info, key,
                            [](const nlohmann::json*) { return kube::Write::remove(); });
    }
  }
  seed(objects);
  dirty_ = true;
  enabled_ = true;
  return objects.size();
}

Attributes RbacService::attributes_of(const kube::RequestContext& ctx) {
  Attributes a;
  a.user = ctx.user.name;
  a.groups = ctx.user.groups;
  const kube::RequestInfo& ri = ctx.info;
  if (!ri.is_resource) {
    a.resource_request = false;
    a.verb = non_resource_verb(ctx.http != nullptr ? ctx.http->method : "GET");
    a.path = ri.path;
    return a;
  }
  a.verb = ri.verb;
  a.api_group = ri.group;
  a.resource = ri.resource;
  a.subresource = ri.subresource;
  a.ns = ri.ns;
  a.name = ri.name;
  // The API server's RequestInfo puts a Namespace's own name in the namespace
  // too, so RoleBindings inside it apply.
  if (a.resource == "namespaces" && !a.name.empty()) a.ns = a.name;
  if (a.name.empty() && (a.verb == "list" || a.verb == "watch") && ctx.http != nullptr &&
      ctx.http->has_param("fieldSelector")) {
    a.name = name_from_field_selector(ctx.http->get_param_value("fieldSelector"));
  }
  return a;
}

void RbacService::authorize(const kube::RequestContext& ctx) {
  if (!enabled_) return;
  if (dirty_) {
    std::lock_guard lock(rebuild_mu_);
    if (dirty_.exchange(false)) {
      // Cleared before reading, so a change committed meanwhile marks it again.
      Policy policy;
      for (const auto& k : kRbacKinds) {
        for (const auto& o : api_.store().list(kRbacGroup, k.plural, "", nullptr)) {
          try {
            add_object(policy, o);
          } catch (const std::invalid_argument&) {
            // Admission refused such objects; seeds bypassing it are skipped.
          }
        }
      }
      authz_.set_policy(std::move(policy));
    }
  }
  Attributes a = attributes_of(ctx);
  Decision d = authz_.authorize(a);
  if (d.allowed) return;
  nlohmann::json status = forbidden_status(a, d.reason);
  throw kube::ApiError(403, "Forbidden", status["message"].get<std::string>(), status["details"]);
}

}  // namespace fluxkey::sim::rbac
