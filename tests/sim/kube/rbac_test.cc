#include "sim/kube/rbac.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

namespace kube_rbac_test {

using namespace fluxkey::sim::rbac;

namespace {

const char* const kSa = "system:serviceaccount:fluxkey:rotator";

Attributes sa_request(std::string verb, std::string group, std::string resource, std::string ns,
                      std::string name = "", std::string subresource = "") {
  Attributes a;
  a.user = kSa;
  a.groups = {"system:serviceaccounts", "system:serviceaccounts:fluxkey", "system:authenticated"};
  a.verb = std::move(verb);
  a.api_group = std::move(group);
  a.resource = std::move(resource);
  a.subresource = std::move(subresource);
  a.ns = std::move(ns);
  a.name = std::move(name);
  return a;
}

// A Role in flux-system with the given rule, bound to the rotator ServiceAccount.
Policy role_policy(const std::string& rule_yaml) {
  return parse_policy_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: flux-system}
rules:
)" + rule_yaml + R"(
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects:
- {kind: ServiceAccount, name: rotator, namespace: fluxkey}
)");
}

bool allowed(const Policy& p, const Attributes& a) {
  return authorize(p, a).allowed;
}

}  // namespace

TEST_CASE("a rule matches on verb, API group, resource and namespace") {
  Policy p = role_policy(R"(- apiGroups: ["kustomize.toolkit.fluxcd.io"]
  resources: ["kustomizations"]
  verbs: ["get", "patch"])");
  const std::string g = "kustomize.toolkit.fluxcd.io";
  CHECK(allowed(p, sa_request("get", g, "kustomizations", "flux-system", "apps")));
  CHECK(allowed(p, sa_request("patch", g, "kustomizations", "flux-system", "apps")));
  CHECK_FALSE(allowed(p, sa_request("update", g, "kustomizations", "flux-system", "apps")));
  CHECK_FALSE(allowed(p, sa_request("list", g, "kustomizations", "flux-system")));
  CHECK_FALSE(allowed(p, sa_request("get", "", "kustomizations", "flux-system", "apps")));
  CHECK_FALSE(allowed(p, sa_request("get", g, "helmreleases", "flux-system", "apps")));
  CHECK_FALSE(allowed(p, sa_request("get", g, "kustomizations", "default", "apps")));
  CHECK_FALSE(allowed(p, sa_request("get", g, "kustomizations", "", "apps")));
  // A subresource needs its own rule.
  CHECK_FALSE(
      allowed(p, sa_request("patch", g, "kustomizations", "flux-system", "apps", "status")));
}

TEST_CASE("wildcards in verbs, apiGroups and resources") {
  Policy p = role_policy(R"(- apiGroups: ["*"]
  resources: ["secrets"]
  verbs: ["*"])");
  CHECK(allowed(p, sa_request("deletecollection", "", "secrets", "flux-system")));
  CHECK(allowed(p, sa_request("watch", "anything.example.com", "secrets", "flux-system")));
  CHECK_FALSE(allowed(p, sa_request("get", "", "configmaps", "flux-system", "x")));

  Policy all = role_policy(R"(- apiGroups: [""]
  resources: ["*"]
  verbs: ["get"])");
  CHECK(allowed(all, sa_request("get", "", "configmaps", "flux-system", "x")));
  // "*" covers subresources too.
  CHECK(allowed(all, sa_request("get", "", "pods", "flux-system", "x", "log")));
  CHECK_FALSE(allowed(all, sa_request("get", "apps", "deployments", "flux-system", "x")));
}

TEST_CASE("subresources: exact resource/subresource and */subresource, but no resource/*") {
  Policy exact = role_policy(R"(- apiGroups: [""]
  resources: ["serviceaccounts/token"]
  verbs: ["create"])");
  CHECK(allowed(exact, sa_request("create", "", "serviceaccounts", "flux-system", "r", "token")));
  CHECK_FALSE(allowed(exact, sa_request("create", "", "serviceaccounts", "flux-system", "r")));
  CHECK_FALSE(
      allowed(exact, sa_request("get", "", "serviceaccounts", "flux-system", "r", "token")));

  Policy any_parent = role_policy(R"(- apiGroups: ["*"]
  resources: ["*/status"]
  verbs: ["patch"])");
  CHECK(allowed(any_parent, sa_request("patch", "helm.toolkit.fluxcd.io", "helmreleases",
                                       "flux-system", "x", "status")));
  CHECK_FALSE(allowed(any_parent, sa_request("patch", "helm.toolkit.fluxcd.io", "helmreleases",
                                             "flux-system", "x")));
  CHECK_FALSE(allowed(any_parent, sa_request("patch", "", "pods", "flux-system", "x", "log")));

  // Kubernetes' ResourceMatches knows no "resource/*": such a rule matches nothing.
  Policy no_suffix_wildcard = role_policy(R"(- apiGroups: [""]
  resources: ["serviceaccounts/*"]
  verbs: ["create"])");
  CHECK_FALSE(allowed(no_suffix_wildcard,
                      sa_request("create", "", "serviceaccounts", "flux-system", "r", "token")));
}

