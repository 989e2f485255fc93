// The fault matrix of `fluxkey reconcile` (tests/fault_matrix_reconcile.md):
// one test a cell, a fault injected into kube-sim at one step of a reconcile
// (the GET of the object, the merge PATCH of requestedAt, the watch, the
// poll fallback, discovery, the source with --with-source), and four things
// asserted of each:
//   (a) the exit code of the contract (4: not Ready in time, 1: the rest);
//   (b) exactly one error line, naming the object, and the fix when there is one;
//   (c) kube-sim's request log: a bounded number of requests, retries backed
//       off (the gaps between them), Retry-After honoured;
//   (d) the truth: reconcile.fluxcd.io/requestedAt is set exactly when fluxkey
//       says it asked (the JSON log's requestedAt), and the revision printed is
//       the one kube-sim's controller reached.
// Then the worst few through `fluxkey action`, checking its outputs and ::error.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/base64.h"
#include "core/time.h"
#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace fault_matrix_reconcile_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

const std::string kKsV1 =
    "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations";
const std::string kApps = kKsV1 + "/apps";
const std::string kGitV1 =
    "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories";
const std::string kSource = kGitV1 + "/flux-system";
const std::string kAppsName = "Kustomization flux-system/apps";
const std::string kSourceName = "GitRepository flux-system/flux-system";
const std::string kRequestedAt = "reconcile.fluxcd.io/requestedAt";

// kube's retry policy (kube/client.cc): backoff ceilings 250 ms, doubling,
// of which at least half is always waited (equal jitter); 5 attempts.
constexpr long long kFirstBackoffFloorMs = 125;
constexpr size_t kAttempts = 5;
// Clock granularity between kube-sim's timestamps.
constexpr long long kSlackMs = 5;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One run of fluxkey with --log-format json: stderr as log records.
struct Run {
  ProcessResult result;
  std::vector<json> log;
  std::vector<std::string> unparsed;  // stderr lines that are not JSON objects
  long long elapsed_ms = 0;

  int exit_code() const { return result.exit_code; }

  std::vector<std::string> errors() const {
    std::vector<std::string> out;
    for (const auto& r : log) {
      if (r.value("level", "") == "error") out.push_back(r.value("msg", ""));
    }
    return out;
  }
  // The one error line (empty when there is not exactly one).
  std::string error() const {
    auto all = errors();
    return all.size() == 1 ? all[0] : std::string();
  }
  // The requestedAt fluxkey says it set on `kind` (its "annotated" record).
  std::optional<std::string> requested_at(const std::string& kind) const {
    for (const auto& r : log) {
      if (r.value("msg", "") == kind + " annotated" && r.contains("requestedAt")) {
        return r["requestedAt"].get<std::string>();
      }
    }
    return std::nullopt;
  }
  bool said(const std::string& part) const {
    for (const auto& r : log) {
      if (contains(r.value("msg", ""), part)) return true;
    }
    return false;
  }
  std::string revision() const {
    std::string out = result.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
};

Run parse_run(ProcessResult result, long long elapsed_ms) {
  Run run;
  run.result = std::move(result);
  run.elapsed_ms = elapsed_ms;
  std::istringstream in(run.result.err);
  for (std::string line; std::getline(in, line);) {
    json record = json::parse(line, nullptr, false);
    if (record.is_object()) {
      run.log.push_back(std::move(record));
    } else {
      run.unparsed.push_back(line);
    }
  }
  return run;
}

long long ms_of(const std::string& rfc3339) {
  auto at = parse_rfc3339(rfc3339);
  return at ? std::chrono::duration_cast<milliseconds>(at->time_since_epoch()).count() : -1;
}

// When kube-sim finished a request (ts) and when it began (ts - duration).
long long end_ms(const json& r) {
  return ms_of(r["ts"].get<std::string>());
}
long long start_ms(const json& r) {
  return end_ms(r) - static_cast<long long>(r.value("duration_ms", 0.0));
}

// The gaps between one request's end and the next one's start: the client's
// wait before retrying.
std::vector<long long> gaps(const std::vector<json>& requests) {
  std::vector<long long> out;
  for (size_t i = 1; i < requests.size(); ++i) {
    out.push_back(start_ms(requests[i]) - end_ms(requests[i - 1]));
  }
  return out;
}

// libcurl sends a request again at once, on a fresh connection, when the
// kept-alive connection it reused dies before any reply (as Go's transport
// does): a reset on the first PATCH (which reuses the GET's connection)
// shows as two requests a few ms apart. That one is curl's, not a retry of
// fluxkey's: left out, so the backoff is judged on fluxkey's own attempts.
std::vector<json> without_reconnect(std::vector<json> requests) {
  if (requests.size() >= 2 && requests[0]["status"] == 0 &&
      start_ms(requests[1]) - end_ms(requests[0]) < 50) {
    requests.erase(requests.begin());
  }
  return requests;
}

// Each retry waited at least its floor: first_floor, doubling (capped).
void check_backoff(const std::vector<json>& requests, long long first_floor,
                   long long cap = 2'500) {
  long long floor = first_floor;
  for (long long gap : gaps(requests)) {
    CHECK_MESSAGE(gap >= floor - kSlackMs, "gap " << gap << " ms < floor " << floor << " ms");
    floor = std::min(floor * 2, cap);
  }
}

std::string query_param(const json& r, const std::string& name) {
  std::string query = "&" + r.value("query", "");
  size_t at = query.find("&" + name + "=");
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  return query.substr(at, query.find('&', at) - at);
}

// kube-sim with a GitRepository and the Kustomization apps built from it;
// its simulated controllers answer in 100 ms.
struct Cluster {
  SimProcess sim;
  std::string admin_token;  // the test's own reads, left out of requests()
  std::string ci_token;     // fluxkey's, unless a test picks another identity

  explicit Cluster(std::vector<std::string> args = {}) : sim(binary_from_env("KUBE_SIM"), args) {}

  void setup(bool old_api = false) {
    admin_token = kube_admin_token(sim);
    const std::string seed = flux_source_and_kustomization(FluxVersions::of(old_api)) + "---\n" +
                             flux_reconcile_service_account();
    auto reply = sim.request("POST", "/_sim/objects", seed, "application/yaml");
    REQUIRE_MESSAGE(reply.status == 201, reply.body);
    ci_token = sim.control("POST", "/_sim/tokens",
                           {{"user", "ci"}, {"groups", {"system:masters"}}})["token"];
  }

