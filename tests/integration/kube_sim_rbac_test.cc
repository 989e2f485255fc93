// kube-sim's RBAC enforcement against a ServiceAccount token minted by
// TokenRequest, with plain HTTPS and with the real kubectl: what a Role
// allows goes through, the rest is refused with the API server's message.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace kube_sim_rbac_test {

using namespace fluxkey::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* const kSa = "system:serviceaccount:fluxkey:rotator";
const char* const kKs =
    "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations";

// The shape `kubectl kustomize k8s/` prints: RBAC mixed with other kinds.
const char* const kPolicy = R"(
apiVersion: v1
kind: ServiceAccount
metadata: {name: rotator, namespace: fluxkey}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: flux-reconcile, namespace: flux-system}
rules:
- apiGroups: [kustomize.toolkit.fluxcd.io]
  resources: [kustomizations]
  verbs: [get, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: flux-reconcile, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: flux-reconcile}
subjects:
- {kind: ServiceAccount, name: rotator, namespace: fluxkey}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: fluxkey-token-minter}
rules:
- apiGroups: [""]
  resources: [serviceaccounts/token]
  resourceNames: [flux-reconcile]
  verbs: [create]
- apiGroups: [""]
  resources: [secrets]
  resourceNames: [flux-kubeconfig]
  verbs: [get, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: fluxkey-token-minter, namespace: fluxkey}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: fluxkey-token-minter}
subjects:
- {kind: ServiceAccount, name: rotator}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ignored, namespace: fluxkey}
spec: {replicas: 1}
)";

const char* const kObjects = R"(
apiVersion: v1
kind: ServiceAccount
metadata: {name: rotator, namespace: fluxkey}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: flux-reconcile, namespace: fluxkey}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: other, namespace: fluxkey}
---
apiVersion: v1
kind: Secret
metadata: {name: flux-kubeconfig, namespace: fluxkey}
stringData: {kubeconfig: "apiVersion: v1"}
---
apiVersion: v1
kind: Secret
metadata: {name: flux-system, namespace: flux-system}
stringData: {identity: "not a key"}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
)";

struct Cluster {
  Cluster(const TempDir& dir, bool with_policy)
      : sim(binary_from_env("KUBE_SIM"),
            with_policy ? std::vector<std::string>{"--rbac", dir.write("rbac.yaml", kPolicy)}
                        : std::vector<std::string>{}) {
    admin = kube_admin_token(sim);
    auto seeded = sim.request("POST", "/_sim/objects", kObjects, "application/yaml");
    REQUIRE_MESSAGE(seeded.status == 201, seeded.body);
    // A token for the rotator, minted by TokenRequest as fluxkey would.
    auto minted = call(admin, "POST", "/api/v1/namespaces/fluxkey/serviceaccounts/rotator/token",
                       R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",
                           "spec":{"expirationSeconds":3600}})",
                       "application/json");
    REQUIRE_MESSAGE(minted.status == 201, minted.body);
    token = minted.json()["status"]["token"];
  }

  HttpReply call(const std::string& bearer, const std::string& method, const std::string& path,
                 const std::string& body = "", const std::string& content_type = "") const {
    return sim.request(method, path, body, content_type, {{"Authorization", "Bearer " + bearer}});
  }
  HttpReply as_sa(const std::string& method, const std::string& path, const std::string& body = "",
                  const std::string& content_type = "") const {
    return call(token, method, path, body, content_type);
  }

  // A kubeconfig for the rotator, trusting kube-sim's CA.
  std::string kubeconfig(const TempDir& dir) const {
    return dir.write("rotator.kubeconfig",
                     "apiVersion: v1\nkind: Config\nclusters:\n"
                     "- name: sim\n  cluster:\n    server: " +
                         sim.url() + "\n    certificate-authority: " + sim.ca_file() +
                         "\nusers:\n- name: rotator\n  user:\n    token: " + token +
                         "\ncontexts:\n- name: sim\n  context: {cluster: "
                         "sim, user: rotator}\ncurrent-context: sim\n");
  }

  SimProcess sim;
  std::string admin;
  std::string token;
};

void check_forbidden(const HttpReply& reply, const std::string& message) {
  CHECK(reply.status == 403);
  json status = reply.json();
  CHECK(status["kind"] == "Status");
  CHECK(status["reason"] == "Forbidden");
  CHECK(status["code"] == 403);
  CHECK(status["message"] == message);
}

}  // namespace