TEST_CASE("resourceNames only match requests that carry a name") {
  Policy p = role_policy(R"(- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: ["flux-kubeconfig"]
  verbs: ["get", "update", "list", "watch", "create", "delete", "deletecollection"]
- apiGroups: [""]
  resources: ["serviceaccounts/token"]
  resourceNames: ["flux-reconcile"]
  verbs: ["create"])");
  CHECK(allowed(p, sa_request("get", "", "secrets", "flux-system", "flux-kubeconfig")));
  CHECK(allowed(p, sa_request("update", "", "secrets", "flux-system", "flux-kubeconfig")));
  CHECK(allowed(p, sa_request("delete", "", "secrets", "flux-system", "flux-kubeconfig")));
  CHECK_FALSE(allowed(p, sa_request("get", "", "secrets", "flux-system", "other")));
  // Collections have no name: list, watch, create and deletecollection are refused.
  CHECK_FALSE(allowed(p, sa_request("list", "", "secrets", "flux-system")));
  CHECK_FALSE(allowed(p, sa_request("watch", "", "secrets", "flux-system")));
  CHECK_FALSE(allowed(p, sa_request("create", "", "secrets", "flux-system")));
  CHECK_FALSE(allowed(p, sa_request("deletecollection", "", "secrets", "flux-system")));
  // A list or watch narrowed by metadata.name carries that name.
  CHECK(allowed(p, sa_request("watch", "", "secrets", "flux-system",
                              name_from_field_selector("metadata.name=flux-kubeconfig"))));
  // The token subresource is created on a named ServiceAccount.
  CHECK(allowed(
      p, sa_request("create", "", "serviceaccounts", "flux-system", "flux-reconcile", "token")));
  CHECK_FALSE(
      allowed(p, sa_request("create", "", "serviceaccounts", "flux-system", "other", "token")));
}

TEST_CASE("RoleBinding subjects: User, Group, ServiceAccount with its namespace defaulted") {
  Policy p = parse_policy_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: flux-system}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: team}
- {kind: ServiceAccount, name: local}
)");
  Attributes a;
  a.verb = "get";
  a.resource = "configmaps";
  a.ns = "flux-system";
  a.name = "x";
  a.user = "alice";
  CHECK(allowed(p, a));
  a.user = "bob";
  CHECK_FALSE(allowed(p, a));
  a.groups = {"team"};
  CHECK(allowed(p, a));
  a.groups = {};
  a.user = "system:serviceaccount:flux-system:local";
  CHECK(allowed(p, a));
  a.user = "system:serviceaccount:other:local";
  CHECK_FALSE(allowed(p, a));
}

TEST_CASE("a RoleBinding to a ClusterRole grants it only in the binding's namespace") {
  Policy p = parse_policy_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: flux-reconcile}
rules:
- apiGroups: [kustomize.toolkit.fluxcd.io]
  resources: [kustomizations]
  verbs: [get, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: flux-reconcile, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: flux-reconcile}
subjects: [{kind: ServiceAccount, name: rotator, namespace: fluxkey}]
)");
  const std::string g = "kustomize.toolkit.fluxcd.io";
  CHECK(allowed(p, sa_request("patch", g, "kustomizations", "flux-system", "apps")));
  CHECK_FALSE(allowed(p, sa_request("patch", g, "kustomizations", "apps", "apps")));
  CHECK_FALSE(allowed(p, sa_request("list", g, "kustomizations", "")));
}

TEST_CASE("a ClusterRoleBinding grants everywhere, cluster scope included") {
  Policy p = parse_policy_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ns-reader}
rules: [{apiGroups: [""], resources: [namespaces, secrets], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ns-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ns-reader}
subjects: [{kind: ServiceAccount, name: rotator, namespace: fluxkey}]
)");
  CHECK(allowed(p, sa_request("list", "", "namespaces", "")));
  CHECK(allowed(p, sa_request("list", "", "secrets", "anywhere")));
  CHECK_FALSE(allowed(p, sa_request("get", "", "secrets", "anywhere", "x")));
}

TEST_CASE("a ClusterRoleBinding's ServiceAccount subject needs a namespace") {
  CHECK_THROWS_AS(parse_policy_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}
subjects: [{kind: ServiceAccount, name: rotator}]
)"),
                  std::invalid_argument);
  CHECK_THROWS_AS(parse_policy_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
)"),
                  std::invalid_argument);
}