  // Waits (bounded) for the controllers' first reconcile of the seed, so
  // that fluxkey's request starts from Ready objects: the events after its
  // patch are then Reconciling, and Ready.
  void settle(bool old_api = false) const {
    const std::string v = old_api ? "v1beta2" : "v1";
    wait_until([&] {
      for (const std::string& path : {"/apis/kustomize.toolkit.fluxcd.io/" + v +
                                          "/namespaces/flux-system/kustomizations/apps",
                                      "/apis/source.toolkit.fluxcd.io/" + v +
                                          "/namespaces/flux-system/gitrepositories/flux-system"}) {
        json o = object(path);
        bool ready = false;
        for (const auto& c : o.value("status", json::object()).value("conditions", json::array())) {
          ready = ready || (c.value("type", "") == "Ready" && c.value("status", "") == "True");
        }
        if (!ready) return false;
      }
      return true;
    });
  }

  std::string kubeconfig(const std::string& token = "", const std::string& server = "",
                         const std::string& ca_file = "") const {
    return "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: " +
           (server.empty() ? sim.url() : server) + "\n    certificate-authority-data: " +
           base64_encode(read_text(ca_file.empty() ? sim.ca_file() : ca_file)) +
           "\nusers:\n- name: ci\n  user:\n    token: " + (token.empty() ? ci_token : token) +
           "\ncontexts:\n- name: ci\n  context:\n    cluster: sim\n    user: ci\n"
           "current-context: ci\n";
  }

  // `fluxkey reconcile --name apps --log-format json ARGS`, its credentials
  // in FLUXKEY_KUBECONFIG_DATA (the admin's unless `kubeconfig` is given).
  Run reconcile(std::vector<std::string> args = {}, const std::string& kubeconfig_text = "",
                milliseconds budget = 30s) const {
    std::vector<std::string> argv = {"reconcile", "--log-format", "json"};
    if (std::find(args.begin(), args.end(), "--name") == args.end()) {
      argv.insert(argv.end(), {"--name", "apps"});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    std::string data = kubeconfig_text.empty() ? kubeconfig() : kubeconfig_text;
    auto start = std::chrono::steady_clock::now();
    ProcessResult result =
        run_fluxkey(argv, {{"FLUXKEY_KUBECONFIG_DATA", base64_encode(data)}}, budget);
    auto elapsed =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start).count();
    return parse_run(std::move(result), elapsed);
  }

  void fault(const json& spec) const { sim.add_fault(spec); }
  void behave(const json& rule) const { sim.control("POST", "/_sim/flux", rule); }

  // What fluxkey sent (the test's own reads as admin left out).
  std::vector<json> fluxkey_requests() const {
    std::vector<json> out;
    for (const auto& r : sim.requests()) {
      if (r.value("user", "") != "admin") out.push_back(r);
    }
    return out;
  }
  // fluxkey's requests by method and exact path; watches (watch=true) apart.
  std::vector<json> requests(const std::string& method, const std::string& path,
                             bool watches = false) const {
    std::vector<json> out;
    for (const auto& r : fluxkey_requests()) {
      bool watch = contains(r.value("query", ""), "watch=true");
      if (r["method"] == method && r["path"] == path && watch == watches) out.push_back(r);
    }
    return out;
  }
  std::vector<json> watches(const std::string& collection) const {
    return requests("GET", collection, true);
  }
  std::vector<json> writes() const {
    std::vector<json> out;
    for (const auto& r : fluxkey_requests()) {
      if (r["method"] != "GET") out.push_back(r);
    }
    return out;
  }

  // The object as kube-sim holds it (faults cleared first: the run is over).
  json object(const std::string& path) const {
    sim.clear_faults();
    auto reply = sim.request("GET", path, "", "", {{"Authorization", "Bearer " + admin_token}});
    REQUIRE_MESSAGE(reply.status == 200, path << ": " << reply.body);
    return reply.json();
  }
  std::string annotation(const std::string& path) const {
    json o = object(path);
    return o["metadata"].value("annotations", json::object()).value(kRequestedAt, "");
  }

  // A static token for `user`.
  std::string token_for(const std::string& user) const {
    return sim.control("POST", "/_sim/tokens", {{"user", user}})["token"];
  }
  // Enforces RBAC: `user` may use `verbs` on kustomizations and gitrepositories.
  void grant(const std::string& subject_yaml, const std::string& verbs) const {
    std::string yaml = R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reconcile, namespace: flux-system}
rules:
- apiGroups: [kustomize.toolkit.fluxcd.io]
  resources: [kustomizations]
  verbs: [VERBS]
- apiGroups: [source.toolkit.fluxcd.io]
  resources: [gitrepositories]
  verbs: [VERBS]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reconcile, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reconcile}
subjects: [SUBJECT]
)";
    yaml = replace_all(replace_all(yaml, "VERBS", verbs), "SUBJECT", subject_yaml);
    auto reply = sim.request("POST", "/_sim/rbac", yaml, "application/yaml");
    REQUIRE_MESSAGE(reply.status / 100 == 2, reply.body);
  }

  // Waits (bounded) until `done` holds.
  void wait_until(const std::function<bool()>& done, milliseconds limit = 10s) const {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (done()) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL("what the test waited for never happened");
  }
  // Waits (bounded) until kube-sim has logged a request `pred` accepts.
  void wait_for_request(const std::function<bool(const json&)>& pred,
                        milliseconds limit = 10s) const {
    wait_until(
        [&] {
          for (const auto& r : sim.requests()) {
            if (pred(r)) return true;
          }
          return false;
        },
        limit);
  }
  void wait_for_patch(const std::string& path) const {
    wait_for_request([&](const json& r) { return r["method"] == "PATCH" && r["path"] == path; });
  }
  // For a run whose watch is forbidden: polling has begun once the PATCH
  // landed, the watch was refused, and a GET of the object came after both.
  void wait_until_polling(const std::string& path) const {
    wait_until([&] {
      bool patched = false, refused = false;
      for (const auto& r : sim.requests()) {
        patched = patched || (r["method"] == "PATCH" && r["path"] == path);
        refused = refused || (r["status"] == 403 &&
                              r.value("query", "").find("watch=true") != std::string::npos);
        if (patched && refused && r["method"] == "GET" && r["path"] == path) return true;
      }
      return false;
    });
  }
};

// A fresh cluster, seeded.
struct Fixture {
  Cluster cluster;
  explicit Fixture(std::vector<std::string> args = {}, bool old_api = false)
      : cluster(std::move(args)) {
    cluster.setup(old_api);
  }
};