TEST_CASE("a Role allowing get and patch on kustomizations, and nothing else") {
  TempDir dir;
  Cluster cluster(dir, true);
  auto got = cluster.as_sa("GET", std::string(kKs) + "/apps");
  REQUIRE_MESSAGE(got.status == 200, got.body);
  auto patched = cluster.as_sa(
      "PATCH", std::string(kKs) + "/apps",
      R"({"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"2026-11-28T10:00:00Z"}}})",
      "application/merge-patch+json");
  REQUIRE_MESSAGE(patched.status == 200, patched.body);
  CHECK(patched.json()["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"] ==
        "2026-11-28T10:00:00Z");

  check_forbidden(cluster.as_sa("GET", "/api/v1/namespaces/flux-system/secrets/flux-system"),
                  std::string("secrets \"flux-system\" is forbidden: User \"") + kSa +
                      "\" cannot get resource \"secrets\" in API group \"\" in the namespace "
                      "\"flux-system\"");
  check_forbidden(cluster.as_sa("GET", "/api/v1/namespaces/flux-system/secrets"),
                  std::string("secrets is forbidden: User \"") + kSa +
                      "\" cannot list resource \"secrets\" in API group \"\" in the namespace "
                      "\"flux-system\"");
  check_forbidden(cluster.as_sa("GET", kKs),
                  std::string("kustomizations.kustomize.toolkit.fluxcd.io is forbidden: User \"") +
                      kSa +
                      "\" cannot list resource \"kustomizations\" in API group "
                      "\"kustomize.toolkit.fluxcd.io\" in the namespace \"flux-system\"");
  check_forbidden(cluster.as_sa("DELETE", std::string(kKs) + "/apps"),
                  std::string("kustomizations.kustomize.toolkit.fluxcd.io \"apps\" is forbidden: "
                              "User \"") +
                      kSa +
                      "\" cannot delete resource \"kustomizations\" in API group "
                      "\"kustomize.toolkit.fluxcd.io\" in the namespace \"flux-system\"");
  // The status subresource is a resource of its own.
  check_forbidden(
      cluster.as_sa("PATCH", std::string(kKs) + "/apps/status", R"({"status":{}})",
                    "application/merge-patch+json"),
      std::string("kustomizations.kustomize.toolkit.fluxcd.io \"apps\" is forbidden: User \"") +
          kSa +
          "\" cannot patch resource \"kustomizations/status\" in API group "
          "\"kustomize.toolkit.fluxcd.io\" in the namespace \"flux-system\"");
  // Cluster-scoped requests.
  check_forbidden(cluster.as_sa("GET", "/api/v1/namespaces"),
                  std::string("namespaces is forbidden: User \"") + kSa +
                      "\" cannot list resource \"namespaces\" in API group \"\" at the cluster "
                      "scope");
  // Discovery is open to every authenticated user.
  CHECK(cluster.as_sa("GET", "/apis").status == 200);
  CHECK(cluster.as_sa("GET", "/api/v1").status == 200);
  // The admin (system:masters) is not bound by any of it.
  CHECK(cluster.call(cluster.admin, "GET", "/api/v1/namespaces/flux-system/secrets").status == 200);
}

TEST_CASE("resourceNames: the token of one ServiceAccount and one Secret") {
  TempDir dir;
  Cluster cluster(dir, true);
  const std::string body =
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})";
  auto mint =
      cluster.as_sa("POST", "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token", body,
                    "application/json");
  REQUIRE_MESSAGE(mint.status == 201, mint.body);
  CHECK_FALSE(mint.json()["status"]["token"].get<std::string>().empty());
  check_forbidden(
      cluster.as_sa("POST", "/api/v1/namespaces/fluxkey/serviceaccounts/other/token", body,
                    "application/json"),
      std::string("serviceaccounts \"other\" is forbidden: User \"") + kSa +
          "\" cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace "
          "\"fluxkey\"");

  CHECK(cluster.as_sa("GET", "/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig").status == 200);
  // Creating has no name yet, so a resourceNames rule cannot allow it.
  check_forbidden(
      cluster.as_sa(
          "POST", "/api/v1/namespaces/fluxkey/secrets",
          R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"flux-kubeconfig-2"}})",
          "application/json"),
      std::string("secrets is forbidden: User \"") + kSa +
          "\" cannot create resource \"secrets\" in API group \"\" in the namespace \"fluxkey\"");
  // A list narrowed to the allowed name is not a get: the verb is list.
  check_forbidden(
      cluster.as_sa(
          "GET",
          "/api/v1/namespaces/fluxkey/secrets?fieldSelector=metadata.name%3Dflux-kubeconfig"),
      std::string("secrets \"flux-kubeconfig\" is forbidden: User \"") + kSa +
          "\" cannot list resource \"secrets\" in API group \"\" in the namespace \"fluxkey\"");
}

TEST_CASE("kubectl with the ServiceAccount token sees the same refusals") {
  TempDir dir;
  Cluster cluster(dir, true);
  std::string kubeconfig = cluster.kubeconfig(dir);
  auto allowed = run_program(
      {"kubectl", "--kubeconfig", kubeconfig, "get", "--raw", std::string(kKs) + "/apps"}, {}, 30s);
  REQUIRE_MESSAGE(allowed.exit_code == 0, allowed.err);
  CHECK(json::parse(allowed.out)["metadata"]["name"] == "apps");

  auto refused = run_program(
      {"kubectl", "--kubeconfig", kubeconfig, "-n", "flux-system", "get", "secrets"}, {}, 30s);
  CHECK(refused.exit_code != 0);
  CHECK_MESSAGE(refused.err.find(std::string("Error from server (Forbidden): secrets is forbidden: "
                                             "User \"") +
                                 kSa +
                                 "\" cannot list resource \"secrets\" in API group \"\" in the "
                                 "namespace \"flux-system\"") != std::string::npos,
                refused.err);
}