TEST_CASE("system:masters bypasses RBAC; no binding means no access") {
  Policy empty;
  Attributes a = sa_request("delete", "", "secrets", "kube-system", "x");
  CHECK_FALSE(allowed(empty, a));
  a.groups.push_back("system:masters");
  CHECK(allowed(empty, a));
}

TEST_CASE("the bootstrap policy allows discovery to every authenticated user") {
  Policy p = bootstrap_policy();
  Attributes a;
  a.user = kSa;
  a.groups = {"system:authenticated"};
  a.resource_request = false;
  a.verb = "get";
  for (const char* path : {"/api", "/api/v1", "/apis", "/apis/source.toolkit.fluxcd.io/v1",
                           "/version", "/healthz", "/openapi/v2"}) {
    a.path = path;
    CHECK_MESSAGE(allowed(p, a), path);
  }
  a.path = "/metrics";
  CHECK_FALSE(allowed(p, a));
  a.path = "/api";
  a.verb = "post";
  CHECK_FALSE(allowed(p, a));
  // Without the group (an anonymous request) only the public info is readable.
  a.verb = "get";
  a.groups = {"system:unauthenticated"};
  CHECK_FALSE(allowed(p, a));
  a.path = "/version";
  CHECK(allowed(p, a));
}

TEST_CASE("aggregated ClusterRoles gather the rules of the roles their selectors pick") {
  Policy p = parse_policy_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: flux-view}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {fluxkey.io/aggregate-to-view: "true"}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: view-ks
  labels: {fluxkey.io/aggregate-to-view: "true"}
rules: [{apiGroups: [kustomize.toolkit.fluxcd.io], resources: [kustomizations], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: unrelated}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: flux-view}
subjects: [{kind: ServiceAccount, name: rotator, namespace: fluxkey}]
)");
  CHECK(allowed(
      p, sa_request("get", "kustomize.toolkit.fluxcd.io", "kustomizations", "flux-system", "x")));
  CHECK_FALSE(allowed(p, sa_request("get", "", "secrets", "flux-system", "x")));
}

TEST_CASE("a binding to a missing role refuses with the API server's reason") {
  Policy p = parse_policy_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gone}
subjects: [{kind: ServiceAccount, name: rotator, namespace: fluxkey}]
)");
  Attributes a = sa_request("get", "", "secrets", "flux-system", "x");
  Decision d = authorize(p, a);
  CHECK_FALSE(d.allowed);
  CHECK(d.reason == "RBAC: role.rbac.authorization.k8s.io \"gone\" not found");
  CHECK(forbidden_message(a, d.reason) ==
        "secrets \"x\" is forbidden: User \"system:serviceaccount:fluxkey:rotator\" cannot get "
        "resource \"secrets\" in API group \"\" in the namespace \"flux-system\": RBAC: "
        "role.rbac.authorization.k8s.io \"gone\" not found");
  // A binding that does not apply to the user adds no reason.
  Attributes other = a;
  other.user = "someone";
  CHECK(authorize(p, other).reason.empty());
}

TEST_CASE("refusal messages have the API server's three shapes") {
  CHECK(forbidden_message(sa_request("get", "", "secrets", "flux-system", "x")) ==
        "secrets \"x\" is forbidden: User \"system:serviceaccount:fluxkey:rotator\" cannot get "
        "resource \"secrets\" in API group \"\" in the namespace \"flux-system\"");
  CHECK(forbidden_message(sa_request("list", "", "secrets", "ns")) ==
        "secrets is forbidden: User \"system:serviceaccount:fluxkey:rotator\" cannot list "
        "resource \"secrets\" in API group \"\" in the namespace \"ns\"");
  CHECK(forbidden_message(
            sa_request("create", "", "serviceaccounts", "fluxkey", "flux-reconcile", "token")) ==
        "serviceaccounts \"flux-reconcile\" is forbidden: User "
        "\"system:serviceaccount:fluxkey:rotator\" cannot create resource "
        "\"serviceaccounts/token\" in API group \"\" in the namespace \"fluxkey\"");
  CHECK(forbidden_message(sa_request("patch", "kustomize.toolkit.fluxcd.io", "kustomizations",
                                     "flux-system", "apps")) ==
        "kustomizations.kustomize.toolkit.fluxcd.io \"apps\" is forbidden: User "
        "\"system:serviceaccount:fluxkey:rotator\" cannot patch resource \"kustomizations\" in "
        "API group \"kustomize.toolkit.fluxcd.io\" in the namespace \"flux-system\"");
  CHECK(forbidden_message(sa_request("list", "", "namespaces", "")) ==
        "namespaces is forbidden: User \"system:serviceaccount:fluxkey:rotator\" cannot list "
        "resource \"namespaces\" in API group \"\" at the cluster scope");
  Attributes path;
  path.user = "alice";
  path.resource_request = false;
  path.verb = "get";
  path.path = "/metrics";
  CHECK(forbidden_message(path) == "forbidden: User \"alice\" cannot get path \"/metrics\"");
}

