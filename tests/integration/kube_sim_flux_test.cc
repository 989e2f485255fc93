// kube-sim's Flux kinds, simulated controllers and watch, seen from real
// clients: plain HTTPS, a streaming watch client and kubectl (discovery,
// annotate, patch, get --raw).
#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace kube_sim_flux_test {

using namespace fluxkey::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* const kKs =
    "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations";
const char* const kGit = "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories";
const char* const kHr = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/flux-system/helmreleases";

const char* const kFleet = R"(
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m
  url: ssh://git@github.com/example/fleet
  ref: {branch: main}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
)";

// Polls `check` every 20 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return check();
}

const json* find_condition(const json& object, const std::string& type) {
  if (!object.contains("status") || !object["status"].contains("conditions")) return nullptr;
  for (const auto& c : object["status"]["conditions"]) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}

std::string condition_status(const json& object, const std::string& type) {
  const json* c = find_condition(object, type);
  return c == nullptr ? "" : (*c)["status"].get<std::string>();
}

// A kube-sim with the admin credentials at hand and the fleet seeded.
struct Cluster {
  explicit Cluster(std::vector<std::string> args = {}, bool seed_fleet = true)
      : sim(binary_from_env("KUBE_SIM"), args) {
    token = kube_admin_token(sim);
    if (seed_fleet) seed(kFleet);
  }

  void seed(const std::string& yaml) const {
    auto reply = sim.request("POST", "/_sim/objects", yaml, "application/yaml");
    REQUIRE_MESSAGE(reply.status == 201, reply.body);
  }

  HttpReply call(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& content_type = "") const {
    return sim.request(method, path, body, content_type, {{"Authorization", "Bearer " + token}});
  }

  json get(const std::string& path) const {
    auto reply = call("GET", path);
    REQUIRE_MESSAGE(reply.status == 200, path << ": " << reply.body);
    return reply.json();
  }

  json merge_patch(const std::string& path, const json& patch) const {
    auto reply = call("PATCH", path, patch.dump(), "application/merge-patch+json");
    REQUIRE_MESSAGE(reply.status == 200, path << ": " << reply.body);
    return reply.json();
  }

  // What `flux reconcile` does: set reconcile.fluxcd.io/requestedAt.
  std::string request_reconcile(const std::string& path, const std::string& at) const {
    merge_patch(path, {{"metadata", {{"annotations", {{"reconcile.fluxcd.io/requestedAt", at}}}}}});
    return at;
  }

  // Waits until the object's status says the request `at` was handled.
  json wait_handled(const std::string& path, const std::string& at,
                    std::chrono::milliseconds timeout = 5s) const {
    json last;
    bool ok = eventually(
        [&] {
          last = get(path);
          return last.contains("status") &&
                 last["status"].value("lastHandledReconcileAt", "") == at;
        },
        timeout);
    REQUIRE_MESSAGE(ok, "not handled: " << last.dump());
    return last;
  }

  void behave(const json& behaviour) const { sim.control("POST", "/_sim/flux", behaviour); }

  std::string kubeconfig() const { return sim.state_dir() + "/admin.kubeconfig"; }

  SimProcess sim;
  std::string token;
};

// A streaming watch: collects events as they arrive, with their arrival times.
class Watch {
 public:
  Watch(const Cluster& cluster, const std::string& path_and_query) {
    thread_ = std::thread([this, &cluster, path_and_query] {
      httplib::SSLClient cli("127.0.0.1", cluster.sim.port());
      cli.set_ca_cert_path(cluster.sim.ca_file().c_str());
      cli.enable_server_certificate_verification(true);
      cli.set_connection_timeout(5s);
      cli.set_read_timeout(30s);
      httplib::Headers headers = {{"Authorization", "Bearer " + cluster.token}};
      std::string buffer;
      auto res = cli.Get(
          path_and_query.c_str(), headers,
          [&](const httplib::Response& r) {
            std::lock_guard lock(mu_);
            status_ = r.status;
            content_type_ = r.get_header_value("Content-Type");
            return true;
          },
          [&](const char* data, size_t n) {
            buffer.append(data, n);
            size_t nl;
            while ((nl = buffer.find('\n')) != std::string::npos) {
              json event = json::parse(buffer.substr(0, nl), nullptr, false);
              buffer.erase(0, nl + 1);
              std::lock_guard lock(mu_);
              events_.push_back(event);
              arrivals_.push_back(std::chrono::steady_clock::now());
              cv_.notify_all();
            }
            return true;
          });
      std::lock_guard lock(mu_);
      finished_ = true;
      if (!res) error_ = httplib::to_string(res.error());
      cv_.notify_all();
    });
  }
  ~Watch() { join(); }

