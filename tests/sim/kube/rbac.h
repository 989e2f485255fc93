// RBAC as the API server evaluates it (rbac.authorization.k8s.io/v1), so that
// fluxkey's tests meet the same refusals, with the same messages, as on a real
// cluster: Roles and ClusterRoles, RoleBindings and ClusterRoleBindings, rules
// with verbs, API groups, resources, subresources, resourceNames and
// nonResourceURLs, and the bootstrap roles every cluster carries.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace CLI {
class App;
}
namespace fluxkey::sim::kube {
class KubeApi;
struct RequestContext;
}  // namespace fluxkey::sim::kube

namespace fluxkey::sim::rbac {

struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
};

// A label selector of an aggregated ClusterRole (matchLabels and
// matchExpressions with In, NotIn, Exists, DoesNotExist).
struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  struct Requirement {
    std::string key;
    std::string op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> match_expressions;

  bool matches(const std::map<std::string, std::string>& labels) const;
};

// A Role (namespace set) or a ClusterRole (namespace empty).
struct Role {
  std::string name;
  std::string ns;
  std::map<std::string, std::string> labels;
  std::vector<PolicyRule> rules;
  std::vector<LabelSelector> aggregation;  // ClusterRole aggregationRule
};

struct Subject {
  std::string kind;  // User, Group, ServiceAccount
  std::string name;
  std::string ns;  // ServiceAccount only; defaults to the binding's namespace
};

// A RoleBinding (namespace set) or a ClusterRoleBinding (namespace empty).
struct Binding {
  std::string name;
  std::string ns;
  std::string role_kind;  // Role or ClusterRole
  std::string role_name;
  std::vector<Subject> subjects;
};

struct Policy {
  std::vector<Role> roles;
  std::vector<Binding> bindings;

  void append(const Policy& other);
};

// Reads one object (JSON as the API carries it). Returns false for kinds
// other than the four RBAC kinds; throws std::invalid_argument naming the
// object when an RBAC object is malformed. A `List` adds each of its items.
bool add_object(Policy& policy, const nlohmann::json& object);

// Reads a multi-document YAML stream such as `kubectl kustomize k8s/` prints,
// keeping the RBAC objects and skipping every other kind. Throws
// std::invalid_argument naming the document on malformed input.
Policy parse_policy_yaml(const std::string& text);

// A YAML node converted to JSON the way the API server reads manifests:
// plain scalars become booleans, integers, floats or null when they look like
// one, quoted scalars stay strings. Throws std::invalid_argument on bad YAML.
std::vector<nlohmann::json> yaml_documents_to_json(const std::string& text);

// The roles and bindings the API server bootstraps and that matter to a
// client: cluster-admin for system:masters, system:discovery,
// system:basic-user and system:public-info-viewer.
Policy bootstrap_policy();

// What a request asks for, as the API server's RequestInfo describes it.
struct Attributes {
  std::string user;
  std::vector<std::string> groups;
  std::string verb;
  bool resource_request = true;
  std::string api_group;
  std::string resource;
  std::string subresource;
  std::string ns;
  std::string name;
  std::string path;  // non-resource requests only
};

struct Decision {
  bool allowed = false;
  // Why RBAC could not decide better, e.g. a binding naming a missing role;
  // empty in the common case. Appended to the refusal like the API server does.
  std::string reason;
};

Decision authorize(const Policy& policy, const Attributes& attributes);

// The refusal message, e.g. `secrets "x" is forbidden: User "u" cannot get
// resource "secrets" in API group "" in the namespace "ns"`.
std::string forbidden_message(const Attributes& attributes, const std::string& reason = "");
// The 403 Status object the API server sends with it.
nlohmann::json forbidden_status(const Attributes& attributes, const std::string& reason = "");

// The verb of a resource request: get, list, watch, create, update, patch,
// delete, deletecollection. `has_name` is whether the path names an object.
std::string resource_verb(const std::string& http_method, bool has_name, bool watch);
// The verb of a non-resource request: the lower-case HTTP method.
std::string non_resource_verb(const std::string& http_method);

// The object a list or watch narrows itself to with a `metadata.name=X` field
// selector, which the API server treats as the request's name (so rules with
// resourceNames can allow it). Empty when there is none.
std::string name_from_field_selector(const std::string& field_selector);

// The policy kube-sim enforces, shared between request threads. Enforcement
// is off until a policy is set (`--rbac` or POST /_sim/rbac): before that
// every authenticated user may do anything, as with AlwaysAllow.
class Authorizer {
 public:
  void set_policy(Policy policy);
  void disable();
  bool enabled() const;
  Decision authorize(const Attributes& attributes) const;
  // The loaded policy (without the bootstrap part), for listings.
  Policy policy() const;

 private:
  mutable std::mutex mu_;
  bool enabled_ = false;
  Policy loaded_;
  Policy effective_;  // bootstrap + loaded
};

// kube-sim's flag: --rbac FILE (repeatable).
struct RbacFlags {
  std::vector<std::string> files;
};
void add_flags(CLI::App& app, RbacFlags& flags);

// RBAC in kube-sim: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings
// served under rbac.authorization.k8s.io/v1 (created, read, deleted like
// any object), and, once enforcement is on, every request authorized
// against them plus the bootstrap policy. Enforcement starts with --rbac
// FILE or POST /_sim/rbac (YAML body: replaces every RBAC object);
// DELETE /_sim/rbac turns it off; GET /_sim/rbac shows the state.
class RbacService {
 public:
  explicit RbacService(kube::KubeApi& api);
  ~RbacService();
  RbacService(const RbacService&) = delete;
  RbacService& operator=(const RbacService&) = delete;

  // Stores the RBAC objects of these manifest files (other kinds are
  // skipped) and turns enforcement on; nothing happens for an empty list.
  // Throws std::invalid_argument naming the file and the problem.
  void load_files(const std::vector<std::string>& paths);
  // Replaces every RBAC object with those of `yaml` and turns enforcement on.
  // Returns how many objects were stored. Throws std::invalid_argument.
  size_t replace(const std::string& yaml);
  void disable() { enabled_ = false; }
  bool enabled() const { return enabled_; }

  // The attributes the API server's RequestInfo gives the authorizer.
  static Attributes attributes_of(const kube::RequestContext& ctx);

 private:
  void authorize(const kube::RequestContext& ctx);
  void seed(const std::vector<nlohmann::json>& documents);

  kube::KubeApi& api_;
  Authorizer authz_;
  std::atomic<bool> enabled_{false};
  std::atomic<bool> dirty_{true};
  std::mutex rebuild_mu_;
  uint64_t listener_ = 0;
};

}  // namespace fluxkey::sim::rbac