TEST_CASE("the refusal Status object") {
  auto status = forbidden_status(
      sa_request("patch", "kustomize.toolkit.fluxcd.io", "kustomizations", "flux-system", "apps"));
  CHECK(status["kind"] == "Status");
  CHECK(status["apiVersion"] == "v1");
  CHECK(status["status"] == "Failure");
  CHECK(status["reason"] == "Forbidden");
  CHECK(status["code"] == 403);
  CHECK(status["details"]["name"] == "apps");
  CHECK(status["details"]["group"] == "kustomize.toolkit.fluxcd.io");
  CHECK(status["details"]["kind"] == "kustomizations");
  auto core = forbidden_status(sa_request("list", "", "secrets", "ns"));
  CHECK_FALSE(core["details"].contains("name"));
  CHECK_FALSE(core["details"].contains("group"));
}

TEST_CASE("HTTP methods map to verbs as in the API server's RequestInfo") {
  CHECK(resource_verb("GET", true, false) == "get");
  CHECK(resource_verb("GET", false, false) == "list");
  CHECK(resource_verb("GET", false, true) == "watch");
  CHECK(resource_verb("POST", false, false) == "create");
  CHECK(resource_verb("POST", true, false) == "create");
  CHECK(resource_verb("PUT", true, false) == "update");
  CHECK(resource_verb("PATCH", true, false) == "patch");
  CHECK(resource_verb("DELETE", true, false) == "delete");
  CHECK(resource_verb("DELETE", false, false) == "deletecollection");
  CHECK(non_resource_verb("GET") == "get");
}

TEST_CASE("name_from_field_selector") {
  CHECK(name_from_field_selector("metadata.name=apps") == "apps");
  CHECK(name_from_field_selector("metadata.name==apps") == "apps");
  CHECK(name_from_field_selector("metadata.namespace=x,metadata.name=apps") == "apps");
  CHECK(name_from_field_selector("metadata.name!=apps").empty());
  CHECK(name_from_field_selector("status.phase=Running").empty());
  CHECK(name_from_field_selector("").empty());
  CHECK(name_from_field_selector("metadata.name=a/b").empty());
}

TEST_CASE("a manifest stream: other kinds are skipped, Lists are read, errors name the object") {
  Policy p = parse_policy_yaml(R"(
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: rotator, namespace: fluxkey}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: fluxkey}
spec: {replicas: 1}
---
apiVersion: v1
kind: List
items:
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: r}
  rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
---
)");
  REQUIRE(p.roles.size() == 1);
  CHECK(p.roles[0].name == "r");
  CHECK(p.roles[0].ns == "default");
  CHECK(p.bindings.empty());

  try {
    parse_policy_yaml(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: broken, namespace: x}
rules: [{resources: [secrets], verbs: [get]}]
)");
    FAIL("expected an error");
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    CHECK(what.find("document 2") != std::string::npos);
    CHECK(what.find("Role \"broken\"") != std::string::npos);
    CHECK(what.find("apiGroups") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_policy_yaml("kind: [unclosed"), std::invalid_argument);
}

TEST_CASE("YAML scalars convert as the API server reads them") {
  auto docs = yaml_documents_to_json(R"(
a: true
b: "true"
c: 12
d: "12"
e: 1.5
f: ~
g: plain
h: 0755x
)");
  REQUIRE(docs.size() == 1);
  CHECK(docs[0]["a"] == true);
  CHECK(docs[0]["b"] == "true");
  CHECK(docs[0]["c"] == 12);
  CHECK(docs[0]["d"] == "12");
  CHECK(docs[0]["e"] == 1.5);
  CHECK(docs[0]["f"].is_null());
  CHECK(docs[0]["g"] == "plain");
  CHECK(docs[0]["h"] == "0755x");
}

TEST_CASE("the Authorizer allows everything until a policy is set") {
  Authorizer authz;
  Attributes a = sa_request("get", "", "secrets", "flux-system", "x");
  CHECK_FALSE(authz.enabled());
  CHECK(authz.authorize(a).allowed);
  authz.set_policy(Policy());
  CHECK(authz.enabled());
  CHECK_FALSE(authz.authorize(a).allowed);
  // The bootstrap roles are part of every policy.
  Attributes discovery = a;
  discovery.resource_request = false;
  discovery.path = "/apis";
  CHECK(authz.authorize(discovery).allowed);
  authz.set_policy(role_policy(R"(- {apiGroups: [""], resources: [secrets], verbs: [get]})"));
  CHECK(authz.authorize(a).allowed);
  CHECK(authz.policy().roles.size() == 1);
  authz.disable();
  CHECK(authz.authorize(a).allowed);
}

}  // namespace kube_rbac_test
