// The deployment in k8s/, proven by enforcement. `kubectl kustomize k8s/` is
// loaded into kube-sim with RBAC on, and fluxkey runs as the two identities
// the base creates: the CronJob's own command as fluxkey-rotator, and
// `fluxkey reconcile` as flux-reconcile with the kubeconfig GitHub received.
// Then each verb of each rule (and each resource of the reconcile rules) is
// taken away in turn to show that none is spare, and steps beyond the rules
// are shown refused. Also the checks that need no cluster: labels, the
// restricted Pod Security Standard, the config file, the overlays the READMEs
// document.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/base64.h"
#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/image_run.h"
#include "support/sim_process.h"

namespace deploy_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Test-only credential, never a real one.
constexpr const char* kGitHubToken = "ghp_deployTestToken0000000000000000000";

constexpr const char* kRotator = "system:serviceaccount:fluxkey:fluxkey-rotator";
constexpr const char* kReconciler = "system:serviceaccount:fluxkey:flux-reconcile";

// What kube-public/cluster-info publishes: not the URL fluxkey connects to,
// so a kubeconfig shows which of the two it was built from. Nothing connects
// to it; tests put kube-sim's URL back before using such a kubeconfig.
constexpr const char* kPublishedServer = "https://flux-api.example.test:6443";

// Where the READMEs' overlays fetch the base from.
constexpr const char* kRemoteBase = "https://github.com/owner/fluxkey//";

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// YAML as the API server reads it: plain scalars that look like numbers or
// booleans are numbers and booleans, quoted ones stay strings.
json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      static const std::regex integer("-?[0-9]+");
      if (std::regex_match(s, integer)) return std::stoll(s);
      return s;
    }
    default:
      return nullptr;
  }
}

std::vector<json> parse_documents(const std::string& yaml) {
  std::vector<json> out;
  for (const auto& doc : YAML::LoadAll(yaml)) {
    if (!doc.IsNull()) out.push_back(to_json(doc));
  }
  return out;
}

// JSON documents are YAML documents: what kube-sim's /_sim endpoints read.
std::string documents_text(const std::vector<json>& docs) {
  std::string out;
  for (const auto& doc : docs) out += "---\n" + doc.dump() + "\n";
  return out;
}

std::vector<json> kustomize(const std::string& dir) {
  auto run = run_program({"kubectl", "kustomize", dir}, {}, 60s);
  REQUIRE_MESSAGE(run.exit_code == 0, "kubectl kustomize " << dir << ": " << run.err);
  return parse_documents(run.out);
}

std::string ns_of(const json& o) {
  return o["metadata"].value("namespace", "");
}
std::string name_of(const json& o) {
  return o["metadata"].value("name", "");
}

const json& find_object(const std::vector<json>& objects, const std::string& kind,
                        const std::string& ns, const std::string& name) {
  for (const auto& o : objects) {
    if (o["kind"] == kind && ns_of(o) == ns && name_of(o) == name) return o;
  }
  FAIL("no " << kind << " " << ns << "/" << name << " in the built manifests");
  throw std::logic_error("unreachable");
}

const json& generated_config_map(const std::vector<json>& objects) {
  for (const auto& o : objects) {
    if (o["kind"] == "ConfigMap" && name_of(o).starts_with("fluxkey-config-")) return o;
  }
  FAIL("no generated ConfigMap fluxkey-config-<hash>");
  throw std::logic_error("unreachable");
}

const json& pod_spec(const json& cronjob) {
  return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
}

bool is_rbac(const json& o) {
  static const std::set<std::string> kinds = {"Role", "RoleBinding", "ClusterRole",
                                              "ClusterRoleBinding"};
  return kinds.contains(o["kind"].get<std::string>());
}

// The base, built once per test case.
struct Base {
  std::string root = source_root();
  std::vector<json> objects = kustomize(root + "/k8s");

  std::vector<json> policy() const {
    std::vector<json> out;
    for (const auto& o : objects) {
      if (is_rbac(o)) out.push_back(o);
    }
    return out;
  }
  const json& cronjob() const { return find_object(objects, "CronJob", "fluxkey", "fluxkey"); }
  // config.yaml as the CronJob's pod sees it: the generated ConfigMap's.
  std::string mounted_config() const {
    return generated_config_map(objects)["data"]["config.yaml"].get<std::string>();
  }
};

// The Roles bound to a ServiceAccount of namespace fluxkey, as
// (namespace, name) pairs.
std::set<std::pair<std::string, std::string>> roles_of(const std::vector<json>& policy,
                                                       const std::string& service_account) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& o : policy) {
    if (o["kind"] != "RoleBinding") continue;
    for (const auto& s : o["subjects"]) {
      if (s["kind"] == "ServiceAccount" && s["name"] == service_account &&
          s.value("namespace", ns_of(o)) == "fluxkey") {
        out.insert({ns_of(o), o["roleRef"]["name"].get<std::string>()});
      }
    }
  }
  return out;
}

// One thing taken away from a Role: a verb of a rule, or a resource of it.
struct Removal {
  std::string ns, role;
  size_t rule = 0;
  std::string verb;      // set: this verb is removed from the rule
  std::string resource;  // set: this resource is removed from the rule
  std::string describe() const {
    return "Role " + ns + "/" + role + " rule " + std::to_string(rule) + " without " +
           (verb.empty() ? "resource " + resource : "verb " + verb);
  }
};

std::vector<json> without(const std::vector<json>& policy, const Removal& r) {
  std::vector<json> out = policy;
  for (auto& o : out) {
    if (o["kind"] != "Role" || ns_of(o) != r.ns || name_of(o) != r.role) continue;
    json& rule = o["rules"][r.rule];
    const char* field = r.verb.empty() ? "resources" : "verbs";
    const std::string& gone = r.verb.empty() ? r.resource : r.verb;
    json kept = json::array();
    for (const auto& v : rule[field]) {
      if (v != gone) kept.push_back(v);
    }
    REQUIRE(kept.size() + 1 == rule[field].size());
    rule[field] = kept;
    if (kept.empty()) o["rules"].erase(r.rule);  // a rule with nothing left is gone
  }
  return out;
}

std::vector<Removal> verb_removals(const std::vector<json>& policy,
                                   const std::string& service_account) {
  std::vector<Removal> out;
  for (const auto& [ns, role] : roles_of(policy, service_account)) {
    const json& r = find_object(policy, "Role", ns, role);
    for (size_t i = 0; i < r["rules"].size(); ++i) {
      for (const auto& verb : r["rules"][i]["verbs"]) out.push_back({ns, role, i, verb, ""});
    }
  }
  return out;
}