  void join() {
    if (thread_.joinable()) thread_.join();
  }

  // The first event matching `pred`, waiting up to `timeout`; null when none.
  json wait_for(const std::function<bool(const json&)>& pred,
                std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    size_t seen = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      for (; seen < events_.size(); ++seen) {
        if (pred(events_[seen])) {
          arrived_ = arrivals_[seen];
          return events_[seen];
        }
      }
      if (finished_ || cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        for (; seen < events_.size(); ++seen) {
          if (pred(events_[seen])) return events_[seen];
        }
        return nullptr;
      }
    }
  }

  std::vector<json> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  int status() {
    std::lock_guard lock(mu_);
    return status_;
  }
  std::string content_type() {
    std::lock_guard lock(mu_);
    return content_type_;
  }
  bool finished() {
    std::lock_guard lock(mu_);
    return finished_;
  }
  std::chrono::steady_clock::time_point arrived() const { return arrived_; }

 private:
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> events_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  std::chrono::steady_clock::time_point arrived_;
  int status_ = 0;
  std::string content_type_;
  std::string error_;
  bool finished_ = false;
};

bool is_event(const json& e, const std::string& type, const std::string& name) {
  return e.is_object() && e.value("type", "") == type && e["object"].is_object() &&
         e["object"]["metadata"].value("name", "") == name;
}

}  // namespace

TEST_CASE("a reconcile request is answered like kustomize-controller answers it") {
  Cluster cluster;
  const std::string ks = std::string(kKs) + "/apps";
  const std::string git = std::string(kGit) + "/flux-system";
  // Created objects are reconciled on their own first.
  REQUIRE(eventually([&] { return condition_status(cluster.get(ks), "Ready") == "True"; }));
  json source = cluster.get(git);
  std::string revision = source["status"]["artifact"]["revision"];
  CHECK(revision.rfind("main@sha1:", 0) == 0);
  CHECK(condition_status(source, "Ready") == "True");

  cluster.behave({{"kind", "kustomizations"},
                  {"namespace", "flux-system"},
                  {"name", "apps"},
                  {"delay_ms", 1000}});
  std::string at = cluster.request_reconcile(ks, "2026-11-28T10:00:00.123456789Z");
  // While the controller works: Reconciling, Ready Unknown, request not yet handled.
  REQUIRE(eventually([&] { return condition_status(cluster.get(ks), "Reconciling") == "True"; }));
  json in_progress = cluster.get(ks);
  CHECK(condition_status(in_progress, "Ready") == "Unknown");
  CHECK(in_progress["status"].value("lastHandledReconcileAt", "") != at);

  json done = cluster.wait_handled(ks, at);
  CHECK(condition_status(done, "Ready") == "True");
  CHECK(condition_status(done, "Reconciling").empty());
  const json& ready = *find_condition(done, "Ready");
  CHECK(ready["reason"] == "ReconciliationSucceeded");
  CHECK(ready["message"] == "Applied revision: " + revision);
  CHECK(ready["observedGeneration"] == done["metadata"]["generation"]);
  CHECK(done["status"]["lastAppliedRevision"] == revision);
  CHECK(done["status"]["lastAttemptedRevision"] == revision);
  CHECK(done["status"]["observedGeneration"] == done["metadata"]["generation"]);
  // The annotation is metadata: no new generation.
  CHECK(done["metadata"]["generation"] == 1);
  // Status was written through the status subresource, by the controller.
  bool by_controller = false;
  for (const auto& m : done["metadata"]["managedFields"]) {
    if (m.value("manager", "") == "gotk-kustomize-controller" &&
        m.value("subresource", "") == "status") {
      by_controller = true;
    }
  }
  CHECK(by_controller);
}