// (b): every stderr line a JSON record, exactly one of them an error, which
// names `object` and says each of `parts`.
void check_one_error(const Run& run, const std::string& object,
                     const std::vector<std::string>& parts = {}) {
  CHECK_MESSAGE(run.unparsed.empty(),
                "not JSON: " << (run.unparsed.empty() ? "" : run.unparsed[0]));
  REQUIRE_MESSAGE(run.errors().size() == 1, run.result.err);
  const std::string error = run.error();
  CHECK_MESSAGE(contains(error, object), error);
  for (const auto& part : parts)
    CHECK_MESSAGE(contains(error, part), "missing \"" << part << "\" in: " << error);
  CHECK(error.find('\n') == std::string::npos);
}

// (d) for one object: requestedAt is what fluxkey says it set, or absent
// when it says nothing, unless its error says the write may have landed.
void check_requested(const Cluster& c, const Run& run, const std::string& path,
                     const std::string& kind) {
  const std::string annotation = c.annotation(path);
  if (auto asked = run.requested_at(kind)) {
    CHECK_MESSAGE(annotation == *asked,
                  kind << ": annotated " << annotation << ", said " << *asked);
  } else if (!contains(run.error(), "the annotation may be set all the same")) {
    CHECK_MESSAGE(annotation.empty(), kind << " annotated " << annotation << " unannounced");
  }
}

// (d) for a success: the Kustomization ready for exactly fluxkey's request,
// at the revision printed, alone, on stdout.
void check_ready(const Cluster& c, const Run& run) {
  REQUIRE_MESSAGE(run.exit_code() == 0, run.result.err);
  CHECK(run.errors().empty());
  json ks = c.object(kApps);
  auto asked = run.requested_at("Kustomization");
  REQUIRE(asked.has_value());
  CHECK(ks["metadata"]["annotations"][kRequestedAt] == *asked);
  CHECK(ks["status"].value("lastHandledReconcileAt", "") == *asked);
  const std::string revision = ks["status"].value("lastAppliedRevision", "");
  CHECK(revision.rfind("main@sha1:", 0) == 0);
  CHECK(run.result.out == revision + "\n");
}

// (d) for a failure: nothing on stdout, and the annotations as told.
void check_failed(const Cluster& c, const Run& run, int code) {
  CHECK_MESSAGE(run.exit_code() == code, run.result.err);
  CHECK(run.result.out.empty());
  check_requested(c, run, kApps, "Kustomization");
  check_requested(c, run, kSource, "GitRepository");
}

json status_fault(const std::string& method, const std::string& path, int status, int times,
                  const json& extra = json::object()) {
  json f = {{"method", method},
            {"path", path},
            {"action", "status"},
            {"status", status},
            {"times", times}};
  f.update(extra);
  return f;
}

// The API server's own 429 from API Priority and Fairness.
const char* const kApfBody =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429})";

// Path regexes: the object (GET/PATCH) and the collection (the watch).
const std::string kAppsRe = "/kustomizations/apps$";
const std::string kKsWatchRe = "/kustomizations$";
const std::string kSourceRe = "/gitrepositories/flux-system$";
const std::string kGitWatchRe = "/gitrepositories$";

}  // namespace

// ---------------------------------------------------------------------------
// Connection refused