// Flux objects for every kind the reconcile Role names, the name each is
// reconciled by, plus objects neither identity may reach.
struct FluxObject {
  const char* kind_flag;  // what `fluxkey reconcile --kind` takes
  const char* name;
};
const std::map<std::string, FluxObject> kFluxObjects = {
    {"kustomizations", {"kustomization", "apps"}},
    {"gitrepositories", {"gitrepository", "flux-system"}},
    {"ocirepositories", {"ocirepository", "manifests"}},
    {"helmrepositories", {"helmrepository", "podinfo"}},
    {"helmcharts", {"helmchart", "flux-system-podinfo"}},
    {"buckets", {"bucket", "artifacts"}},
    {"helmreleases", {"helmrelease", "podinfo"}},
    {"imagerepositories", {"imagerepository", "podinfo"}},
    {"imageupdateautomations", {"imageupdateautomation", "flux-system"}},
    {"receivers", {"receiver", "github"}},
};

const char* const kCluster = R"(
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: "ssh://git@github.com/my-org/fleet-infra", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: manifests, namespace: flux-system}
spec: {interval: 5m, url: "oci://ghcr.io/my-org/manifests", ref: {tag: latest}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {interval: 1h, url: "https://stefanprodan.github.io/podinfo"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {name: flux-system-podinfo, namespace: flux-system}
spec: {interval: 1h, chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: Bucket
metadata: {name: artifacts, namespace: flux-system}
spec: {interval: 5m, bucketName: artifacts, endpoint: minio.example.test}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: flux-system}
spec:
  interval: 10m
  chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {interval: 5m, image: ghcr.io/stefanprodan/podinfo}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 30m, sourceRef: {kind: GitRepository, name: flux-system}}
---
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata: {name: github, namespace: flux-system}
spec: {type: github, resources: [{kind: GitRepository, name: flux-system}], secretRef: {name: webhook-token}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: tenant-a}
spec: {interval: 10m, path: ./a, prune: true, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: tenant-b}
spec: {interval: 10m, path: ./b, prune: true, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kustomize-controller, namespace: flux-system}
---
apiVersion: v1
kind: Secret
metadata: {name: flux-system, namespace: flux-system}
stringData: {identity: "not a key"}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: default}
stringData: {password: "not a password"}
)";

// kube-sim holding what `kubectl apply -k k8s/` creates (the kinds it
// serves: Namespace, ServiceAccounts, ConfigMap; RBAC through /_sim/rbac),
// the Flux objects above, and static tokens for the two identities.
class Cluster {
 public:
  Cluster(const Base& base, const std::vector<json>& policy)
      : kube_(binary_from_env("KUBE_SIM"), {"--cluster-info-server", kPublishedServer}) {
    admin_ = kube_admin_token(kube_);
    std::vector<json> served;
    for (const auto& o : base.objects) {
      if (o["kind"] == "Namespace" || o["kind"] == "ServiceAccount" || o["kind"] == "ConfigMap") {
        served.push_back(o);
      }
    }
    seed(documents_text(served));
    seed(kCluster);
    set_policy(policy);
    // Flux's controllers answer quickly: the tests wait for them many times.
    kube_.control("POST", "/_sim/flux", {{"mode", "succeed"}, {"delay_ms", 20}});
    for (const char* user : {kRotator, kReconciler}) {
      json reply =
          kube_.control("POST", "/_sim/tokens",
                        {{"user", user},
                         {"groups", {"system:serviceaccounts", "system:serviceaccounts:fluxkey"}}});
      tokens_[user] = reply["token"].get<std::string>();
    }
  }

  const SimProcess& kube() const { return kube_; }
  const std::string& token(const std::string& user) const { return tokens_.at(user); }

  void seed(const std::string& yaml) const {
    auto reply = kube_.request("POST", "/_sim/objects", yaml, "application/yaml");
    REQUIRE_MESSAGE(reply.status == 201, reply.body);
  }
  void set_policy(const std::vector<json>& policy) const {
    auto reply = kube_.request("POST", "/_sim/rbac", documents_text(policy), "application/yaml");
    REQUIRE_MESSAGE(reply.status == 200, reply.body);
  }

  HttpReply as(const std::string& user, const std::string& method, const std::string& path,
               const std::string& body = "", const std::string& content_type = "") const {
    return kube_.request(method, path, body, content_type,
                         {{"Authorization", "Bearer " + tokens_.at(user)}});
  }
  json admin_get(const std::string& path) const {
    auto reply = kube_.request("GET", path, "", "", {{"Authorization", "Bearer " + admin_}});
    if (reply.status == 404) return nullptr;
    REQUIRE_MESSAGE(reply.status == 200, path << ": " << reply.body);
    return reply.json();
  }

  // A kubeconfig for `user`, trusting kube-sim's CA.
  std::string kubeconfig(const TempDir& dir, const std::string& user) const {
    std::string file = user.substr(user.rfind(':') + 1) + ".kubeconfig";
    return dir.write(file,
                     "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n"
                     "    server: " +
                         kube_.url() + "\n    certificate-authority: " + kube_.ca_file() +
                         "\nusers:\n- name: sa\n  user:\n    token: " + tokens_.at(user) +
                         "\ncontexts:\n- name: sim\n  context: {cluster: sim, user: sa}\n"
                         "current-context: sim\n");
  }

  size_t log_size() const { return kube_.requests().size(); }
  // Requests of `user` the API refused (403), from log index `since`.
  std::vector<json> refusals(const std::string& user, size_t since = 0) const {
    std::vector<json> out;
    for (const auto& r : kube_.requests(since)) {
      if (r["status"] == 403 && r["user"] == user) out.push_back(r);
    }
    return out;
  }

  std::set<std::string> generation_secrets() const {
    std::set<std::string> out;
    const json list = admin_get("/api/v1/namespaces/fluxkey/secrets");
    for (const auto& s : list["items"]) {
      if (name_of(s).starts_with("flux-kubeconfig-gen-")) out.insert(name_of(s));
    }
    return out;
  }
  std::string stored_kubeconfig() const {
    json s = admin_get("/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig");
    REQUIRE(s.is_object());
    return base64_decode(s["data"]["kubeconfig"].get<std::string>()).value_or("");
  }

 private:
  SimProcess kube_;
  std::string admin_;
  std::map<std::string, std::string> tokens_;
};

std::vector<std::string> config_repos(const std::string& config_yaml) {
  std::vector<std::string> out;
  YAML::Node repos = YAML::Load(config_yaml)["github-repo"];
  if (repos.IsScalar()) out.push_back(repos.as<std::string>());
  for (const auto& r : repos) out.push_back(r.as<std::string>());
  return out;
}