TEST_CASE("a spec change bumps the generation and is reconciled; status stays the controller's") {
  Cluster cluster;
  const std::string ks = std::string(kKs) + "/apps";
  REQUIRE(eventually([&] { return condition_status(cluster.get(ks), "Ready") == "True"; }));
  json patched = cluster.merge_patch(ks, {{"spec", {{"path", "./apps/prod"}}}});
  CHECK(patched["metadata"]["generation"] == 2);
  REQUIRE(
      eventually([&] { return cluster.get(ks)["status"].value("observedGeneration", 0) == 2; }));

  // A client cannot write status through the main resource...
  json ignored = cluster.merge_patch(ks, {{"status", {{"lastAppliedRevision", "forged"}}}});
  CHECK(ignored["status"]["lastAppliedRevision"] != "forged");
  // ...but can through /status, with a JSON patch.
  auto reply = cluster.call(
      "PATCH", ks + "/status",
      R"([{"op":"replace","path":"/status/lastAppliedRevision","value":"main@sha1:manual"}])",
      "application/json-patch+json");
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  CHECK(reply.json()["status"]["lastAppliedRevision"] == "main@sha1:manual");
  CHECK(reply.json()["metadata"]["generation"] == 2);
  // PUT /status replaces the status and nothing else.
  json object = reply.json();
  object["status"]["lastAppliedRevision"] = "main@sha1:put";
  object["spec"]["path"] = "./ignored";
  auto put = cluster.call("PUT", ks + "/status", object.dump(), "application/json");
  REQUIRE_MESSAGE(put.status == 200, put.body);
  CHECK(put.json()["status"]["lastAppliedRevision"] == "main@sha1:put");
  CHECK(put.json()["spec"]["path"] == "./apps/prod");

  // Deleting is the generic verb; the object is gone for the controller too.
  auto deleted = cluster.call("DELETE", ks);
  REQUIRE_MESSAGE(deleted.status == 200, deleted.body);
  CHECK(cluster.call("GET", ks).status == 404);
}

TEST_CASE("failure, stall, silence and suspension") {
  Cluster cluster;
  const std::string ks = std::string(kKs) + "/apps";
  REQUIRE(eventually([&] { return condition_status(cluster.get(ks), "Ready") == "True"; }));

  SUBCASE("fail: Ready False, retried") {
    cluster.behave(
        {{"kind", "ks"},
         {"namespace", "flux-system"},
         {"name", "apps"},
         {"mode", "fail"},
         {"delay_ms", 10},
         {"message", "kustomize build failed: map[string]interface {}(nil): yaml: line 3"}});
    json done = cluster.wait_handled(ks, cluster.request_reconcile(ks, "t-fail"));
    const json& ready = *find_condition(done, "Ready");
    CHECK(ready["status"] == "False");
    CHECK(ready["reason"] == "BuildFailed");
    CHECK(ready["message"] == "kustomize build failed: map[string]interface {}(nil): yaml: line 3");
    CHECK((*find_condition(done, "Reconciling"))["reason"] == "ProgressingWithRetry");
    CHECK(condition_status(done, "Stalled").empty());
  }
  SUBCASE("fail-stalled: Stalled True, nothing in progress") {
    cluster.behave({{"kind", "ks"}, {"name", "apps"}, {"mode", "fail-stalled"}, {"delay_ms", 10}});
    json done = cluster.wait_handled(ks, cluster.request_reconcile(ks, "t-stall"));
    CHECK(condition_status(done, "Ready") == "False");
    CHECK(condition_status(done, "Stalled") == "True");
    CHECK(condition_status(done, "Reconciling").empty());
  }
  SUBCASE("never: the request stays unhandled") {
    cluster.behave({{"kind", "ks"}, {"name", "apps"}, {"mode", "never"}});
    cluster.request_reconcile(ks, "t-never");
    std::this_thread::sleep_for(500ms);
    json now = cluster.get(ks);
    CHECK(now["status"].value("lastHandledReconcileAt", "") != "t-never");
    CHECK(condition_status(now, "Ready") == "True");
  }
  SUBCASE("suspended: left alone until resumed") {
    cluster.merge_patch(ks, {{"spec", {{"suspend", true}}}});
    cluster.request_reconcile(ks, "t-suspended");
    std::this_thread::sleep_for(500ms);
    CHECK(cluster.get(ks)["status"].value("lastHandledReconcileAt", "") != "t-suspended");
    cluster.merge_patch(ks, {{"spec", {{"suspend", false}}}});
    cluster.wait_handled(ks, "t-suspended");
  }
  SUBCASE("bad behaviours are refused") {
    auto reply = cluster.sim.request("POST", "/_sim/flux", R"({"kind":"ks","mode":"explode"})",
                                     "application/json");
    CHECK(reply.status == 400);
    CHECK(reply.body.find("mode must be") != std::string::npos);
  }
}