TEST_CASE("reconcile fault: connection refused at the first request") {
  Fixture f;
  // Port 1 on 127.0.0.1: nothing listens, the connection is refused.
  Run run = f.cluster.reconcile({}, f.cluster.kubeconfig("", "https://127.0.0.1:1"));
  CHECK(run.exit_code() == 1);
  check_one_error(run, kAppsName,
                  {"cannot read Kustomization flux-system/apps: cannot reach the API server "
                   "https://127.0.0.1:1",
                   "connection refused", "(tried 5 times)"});
  // Backed off between the five attempts (floors 125+250+500+1000 ms), bounded.
  CHECK(run.elapsed_ms >= 1'875);
  CHECK(run.elapsed_ms < 10'000);
  CHECK(run.result.out.empty());
  CHECK(f.cluster.annotation(kApps).empty());
}

TEST_CASE("reconcile fault: the API server goes away while fluxkey polls") {
  Fixture f;
  std::string token = f.cluster.token_for("ci-bot");
  f.cluster.grant("{kind: User, name: ci-bot}", "get, patch");  // no watch: polls
  f.cluster.behave({{"kind", "kustomization"}, {"mode", "never"}});
  auto pending = std::async(std::launch::async,
                            [&] { return f.cluster.reconcile({}, f.cluster.kubeconfig(token)); });
  f.cluster.wait_until_polling(kApps);
  const std::string annotated = f.cluster.annotation(kApps);
  f.cluster.sim.terminate();
  Run run = pending.get();
  CHECK(run.exit_code() == 1);
  check_one_error(run, kAppsName,
                  {"cannot poll Kustomization flux-system/apps (annotated at ", "cannot reach",
                   "connection refused", "(tried 5 times)"});
  // What fluxkey said it set is what the server held when it went away.
  REQUIRE(run.requested_at("Kustomization").has_value());
  CHECK(*run.requested_at("Kustomization") == annotated);
  CHECK(contains(run.error(), annotated));
  CHECK(run.result.out.empty());
  CHECK(run.elapsed_ms < 15'000);
}

// ---------------------------------------------------------------------------
// Connection reset, truncated replies, a watch cut mid-way

TEST_CASE("reconcile fault: GET reset (RST, no reply) once") {
  Fixture f;
  f.cluster.fault({{"method", "GET"}, {"path", kAppsRe}, {"action", "reset"}});
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  auto gets = f.cluster.requests("GET", kApps);
  REQUIRE(gets.size() == 2);
  CHECK(gets[0]["status"] == 0);
  check_backoff(gets, kFirstBackoffFloorMs);
  CHECK(f.cluster.requests("PATCH", kApps).size() == 1);
}

TEST_CASE("reconcile fault: PATCH reset every time: bounded, and honest about the write") {
  Fixture f;
  f.cluster.fault({{"method", "PATCH"}, {"path", kAppsRe}, {"action", "reset"}, {"times", -1}});
  Run run = f.cluster.reconcile();
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"cannot annotate Kustomization flux-system/apps: ", "(tried 5 times)",
                   "the annotation may be set all the same"});
  auto patches = without_reconnect(f.cluster.requests("PATCH", kApps));
  CHECK(patches.size() == kAttempts);
  check_backoff(patches, kFirstBackoffFloorMs);
  // Reset before it was served: nothing was written.
  CHECK(f.cluster.annotation(kApps).empty());
  CHECK(f.cluster.watches(kKsV1).empty());
}

TEST_CASE("reconcile fault: PATCH applied, then its reply reset: sent again, same value") {
  Fixture f;
  f.cluster.fault(
      {{"method", "PATCH"}, {"path", kAppsRe}, {"action", "reset"}, {"phase", "after"}});
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  // Applied, reset, sent again on a fresh connection (by libcurl at once, or
  // by fluxkey after its backoff): the same value twice, one request in all.
  auto patches = f.cluster.requests("PATCH", kApps);
  REQUIRE(patches.size() == 2);
  CHECK(patches[0]["status"] == 0);
  CHECK(patches[1]["status"] == 200);
}

TEST_CASE("reconcile fault: GET reply truncated mid-body once") {
  Fixture f;
  f.cluster.fault({{"method", "GET"}, {"path", kAppsRe}, {"action", "truncate"}});
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  auto gets = f.cluster.requests("GET", kApps);
  REQUIRE(gets.size() == 2);
  CHECK(gets[0]["fault"] == "truncate");
  check_backoff(gets, kFirstBackoffFloorMs);
}

TEST_CASE("reconcile fault: PATCH reply truncated mid-body once (the patch applied)") {
  Fixture f;
  f.cluster.fault({{"method", "PATCH"}, {"path", kAppsRe}, {"action", "truncate"}});
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  CHECK(f.cluster.requests("PATCH", kApps).size() == 2);
}

TEST_CASE("reconcile fault: a 200 whose JSON ends early (Content-Length agrees)") {
  Fixture f;
  f.cluster.fault(status_fault(
      "GET", kAppsRe, 200, 1,
      {{"body",
        R"({"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","meta)"}}));
  Run run = f.cluster.reconcile();
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"cannot read Kustomization flux-system/apps: the API server ",
                   "with something that is not JSON"});
  // Not a transient failure: asked once, nothing written.
  CHECK(f.cluster.requests("GET", kApps).size() == 1);
  CHECK(f.cluster.writes().empty());
}

TEST_CASE("reconcile fault: the watch stream cut after its first event is resumed from it") {
  Fixture f;
  f.cluster.settle();
  f.cluster.behave({{"kind", "kustomization"}, {"mode", "succeed"}, {"delay_ms", 300}});
  f.cluster.sim.control("POST", "/_sim/watch-cuts",
                        {{"path", kKsWatchRe}, {"after_events", 1}, {"how", "close"}});
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  auto watches = f.cluster.watches(kKsV1);
  REQUIRE(watches.size() == 2);
  // Resumed after the event it had (Reconciling), not from the patch again.
  long long first = std::stoll(query_param(watches[0], "resourceVersion"));
  long long resumed = std::stoll(query_param(watches[1], "resourceVersion"));
  CHECK(resumed > first);
  CHECK(f.cluster.requests("GET", kApps).size() == 1);  // no polling
  CHECK(f.cluster.requests("PATCH", kApps).size() == 1);
}

TEST_CASE("reconcile fault: the watch reset (RST) every time: resumed, backed off, then polled") {
  Fixture f;
  f.cluster.sim.control(
      "POST", "/_sim/watch-cuts",
      {{"path", kKsWatchRe}, {"after_events", 0}, {"how", "reset"}, {"times", -1}});
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  CHECK(run.said("watching Kustomization flux-system/apps kept being cut off; polling instead"));
  auto watches = f.cluster.watches(kKsV1);
  CHECK(watches.size() == 4);  // the first, and three resumes without progress
  check_backoff(watches, 250);
  CHECK(f.cluster.requests("GET", kApps).size() >= 2);  // the first GET, then polls
}

// ---------------------------------------------------------------------------
// 500, 502, 503: once and always

TEST_CASE("reconcile fault: GET 500 once") {
  Fixture f;
  f.cluster.fault(status_fault("GET", kAppsRe, 500, 1));
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  auto gets = f.cluster.requests("GET", kApps);
  REQUIRE(gets.size() == 2);
  CHECK(gets[0]["status"] == 500);
  check_backoff(gets, kFirstBackoffFloorMs);
}

TEST_CASE("reconcile fault: GET 503 always: five tries, backed off, then the fix") {
  Fixture f;
  f.cluster.fault(status_fault("GET", kAppsRe, 503, -1));
  Run run = f.cluster.reconcile();
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"cannot read Kustomization flux-system/apps: kube-sim injected fault: HTTP 503 "
                   "(ServiceUnavailable)",
                   "kubectl get --raw='/readyz?verbose'"});
  auto gets = f.cluster.requests("GET", kApps);
  CHECK(gets.size() == kAttempts);
  check_backoff(gets, kFirstBackoffFloorMs);
  CHECK(f.cluster.writes().empty());
}

TEST_CASE("reconcile fault: PATCH 502 once") {
  Fixture f;
  f.cluster.fault(status_fault("PATCH", kAppsRe, 502, 1));
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  auto patches = f.cluster.requests("PATCH", kApps);
  REQUIRE(patches.size() == 2);
  check_backoff(patches, kFirstBackoffFloorMs);
}

TEST_CASE("reconcile fault: watch 503 once") {
  Fixture f;
  f.cluster.fault(status_fault("GET", kKsWatchRe, 503, 1));
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  auto watches = f.cluster.watches(kKsV1);
  REQUIRE(watches.size() == 2);
  check_backoff(watches, kFirstBackoffFloorMs);
  CHECK(f.cluster.requests("GET", kApps).size() == 1);
}

TEST_CASE("reconcile fault: watch 500 always: fluxkey polls instead") {
  Fixture f;
  f.cluster.fault(status_fault("GET", kKsWatchRe, 500, -1));
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  CHECK(run.said("watching Kustomization flux-system/apps failed; polling instead"));
  auto watches = f.cluster.watches(kKsV1);
  CHECK(watches.size() == kAttempts);
  check_backoff(watches, kFirstBackoffFloorMs);
  auto gets = f.cluster.requests("GET", kApps);
  CHECK(gets.size() >= 2);
  CHECK(gets.size() <= 10);
}

TEST_CASE("reconcile fault: poll 502 always (watch forbidden)") {
  Fixture f;
  std::string token = f.cluster.token_for("ci-bot");
  f.cluster.grant("{kind: User, name: ci-bot}", "get, patch");
  f.cluster.behave({{"kind", "kustomization"}, {"mode", "never"}});
  auto pending = std::async(std::launch::async,
                            [&] { return f.cluster.reconcile({}, f.cluster.kubeconfig(token)); });
  f.cluster.wait_for_patch(kApps);
  f.cluster.fault(status_fault("GET", kAppsRe, 502, -1));
  Run run = pending.get();
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"cannot poll Kustomization flux-system/apps (annotated at ",
                   "HTTP 502 (InternalError)", "kept failing after fluxkey retried"});
  std::vector<json> failed;
  for (const auto& r : f.cluster.requests("GET", kApps)) {
    if (r["status"] == 502) failed.push_back(r);
  }
  CHECK(failed.size() == kAttempts);
  check_backoff(failed, kFirstBackoffFloorMs);
}