// github-sim with the repositories config.yaml names and a token for them.
struct GitHub {
  SimProcess sim{binary_from_env("GITHUB_SIM")};
  explicit GitHub(const std::vector<std::string>& repos) {
    sim.control("POST", "/_sim/setup",
                {{"repos", repos}, {"tokens", {std::string(kGitHubToken) + "=repo"}}});
  }
  // The kubeconfig a repository's FLUX_KUBECONFIG holds, decoded.
  std::optional<std::string> secret(const std::string& repo) const {
    const json all = sim.control("GET", "/_sim/secrets");
    for (const auto& s : all["secrets"]) {
      if (s["scope"] == "repo" && s["name"] == "FLUX_KUBECONFIG" &&
          s["owner"].get<std::string>() + "/" + s["repository"].get<std::string>() == repo) {
        return base64_decode(s["value"].get<std::string>());
      }
    }
    return std::nullopt;
  }
};

// The CronJob's command as its pod runs it: the container's args with the
// mounted config, the env its secretKeyRefs resolve to from a Secret
// fluxkey-github holding `token`. What stands in for the cluster: a
// kubeconfig instead of the in-cluster mount, github-sim instead of
// api.github.com (and its CA).
struct CronJobCommand {
  std::vector<std::string> args;
  Env env;

  CronJobCommand(const Base& base, const TempDir& dir, const std::string& kubeconfig,
                 const GitHub& github) {
    const json& container = pod_spec(base.cronjob())["containers"][0];
    std::string config = dir.write("config.yaml", base.mounted_config());
    for (const auto& a : container["args"]) {
      args.push_back(a == "/etc/fluxkey/config.yaml" ? config : a.get<std::string>());
    }
    REQUIRE(args.size() == 5);
    args.insert(args.end(), {"--kubeconfig", kubeconfig, "--github-api-url", github.sim.url()});
    const std::map<std::string, std::string> secret = {{"token", kGitHubToken}};
    for (const auto& e : container["env"]) {
      const json& ref = e["valueFrom"]["secretKeyRef"];
      REQUIRE(ref["name"] == "fluxkey-github");
      auto it = secret.find(ref["key"].get<std::string>());
      if (it != secret.end()) env.emplace_back(e["name"].get<std::string>(), it->second);
    }
    env.emplace_back("SSL_CERT_FILE", github.sim.ca_file());
  }

  ProcessResult run(std::vector<std::string> extra = {}) const {
    std::vector<std::string> all = args;
    all.insert(all.end(), extra.begin(), extra.end());
    return run_fluxkey(all, env, 60s);
  }
};

// What the rotator does over its life, as three runs of the CronJob's
// command: a first sync (reads, mints generation 1, stores, pushes), then two
// forced ones; the third prunes generation 1, the only run that deletes.
// Stops at the first run that fails; returns the runs made.
std::vector<ProcessResult> rotator_life(const CronJobCommand& cronjob) {
  std::vector<ProcessResult> runs;
  for (int i = 0; i < 3; ++i) {
    runs.push_back(
        cronjob.run(i == 0 ? std::vector<std::string>{} : std::vector<std::string>{"--force"}));
    if (runs.back().exit_code != 0) break;
  }
  return runs;
}

// A 403 worded as the API server words it: `user` cannot `verb` `resource`.
void check_refused(const HttpReply& reply, const std::string& user, const std::string& verb,
                   const std::string& resource) {
  CAPTURE(reply.body);
  CHECK(reply.status == 403);
  std::string message = reply.json().value("message", "");
  CHECK(message.find("is forbidden: User \"" + user + "\" cannot " + verb + " resource \"" +
                     resource + "\"") != std::string::npos);
}

bool has_reconcile() {
  return run_fluxkey({"reconcile", "--help"}, {}, 10s).exit_code == 0;
}

ProcessResult reconcile(const std::string& kubeconfig, const std::string& kind,
                        const std::string& name, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"reconcile", "--kubeconfig", kubeconfig,  "--kind", kind,
                                   "--name",    name,           "--timeout", "20s"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_fluxkey(args, {}, 60s);
}

// How many watch requests of `user` got `status`, from log index `since`.
size_t watches(const Cluster& cluster, const std::string& user, int status, size_t since = 0) {
  size_t n = 0;
  for (const auto& r : cluster.kube().requests(since)) {
    if (r["user"] == user && r["status"] == status &&
        r.value("query", "").find("watch=true") != std::string::npos) {
      ++n;
    }
  }
  return n;
}

// The files the READMEs mark with `<!-- deploy_test: PATH -->` before a
// ```yaml block, written under `dir` with the remote base replaced by a
// relative path to this checkout's k8s/.
void write_documented_overlays(const std::string& readme, const std::string& root,
                               const std::string& dir) {
  static const std::regex marker(R"(<!-- deploy_test: (\S+) -->\n```yaml\n([\s\S]*?)```)");
  std::string text = read_text(readme);
  size_t found = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), marker), end; it != end; ++it, ++found) {
    fs::path file = fs::path(dir) / (*it)[1].str();
    fs::create_directories(file.parent_path());
    std::string content = (*it)[2].str();
    static const std::regex remote(std::string(kRemoteBase) + R"(([^?\s]*)\?ref=\S+)");
    std::string rewritten;
    auto last = content.cbegin();
    for (std::sregex_iterator r(content.begin(), content.end(), remote), rend; r != rend; ++r) {
      rewritten.append(last, (*r)[0].first);
      rewritten += fs::relative(fs::path(root) / (*r)[1].str(), file.parent_path()).string();
      last = (*r)[0].second;
    }
    rewritten.append(last, content.cend());
    std::ofstream(file) << rewritten;
  }
  REQUIRE_MESSAGE(found > 0, "no deploy_test blocks in " << readme);
}

}  // namespace