TEST_CASE("HelmRelease: forceAt and resetAt are recorded as helm-controller does") {
  Cluster cluster({}, false);
  cluster.seed(R"(
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: flux-system}
spec:
  interval: 5m
  chart:
    spec:
      chart: podinfo
      version: 6.5.4
      sourceRef: {kind: HelmRepository, name: podinfo}
)");
  const std::string hr = std::string(kHr) + "/podinfo";
  REQUIRE(eventually([&] { return condition_status(cluster.get(hr), "Ready") == "True"; }));
  cluster.merge_patch(hr, {{"metadata",
                            {{"annotations",
                              {{"reconcile.fluxcd.io/requestedAt", "t1"},
                               {"reconcile.fluxcd.io/forceAt", "t1"},
                               {"reconcile.fluxcd.io/resetAt", "t1"}}}}}});
  json done = cluster.wait_handled(hr, "t1");
  CHECK(done["status"]["lastHandledForceAt"] == "t1");
  CHECK(done["status"]["lastHandledResetAt"] == "t1");
  CHECK(done["status"]["lastAttemptedRevision"] == "6.5.4");
  CHECK(done["status"]["history"][0]["version"] == 2);
  CHECK((*find_condition(done, "Ready"))["message"] ==
        "Helm upgrade succeeded for release flux-system/podinfo.v2 with chart podinfo@6.5.4");
}

TEST_CASE("--flux-api old serves the previous versions only") {
  Cluster cluster({"--flux-api", "old"}, false);
  cluster.seed(R"(
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
)");
  auto current = cluster.call("GET", std::string(kKs) + "/apps");
  CHECK(current.status == 404);
  CHECK(current.json()["kind"] == "Status");
  auto group = cluster.get("/apis/kustomize.toolkit.fluxcd.io");
  REQUIRE(group["versions"].size() == 1);
  CHECK(group["versions"][0]["version"] == "v1beta2");
  CHECK(cluster.get("/apis/helm.toolkit.fluxcd.io")["preferredVersion"]["version"] == "v2beta2");
  CHECK(cluster.get("/apis/source.toolkit.fluxcd.io")["preferredVersion"]["version"] == "v1beta2");
  const std::string old_ks =
      "/apis/kustomize.toolkit.fluxcd.io/v1beta2/namespaces/flux-system/kustomizations/apps";
  // The seed starts a run of its own; a request made during it is handled by
  // that run and then starts another, whose progress step reads Ready Unknown.
  REQUIRE(eventually([&] { return condition_status(cluster.get(old_ks), "Ready") == "True"; }));
  json done = cluster.wait_handled(old_ks, cluster.request_reconcile(old_ks, "t-old"));
  CHECK(done["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1beta2");
  CHECK(condition_status(done, "Ready") == "True");
}

TEST_CASE("kubectl finds the Flux kinds through discovery and drives a reconcile") {
  Cluster cluster;
  const std::string ks = std::string(kKs) + "/apps";
  REQUIRE(eventually([&] { return condition_status(cluster.get(ks), "Ready") == "True"; }));
  auto annotate = run_program(
      {"kubectl", "--kubeconfig", cluster.kubeconfig(), "-n", "flux-system", "annotate",
       "--overwrite", "kustomization", "apps", "reconcile.fluxcd.io/requestedAt=kubectl-1"},
      {}, 30s);
  REQUIRE_MESSAGE(annotate.exit_code == 0, annotate.err);
  cluster.wait_handled(ks, "kubectl-1");

  auto patch = run_program(
      {"kubectl", "--kubeconfig", cluster.kubeconfig(), "-n", "flux-system", "patch", "ks", "apps",
       "--type", "merge", "-p",
       R"({"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"kubectl-2"}}})"},
      {}, 30s);
  REQUIRE_MESSAGE(patch.exit_code == 0, patch.err);
  cluster.wait_handled(ks, "kubectl-2");

  auto get = run_program({"kubectl", "--kubeconfig", cluster.kubeconfig(), "-n", "flux-system",
                          "get", "kustomizations.kustomize.toolkit.fluxcd.io", "-o", "json"},
                         {}, 30s);
  REQUIRE_MESSAGE(get.exit_code == 0, get.err);
  json list = json::parse(get.out);
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["status"]["lastHandledReconcileAt"] == "kubectl-2");

  auto raw = run_program({"kubectl", "--kubeconfig", cluster.kubeconfig(), "get", "--raw",
                          "/apis/source.toolkit.fluxcd.io/v1"},
                         {}, 30s);
  REQUIRE_MESSAGE(raw.exit_code == 0, raw.err);
  json resources = json::parse(raw.out)["resources"];
  std::vector<std::string> names;
  for (const auto& r : resources) names.push_back(r["name"]);
  for (const char* want : {"gitrepositories", "gitrepositories/status", "ocirepositories",
                           "helmrepositories", "helmcharts", "buckets"}) {
    CHECK_MESSAGE(std::find(names.begin(), names.end(), want) != names.end(), want);
  }
}