// ---------------------------------------------------------------------------
// 429: API Priority and Fairness

TEST_CASE("reconcile fault: PATCH 429 with Retry-After: waited out as asked") {
  Fixture f;
  f.cluster.fault(status_fault("PATCH", kAppsRe, 429, 1,
                               {{"headers", {{"Retry-After", "1"}}}, {"body", kApfBody}}));
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  auto patches = f.cluster.requests("PATCH", kApps);
  REQUIRE(patches.size() == 2);
  for (long long gap : gaps(patches)) CHECK(gap >= 1'000 - kSlackMs);
}

TEST_CASE("reconcile fault: GET 429 without Retry-After always: backoff, then the words") {
  Fixture f;
  f.cluster.fault(status_fault("GET", kAppsRe, 429, -1, {{"body", kApfBody}}));
  Run run = f.cluster.reconcile();
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"Too many requests, please try again later. (TooManyRequests)",
                   "API Priority and Fairness"});
  auto gets = f.cluster.requests("GET", kApps);
  CHECK(gets.size() == kAttempts);
  check_backoff(gets, kFirstBackoffFloorMs);
}

TEST_CASE("reconcile fault: 429 asking to wait past the --timeout is not waited for") {
  Fixture f;
  f.cluster.fault(status_fault("GET", kAppsRe, 429, -1,
                               {{"headers", {{"Retry-After", "20"}}}, {"body", kApfBody}}));
  Run run = f.cluster.reconcile({"--timeout", "3s"});
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName, {"(TooManyRequests)", "try again later"});
  CHECK(f.cluster.requests("GET", kApps).size() == 1);
  CHECK(run.elapsed_ms < 3'000);
}

// ---------------------------------------------------------------------------
// Replies slower than the timeout