TEST_CASE("k8s/ builds; every object is labelled and where it should be") {
  Base base;
  std::set<std::string> got;
  for (const auto& o : base.objects) {
    std::string name = name_of(o);
    if (o["kind"] == "ConfigMap" && name.starts_with("fluxkey-config-")) name = "fluxkey-config-*";
    got.insert(o["kind"].get<std::string>() + " " + ns_of(o) + "/" + name);
  }
  // Nothing cluster-wide but the Namespace: no ClusterRole, no ClusterRoleBinding.
  CHECK(got == std::set<std::string>{
                   "Namespace /fluxkey",
                   "ServiceAccount fluxkey/fluxkey-rotator",
                   "ServiceAccount fluxkey/flux-reconcile",
                   "Role fluxkey/fluxkey-rotator",
                   "RoleBinding fluxkey/fluxkey-rotator",
                   "Role kube-public/fluxkey-cluster-info",
                   "RoleBinding kube-public/fluxkey-cluster-info",
                   "Role flux-system/flux-reconcile",
                   "RoleBinding flux-system/flux-reconcile",
                   "ConfigMap fluxkey/fluxkey-config-*",
                   "CronJob fluxkey/fluxkey",
               });

  auto check_labels = [](const json& metadata, const std::string& what) {
    CAPTURE(what);
    const json labels = metadata.value("labels", json::object());
    CHECK(labels.value("app.kubernetes.io/name", "") == "fluxkey");
    CHECK(labels.value("app.kubernetes.io/part-of", "") == "fluxkey");
    CHECK(labels.value("app.kubernetes.io/managed-by", "") == "kustomize");
    CHECK(std::set<std::string>{"rotator", "reconcile", "namespace"}.contains(
        labels.value("app.kubernetes.io/component", "")));
  };
  for (const auto& o : base.objects) {
    check_labels(o["metadata"], o["kind"].get<std::string>() + " " + name_of(o));
  }
  const json& cronjob = base.cronjob();
  check_labels(cronjob["spec"]["jobTemplate"]["metadata"], "the CronJob's Jobs");
  check_labels(cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"],
               "the CronJob's pods");

  const json& ns = find_object(base.objects, "Namespace", "", "fluxkey");
  for (const char* mode : {"enforce", "audit", "warn"}) {
    CHECK(ns["metadata"]["labels"][std::string("pod-security.kubernetes.io/") + mode] ==
          "restricted");
  }
  for (const char* sa : {"fluxkey-rotator", "flux-reconcile"}) {
    CHECK(find_object(base.objects, "ServiceAccount", "fluxkey",
                      sa)["automountServiceAccountToken"] == false);
  }

  // Each binding: a namespaced Role, one ServiceAccount of namespace fluxkey.
  const std::map<std::string, std::string> subject_of = {
      {"fluxkey-rotator", "fluxkey-rotator"},
      {"fluxkey-cluster-info", "fluxkey-rotator"},
      {"flux-reconcile", "flux-reconcile"}};
  for (const auto& o : base.policy()) {
    if (o["kind"] != "RoleBinding") continue;
    CAPTURE(name_of(o));
    CHECK(o["roleRef"]["kind"] == "Role");
    CHECK(o["roleRef"]["name"] == name_of(o));
    REQUIRE(o["subjects"].size() == 1);
    CHECK(o["subjects"][0] == json::object({{"kind", "ServiceAccount"},
                                            {"name", subject_of.at(name_of(o))},
                                            {"namespace", "fluxkey"}}));
  }

  // The Flux kinds under their API groups, and the three verbs.
  std::map<std::string, std::set<std::string>> groups;
  for (const auto& rule :
       find_object(base.objects, "Role", "flux-system", "flux-reconcile")["rules"]) {
    REQUIRE(rule["apiGroups"].size() == 1);
    CHECK(rule["verbs"] == json::array({"get", "patch", "watch"}));
    CHECK_FALSE(rule.contains("resourceNames"));
    for (const auto& r : rule["resources"]) groups[rule["apiGroups"][0]].insert(r);
  }
  CHECK(groups ==
        std::map<std::string, std::set<std::string>>{
            {"kustomize.toolkit.fluxcd.io", {"kustomizations"}},
            {"source.toolkit.fluxcd.io",
             {"gitrepositories", "ocirepositories", "helmrepositories", "helmcharts", "buckets"}},
            {"helm.toolkit.fluxcd.io", {"helmreleases"}},
            {"image.toolkit.fluxcd.io", {"imagerepositories", "imageupdateautomations"}},
            {"notification.toolkit.fluxcd.io", {"receivers"}}});
}