TEST_CASE("without --rbac every authenticated user may do anything") {
  TempDir dir;
  Cluster cluster(dir, false);
  CHECK(cluster.as_sa("GET", "/api/v1/namespaces/flux-system/secrets").status == 200);
  CHECK(cluster.sim.control("GET", "/_sim/rbac")["enabled"] == false);
  // Until a policy is posted.
  auto posted = cluster.sim.request("POST", "/_sim/rbac", kPolicy, "application/yaml");
  REQUIRE_MESSAGE(posted.status == 200, posted.body);
  CHECK(posted.json()["objects"] == 4);
  CHECK(cluster.as_sa("GET", "/api/v1/namespaces/flux-system/secrets").status == 403);
  CHECK(cluster.as_sa("GET", std::string(kKs) + "/apps").status == 200);
  // And off again.
  cluster.sim.control("DELETE", "/_sim/rbac");
  CHECK(cluster.as_sa("GET", "/api/v1/namespaces/flux-system/secrets").status == 200);
}

TEST_CASE("RBAC objects are served by the API and take effect at once") {
  TempDir dir;
  Cluster cluster(dir, true);
  const std::string secrets = "/api/v1/namespaces/flux-system/secrets";
  CHECK(cluster.as_sa("GET", secrets).status == 403);
  auto role = cluster.call(cluster.admin, "POST",
                           "/apis/rbac.authorization.k8s.io/v1/namespaces/flux-system/roles",
                           R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role",
                               "metadata":{"name":"secret-reader"},
                               "rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["list"]}]})",
                           "application/json");
  REQUIRE_MESSAGE(role.status == 201, role.body);
  auto binding =
      cluster.call(cluster.admin, "POST",
                   "/apis/rbac.authorization.k8s.io/v1/namespaces/flux-system/rolebindings",
                   R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
          "metadata":{"name":"secret-reader"},
          "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"secret-reader"},
          "subjects":[{"kind":"ServiceAccount","name":"rotator","namespace":"fluxkey"}]})",
                   "application/json");
  REQUIRE_MESSAGE(binding.status == 201, binding.body);
  CHECK(cluster.as_sa("GET", secrets).status == 200);
  auto listed =
      cluster.call(cluster.admin, "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles");
  REQUIRE(listed.status == 200);
  CHECK(listed.json()["items"].size() == 1);

  auto removed = cluster.call(
      cluster.admin, "DELETE",
      "/apis/rbac.authorization.k8s.io/v1/namespaces/flux-system/rolebindings/secret-reader");
  REQUIRE_MESSAGE(removed.status == 200, removed.body);
  CHECK(cluster.as_sa("GET", secrets).status == 403);

  // The API server's validation.
  auto invalid = cluster.call(cluster.admin, "POST",
                              "/apis/rbac.authorization.k8s.io/v1/namespaces/flux-system/roles",
                              R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role",
                                  "metadata":{"name":"broken"},
                                  "rules":[{"resources":["secrets"],"verbs":["get"]}]})",
                              "application/json");
  CHECK(invalid.status == 422);
  CHECK(invalid.json()["reason"] == "Invalid");
}

TEST_CASE("a binding to a missing role says so in the refusal") {
  TempDir dir;
  Cluster cluster(dir, false);
  auto posted = cluster.sim.request("POST", "/_sim/rbac", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gone}
subjects: [{kind: ServiceAccount, name: rotator, namespace: fluxkey}]
)",
                                    "application/yaml");
  REQUIRE_MESSAGE(posted.status == 200, posted.body);
  check_forbidden(cluster.as_sa("GET", "/api/v1/namespaces/flux-system/secrets/flux-system"),
                  std::string("secrets \"flux-system\" is forbidden: User \"") + kSa +
                      "\" cannot get resource \"secrets\" in API group \"\" in the namespace "
                      "\"flux-system\": RBAC: role.rbac.authorization.k8s.io \"gone\" not found");
  auto bad = cluster.sim.request("POST", "/_sim/rbac",
                                 "kind: Role\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: "
                                 "{name: x}\nrules: [{verbs: []}]\n",
                                 "application/yaml");
  CHECK(bad.status == 400);
}

TEST_CASE("a bad --rbac file stops kube-sim with a usage error") {
  TempDir dir;
  std::string file = dir.write("bad.yaml",
                               "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
                               "metadata: {name: r}\nrules: [{resources: [x]}]\n");
  CHECK_THROWS_AS(SimProcess(binary_from_env("KUBE_SIM"), {"--rbac", file}, 5s),
                  std::runtime_error);
}

}  // namespace kube_sim_rbac_test