TEST_CASE("reconcile fault: GET slower than --timeout: exit 1 at the timeout") {
  Fixture f;
  // A reply later than the timeout by a margin a loaded machine's start-up
  // cannot fill: fluxkey must give up at 800 ms, not wait for it.
  f.cluster.fault({{"method", "GET"}, {"path", kAppsRe}, {"action", "delay"}, {"delay_ms", 2'000}});
  Run run = f.cluster.reconcile({"--timeout", "800ms"});
  check_failed(f.cluster, run, 1);
  check_one_error(
      run, kAppsName,
      {"cannot read Kustomization flux-system/apps within the --timeout of 800ms: ", "timed out"});
  CHECK(run.elapsed_ms >= 800);
  CHECK(run.elapsed_ms < 2'000);
  // One attempt: no retry after the deadline (kube-sim logs it once served).
  f.cluster.wait_for_request([](const json& r) { return r.value("fault", "") == "delay"; });
  CHECK(f.cluster.requests("GET", kApps).size() == 1);
  CHECK(f.cluster.writes().empty());
}

TEST_CASE("reconcile fault: PATCH slower than --timeout: exit 1, the write owned up to") {
  Fixture f;
  // As above, a margin past the timeout that a loaded machine cannot fill.
  f.cluster.fault(
      {{"method", "PATCH"}, {"path", kAppsRe}, {"action", "delay"}, {"delay_ms", 2'000}});
  Run run = f.cluster.reconcile({"--timeout", "800ms"});
  CHECK(run.exit_code() == 1);
  check_one_error(run, kAppsName,
                  {"cannot annotate Kustomization flux-system/apps within the --timeout of 800ms: ",
                   "the annotation may be set all the same"});
  CHECK(run.elapsed_ms < 2'000);
  // kube-sim serves it after its delay: the annotation does land.
  f.cluster.wait_for_request([](const json& r) { return r.value("fault", "") == "delay"; });
  CHECK(f.cluster.requests("PATCH", kApps).size() == 1);
  CHECK_FALSE(f.cluster.annotation(kApps).empty());
  CHECK(run.result.out.empty());
}

TEST_CASE("reconcile fault: watch slower than --timeout: exit 4 at the timeout") {
  Fixture f;
  f.cluster.fault(
      {{"method", "GET"}, {"path", kKsWatchRe}, {"action", "delay"}, {"delay_ms", 2'500}});
  Run run = f.cluster.reconcile({"--timeout", "1s"});
  check_failed(f.cluster, run, 4);
  check_one_error(run, kAppsName, {"within 1s"});
  CHECK(run.elapsed_ms >= 1'000);
  CHECK(run.elapsed_ms < 2'500);
  // The request was made and handled; only its answer was not seen in time.
  CHECK(f.cluster.object(kApps)["status"].value("lastHandledReconcileAt", "") ==
        run.requested_at("Kustomization").value_or("?"));
  f.cluster.wait_for_request([](const json& r) { return r.value("fault", "") == "delay"; });
  CHECK(f.cluster.watches(kKsV1).size() == 1);
}

TEST_CASE("reconcile fault: poll slower than --timeout: exit 4 at the timeout") {
  Fixture f;
  std::string token = f.cluster.token_for("ci-bot");
  f.cluster.grant("{kind: User, name: ci-bot}", "get, patch");
  f.cluster.behave({{"kind", "kustomization"}, {"mode", "never"}});
  f.cluster.fault({{"method", "GET"},
                   {"path", kAppsRe},
                   {"action", "delay"},
                   {"delay_ms", 1'500},
                   {"times", -1}});
  // The first GET is slow too: the timeout leaves room for it, not for a poll.
  Run run = f.cluster.reconcile({"--timeout", "2s"}, f.cluster.kubeconfig(token));
  check_failed(f.cluster, run, 4);
  check_one_error(run, kAppsName, {"did not handle the reconcile request within 2s"});
  CHECK(run.elapsed_ms >= 2'000);
  CHECK(run.elapsed_ms < 3'000);
  // The poll cut short is logged once kube-sim has served it: two GETs in all.
  f.cluster.wait_until([&] { return f.cluster.requests("GET", kApps).size() >= 2; });
  CHECK(f.cluster.requests("GET", kApps).size() == 2);
  CHECK(run.requested_at("Kustomization").has_value());
}

// ---------------------------------------------------------------------------
// TLS: wrong CA, wrong host name

TEST_CASE("reconcile fault: a CA that did not sign the server's certificate") {
  Fixture f;
  SimProcess other(binary_from_env("KUBE_SIM"));
  Run run = f.cluster.reconcile({}, f.cluster.kubeconfig("", "", other.ca_file()));
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"TLS verification of 127.0.0.1:", "certificate signed by an unknown authority",
                   "$FLUXKEY_KUBECONFIG_DATA"});
  // Not retried: no attempt can succeed; nothing reached the API.
  CHECK(f.cluster.fluxkey_requests().empty());
  CHECK(run.elapsed_ms < 2'000);
}

TEST_CASE("reconcile fault: a certificate without the server's host name") {
  struct Named {
    Cluster cluster{{"--tls-names", "DNS:kube.example"}};
    Named() {
      cluster.sim.set_tls_host("kube.example");
      cluster.setup();
    }
  } f;
  Run run = f.cluster.reconcile();
  CHECK(run.exit_code() == 1);
  check_one_error(run, kAppsName,
                  {"TLS verification of 127.0.0.1:",
                   "certificate is not valid for 127.0.0.1 (its names do not include it)"});
  CHECK(f.cluster.fluxkey_requests().empty());
  CHECK(run.elapsed_ms < 2'000);
  // kubectl's tls-server-name is refused before any request (exit 2), on purpose.
  std::string kubeconfig = replace_all(f.cluster.kubeconfig(), "    certificate-authority-data",
                                       "    tls-server-name: kube.example\n"
                                       "    certificate-authority-data");
  Run named = f.cluster.reconcile({}, kubeconfig);
  CHECK(named.exit_code() == 2);
  CHECK(contains(named.error(), "tls-server-name, which fluxkey does not support"));
  CHECK(f.cluster.fluxkey_requests().empty());
}

// ---------------------------------------------------------------------------
// 401, 403

TEST_CASE("reconcile fault: 401 at the first request (expired token)") {
  Fixture f;
  f.cluster.sim.control("POST", "/_sim/clock", {{"offset_seconds", -7200}});
  auto minted = f.cluster.sim.request(
      "POST", "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token",
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600}})",
      "application/json", {{"Authorization", "Bearer " + f.cluster.admin_token}});
  REQUIRE_MESSAGE(minted.status == 201, minted.body);
  f.cluster.sim.control("POST", "/_sim/clock", {{"offset_seconds", 0}});
  std::string token = minted.json()["status"]["token"];
  Run run = f.cluster.reconcile({}, f.cluster.kubeconfig(token));
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"refused the credentials from kubeconfig $FLUXKEY_KUBECONFIG_DATA",
                   "the token expired at ", "fluxkey rotate"});
  CHECK(f.cluster.requests("GET", kApps).size() == 1);  // a 401 is not retried
}

TEST_CASE("reconcile fault: 401 mid-wait: the token expires while fluxkey polls") {
  Fixture f;
  auto minted = f.cluster.sim.request(
      "POST", "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token",
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":600}})",
      "application/json", {{"Authorization", "Bearer " + f.cluster.admin_token}});
  REQUIRE_MESSAGE(minted.status == 201, minted.body);
  std::string token = minted.json()["status"]["token"];
  f.cluster.grant("{kind: ServiceAccount, name: flux-reconcile, namespace: fluxkey}", "get, patch");
  f.cluster.behave({{"kind", "kustomization"}, {"mode", "never"}});
  auto pending = std::async(std::launch::async,
                            [&] { return f.cluster.reconcile({}, f.cluster.kubeconfig(token)); });
  // Not at the PATCH: the watch that follows it would meet the 401 instead.
  f.cluster.wait_until_polling(kApps);
  f.cluster.sim.control("POST", "/_sim/clock", {{"offset_seconds", 3600}});
  Run run = pending.get();
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"cannot poll Kustomization flux-system/apps (annotated at ",
                   "refused the credentials", "fluxkey rotate"});
  std::vector<json> refused;
  for (const auto& r : f.cluster.requests("GET", kApps)) {
    if (r["status"] == 401) refused.push_back(r);
  }
  CHECK(refused.size() == 1);
}

TEST_CASE("reconcile fault: 403 on the GET (RBAC)") {
  Fixture f;
  std::string token = f.cluster.token_for("ci-bot");
  f.cluster.grant("{kind: User, name: ci-bot}", "patch, watch");
  Run run = f.cluster.reconcile({}, f.cluster.kubeconfig(token));
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"cannot read Kustomization flux-system/apps: ",
                   "User \"ci-bot\" cannot get resource \"kustomizations\"",
                   "(Forbidden); this identity needs get, patch and watch on kustomizations "
                   "(kustomize.toolkit.fluxcd.io) in namespace flux-system",
                   "k8s/reconcile/rbac.yaml"});
  CHECK(f.cluster.requests("GET", kApps).size() == 1);
  CHECK(f.cluster.writes().empty());
}

TEST_CASE("reconcile fault: 403 on the PATCH (RBAC)") {
  Fixture f;
  std::string token = f.cluster.token_for("ci-bot");
  f.cluster.grant("{kind: User, name: ci-bot}", "get, watch");
  Run run = f.cluster.reconcile({}, f.cluster.kubeconfig(token));
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"cannot annotate Kustomization flux-system/apps: ",
                   "cannot patch resource \"kustomizations\"", "k8s/reconcile/rbac.yaml"});
  CHECK_FALSE(contains(run.error(), "may be set all the same"));
  CHECK(f.cluster.requests("PATCH", kApps).size() == 1);
  CHECK(f.cluster.annotation(kApps).empty());
}

TEST_CASE("reconcile fault: 403 on the watch (RBAC): polled instead") {
  Fixture f;
  std::string token = f.cluster.token_for("ci-bot");
  f.cluster.grant("{kind: User, name: ci-bot}", "get, patch");
  Run run = f.cluster.reconcile({}, f.cluster.kubeconfig(token));
  check_ready(f.cluster, run);
  CHECK(run.said("is not allowed for this identity; polling instead"));
  CHECK(f.cluster.watches(kKsV1).size() == 1);  // asked once, never again
  auto gets = f.cluster.requests("GET", kApps);
  CHECK(gets.size() >= 2);
  // Polls back off from 100 ms: a 100 ms controller is seen within a few.
  CHECK(gets.size() <= 6);
}

// ---------------------------------------------------------------------------
// 404: object, kind; discovery

TEST_CASE("reconcile fault: 404 object") {
  Fixture f;
  std::vector<std::string> args = {"--name", "nope"};
  Run run = f.cluster.reconcile(args);
  check_failed(f.cluster, run, 1);
  check_one_error(run, "Kustomization flux-system/nope",
                  {"Kustomization flux-system/nope not found (kustomize.toolkit.fluxcd.io/v1); "
                   "check the name and the namespace (-n)"});
  CHECK(f.cluster.requests("GET", kKsV1 + "/nope").size() == 1);
  CHECK(f.cluster.requests("GET", "/apis/kustomize.toolkit.fluxcd.io/v1").size() == 1);
  CHECK(f.cluster.writes().empty());
}

TEST_CASE("reconcile fault: 404 kind: the version is not served (an older Flux)") {
  Fixture f({"--flux-api", "old"}, /*old_api=*/true);
  const std::string old_apps =
      "/apis/kustomize.toolkit.fluxcd.io/v1beta2/namespaces/flux-system/kustomizations/apps";
  Run run = f.cluster.reconcile();
  REQUIRE_MESSAGE(run.exit_code() == 0, run.result.err);
  json ks = f.cluster.object(old_apps);
  CHECK(ks["metadata"]["annotations"][kRequestedAt] == run.requested_at("Kustomization"));
  CHECK(run.revision() == ks["status"].value("lastAppliedRevision", "?"));
  CHECK(f.cluster.requests("GET", kApps).size() == 1);
  CHECK(f.cluster.requests("GET", "/apis/kustomize.toolkit.fluxcd.io/v1").size() == 1);
  CHECK(f.cluster.requests("PATCH", old_apps).size() == 1);
  CHECK(f.cluster.writes().size() == 1);
}

TEST_CASE("reconcile fault: 404 kind at every version (Flux not installed)") {
  Fixture f;
  f.cluster.fault(status_fault("GET", "^/apis/kustomize\\.toolkit\\.fluxcd\\.io/", 404, -1));
  Run run = f.cluster.reconcile();
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"the API server serves no kustomizations in kustomize.toolkit.fluxcd.io "
                   "(tried v1, v1beta2); is Flux installed in this cluster?"});
  CHECK(f.cluster.fluxkey_requests().size() == 4);  // the object and discovery, at each version
  CHECK(f.cluster.writes().empty());
}

TEST_CASE("reconcile fault: discovery 503 always on an older Flux: the next version is tried") {
  Fixture f({"--flux-api", "old"}, /*old_api=*/true);
  f.cluster.fault(status_fault("GET", "^/apis/kustomize\\.toolkit\\.fluxcd\\.io/v1$", 503, -1));
  Run run = f.cluster.reconcile();
  REQUIRE_MESSAGE(run.exit_code() == 0, run.result.err);
  auto discovery = f.cluster.requests("GET", "/apis/kustomize.toolkit.fluxcd.io/v1");
  CHECK(discovery.size() == kAttempts);
  check_backoff(discovery, kFirstBackoffFloorMs);
  const std::string old_apps =
      "/apis/kustomize.toolkit.fluxcd.io/v1beta2/namespaces/flux-system/kustomizations/apps";
  CHECK(f.cluster.annotation(old_apps) == run.requested_at("Kustomization").value_or("?"));
  CHECK(!run.revision().empty());
}

// ---------------------------------------------------------------------------
// 409 on the patch

TEST_CASE("reconcile fault: 409 on the PATCH once: again, with a fresh value") {
  Fixture f;
  f.cluster.fault(status_fault("PATCH", kAppsRe, 409, 1));
  Run run = f.cluster.reconcile();
  check_ready(f.cluster, run);
  auto patches = f.cluster.requests("PATCH", kApps);
  REQUIRE(patches.size() == 2);
  check_backoff(patches, 50);
}

TEST_CASE("reconcile fault: 409 on the PATCH always: five tries, then the words") {
  Fixture f;
  f.cluster.fault(status_fault("PATCH", kAppsRe, 409, -1));
  Run run = f.cluster.reconcile();
  check_failed(f.cluster, run, 1);
  check_one_error(run, kAppsName,
                  {"cannot annotate Kustomization flux-system/apps: ", "(Conflict)",
                   "it kept changing under fluxkey (5 tries); try again"});
  auto patches = f.cluster.requests("PATCH", kApps);
  CHECK(patches.size() == kAttempts);
  long long floor = 50;
  for (long long gap : gaps(patches)) {
    CHECK(gap >= floor - kSlackMs);
    floor += 50;
  }
}

// ---------------------------------------------------------------------------
// The source, with --with-source

TEST_CASE("reconcile fault: --with-source, the source's watch cut mid-way") {
  Fixture f;
  f.cluster.settle();
  f.cluster.behave({{"kind", "gitrepository"}, {"mode", "succeed"}, {"delay_ms", 300}});
  f.cluster.sim.control("POST", "/_sim/watch-cuts",
                        {{"path", kGitWatchRe}, {"after_events", 1}, {"how", "close"}});
  Run run = f.cluster.reconcile({"--with-source"});
  check_ready(f.cluster, run);
  check_requested(f.cluster, run, kSource, "GitRepository");
  CHECK(f.cluster.watches(kGitV1).size() == 2);
  CHECK(f.cluster.watches(kKsV1).size() == 1);
}

TEST_CASE("reconcile fault: --with-source, the source's PATCH 503 once") {
  Fixture f;
  f.cluster.fault(status_fault("PATCH", kSourceRe, 503, 1));
  Run run = f.cluster.reconcile({"--with-source"});
  check_ready(f.cluster, run);
  check_requested(f.cluster, run, kSource, "GitRepository");
  CHECK(f.cluster.requests("PATCH", kSource).size() == 2);
}

TEST_CASE(
    "reconcile fault: --with-source, the source's PATCH refused (403): the object untouched") {
  Fixture f;
  std::string token = f.cluster.token_for("ci-bot");
  // May annotate Kustomizations but only read GitRepositories.
  auto reply = f.cluster.sim.request("POST", "/_sim/rbac", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reconcile, namespace: flux-system}
rules:
- apiGroups: [kustomize.toolkit.fluxcd.io]
  resources: [kustomizations]
  verbs: [get, patch, watch]
- apiGroups: [source.toolkit.fluxcd.io]
  resources: [gitrepositories]
  verbs: [get, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reconcile, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reconcile}
subjects: [{kind: User, name: ci-bot}]
)",
                                     "application/yaml");
  REQUIRE(reply.status / 100 == 2);
  Run run = f.cluster.reconcile({"--with-source"}, f.cluster.kubeconfig(token));
  check_failed(f.cluster, run, 1);
  check_one_error(run, kSourceName,
                  {"cannot annotate GitRepository flux-system/flux-system: ",
                   "cannot patch resource \"gitrepositories\"",
                   "get, patch and watch on gitrepositories (source.toolkit.fluxcd.io)"});
  CHECK(f.cluster.requests("PATCH", kApps).empty());
  CHECK(f.cluster.annotation(kApps).empty());
}

// ---------------------------------------------------------------------------
// The same worst cells through `fluxkey action`

namespace {

struct ActionRun {
  ProcessResult result;
  std::map<std::string, std::string> outputs;
  std::vector<std::string> error_lines;  // ::error ... lines
};

// $GITHUB_OUTPUT, as the runner reads it: `name<<DELIMITER`, the lines, the delimiter.
std::map<std::string, std::string> read_outputs(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t at = line.find("<<");
    if (at == std::string::npos) continue;
    std::string name = line.substr(0, at), delimiter = line.substr(at + 2), value, next;
    bool first = true;
    while (std::getline(in, next) && next != delimiter) {
      value += (first ? "" : "\n") + next;
      first = false;
    }
    out[name] = value;
  }
  return out;
}

ActionRun run_action(const Cluster& c, const std::string& kubeconfig,
                     const std::string& timeout = "") {
  TempDir dir;
  const std::string outputs = dir.write("github_output", "");
  const std::string summary = dir.write("step_summary.md", "");
  Env env = {{"GITHUB_OUTPUT", outputs},      {"GITHUB_STEP_SUMMARY", summary},
             {"GITHUB_ACTIONS", "true"},      {"INPUT_KUBECONFIG", base64_encode(kubeconfig)},
             {"INPUT_KIND", "kustomization"}, {"INPUT_NAME", "apps"},
             {"INPUT_NAMESPACE", ""},         {"INPUT_WITH-SOURCE", "false"},
             {"INPUT_TIMEOUT", timeout},      {"INPUT_FORCE", ""}};
  (void)c;
  ActionRun run;
  run.result = run_fluxkey({"action"}, env, 30s);
  run.outputs = read_outputs(read_text(outputs));
  std::istringstream in(run.result.out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("::error", 0) == 0) run.error_lines.push_back(line);
  }
  return run;
}