TEST_CASE("the CronJob: schedule, limits, and a pod that meets the restricted standard") {
  Base base;
  const json& cronjob = base.cronjob();
  const json& spec = cronjob["spec"];
  CHECK(spec["schedule"] == "0 */6 * * *");
  CHECK(spec["concurrencyPolicy"] == "Forbid");
  CHECK(spec["startingDeadlineSeconds"].get<int>() > 0);
  CHECK(spec["successfulJobsHistoryLimit"].get<int>() > 0);
  CHECK(spec["failedJobsHistoryLimit"].get<int>() > 0);
  const json& job = spec["jobTemplate"]["spec"];
  CHECK(job["backoffLimit"].get<int>() >= 1);
  CHECK(job["ttlSecondsAfterFinished"].get<int>() > 0);
  CHECK(job["activeDeadlineSeconds"].get<int>() > 0);
  CHECK(job["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] == json::array({2}));

  const json& pod = pod_spec(cronjob);
  CHECK(pod["serviceAccountName"] == "fluxkey-rotator");
  CHECK(pod["automountServiceAccountToken"] == true);  // the ServiceAccount mounts none
  CHECK(pod["restartPolicy"] == "Never");

  // The restricted Pod Security Standard (which includes baseline), check by
  // check as the admission plugin makes them.
  SUBCASE("baseline: host namespaces, privileged, capabilities, volumes, ports, profiles") {
    for (const char* host : {"hostNetwork", "hostPID", "hostIPC"}) {
      CHECK(pod.value(host, false) == false);
    }
    const json pod_sc = pod.value("securityContext", json::object());
    CHECK_FALSE(pod_sc.contains("windowsOptions"));
    CHECK_FALSE(pod_sc.contains("sysctls"));
    CHECK(pod_sc.value("seLinuxOptions", json::object()).empty());
    CHECK_FALSE(pod.contains("initContainers"));
    CHECK_FALSE(pod.contains("ephemeralContainers"));
    const std::set<std::string> allowed_volumes = {
        "configMap", "csi",   "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
        "projected", "secret"};
    for (const auto& v : pod["volumes"]) {
      for (const auto& [key, value] : v.items()) {
        if (key != "name") CHECK(allowed_volumes.contains(key));
      }
    }
    for (const auto& c : pod["containers"]) {
      const json sc = c.value("securityContext", json::object());
      CHECK(sc.value("privileged", false) == false);
      CHECK(sc.value("procMount", "Default") == "Default");
      CHECK_FALSE(sc.contains("seLinuxOptions"));
      CHECK(sc.value("appArmorProfile", json::object()).value("type", "") != "Unconfined");
      CHECK_FALSE(sc["capabilities"].contains("add"));
      for (const auto& p : c.value("ports", json::array())) CHECK(p.value("hostPort", 0) == 0);
    }
    CHECK_FALSE(cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"].contains(
        "annotations"));  // no AppArmor or seccomp annotations
  }
  SUBCASE("restricted: non-root, no escalation, ALL dropped, RuntimeDefault seccomp") {
    const json& pod_sc = pod["securityContext"];
    CHECK(pod_sc["runAsNonRoot"] == true);
    CHECK(pod_sc["runAsUser"] == 65532);
    CHECK(pod_sc["runAsGroup"] == 65532);
    CHECK(pod_sc["seccompProfile"]["type"] == "RuntimeDefault");
    REQUIRE(pod["containers"].size() == 1);
    for (const auto& c : pod["containers"]) {
      const json& sc = c["securityContext"];
      CHECK(sc["allowPrivilegeEscalation"] == false);
      CHECK(sc["runAsNonRoot"] == true);
      CHECK(sc["runAsUser"].is_number_integer());
      CHECK(sc["runAsUser"] != 0);
      CHECK(sc["runAsGroup"] == 65532);
      CHECK(sc["capabilities"]["drop"] == json::array({"ALL"}));
      CHECK(sc["seccompProfile"]["type"] == "RuntimeDefault");
      CHECK(sc["readOnlyRootFilesystem"] == true);  // beyond the standard
    }
  }
  SUBCASE("the container: image, command, config, credentials, resources") {
    const json& c = pod["containers"][0];
    CHECK(c["name"] == "fluxkey");
    // main's base can pull nothing: a release's commit names its image (./dev stamp).
    CHECK(c["image"] == "fluxkey.invalid/unreleased:main");
    CHECK(c["args"] ==
          json::array({"sync", "--config", "/etc/fluxkey/config.yaml", "--log-format", "json"}));
    CHECK(c["resources"]["requests"] == json::object({{"cpu", "10m"}, {"memory", "32Mi"}}));
    CHECK(c["resources"]["limits"] == json::object({{"memory", "64Mi"}}));
    // The mounted config is the generated ConfigMap, holding k8s/config.yaml.
    REQUIRE(c["volumeMounts"].size() == 1);
    CHECK(c["volumeMounts"][0]["mountPath"] == "/etc/fluxkey");
    CHECK(c["volumeMounts"][0]["readOnly"] == true);
    CHECK(pod["volumes"][0]["name"] == c["volumeMounts"][0]["name"]);
    CHECK(pod["volumes"][0]["configMap"]["name"] == name_of(generated_config_map(base.objects)));
    CHECK(base.mounted_config() == read_text(base.root + "/k8s/config.yaml"));
    // Credentials only by reference to the Secret users create, each optional.
    std::set<std::string> names;
    for (const auto& e : c["env"]) {
      CHECK_FALSE(e.contains("value"));
      CHECK(e["valueFrom"]["secretKeyRef"]["name"] == "fluxkey-github");
      CHECK(e["valueFrom"]["secretKeyRef"]["optional"] == true);
      names.insert(e["name"].get<std::string>());
    }
    CHECK(names ==
          std::set<std::string>{"GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"});
  }
}

TEST_CASE("config.yaml: one copy, and fluxkey accepts every key in it") {
  Base base;
  CHECK(fs::equivalent(base.root + "/cronjob/config.yaml", base.root + "/k8s/config.yaml"));
  const std::string config_text = read_text(base.root + "/k8s/config.yaml");
  SimProcess kube(binary_from_env("KUBE_SIM"));
  GitHub github(config_repos(config_text));
  TempDir dir;
  const std::string admin = kube.state_dir() + "/admin.kubeconfig";
  const Env env = {{"GITHUB_TOKEN", kGitHubToken}, {"SSL_CERT_FILE", github.sim.ca_file()}};
  auto sync = [&](const std::string& config) {
    return run_fluxkey({"sync", "--config", config, "--dry-run", "--kubeconfig", admin,
                        "--github-api-url", github.sim.url()},
                       env);
  };

  // As shipped: a plan, exit 0.
  std::string config = base.root + "/k8s/config.yaml";
  auto dry = sync(config);
  CHECK_MESSAGE(dry.exit_code == 0, dry.err);
  for (const auto& repo : config_repos(config_text)) {
    CHECK(dry.out.find("would push FLUX_KUBECONFIG to repository " + repo) != std::string::npos);
  }
  CHECK(dry.out.find("fluxkey/flux-kubeconfig") != std::string::npos);
  // The other commands read the same file (their exits as documented).
  auto status = run_fluxkey({"status", "--config", config, "--kubeconfig", admin});
  CHECK(status.exit_code == 1);
  CHECK(status.err.find("has not synced yet") != std::string::npos);
  auto revoke = run_fluxkey({"revoke", "--config", config, "--dry-run", "--kubeconfig", admin});
  CHECK_MESSAGE(revoke.exit_code == 0, revoke.err);

  // Every commented-out setting, uncommented alone, is a key fluxkey knows
  // (its example value may still need a file that is not here).
  static const std::regex commented(R"(^# ([a-z][a-z-]*): .*$)");
  std::vector<std::string> lines;
  for (size_t start = 0; start < config_text.size();) {
    size_t end = config_text.find('\n', start);
    lines.push_back(config_text.substr(start, end - start));
    start = end == std::string::npos ? config_text.size() : end + 1;
  }
  std::set<std::string> keys;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, commented)) continue;
    keys.insert(m[1]);
    std::string variant;
    for (size_t j = 0; j < lines.size(); ++j)
      variant += (j == i ? lines[j].substr(2) : lines[j]) + "\n";
    auto run = sync(dir.write("variant.yaml", variant));
    CAPTURE(lines[i]);
    CHECK(run.err.find("unknown key") == std::string::npos);
    CHECK(run.err.find("not valid YAML") == std::string::npos);
  }
  CHECK(keys.size() >= 12);
  CHECK(keys.contains("server"));
  CHECK(keys.contains("github-org"));
}

TEST_CASE("the overlays the READMEs document build and do what they say") {
  Base base;
  TempDir dir, release;
  // The READMEs' overlays take their base from a release, stamped with its
  // image as the release workflow stamps it.
  copy_stamp_tree(release.path());
  auto stamp = run_program({release.path() + "/dev", "stamp", "ghcr.io/owner/fluxkey", "v1.2.3",
                            "sha256:" + std::string(64, 'b')});
  REQUIRE_MESSAGE(stamp.exit_code == 0, stamp.err);
  write_documented_overlays(base.root + "/k8s/README.md", release.path(), dir.path());
  write_documented_overlays(base.root + "/cronjob/README.md", release.path(), dir.path());

  SUBCASE("narrow: the reconcile Role names its objects") {
    auto objects = kustomize(dir.path() + "/narrow");
    const json& role = find_object(objects, "Role", "flux-system", "flux-reconcile");
    for (const auto& rule : role["rules"]) CHECK_FALSE(rule["resourceNames"].empty());
  }
  SUBCASE("widen: a second Role in tenant-a, bound to the same ServiceAccount") {
    auto objects = kustomize(dir.path() + "/widen");
    CHECK(find_object(objects, "Role", "tenant-a", "flux-reconcile")["rules"] ==
          find_object(objects, "Role", "flux-system", "flux-reconcile")["rules"]);
    CHECK(find_object(objects, "RoleBinding", "tenant-a", "flux-reconcile")["subjects"] ==
          find_object(objects, "RoleBinding", "flux-system", "flux-reconcile")["subjects"]);
  }
  SUBCASE("fleet: the user's config.yaml replaces the base's") {
    std::string own = "github-repo: acme/infra\n";
    std::ofstream(dir.path() + "/fleet/config.yaml") << own;
    auto objects = kustomize(dir.path() + "/fleet");
    size_t config_maps = 0;
    for (const auto& o : objects) config_maps += o["kind"] == "ConfigMap" ? 1 : 0;
    CHECK(config_maps == 1);
    const json& cm = generated_config_map(objects);
    CHECK(cm["data"]["config.yaml"] == own);
    const json& pod = pod_spec(find_object(objects, "CronJob", "fluxkey", "fluxkey"));
    CHECK(pod["volumes"][0]["configMap"]["name"] == name_of(cm));
    CHECK(pod["containers"][0]["image"] == "registry.example.com/platform/fluxkey:v1.0.0");
  }
}