TEST_CASE("watch streams the initial objects and then the controller's status change") {
  Cluster cluster;
  const std::string ks = std::string(kKs) + "/apps";
  REQUIRE(eventually([&] { return condition_status(cluster.get(ks), "Ready") == "True"; }));
  cluster.behave({{"kind", "ks"}, {"name", "apps"}, {"delay_ms", 100}});

  Watch watch(cluster,
              std::string(kKs) + "?watch=true&fieldSelector=metadata.name%3Dapps&timeoutSeconds=4");
  json added = watch.wait_for([](const json& e) { return is_event(e, "ADDED", "apps"); });
  REQUIRE(added.is_object());
  CHECK(watch.status() == 200);
  CHECK(watch.content_type().rfind("application/json", 0) == 0);
  CHECK(added["object"]["kind"] == "Kustomization");

  auto sent = std::chrono::steady_clock::now();
  cluster.request_reconcile(ks, "t-watch");
  json handled = watch.wait_for([](const json& e) {
    return is_event(e, "MODIFIED", "apps") &&
           e["object"]["status"].value("lastHandledReconcileAt", "") == "t-watch";
  });
  REQUIRE(handled.is_object());
  // Streamed as it happened, not at the end of the stream.
  CHECK(watch.arrived() - sent < 3s);
  CHECK(condition_status(handled["object"], "Ready") == "True");
  CHECK_FALSE(watch.finished());
}