// One ::error line with `title`, saying what the message output says.
void check_action_failed(const ActionRun& run, int code, const std::string& title,
                         const std::vector<std::string>& parts) {
  CHECK_MESSAGE(run.result.exit_code == code, run.result.out);
  REQUIRE_MESSAGE(run.error_lines.size() == 1, run.result.out);
  const std::string& line = run.error_lines[0];
  CHECK(line.rfind("::error title=" + title + "::", 0) == 0);
  CHECK(contains(line, kAppsName));
  for (const auto& part : parts) CHECK_MESSAGE(contains(line, part), line);
  CHECK(run.outputs.at("ready") == "false");
  CHECK(contains(run.outputs.at("message"), kAppsName));
  for (const auto& part : parts) CHECK(contains(run.outputs.at("message"), part));
}

}  // namespace

TEST_CASE("reconcile fault, action: 403 on the PATCH (RBAC)") {
  Fixture f;
  std::string token = f.cluster.token_for("ci-bot");
  f.cluster.grant("{kind: User, name: ci-bot}", "get, watch");
  ActionRun run = run_action(f.cluster, f.cluster.kubeconfig(token));
  check_action_failed(run, 1, "fluxkey reconcile failed",
                      {"cannot annotate Kustomization flux-system/apps: ", "(Forbidden)",
                       "k8s/reconcile/rbac.yaml"});
  CHECK(run.outputs.at("revision").empty());  // not reconciled
  CHECK(f.cluster.requests("PATCH", kApps).size() == 1);
  CHECK(f.cluster.annotation(kApps).empty());
}