TEST_CASE("enforced: the CronJob's command as fluxkey-rotator rotates end to end") {
  Base base;
  TempDir dir;
  Cluster cluster(base, base.policy());
  GitHub github(config_repos(base.mounted_config()));
  CronJobCommand cronjob(base, dir, cluster.kubeconfig(dir, kRotator), github);

  auto runs = rotator_life(cronjob);
  REQUIRE(runs.size() == 3);
  for (const auto& run : runs) CHECK_MESSAGE(run.exit_code == 0, run.err);
  CHECK(cluster.refusals(kRotator).empty());
  CHECK(cluster.generation_secrets() ==
        std::set<std::string>{"flux-kubeconfig-gen-2", "flux-kubeconfig-gen-3"});
  // The kubeconfig names the server cluster-info publishes, and every
  // repository of config.yaml holds it.
  std::string stored = cluster.stored_kubeconfig();
  CHECK(stored.find(std::string("server: ") + kPublishedServer) != std::string::npos);
  for (const auto& repo : config_repos(base.mounted_config())) {
    CHECK(github.secret(repo) == stored);
  }
  // The JSON log the CronJob's pod writes: one object a line.
  for (size_t start = 0; start < runs[0].err.size();) {
    size_t end = runs[0].err.find('\n', start);
    CHECK(json::parse(runs[0].err.substr(start, end - start), nullptr, false).is_object());
    start = end == std::string::npos ? runs[0].err.size() : end + 1;
  }
  // status reads what the rotator may read.
  auto status = run_fluxkey(
      {"status", "--config", cronjob.args[2], "--kubeconfig", cluster.kubeconfig(dir, kRotator)});
  CHECK_MESSAGE(status.exit_code == 0, status.err);
}

TEST_CASE("enforced: every verb of every rotator rule is needed") {
  Base base;
  const auto policy = base.policy();
  const auto removals = verb_removals(policy, "fluxkey-rotator");
  // serviceaccounts/token create; flux-kubeconfig get, patch; secrets create,
  // list, delete; leases create; the flux-kubeconfig Lease get, update;
  // cluster-info get.
  CHECK(removals.size() == 10);
  GitHub github(config_repos(base.mounted_config()));
  for (const auto& removal : removals) {
    CAPTURE(removal.describe());
    TempDir dir;
    Cluster cluster(base, without(policy, removal));
    CronJobCommand cronjob(base, dir, cluster.kubeconfig(dir, kRotator), github);
    auto runs = rotator_life(cronjob);
    // Each removal is felt as a refusal...
    auto refused = cluster.refusals(kRotator);
    CHECK_FALSE(refused.empty());
    if (removal.role == "fluxkey-cluster-info") {
      // ... which for cluster-info fluxkey rides out on purpose, falling back
      // to the URL it uses itself: the kubeconfig then names the wrong server.
      CHECK(runs.size() == 3);
      CHECK(runs.back().exit_code == 0);
      CHECK(cluster.stored_kubeconfig().find("server: " + cluster.kube().url()) !=
            std::string::npos);
    } else {
      // ... and everywhere else fails the run, naming what was refused.
      CHECK(runs.back().exit_code == 1);
      CHECK(runs.back().err.find("forbidden") != std::string::npos);
    }
  }
}

TEST_CASE("enforced: fluxkey-rotator cannot step beyond its rules") {
  Base base;
  TempDir dir;
  Cluster cluster(base, base.policy());
  const std::string token_body =
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})";
  const std::string merge = "application/merge-patch+json";
  const std::string annotate = R"({"metadata":{"annotations":{"x":"y"}}})";
  auto as = [&](const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& type = "") {
    return cluster.as(kRotator, method, path, body, type);
  };

  // Tokens: not for itself, not for a Flux controller.
  check_refused(as("POST", "/api/v1/namespaces/fluxkey/serviceaccounts/fluxkey-rotator/token",
                   token_body, "application/json"),
                kRotator, "create", "serviceaccounts/token");
  check_refused(
      as("POST", "/api/v1/namespaces/flux-system/serviceaccounts/kustomize-controller/token",
         token_body, "application/json"),
      kRotator, "create", "serviceaccounts/token");
  // Secrets elsewhere: not read, not listed, not written, not deleted.
  check_refused(as("GET", "/api/v1/namespaces/flux-system/secrets/flux-system"), kRotator, "get",
                "secrets");
  check_refused(as("GET", "/api/v1/namespaces/flux-system/secrets"), kRotator, "list", "secrets");
  check_refused(as("GET", "/api/v1/secrets"), kRotator, "list", "secrets");
  check_refused(as("PATCH", "/api/v1/namespaces/default/secrets/flux-kubeconfig", annotate, merge),
                kRotator, "patch", "secrets");
  check_refused(as("DELETE", "/api/v1/namespaces/default/secrets/other"), kRotator, "delete",
                "secrets");
  // Its own namespace: other Secrets only through the generation rule (no
  // get by name, no update), and no say over ServiceAccounts or RBAC.
  check_refused(as("GET", "/api/v1/namespaces/fluxkey/secrets/fluxkey-github"), kRotator, "get",
                "secrets");
  check_refused(as("PUT", "/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig",
                   R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"flux-kubeconfig"}})",
                   "application/json"),
                kRotator, "update", "secrets");
  check_refused(
      as("PATCH", "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile", annotate, merge),
      kRotator, "patch", "serviceaccounts");
  check_refused(as("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/fluxkey/rolebindings",
                   R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
                       "metadata":{"name":"more"},
                       "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole",
                                  "name":"cluster-admin"},
                       "subjects":[{"kind":"ServiceAccount","name":"fluxkey-rotator"}]})",
                   "application/json"),
                kRotator, "create", "rolebindings");
  // Workloads, cluster-info, Flux: nothing.
  check_refused(as("PATCH", "/apis/apps/v1/namespaces/flux-system/deployments/kustomize-controller",
                   annotate, merge),
                kRotator, "patch", "deployments");
  check_refused(
      as("PATCH", "/api/v1/namespaces/kube-public/configmaps/cluster-info", annotate, merge),
      kRotator, "patch", "configmaps");
  check_refused(
      as("PATCH", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps",
         annotate, merge),
      kRotator, "patch", "kustomizations");

  // fluxkey itself, pointed at a Flux controller's ServiceAccount: refused
  // before any token exists (the generation Secret would be in flux-system).
  GitHub github(config_repos(base.mounted_config()));
  CronJobCommand cronjob(base, dir, cluster.kubeconfig(dir, kRotator), github);
  auto run = cronjob.run({"--service-account", "flux-system/kustomize-controller"});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("forbidden") != std::string::npos);
  auto mint = run_fluxkey({"kubeconfig", "--kubeconfig", cluster.kubeconfig(dir, kRotator),
                           "--service-account", "fluxkey/fluxkey-rotator"});
  CHECK(mint.exit_code == 1);
  CHECK(mint.err.find("cannot create resource \"serviceaccounts/token\"") != std::string::npos);
  CHECK(cluster.kube().control("GET", "/_sim/tokens").empty());
}