TEST_CASE("watch from a resourceVersion replays later changes; selectors; bookmarks; timeout") {
  Cluster cluster;
  const std::string ks = std::string(kKs) + "/apps";
  REQUIRE(eventually([&] { return condition_status(cluster.get(ks), "Ready") == "True"; }));
  std::string rv = cluster.get(kKs)["metadata"]["resourceVersion"];
  cluster.seed(R"(
apiVersion: v1
kind: Secret
metadata: {name: flux-kubeconfig, namespace: flux-system, labels: {app.kubernetes.io/managed-by: fluxkey}}
stringData: {kubeconfig: "apiVersion: v1"}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: flux-system}
stringData: {k: v}
)");

  SUBCASE("resourceVersion replays what happened after it") {
    Watch secrets(cluster, "/api/v1/namespaces/flux-system/secrets?watch=1&resourceVersion=" + rv +
                               "&timeoutSeconds=2");
    json added =
        secrets.wait_for([](const json& e) { return is_event(e, "ADDED", "flux-kubeconfig"); });
    REQUIRE(added.is_object());
    CHECK(added["object"]["kind"] == "Secret");
    CHECK(added["object"]["apiVersion"] == "v1");
    secrets.join();
    // Ended by timeoutSeconds, with nothing from before the resourceVersion.
    for (const auto& e : secrets.events()) CHECK(e["object"]["kind"] == "Secret");
  }
  SUBCASE("a label selector narrows, and an object leaving it is DELETED") {
    Watch managed(
        cluster,
        "/api/v1/namespaces/flux-system/secrets?watch=true&labelSelector=app.kubernetes.io"
        "%2Fmanaged-by%3Dfluxkey&timeoutSeconds=5");
    REQUIRE(managed.wait_for([](const json& e) { return is_event(e, "ADDED", "flux-kubeconfig"); })
                .is_object());
    auto reply = cluster.call("PATCH", "/api/v1/namespaces/flux-system/secrets/flux-kubeconfig",
                              R"({"metadata":{"labels":{"app.kubernetes.io/managed-by":null}}})",
                              "application/merge-patch+json");
    REQUIRE_MESSAGE(reply.status == 200, reply.body);
    CHECK(managed.wait_for([](const json& e) { return is_event(e, "DELETED", "flux-kubeconfig"); })
              .is_object());
    for (const auto& e : managed.events()) CHECK(e["object"]["metadata"]["name"] != "other");
  }
  SUBCASE("bookmarks carry the resourceVersion; the stream ends at timeoutSeconds") {
    auto start = std::chrono::steady_clock::now();
    Watch bookmarks(cluster,
                    std::string(kKs) + "?watch=true&allowWatchBookmarks=true&timeoutSeconds=2");
    json bookmark =
        bookmarks.wait_for([](const json& e) { return e.value("type", "") == "BOOKMARK"; });
    REQUIRE(bookmark.is_object());
    CHECK(bookmark["object"]["kind"] == "Kustomization");
    CHECK_FALSE(bookmark["object"]["metadata"]["resourceVersion"].get<std::string>().empty());
    bookmarks.join();
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 2s);
    CHECK(took < 6s);
  }
  SUBCASE("sendInitialEvents ends the initial objects with a bookmark") {
    Watch initial(cluster,
                  std::string(kKs) +
                      "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                      "&allowWatchBookmarks=true&timeoutSeconds=2");
    json end = initial.wait_for([](const json& e) {
      return e.value("type", "") == "BOOKMARK" && e["object"]["metadata"].contains("annotations") &&
             e["object"]["metadata"]["annotations"].value("k8s.io/initial-events-end", "") ==
                 "true";
    });
    REQUIRE(end.is_object());
    auto events = initial.events();
    REQUIRE(events.size() >= 2);
    CHECK(is_event(events[0], "ADDED", "apps"));
    initial.join();
  }
  SUBCASE("a resourceVersion older than the history is 410 Expired") {
    Watch old(cluster, std::string(kKs) + "?watch=true&resourceVersion=5&timeoutSeconds=5");
    json error = old.wait_for([](const json& e) { return e.value("type", "") == "ERROR"; });
    REQUIRE(error.is_object());
    CHECK(error["object"]["code"] == 410);
    CHECK(error["object"]["reason"] == "Expired");
    old.join();
  }
}

TEST_CASE("kubectl get --raw streams a watch until timeoutSeconds") {
  Cluster cluster;
  const std::string ks = std::string(kKs) + "/apps";
  REQUIRE(eventually([&] { return condition_status(cluster.get(ks), "Ready") == "True"; }));
  std::thread annotate([&] {
    std::this_thread::sleep_for(700ms);
    cluster.request_reconcile(ks, "t-kubectl-watch");
  });
  auto watch = run_program({"kubectl", "--kubeconfig", cluster.kubeconfig(), "get", "--raw",
                            std::string(kKs) + "?watch=true&timeoutSeconds=3"},
                           {}, 30s);
  annotate.join();
  REQUIRE_MESSAGE(watch.exit_code == 0, watch.err);
  bool saw = false;
  size_t start = 0;
  while (start < watch.out.size()) {
    size_t end = watch.out.find('\n', start);
    if (end == std::string::npos) end = watch.out.size();
    json e = json::parse(watch.out.substr(start, end - start), nullptr, false);
    if (e.is_object() && e["object"].contains("status") &&
        e["object"]["status"].value("lastHandledReconcileAt", "") == "t-kubectl-watch") {
      saw = true;
    }
    start = end + 1;
  }
  CHECK_MESSAGE(saw, watch.out);
}

}  // namespace kube_sim_flux_test