TEST_CASE("reconcile fault, action: a CA that did not sign the server's certificate") {
  Fixture f;
  SimProcess other(binary_from_env("KUBE_SIM"));
  ActionRun run = run_action(f.cluster, f.cluster.kubeconfig("", "", other.ca_file()));
  check_action_failed(run, 1, "fluxkey reconcile failed",
                      {"certificate signed by an unknown authority"});
  CHECK(run.outputs.at("revision").empty());
  CHECK(f.cluster.fluxkey_requests().empty());
}

TEST_CASE("reconcile fault, action: the watch cut mid-way") {
  Fixture f;
  f.cluster.settle();
  f.cluster.behave({{"kind", "kustomization"}, {"mode", "succeed"}, {"delay_ms", 300}});
  f.cluster.sim.control("POST", "/_sim/watch-cuts",
                        {{"path", kKsWatchRe}, {"after_events", 1}, {"how", "reset"}});
  ActionRun run = run_action(f.cluster, f.cluster.kubeconfig());
  REQUIRE_MESSAGE(run.result.exit_code == 0, run.result.out);
  CHECK(run.error_lines.empty());
  json ks = f.cluster.object(kApps);
  CHECK(run.outputs.at("ready") == "true");
  CHECK(run.outputs.at("revision") == ks["status"].value("lastAppliedRevision", "?"));
  CHECK(ks["status"].value("lastHandledReconcileAt", "") ==
        ks["metadata"]["annotations"].value(kRequestedAt, "?"));
  CHECK(f.cluster.watches(kKsV1).size() == 2);
}

TEST_CASE("reconcile fault, action: the watch slower than the timeout") {
  Fixture f;
  f.cluster.settle();  // so the patch's reply carries the last applied revision
  f.cluster.fault(
      {{"method", "GET"}, {"path", kKsWatchRe}, {"action", "delay"}, {"delay_ms", 1'500}});
  ActionRun run = run_action(f.cluster, f.cluster.kubeconfig(), "1s");
  check_action_failed(run, 4, "fluxkey reconcile timed out", {"within 1s"});
  // The revision the object was last seen at (the patch's reply), which is
  // where kube-sim's controller left it.
  CHECK(run.outputs.at("revision") ==
        f.cluster.object(kApps)["status"].value("lastAppliedRevision", "?"));
  CHECK_FALSE(f.cluster.annotation(kApps).empty());  // asked, as its progress said
  f.cluster.wait_for_request([](const json& r) { return r.value("fault", "") == "delay"; });
}

TEST_CASE("reconcile fault, action: 401, the API server's clock past the token's expiry") {
  Fixture f;
  auto minted = f.cluster.sim.request(
      "POST", "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token",
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600}})",
      "application/json", {{"Authorization", "Bearer " + f.cluster.admin_token}});
  REQUIRE_MESSAGE(minted.status == 201, minted.body);
  // (A token already expired by its own exp is refused before any request,
  // exit 2: action_command_test.cc.)
  f.cluster.sim.control("POST", "/_sim/clock", {{"offset_seconds", 7200}});
  std::string token = minted.json()["status"]["token"];
  ActionRun run = run_action(f.cluster, f.cluster.kubeconfig(token));
  check_action_failed(
      run, 1, "fluxkey reconcile failed",
      {"refused the credentials from kubeconfig input", "401 Unauthorized", "fluxkey rotate"});
  CHECK(run.outputs.at("revision").empty());
  CHECK(f.cluster.requests("GET", kApps).size() == 1);
}

}  // namespace fault_matrix_reconcile_test
