#include "sim/kube/flux.h"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

namespace kube_flux_test {

using namespace fluxkey::sim::flux;
using nlohmann::json;

namespace {

const FluxKind& kind_of(const std::string& name, ApiSet set = ApiSet::kCurrent) {
  const FluxKind* k = find_kind(set, name);
  REQUIRE(k != nullptr);
  return *k;
}

json object(const std::string& api_version, const std::string& kind, const std::string& name,
            int64_t generation = 1) {
  return {{"apiVersion", api_version},
          {"kind", kind},
          {"metadata", {{"name", name}, {"namespace", "flux-system"}, {"generation", generation}}},
          {"spec", json::object()}};
}

json kustomization(const std::string& name = "apps") {
  json o = object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", name);
  o["spec"] = {{"interval", "10m"},
               {"path", "./apps"},
               {"prune", true},
               {"sourceRef", {{"kind", "GitRepository"}, {"name", "flux-system"}}}};
  return o;
}

json helm_release(int64_t generation = 1) {
  json o = object("helm.toolkit.fluxcd.io/v2", "HelmRelease", "podinfo", generation);
  json chart_spec = {{"chart", "podinfo"},
                     {"version", "6.5.4"},
                     {"sourceRef", {{"kind", "HelmRepository"}, {"name", "podinfo"}}}};
  o["spec"]["interval"] = "5m";
  o["spec"]["chart"]["spec"] = chart_spec;
  return o;
}

void annotate(json& o, const std::string& key, const std::string& value) {
  o["metadata"]["annotations"][key] = value;
}

const json* condition(const json& status, const std::string& type) {
  for (const auto& c : status["conditions"]) {
    if (c["type"] == type) return &c;
  }
  return nullptr;
}

// The step a real controller goes through: progress, then the end.
json reconcile(const FluxKind& kind, json o, const Behaviour& b, ApiSet set = ApiSet::kCurrent,
               const json* source = nullptr) {
  o["status"] = progressing_status(kind, o, "2026-11-28T10:00:00Z");
  o["status"] =
      finished_status(kind, set, o, b, revision_for(kind, o, b, source), "2026-11-28T10:00:01Z");
  return o;
}

}  // namespace

TEST_CASE("the served kinds and versions") {
  CHECK(kind_of("kustomizations").api_version() == "kustomize.toolkit.fluxcd.io/v1");
  CHECK(kind_of("ks").kind == "Kustomization");
  CHECK(kind_of("HelmRelease").api_version() == "helm.toolkit.fluxcd.io/v2");
  CHECK(kind_of("gitrepo").api_version() == "source.toolkit.fluxcd.io/v1");
  CHECK(kind_of("ocirepositories").kind == "OCIRepository");
  CHECK(kind_of("helmcharts").short_names == std::vector<std::string>{"hc"});
  CHECK(kind_of("imageupdateautomations").api_version() == "image.toolkit.fluxcd.io/v1");
  CHECK(kind_of("receivers").api_version() == "notification.toolkit.fluxcd.io/v1");
  CHECK(flux_kinds(ApiSet::kCurrent).size() == 10);

  CHECK(kind_of("kustomizations", ApiSet::kOld).version == "v1beta2");
  CHECK(kind_of("helmreleases", ApiSet::kOld).version == "v2beta2");
  CHECK(kind_of("buckets", ApiSet::kOld).version == "v1beta2");
  CHECK(kind_of("imagerepositories", ApiSet::kOld).version == "v1beta2");
  CHECK(kind_of("receivers", ApiSet::kOld).version == "v1beta2");
  CHECK(find_kind(ApiSet::kCurrent, "secrets") == nullptr);

  CHECK(parse_api_set("old") == ApiSet::kOld);
  CHECK(parse_api_set("current") == ApiSet::kCurrent);
  CHECK_THROWS_AS(parse_api_set("v1"), std::invalid_argument);
}

TEST_CASE("POST /_sim/flux bodies") {
  BehaviourRule r = parse_behaviour(ApiSet::kCurrent, {{"kind", "Kustomization"},
                                                       {"namespace", "flux-system"},
                                                       {"name", "apps"},
                                                       {"mode", "fail-stalled"},
                                                       {"delay_ms", 5},
                                                       {"revision", "main@sha1:abc"}});
  CHECK(r.resource == "kustomizations");
  CHECK(r.ns == "flux-system");
  CHECK(r.name == "apps");
  CHECK(r.behaviour.mode == Mode::kFailStalled);
  CHECK(r.behaviour.delay_ms == 5);
  CHECK(r.behaviour.revision == "main@sha1:abc");

  BehaviourRule d = parse_behaviour(ApiSet::kCurrent, json::object());
  CHECK(d.resource.empty());
  CHECK(d.behaviour.mode == Mode::kSucceed);
  CHECK(d.behaviour.delay_ms == 100);

  CHECK_THROWS_AS(parse_behaviour(ApiSet::kCurrent, {{"mode", "explode"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_behaviour(ApiSet::kCurrent, {{"kind", "pods"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_behaviour(ApiSet::kCurrent, {{"name", "x"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_behaviour(ApiSet::kCurrent, {{"delay", 5}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_behaviour(ApiSet::kCurrent, {{"delay_ms", -1}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_behaviour(ApiSet::kCurrent, {{"delay_ms", "5"}}), std::invalid_argument);
  CHECK_THROWS_AS(parse_behaviour(ApiSet::kCurrent, json::array()), std::invalid_argument);
}

TEST_CASE("what asks for a reconcile: a new object, generation or requestedAt") {
  json o = kustomization();
  CHECK(wants_reconcile(std::nullopt, o));
  Seen seen = seen_of(o);
  CHECK_FALSE(wants_reconcile(seen, o));
  o["status"] = {{"observedGeneration", 1}};
  CHECK_FALSE(wants_reconcile(seen, o));
  annotate(o, "reconcile.fluxcd.io/requestedAt", "2026-11-28T10:00:00.123456789Z");
  CHECK(wants_reconcile(seen, o));
  seen = seen_of(o);
  CHECK_FALSE(wants_reconcile(seen, o));
  annotate(o, "unrelated", "x");
  CHECK_FALSE(wants_reconcile(seen, o));
  o["metadata"]["generation"] = 2;
  CHECK(wants_reconcile(seen, o));

  CHECK_FALSE(is_suspended(o));
  o["spec"]["suspend"] = true;
  CHECK(is_suspended(o));
}

TEST_CASE("a reconcile in progress: Reconciling True, Ready Unknown") {
  json o = kustomization();
  o["status"] = {{"lastAppliedRevision", "main@sha1:old"}};
  json s = progressing_status(kind_of("ks"), o, "2026-11-28T10:00:00Z");
  CHECK(s["lastAppliedRevision"] == "main@sha1:old");
  REQUIRE(condition(s, "Reconciling") != nullptr);
  CHECK((*condition(s, "Reconciling"))["status"] == "True");
  CHECK((*condition(s, "Reconciling"))["reason"] == "Progressing");
  CHECK((*condition(s, "Ready"))["status"] == "Unknown");
  CHECK((*condition(s, "Ready"))["observedGeneration"] == 1);
  CHECK(s["conditions"][0]["type"] == "Ready");
}

TEST_CASE("a Kustomization that succeeds, as kustomize-controller writes it") {
  json o = kustomization();
  o["metadata"]["generation"] = 3;
  annotate(o, "reconcile.fluxcd.io/requestedAt", "2026-11-28T10:00:00.5Z");
  Behaviour b;
  b.revision = "main@sha1:0123456789abcdef0123456789abcdef01234567";
  json done = reconcile(kind_of("ks"), o, b);
  const json& s = done["status"];
  CHECK(s["lastHandledReconcileAt"] == "2026-11-28T10:00:00.5Z");
  CHECK(s["observedGeneration"] == 3);
  CHECK(s["lastAppliedRevision"] == b.revision);
  CHECK(s["lastAttemptedRevision"] == b.revision);
  REQUIRE(condition(s, "Ready") != nullptr);
  const json& ready = *condition(s, "Ready");
  CHECK(ready["status"] == "True");
  CHECK(ready["reason"] == "ReconciliationSucceeded");
  CHECK(ready["message"] == "Applied revision: " + b.revision);
  CHECK(ready["observedGeneration"] == 3);
  CHECK(condition(s, "Reconciling") == nullptr);
  CHECK(condition(s, "Stalled") == nullptr);

  // A second identical success keeps the transition time.
  json again = done;
  again["status"] =
      finished_status(kind_of("ks"), ApiSet::kCurrent, done, b, b.revision, "2026-11-28T11:00:00Z");
  CHECK((*condition(again["status"], "Ready"))["lastTransitionTime"] == "2026-11-28T10:00:01Z");
}

TEST_CASE("a Kustomization's revision comes from its source's artifact") {
  json git = object("source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system");
  git["status"]["artifact"]["revision"] = "main@sha1:feedfeedfeedfeedfeedfeedfeedfeedfeedfeed";
  json o = kustomization();
  auto ref = source_ref(ApiSet::kCurrent, kind_of("ks"), o);
  REQUIRE(ref);
  CHECK(std::get<0>(*ref) == "gitrepositories");
  CHECK(std::get<1>(*ref) == "flux-system");
  CHECK(std::get<2>(*ref) == "flux-system");
  CHECK(revision_for(kind_of("ks"), o, Behaviour(), &git) ==
        "main@sha1:feedfeedfeedfeedfeedfeedfeedfeedfeedfeed");
  // Without a source the revision is made up, in the same shape.
  std::string made_up = revision_for(kind_of("ks"), o, Behaviour(), nullptr);
  CHECK(std::regex_match(made_up, std::regex("^main@sha1:[0-9a-f]{40}$")));
  // The behaviour's revision wins.
  Behaviour b;
  b.revision = "v1@sha1:abc";
  CHECK(revision_for(kind_of("ks"), o, b, &git) == "v1@sha1:abc");
}

TEST_CASE("a failing Kustomization is retried: Ready False, Reconciling ProgressingWithRetry") {
  json o = kustomization();
  o["metadata"]["generation"] = 2;
  o["status"] = {{"observedGeneration", 1}, {"lastAppliedRevision", "main@sha1:old"}};
  annotate(o, "reconcile.fluxcd.io/requestedAt", "t1");
  Behaviour b;
  b.mode = Mode::kFail;
  b.revision = "main@sha1:new";
  const json s = reconcile(kind_of("ks"), o, b)["status"];
  CHECK(s["lastHandledReconcileAt"] == "t1");
  CHECK(s["observedGeneration"] == 1);
  CHECK(s["lastAppliedRevision"] == "main@sha1:old");
  CHECK(s["lastAttemptedRevision"] == "main@sha1:new");
  const json& ready = *condition(s, "Ready");
  CHECK(ready["status"] == "False");
  CHECK(ready["reason"] == "BuildFailed");
  CHECK(ready["observedGeneration"] == 2);
  REQUIRE(condition(s, "Reconciling") != nullptr);
  CHECK((*condition(s, "Reconciling"))["reason"] == "ProgressingWithRetry");
  CHECK(condition(s, "Stalled") == nullptr);

  b.reason = "HealthCheckFailed";
  b.message = "timeout waiting for: [Deployment/apps/web status: 'InProgress']";
  const json custom = reconcile(kind_of("ks"), o, b)["status"];
  CHECK((*condition(custom, "Ready"))["reason"] == "HealthCheckFailed");
  CHECK((*condition(custom, "Ready"))["message"] == b.message);
}

TEST_CASE("a stalled object: Stalled True, no Reconciling, generation observed") {
  json o = kustomization();
  o["metadata"]["generation"] = 4;
  annotate(o, "reconcile.fluxcd.io/requestedAt", "t2");
  Behaviour b;
  b.mode = Mode::kFailStalled;
  const json s = reconcile(kind_of("ks"), o, b)["status"];
  CHECK(s["observedGeneration"] == 4);
  CHECK(s["lastHandledReconcileAt"] == "t2");
  CHECK((*condition(s, "Ready"))["status"] == "False");
  REQUIRE(condition(s, "Stalled") != nullptr);
  CHECK((*condition(s, "Stalled"))["status"] == "True");
  CHECK(condition(s, "Reconciling") == nullptr);

  // A later success clears Stalled.
  json recovered = o;
  recovered["status"] = s;
  const json r = reconcile(kind_of("ks"), recovered, Behaviour())["status"];
  CHECK(condition(r, "Stalled") == nullptr);
  CHECK((*condition(r, "Ready"))["status"] == "True");
}

TEST_CASE("sources store an artifact") {
  json git = object("source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system");
  git["spec"] = {{"url", "https://github.com/example/fleet"}, {"ref", {{"branch", "prod"}}}};
  const json s = reconcile(kind_of("gitrepositories"), git, Behaviour())["status"];
  std::string revision = s["artifact"]["revision"];
  CHECK(std::regex_match(revision, std::regex("^prod@sha1:[0-9a-f]{40}$")));
  CHECK(std::regex_match(s["artifact"]["digest"].get<std::string>(),
                         std::regex("^sha256:[0-9a-f]{64}$")));
  CHECK(s["artifact"]["url"].get<std::string>().rfind(
            "http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/"
            "flux-system/",
            0) == 0);
  CHECK(s["artifact"]["lastUpdateTime"] == "2026-11-28T10:00:01Z");
  CHECK((*condition(s, "Ready"))["reason"] == "Succeeded");
  CHECK((*condition(s, "Ready"))["message"] == "stored artifact for revision '" + revision + "'");
  CHECK((*condition(s, "ArtifactInStorage"))["status"] == "True");
  CHECK(s["observedGeneration"] == 1);

  json oci = object("source.toolkit.fluxcd.io/v1", "OCIRepository", "manifests");
  oci["spec"]["ref"]["tag"] = "v2";
  const json os = reconcile(kind_of("ocirepositories"), oci, Behaviour())["status"];
  CHECK(std::regex_match(os["artifact"]["revision"].get<std::string>(),
                         std::regex("^v2@sha256:[0-9a-f]{64}$")));

  json chart = object("source.toolkit.fluxcd.io/v1", "HelmChart", "flux-system-podinfo");
  chart["spec"] = {{"chart", "podinfo"}, {"version", "6.5.4"}};
  const json cs = reconcile(kind_of("helmcharts"), chart, Behaviour())["status"];
  CHECK(cs["artifact"]["revision"] == "6.5.4");
  CHECK((*condition(cs, "Ready"))["reason"] == "ChartPullSucceeded");
  CHECK((*condition(cs, "Ready"))["message"] == "pulled 'podinfo' chart with version '6.5.4'");

  // A failure keeps the old artifact and reports FetchFailed.
  json failed_in = git;
  failed_in["status"] = s;
  annotate(failed_in, "reconcile.fluxcd.io/requestedAt", "t3");
  Behaviour fail;
  fail.mode = Mode::kFail;
  const json f = reconcile(kind_of("gitrepositories"), failed_in, fail)["status"];
  CHECK(f["artifact"]["revision"] == revision);
  CHECK((*condition(f, "FetchFailed"))["reason"] == "GitOperationFailed");
  CHECK((*condition(f, "Ready"))["status"] == "False");
  CHECK(f["lastHandledReconcileAt"] == "t3");
}

TEST_CASE("HelmRelease: install, no-op reconcile, forced upgrade, failures and reset") {
  const FluxKind& hr = kind_of("hr");
  json o = helm_release();
  annotate(o, "reconcile.fluxcd.io/requestedAt", "t1");
  o = reconcile(hr, o, Behaviour());
  CHECK(o["status"]["lastAttemptedRevision"] == "6.5.4");
  CHECK(o["status"]["history"].size() == 1);
  CHECK(o["status"]["history"][0]["version"] == 1);
  CHECK(o["status"]["history"][0]["chartVersion"] == "6.5.4");
  CHECK(o["status"]["helmChart"] == "flux-system/flux-system-podinfo");
  CHECK((*condition(o["status"], "Ready"))["reason"] == "InstallSucceeded");
  CHECK((*condition(o["status"], "Ready"))["message"] ==
        "Helm install succeeded for release flux-system/podinfo.v1 with chart podinfo@6.5.4");
  CHECK_FALSE(o["status"].contains("lastAppliedRevision"));  // not in helm v2

  // A plain reconcile request with nothing changed makes no new release.
  annotate(o, "reconcile.fluxcd.io/requestedAt", "t2");
  o = reconcile(hr, o, Behaviour());
  CHECK(o["status"]["history"].size() == 1);
  CHECK(o["status"]["lastHandledReconcileAt"] == "t2");

  // forceAt equal to requestedAt forces an upgrade and is recorded.
  annotate(o, "reconcile.fluxcd.io/requestedAt", "t3");
  annotate(o, "reconcile.fluxcd.io/forceAt", "t3");
  o = reconcile(hr, o, Behaviour());
  CHECK(o["status"]["lastHandledForceAt"] == "t3");
  CHECK(o["status"]["history"][0]["version"] == 2);
  CHECK(o["status"]["history"][1]["status"] == "superseded");
  CHECK((*condition(o["status"], "Ready"))["reason"] == "UpgradeSucceeded");

  // A forceAt that does not match requestedAt is recorded but not acted on.
  annotate(o, "reconcile.fluxcd.io/requestedAt", "t4");
  annotate(o, "reconcile.fluxcd.io/forceAt", "other");
  o = reconcile(hr, o, Behaviour());
  CHECK(o["status"]["lastHandledForceAt"] == "other");
  CHECK(o["status"]["history"][0]["version"] == 2);

  Behaviour fail;
  fail.mode = Mode::kFail;
  o["metadata"]["generation"] = 2;
  o = reconcile(hr, o, fail);
  CHECK(o["status"]["failures"] == 1);
  CHECK(o["status"]["upgradeFailures"] == 1);
  CHECK((*condition(o["status"], "Ready"))["reason"] == "UpgradeFailed");
  CHECK((*condition(o["status"], "Released"))["status"] == "False");
  CHECK(o["status"]["observedGeneration"] == 1);

  annotate(o, "reconcile.fluxcd.io/requestedAt", "t5");
  annotate(o, "reconcile.fluxcd.io/resetAt", "t5");
  Behaviour stalled;
  stalled.mode = Mode::kFailStalled;
  o = reconcile(hr, o, stalled);
  CHECK(o["status"]["lastHandledResetAt"] == "t5");
  CHECK(o["status"]["failures"] == 1);  // reset, then this failure
  CHECK((*condition(o["status"], "Stalled"))["reason"] == "RetriesExceeded");
  CHECK(o["status"]["observedGeneration"] == 2);

  json old = helm_release();
  old["apiVersion"] = "helm.toolkit.fluxcd.io/v2beta2";
  old = reconcile(kind_of("hr", ApiSet::kOld), old, Behaviour(), ApiSet::kOld);
  CHECK(old["status"]["lastAppliedRevision"] == "6.5.4");
}

TEST_CASE("image and notification kinds") {
  json repo = object("image.toolkit.fluxcd.io/v1", "ImageRepository", "podinfo");
  repo["spec"]["image"] = "ghcr.io/stefanprodan/podinfo";
  const json rs = reconcile(kind_of("imagerepositories"), repo, Behaviour())["status"];
  CHECK(rs["lastScanResult"]["tagCount"] == 3);
  CHECK((*condition(rs, "Ready"))["status"] == "True");

  json iua = object("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation", "fleet");
  const json is = reconcile(kind_of("imageupdateautomations"), iua, Behaviour())["status"];
  CHECK(is["lastAutomationRunTime"] == "2026-11-28T10:00:01Z");

  json receiver = object("notification.toolkit.fluxcd.io/v1", "Receiver", "github");
  const json recv = reconcile(kind_of("receivers"), receiver, Behaviour())["status"];
  std::string path = recv["webhookPath"];
  CHECK(path.rfind("/hook/", 0) == 0);
  CHECK((*condition(recv, "Ready"))["message"] == "Receiver initialized for path: " + path);
}

namespace {

// An in-memory stand-in for kube-sim's store that reports every change back
// to the controller, as the real store's change notifications do.
class FakeStore : public ObjectAccess {
 public:
  explicit FakeStore(Controller*& controller) : controller_(controller) {}

  void put(const std::string& resource, json object) {
    std::string ns = object["metadata"]["namespace"], name = object["metadata"]["name"];
    {
      std::lock_guard lock(mu_);
      objects_[{resource, ns, name}] = object;
    }
    controller_->observe(resource, object);
  }

  std::optional<json> get(const std::string& resource, const std::string& ns,
                          const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find({resource, ns, name});
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }

  bool write_status(const std::string& resource, const std::string& ns, const std::string& name,
                    const json& status) override {
    json copy;
    {
      std::lock_guard lock(mu_);
      auto it = objects_.find({resource, ns, name});
      if (it == objects_.end()) return false;
      it->second["status"] = status;
      ++writes_;
      copy = it->second;
    }
    controller_->observe(resource, copy);
    return true;
  }

  int writes() {
    std::lock_guard lock(mu_);
    return writes_;
  }

 private:
  Controller*& controller_;
  std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, json> objects_;
  int writes_ = 0;
};

bool eventually(const std::function<bool()>& check,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return check();
}

std::string ready_status(FakeStore& store, const std::string& name) {
  auto o = store.get("kustomizations", "flux-system", name);
  if (!o || !o->contains("status")) return "";
  const json* c = condition((*o)["status"], "Ready");
  return c == nullptr ? "" : (*c)["status"].get<std::string>();
}

}  // namespace

TEST_CASE("the controller answers creation and reconcile requests after the delay") {
  Controller* controller = nullptr;
  FakeStore store(controller);
  Controller c(ApiSet::kCurrent, store);
  controller = &c;
  c.start();

  BehaviourRule slow = parse_behaviour(ApiSet::kCurrent, {{"kind", "ks"},
                                                          {"namespace", "flux-system"},
                                                          {"name", "apps"},
                                                          {"delay_ms", 1000},
                                                          {"revision", "main@sha1:aaa"}});
  c.set_behaviour(slow);
  auto start = std::chrono::steady_clock::now();
  store.put("kustomizations", kustomization("apps"));
  REQUIRE(eventually([&] { return ready_status(store, "apps") == "Unknown"; }));
  REQUIRE(eventually([&] { return ready_status(store, "apps") == "True"; }));
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(1000));
  CHECK(store.get("kustomizations", "flux-system", "apps")->at("status")["lastAppliedRevision"] ==
        "main@sha1:aaa");

  // A status write alone does not trigger another round.
  int writes = store.writes();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(store.writes() == writes);

  json o = *store.get("kustomizations", "flux-system", "apps");
  annotate(o, "reconcile.fluxcd.io/requestedAt", "2026-11-28T12:00:00Z");
  store.put("kustomizations", o);
  REQUIRE(eventually([&] {
    auto cur = store.get("kustomizations", "flux-system", "apps");
    return cur->at("status").value("lastHandledReconcileAt", "") == "2026-11-28T12:00:00Z";
  }));
  c.stop();
}

TEST_CASE("the controller leaves suspended and never-answered objects alone") {
  Controller* controller = nullptr;
  FakeStore store(controller);
  Controller c(ApiSet::kCurrent, store);
  controller = &c;
  c.start();
  c.set_behaviour(parse_behaviour(
      ApiSet::kCurrent,
      {{"kind", "kustomizations"}, {"name", "mute"}, {"mode", "never"}, {"delay_ms", 0}}));
  c.set_behaviour(parse_behaviour(ApiSet::kCurrent, {{"delay_ms", 0}}));
  json suspended = kustomization("paused");
  suspended["spec"]["suspend"] = true;
  store.put("kustomizations", suspended);
  store.put("kustomizations", kustomization("mute"));
  store.put("kustomizations", kustomization("control"));
  REQUIRE(eventually([&] { return ready_status(store, "control") == "True"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(store.get("kustomizations", "flux-system", "paused")->contains("status"));
  CHECK_FALSE(store.get("kustomizations", "flux-system", "mute")->contains("status"));

  // Resuming is a spec change: a new generation, reconciled.
  suspended["spec"]["suspend"] = false;
  suspended["metadata"]["generation"] = 2;
  store.put("kustomizations", suspended);
  REQUIRE(eventually([&] { return ready_status(store, "paused") == "True"; }));
  auto stop_start = std::chrono::steady_clock::now();
  c.stop();
  CHECK(std::chrono::steady_clock::now() - stop_start < std::chrono::seconds(2));
}

TEST_CASE("a Kustomization waits for its new source's first artifact") {
  Controller* controller = nullptr;
  FakeStore store(controller);
  Controller c(ApiSet::kCurrent, store);
  controller = &c;
  c.start();
  c.set_behaviour(
      parse_behaviour(ApiSet::kCurrent, {{"kind", "gitrepositories"}, {"delay_ms", 300}}));
  c.set_behaviour(parse_behaviour(ApiSet::kCurrent, {{"kind", "ks"}, {"delay_ms", 0}}));
  store.put("gitrepositories",
            object("source.toolkit.fluxcd.io/v1", "GitRepository", "flux-system"));
  store.put("kustomizations", kustomization("apps"));
  REQUIRE(eventually([&] { return ready_status(store, "apps") == "True"; }));
  auto git = store.get("gitrepositories", "flux-system", "flux-system");
  REQUIRE(git->contains("status"));
  CHECK(store.get("kustomizations", "flux-system", "apps")->at("status")["lastAppliedRevision"] ==
        (*git)["status"]["artifact"]["revision"]);
  c.stop();
}

TEST_CASE("behaviour lookup: the most specific rule wins") {
  Controller* controller = nullptr;
  FakeStore store(controller);
  Controller c(ApiSet::kCurrent, store);
  c.set_behaviour(parse_behaviour(ApiSet::kCurrent, {{"mode", "fail"}}));
  c.set_behaviour(parse_behaviour(ApiSet::kCurrent, {{"kind", "ks"}, {"mode", "never"}}));
  c.set_behaviour(parse_behaviour(
      ApiSet::kCurrent, {{"kind", "ks"}, {"namespace", "a"}, {"name", "x"}, {"delay_ms", 7}}));
  CHECK(c.behaviour_for("helmreleases", "a", "x").mode == Mode::kFail);
  CHECK(c.behaviour_for("kustomizations", "b", "x").mode == Mode::kNever);
  CHECK(c.behaviour_for("kustomizations", "a", "x").mode == Mode::kSucceed);
  CHECK(c.behaviour_for("kustomizations", "a", "x").delay_ms == 7);
  CHECK(c.behaviours_json().size() == 3);
  c.clear_behaviours();
  CHECK(c.behaviour_for("helmreleases", "a", "x").mode == Mode::kSucceed);
}

}  // namespace kube_flux_test