TEST_CASE("enforced: flux-reconcile reconciles with the kubeconfig GitHub received") {
  if (!has_reconcile()) {
    FAIL("fluxkey reconcile is not built yet: the reconcile half of the proof cannot run");
  }
  Base base;
  TempDir dir;
  Cluster cluster(base, base.policy());
  GitHub github(config_repos(base.mounted_config()));
  CronJobCommand cronjob(base, dir, cluster.kubeconfig(dir, kRotator), github);
  REQUIRE(cronjob.run().exit_code == 0);

  // What a workflow gets: GitHub's copy, its server put back to kube-sim's
  // (cluster-info published a name that stands for the external URL).
  auto received = github.secret(config_repos(base.mounted_config())[0]);
  REQUIRE(received.has_value());
  std::string text = *received;
  size_t at = text.find(kPublishedServer);
  REQUIRE(at != std::string::npos);
  text.replace(at, std::string(kPublishedServer).size(), cluster.kube().url());
  std::string kubeconfig = dir.write("from-github.kubeconfig", text);

  size_t since = cluster.log_size();
  auto run = reconcile(kubeconfig, "kustomization", "apps", {"--with-source"});
  CHECK_MESSAGE(run.exit_code == 0, run.err);
  CHECK_FALSE(trimmed(run.out).empty());  // the revision
  for (const auto& entry : kFluxObjects) {
    const auto& object = entry.second;
    CAPTURE(entry.first);  // clang 14 cannot capture a structured binding
    auto each = reconcile(kubeconfig, object.kind_flag, object.name);
    CHECK_MESSAGE(each.exit_code == 0, each.err);
  }
  // No refusal at all, and the waits were watches, not polls.
  CHECK(cluster.refusals(kReconciler, since).empty());
  CHECK(watches(cluster, kReconciler, 200, since) >= kFluxObjects.size());
}

TEST_CASE("enforced: every verb and every resource of the reconcile rules is needed") {
  if (!has_reconcile()) {
    FAIL("fluxkey reconcile is not built yet: the reconcile half of the proof cannot run");
  }
  Base base;
  TempDir dir;
  const auto policy = base.policy();
  Cluster cluster(base, policy);
  const std::string kubeconfig = cluster.kubeconfig(dir, kReconciler);

  std::vector<Removal> removals = verb_removals(policy, "flux-reconcile");
  CHECK(removals.size() == 15);  // five rules (API groups) x get, patch, watch
  const json& role = find_object(policy, "Role", "flux-system", "flux-reconcile");
  for (size_t i = 0; i < role["rules"].size(); ++i) {
    for (const auto& resource : role["rules"][i]["resources"]) {
      removals.push_back({"flux-system", "flux-reconcile", i, "", resource});
    }
  }
  CHECK(removals.size() == 25);
  for (const auto& removal : removals) {
    CAPTURE(removal.describe());
    const json& rule = role["rules"][removal.rule];
    std::string resource =
        removal.resource.empty() ? rule["resources"][0].get<std::string>() : removal.resource;
    const FluxObject& object = kFluxObjects.at(resource);
    cluster.set_policy(without(policy, removal));
    size_t since = cluster.log_size();
    auto run = reconcile(kubeconfig, object.kind_flag, object.name);
    CHECK_FALSE(cluster.refusals(kReconciler, since).empty());
    if (removal.verb == "watch") {
      // fluxkey polls with get when it may not watch: still ready, slower.
      CHECK_MESSAGE(run.exit_code == 0, run.err);
      CHECK(watches(cluster, kReconciler, 403, since) >= 1);
    } else {
      CHECK(run.exit_code == 1);
      CHECK(run.err.find("forbidden") != std::string::npos);
    }
  }
}

TEST_CASE("enforced: flux-reconcile cannot step beyond its rules") {
  Base base;
  TempDir dir;
  Cluster cluster(base, base.policy());
  const std::string merge = "application/merge-patch+json";
  const std::string annotate = R"({"metadata":{"annotations":{"x":"y"}}})";
  const std::string ks =
      "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations";
  auto as = [&](const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& type = "") {
    return cluster.as(kReconciler, method, path, body, type);
  };
  // What it may: read, annotate, watch one object by name.
  CHECK(as("GET", ks + "/apps").status == 200);
  CHECK(as("PATCH", ks + "/apps", annotate, merge).status == 200);
  CHECK(as("GET", ks + "?watch=true&fieldSelector=metadata.name%3Dapps&timeoutSeconds=1").status ==
        200);

  // Flux objects: no list, create, delete, status; no other namespace.
  check_refused(as("GET", ks), kReconciler, "list", "kustomizations");
  check_refused(as("POST", ks,
                   R"({"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization",
                       "metadata":{"name":"evil"},"spec":{"interval":"1m","path":"./","prune":true,
                       "sourceRef":{"kind":"GitRepository","name":"flux-system"}}})",
                   "application/json"),
                kReconciler, "create", "kustomizations");
  check_refused(as("DELETE", ks + "/apps"), kReconciler, "delete", "kustomizations");
  check_refused(as("PATCH", ks + "/apps/status", R"({"status":{}})", merge), kReconciler, "patch",
                "kustomizations/status");
  check_refused(
      as("GET", "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/tenant-a/kustomizations/apps"),
      kReconciler, "get", "kustomizations");
  // Secrets, tokens, workloads: nothing.
  check_refused(as("GET", "/api/v1/namespaces/flux-system/secrets/flux-system"), kReconciler, "get",
                "secrets");
  check_refused(as("GET", "/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig"), kReconciler, "get",
                "secrets");
  check_refused(as("POST", "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token",
                   R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})",
                   "application/json"),
                kReconciler, "create", "serviceaccounts/token");
  check_refused(as("PATCH", "/apis/apps/v1/namespaces/flux-system/deployments/kustomize-controller",
                   annotate, merge),
                kReconciler, "patch", "deployments");
  check_refused(as("GET", "/api/v1/namespaces"), kReconciler, "list", "namespaces");

  if (has_reconcile()) {
    auto run = reconcile(cluster.kubeconfig(dir, kReconciler), "kustomization", "apps",
                         {"--namespace", "tenant-a"});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("forbidden") != std::string::npos);
  }
}

TEST_CASE("enforced: the narrowing and widening overlays of k8s/README.md") {
  Base base;
  TempDir dir;
  write_documented_overlays(base.root + "/k8s/README.md", base.root, dir.path());
  Cluster cluster(base, base.policy());
  auto get = [&](const std::string& ns, const std::string& name) {
    return cluster
        .as(kReconciler, "GET",
            "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/" + ns + "/kustomizations/" + name)
        .status;
  };
  auto policy_of = [](const std::vector<json>& objects) {
    std::vector<json> out;
    for (const auto& o : objects) {
      if (is_rbac(o)) out.push_back(o);
    }
    return out;
  };

  SUBCASE("narrow: the named Kustomization and its source, nothing else") {
    cluster.seed(R"(
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: infra, namespace: flux-system}
spec: {interval: 10m, path: ./infra, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
)");
    cluster.set_policy(policy_of(kustomize(dir.path() + "/narrow")));
    CHECK(get("flux-system", "apps") == 200);
    CHECK(get("flux-system", "infra") == 403);
    const std::string ks =
        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations";
    CHECK(cluster
              .as(kReconciler, "GET",
                  ks + "?watch=true&fieldSelector=metadata.name%3Dapps&"
                       "timeoutSeconds=1")
              .status == 200);
    CHECK(cluster.as(kReconciler, "GET", ks + "?watch=true&timeoutSeconds=1").status == 403);
    if (has_reconcile()) {
      size_t since = cluster.log_size();
      std::string kubeconfig = cluster.kubeconfig(dir, kReconciler);
      auto run = reconcile(kubeconfig, "kustomization", "apps", {"--with-source"});
      CHECK_MESSAGE(run.exit_code == 0, run.err);
      CHECK(cluster.refusals(kReconciler, since).empty());  // watched by name, too
      CHECK(reconcile(kubeconfig, "kustomization", "infra").exit_code == 1);
    }
  }
  SUBCASE("widen: tenant-a as well, tenant-b still not") {
    cluster.set_policy(policy_of(kustomize(dir.path() + "/widen")));
    CHECK(get("flux-system", "apps") == 200);
    CHECK(get("tenant-a", "apps") == 200);
    CHECK(get("tenant-b", "apps") == 403);
  }
}

// Test suite "image" runs under ./dev image only, once per platform, with
// $FLUXKEY_IMAGE naming the image it built (tests/README.md, "The image").
TEST_CASE("image: the CronJob's pod runs sync as 65532 on a read-only root, in-cluster" *
          doctest::test_suite("image")) {
  const Image image = Image::from_env();
  Base base;
  TempDir dir;
  Cluster cluster(base, base.policy());
  GitHub github(config_repos(base.mounted_config()));

  // The pod as k8s/cronjob.yaml makes it: its user, its read-only root, its
  // args, the ConfigMap mounted at /etc/fluxkey and the ServiceAccount's
  // projected token where every pod finds it, with the in-cluster variables.
  const json& pod = pod_spec(base.cronjob());
  const json& container = pod["containers"][0];
  const json& security = container["securityContext"];
  ContainerSpec spec;
  spec.uid = security["runAsUser"].get<int>();
  spec.gid = security["runAsGroup"].get<int>();
  spec.read_only_root = security["readOnlyRootFilesystem"].get<bool>();
  CHECK(spec.uid == 65532);
  CHECK(spec.read_only_root);
  for (const auto& a : container["args"]) spec.args.push_back(a.get<std::string>());
  // The one thing a cluster does not have: github-sim stands in for api.github.com.
  spec.args.insert(spec.args.end(), {"--github-api-url", github.sim.url()});
  REQUIRE(container["volumeMounts"][0]["mountPath"] == "/etc/fluxkey");

  std::filesystem::create_directories(dir.path() + "/config");
  std::filesystem::create_directories(dir.path() + "/serviceaccount");
  std::filesystem::create_directories(dir.path() + "/github-ca");
  dir.write("config/config.yaml", base.mounted_config(), 0644);
  dir.write("serviceaccount/token", cluster.token(kRotator), 0644);
  dir.write("serviceaccount/ca.crt", read_text(cluster.kube().ca_file()), 0644);
  dir.write("serviceaccount/namespace", "fluxkey", 0644);
  dir.write("github-ca/ca.crt", read_text(github.sim.ca_file()), 0644);
  spec.mounts = {{dir.path() + "/config", "/etc/fluxkey"},
                 {dir.path() + "/serviceaccount", "/var/run/secrets/kubernetes.io/serviceaccount"},
                 {dir.path() + "/github-ca", "/etc/github-sim"}};
  spec.env = {{"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
              {"KUBERNETES_SERVICE_PORT", std::to_string(cluster.kube().port())},
              {"GITHUB_TOKEN", kGitHubToken},
              {"SSL_CERT_FILE", "/etc/github-sim/ca.crt"},
              {"HOSTNAME", "fluxkey-29001234-abcde"},
              {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}};

  auto run = image.run(spec);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(cluster.refusals(kRotator).empty());
  const std::string stored = cluster.stored_kubeconfig();
  CHECK(stored.find(std::string("server: ") + kPublishedServer) != std::string::npos);
  for (const auto& repo : config_repos(base.mounted_config())) {
    CHECK(github.secret(repo) == stored);
  }
  CHECK(run.out.empty());
  for (size_t start = 0; start < run.err.size();) {
    size_t end = run.err.find('\n', start);
    CHECK(json::parse(run.err.substr(start, end - start), nullptr, false).is_object());
    start = end == std::string::npos ? run.err.size() : end + 1;
  }

  // The next run of the schedule finds nothing due: it writes only the
  // Lease that keeps runs apart, and asks GitHub nothing.
  const size_t before = cluster.log_size();
  const size_t github_before = github.sim.requests().size();
  auto again = image.run(spec);
  CHECK_MESSAGE(again.exit_code == 0, again.err);
  for (const auto& r : cluster.kube().requests(before)) {
    CAPTURE(r.dump());
    CHECK((r["method"] == "GET" ||
           r["path"].get<std::string>().find("/leases/") != std::string::npos));
  }
  CHECK(github.sim.requests().size() == github_before);
}

}  // namespace deploy_test
