// `fluxkey reconcile` end to end: the real binary against kube-sim's Flux
// kinds and simulated controllers, the order of its requests read back from
// kube-sim's request log, and `--flux-cli` with a stand-in flux script.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/base64.h"
#include "core/time.h"
#include "support/flux_fixtures.h"
#include "support/flux_stand_in.h"
#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace reconcile_command_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Fleet {
  SimProcess sim;
  std::string admin_token;

  explicit Fleet(bool old_api = false)
      : sim(binary_from_env("KUBE_SIM"),
            old_api ? std::vector<std::string>{"--flux-api", "old"} : std::vector<std::string>{}) {
    admin_token = kube_admin_token(sim);
    const std::string yaml =
        flux_fleet(FluxVersions::of(old_api)) + "---\n" + flux_reconcile_service_account();
    auto reply = sim.request("POST", "/_sim/objects", yaml, "application/yaml");
    REQUIRE_MESSAGE(reply.status == 201, reply.body);
  }

  std::string admin_kubeconfig() const { return sim.state_dir() + "/admin.kubeconfig"; }

  ProcessResult run(std::vector<std::string> args, const Env& env = {}) const {
    std::vector<std::string> argv = {"reconcile", "--kubeconfig", admin_kubeconfig()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_fluxkey(argv, env, 30s);
  }

  void behave(const json& rule) const { sim.control("POST", "/_sim/flux", rule); }

  json get(const std::string& path) const {
    auto reply = sim.request("GET", path, "", "", {{"Authorization", "Bearer " + admin_token}});
    REQUIRE_MESSAGE(reply.status == 200, path << ": " << reply.body);
    return reply.json();
  }

  // A kubeconfig for `token`, trusting kube-sim's CA.
  std::string kubeconfig_for(const std::string& token) const {
    return "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: " +
           sim.url() +
           "\n    certificate-authority-data: " + base64_encode(read_text(sim.ca_file())) +
           "\nusers:\n- name: ci\n  user:\n    token: " + token +
           "\ncontexts:\n- name: ci\n  context:\n    cluster: sim\n    user: ci\n"
           "current-context: ci\n";
  }

  // A static token for `user` (kube-sim's /_sim/tokens).
  std::string static_token(const std::string& user) const {
    return sim.control("POST", "/_sim/tokens", {{"user", user}})["token"];
  }

  // The logged requests whose method is `method` and whose path ends with
  // `path_end`, in order.
  std::vector<json> logged(const std::string& method, const std::string& path_end) const {
    std::vector<json> out;
    for (const auto& r : sim.requests()) {
      std::string path = r["path"];
      if (r["method"] == method && path.size() >= path_end.size() &&
          path.compare(path.size() - path_end.size(), path_end.size(), path_end) == 0) {
        out.push_back(r);
      }
    }
    return out;
  }

  Clock::time_point patched_at(const std::string& path_end) const {
    auto patches = logged("PATCH", path_end);
    REQUIRE_MESSAGE(patches.size() == 1, path_end);
    auto ts = parse_rfc3339(patches[0]["ts"].get<std::string>());
    REQUIRE(ts.has_value());
    return *ts;
  }
};

const std::string kFlux = "/namespaces/flux-system/";

std::string one_line(const std::string& text) {
  std::string out = text;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

long long ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

// Sets PATH for the programs this test starts, restored afterwards.
class PathGuard {
 public:
  explicit PathGuard(const std::string& path) {
    const char* old = std::getenv("PATH");
    old_ = old != nullptr ? old : "/usr/bin:/bin";
    ::setenv("PATH", path.c_str(), 1);
  }
  ~PathGuard() { ::setenv("PATH", old_.c_str(), 1); }
  PathGuard(const PathGuard&) = delete;
  PathGuard& operator=(const PathGuard&) = delete;

 private:
  std::string old_;
};

}  // namespace

TEST_CASE("reconcile: every kind, annotated and waited for, the revision alone on stdout") {
  Fleet fleet;
  struct Case {
    std::string kind_arg, name, kind, path;
    std::vector<const char*> revision;  // where the revision is, empty: none
  };
  const std::vector<Case> cases = {
      {"kustomization",
       "apps",
       "Kustomization",
       "/apis/kustomize.toolkit.fluxcd.io/v1" + kFlux + "kustomizations/apps",
       {"status", "lastAppliedRevision"}},
      {"ks",
       "apps",
       "Kustomization",
       "/apis/kustomize.toolkit.fluxcd.io/v1" + kFlux + "kustomizations/apps",
       {"status", "lastAppliedRevision"}},
      {"helmrelease",
       "podinfo",
       "HelmRelease",
       "/apis/helm.toolkit.fluxcd.io/v2" + kFlux + "helmreleases/podinfo",
       {}},
      {"gitrepository",
       "flux-system",
       "GitRepository",
       "/apis/source.toolkit.fluxcd.io/v1" + kFlux + "gitrepositories/flux-system",
       {"status", "artifact", "revision"}},
      {"ocirepository",
       "podinfo",
       "OCIRepository",
       "/apis/source.toolkit.fluxcd.io/v1" + kFlux + "ocirepositories/podinfo",
       {"status", "artifact", "revision"}},
      {"helmrepository",
       "podinfo",
       "HelmRepository",
       "/apis/source.toolkit.fluxcd.io/v1" + kFlux + "helmrepositories/podinfo",
       {"status", "artifact", "revision"}},
      {"helmchart",
       "flux-system-podinfo",
       "HelmChart",
       "/apis/source.toolkit.fluxcd.io/v1" + kFlux + "helmcharts/flux-system-podinfo",
       {"status", "artifact", "revision"}},
      {"bucket",
       "assets",
       "Bucket",
       "/apis/source.toolkit.fluxcd.io/v1" + kFlux + "buckets/assets",
       {"status", "artifact", "revision"}},
      {"imagerepository",
       "podinfo",
       "ImageRepository",
       "/apis/image.toolkit.fluxcd.io/v1" + kFlux + "imagerepositories/podinfo",
       {}},
      {"imageupdateautomation",
       "flux-system",
       "ImageUpdateAutomation",
       "/apis/image.toolkit.fluxcd.io/v1" + kFlux + "imageupdateautomations/flux-system",
       {}},
      {"receiver",
       "github",
       "Receiver",
       "/apis/notification.toolkit.fluxcd.io/v1" + kFlux + "receivers/github",
       {}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.kind_arg);
    auto run = fleet.run({"--kind", c.kind_arg, "--name", c.name, "-n", "flux-system"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find("► annotating " + c.kind + " " + c.name + " in flux-system namespace") !=
          std::string::npos);
    CHECK(run.err.find("✔ " + c.kind + " annotated") != std::string::npos);
    CHECK(run.err.find("◎ waiting for " + c.kind + " reconciliation") != std::string::npos);

    json object = fleet.get(c.path);
    std::string sent = object["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"];
    CHECK(object["status"]["lastHandledReconcileAt"] == sent);
    std::string revision;
    if (c.kind == "HelmRelease") {
      revision = object["status"]["history"][0]["chartVersion"];
    } else if (!c.revision.empty()) {
      const json* at = &object;
      for (const char* key : c.revision) at = &(*at)[key];
      revision = *at;
    }
    CHECK(one_line(run.out) == revision);
    if (!revision.empty()) {
      CHECK(run.out == revision + "\n");
      CHECK(run.err.find(" revision " + revision) != std::string::npos);
    }
  }
}

TEST_CASE(
    "reconcile --with-source: the GitRepository is ready before the Kustomization is annotated") {
  Fleet fleet;
  fleet.behave({{"kind", "gitrepositories"}, {"delay_ms", 500}});
  auto run = fleet.run({"--with-source", "--name", "apps"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  auto source = fleet.patched_at("/gitrepositories/flux-system");
  auto object = fleet.patched_at("/kustomizations/apps");
  // The object was annotated only after the source's 500 ms reconcile.
  CHECK(ms_between(source, object) >= 450);
  CHECK(run.err.find("► annotating GitRepository flux-system in flux-system namespace") <
        run.err.find("► annotating Kustomization apps"));
  CHECK(run.err.find("✔ fetched revision main@sha1:") != std::string::npos);
  json git = fleet.get("/apis/source.toolkit.fluxcd.io/v1" + kFlux + "gitrepositories/flux-system");
  json ks = fleet.get("/apis/kustomize.toolkit.fluxcd.io/v1" + kFlux + "kustomizations/apps");
  // The Kustomization applied what the source fetched in this very run.
  CHECK(ks["status"]["lastAppliedRevision"] == git["status"]["artifact"]["revision"]);
  CHECK(one_line(run.out) == ks["status"]["lastAppliedRevision"]);
}

TEST_CASE("reconcile --with-source: HelmRepository, then HelmChart, then HelmRelease") {
  Fleet fleet;
  fleet.behave({{"kind", "helmrepositories"}, {"delay_ms", 400}});
  fleet.behave({{"kind", "helmcharts"}, {"delay_ms", 400}});
  auto run = fleet.run({"--kind", "hr", "--name", "podinfo", "--with-source"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  auto repo = fleet.patched_at("/helmrepositories/podinfo");
  auto chart = fleet.patched_at("/helmcharts/flux-system-podinfo");
  auto release = fleet.patched_at("/helmreleases/podinfo");
  CHECK(ms_between(repo, chart) >= 350);
  CHECK(ms_between(chart, release) >= 350);
  CHECK(one_line(run.out) == "6.5.4");

  // chartRef: the OCIRepository is the source.
  auto oci = fleet.run({"--kind", "helmrelease", "--name", "podinfo-oci", "--with-source"});
  REQUIRE_MESSAGE(oci.exit_code == 0, oci.err);
  CHECK(fleet.patched_at("/ocirepositories/podinfo") <
        fleet.patched_at("/helmreleases/podinfo-oci"));
}

TEST_CASE("reconcile: Ready False until --timeout is exit 4 with the controller's message") {
  Fleet fleet;
  fleet.behave({{"kind", "ks"},
                {"name", "apps"},
                {"namespace", "flux-system"},
                {"mode", "fail"},
                {"delay_ms", 50},
                {"message", "kustomize build failed: missing resource x.yaml"}});
  auto run = fleet.run({"--name", "apps", "--timeout", "1500ms"});
  CHECK(run.exit_code == 4);
  CHECK(run.err.find("Kustomization flux-system/apps not ready within 1500ms: kustomize build "
                     "failed: missing resource x.yaml (BuildFailed)") != std::string::npos);
  CHECK(run.out.empty());
}

TEST_CASE("reconcile: Stalled is exit 1 at once") {
  Fleet fleet;
  fleet.behave({{"kind", "hr"}, {"mode", "fail-stalled"}, {"delay_ms", 50}});
  auto start = std::chrono::steady_clock::now();
  auto run = fleet.run({"--kind", "hr", "--name", "podinfo", "--timeout", "20s"});
  CHECK(run.exit_code == 1);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(run.err.find("HelmRelease flux-system/podinfo reconciliation failed: Failed to ") !=
        std::string::npos);
  CHECK(run.err.find("after 1 attempt(s) (RetriesExceeded)") != std::string::npos);
}

TEST_CASE("reconcile: a request never handled is exit 4 naming the controller") {
  Fleet fleet;
  fleet.behave({{"kind", "gitrepositories"}, {"mode", "never"}});
  auto run = fleet.run({"--kind", "gitrepository", "--name", "flux-system", "--timeout", "1s"});
  CHECK(run.exit_code == 4);
  CHECK(run.err.find("source-controller did not handle the reconcile request within 1s") !=
        std::string::npos);
}

TEST_CASE("reconcile: suspended, missing, unknown kind, bad flags: one line each, no change") {
  Fleet fleet;
  auto seeded = fleet.sim.request("POST", "/_sim/objects",
                                  "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: "
                                  "Kustomization\nmetadata: {name: paused, namespace: "
                                  "flux-system}\nspec: {suspend: true, sourceRef: {kind: "
                                  "GitRepository, name: flux-system}}\n",
                                  "application/yaml");
  REQUIRE(seeded.status == 201);

  auto suspended = fleet.run({"--name", "paused"});
  CHECK(suspended.exit_code == 1);
  CHECK(suspended.err.find("Kustomization flux-system/paused is suspended") != std::string::npos);
  CHECK(count_lines(suspended.err) == 1);

  auto missing = fleet.run({"--name", "nope", "-n", "flux-system"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("Kustomization flux-system/nope not found") != std::string::npos);
  CHECK(count_lines(missing.err) == 1);

  auto unknown = fleet.run({"--kind", "alert"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("invalid --kind \"alert\": want one of kustomization (ks), helmrelease "
                         "(hr), gitrepository") != std::string::npos);

  auto force = fleet.run({"--force"});
  CHECK(force.exit_code == 2);
  CHECK(force.err.find("--force applies to --kind helmrelease only") != std::string::npos);
  CHECK(fleet.run({"--timeout", "soon"}).exit_code == 2);
  CHECK(fleet.logged("PATCH", "").empty());
}

TEST_CASE("reconcile on a cluster with the previous Flux APIs falls back to them") {
  Fleet fleet(/*old_api=*/true);
  auto run = fleet.run({"--kind", "hr", "--name", "podinfo", "--with-source"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(one_line(run.out) == "6.5.4");
  CHECK(
      fleet.logged("PATCH", "/apis/helm.toolkit.fluxcd.io/v2beta2" + kFlux + "helmreleases/podinfo")
          .size() == 1);
  CHECK(fleet
            .logged("PATCH", "/apis/source.toolkit.fluxcd.io/v1beta2" + kFlux +
                                 "helmcharts/flux-system-podinfo")
            .size() == 1);
  auto ks = fleet.run({"--name", "apps"});
  REQUIRE_MESSAGE(ks.exit_code == 0, ks.err);
  CHECK(one_line(ks.out).rfind("main@sha1:", 0) == 0);
  // A missing object is still told apart from an unserved version.
  auto missing = fleet.run({"--name", "nope"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("Kustomization flux-system/nope not found "
                         "(kustomize.toolkit.fluxcd.io/v1beta2)") != std::string::npos);
}

TEST_CASE("reconcile polls when the identity may not watch, and RBAC refusals are named") {
  Fleet fleet;
  std::string token = fleet.static_token("ci-bot");
  fleet.sim.request("POST", "/_sim/rbac", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reconcile, namespace: flux-system}
rules:
- apiGroups: [kustomize.toolkit.fluxcd.io]
  resources: [kustomizations]
  verbs: [get, patch]
- apiGroups: [source.toolkit.fluxcd.io]
  resources: [gitrepositories]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reconcile, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reconcile}
subjects: [{kind: User, name: ci-bot}]
)",
                    "application/yaml");
  Env env = {{"FLUXKEY_KUBECONFIG_DATA", fleet.kubeconfig_for(token)}};
  auto run = run_fluxkey({"reconcile", "--name", "apps"}, env, 30s);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.err.find("polling instead") != std::string::npos);
  CHECK(one_line(run.out).rfind("main@sha1:", 0) == 0);
  CHECK(run.err.find(token) == std::string::npos);
  size_t watches = 0;
  for (const auto& r : fleet.sim.requests()) {
    if (r.value("query", "").find("watch=true") != std::string::npos) {
      ++watches;
      CHECK(r["status"] == 403);
    }
  }
  CHECK(watches == 1);
  CHECK(fleet.logged("GET", "/kustomizations/apps").size() >= 2);

  // The source may be read but not annotated: the server's words say so.
  auto refused = run_fluxkey({"reconcile", "--name", "apps", "--with-source"}, env, 30s);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("cannot annotate GitRepository flux-system/flux-system: ") !=
        std::string::npos);
  CHECK(refused.err.find("cannot patch resource \"gitrepositories\" in API group "
                         "\"source.toolkit.fluxcd.io\"") != std::string::npos);
  // Progress up to the refusal, then the refusal on one line.
  CHECK(refused.err.find("error: ") == refused.err.rfind('\n', refused.err.size() - 2) + 1);
}

TEST_CASE("reconcile --no-wait annotates and returns") {
  Fleet fleet;
  fleet.behave({{"kind", "ks"}, {"mode", "never"}});
  auto start = std::chrono::steady_clock::now();
  auto run = fleet.run({"--name", "apps", "--no-wait", "--timeout", "30s"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(run.out.empty());
  CHECK(run.err.find("◎ waiting") == std::string::npos);
  json ks = fleet.get("/apis/kustomize.toolkit.fluxcd.io/v1" + kFlux + "kustomizations/apps");
  CHECK(ks["metadata"]["annotations"].contains("reconcile.fluxcd.io/requestedAt"));
}

TEST_CASE("reconcile with FLUXKEY_KUBECONFIG_DATA, base64 or raw: it wins over --kubeconfig") {
  Fleet fleet;
  std::string kubeconfig = fleet.kubeconfig_for(fleet.admin_token);
  for (const std::string& data : {base64_encode(kubeconfig), kubeconfig}) {
    auto run = run_fluxkey({"reconcile", "--name", "apps", "--kubeconfig", "/nonexistent/config",
                            "--log-format", "json"},
                           {{"FLUXKEY_KUBECONFIG_DATA", data}}, 30s);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(one_line(run.out).rfind("main@sha1:", 0) == 0);
    // JSON logs: one object a line, the progress without flux's glyphs.
    json first = json::parse(run.err.substr(0, run.err.find('\n')));
    CHECK(first["msg"] == "annotating Kustomization apps in flux-system namespace");
    CHECK(first["kind"] == "Kustomization");
    CHECK(run.err.find(fleet.admin_token) == std::string::npos);
  }
  auto bad = run_fluxkey({"reconcile"}, {{"FLUXKEY_KUBECONFIG_DATA", "bm90IGEga3ViZWNvbmZpZw=="}});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("FLUXKEY_KUBECONFIG_DATA holds neither a kubeconfig") != std::string::npos);
  auto empty = run_fluxkey({"reconcile"}, {{"FLUXKEY_KUBECONFIG_DATA", ""}});
  CHECK(empty.exit_code == 2);
  CHECK(empty.err.find("set but empty") != std::string::npos);
}

TEST_CASE("reconcile with an expired token: one line saying so, when, and how to renew it") {
  Fleet fleet;
  // Minted two hours ago for one hour: expired an hour ago by every clock.
  fleet.sim.control("POST", "/_sim/clock", {{"offset_seconds", -7200}});
  auto minted = fleet.sim.request(
      "POST", "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token",
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":3600}})",
      "application/json", {{"Authorization", "Bearer " + fleet.admin_token}});
  REQUIRE_MESSAGE(minted.status == 201, minted.body);
  fleet.sim.control("POST", "/_sim/clock", {{"offset_seconds", 0}});
  std::string token = minted.json()["status"]["token"];

  auto run = run_fluxkey({"reconcile", "--name", "apps"},
                         {{"FLUXKEY_KUBECONFIG_DATA", base64_encode(fleet.kubeconfig_for(token))}});
  CHECK(run.exit_code == 1);
  CHECK(count_lines(run.err) == 1);
  CHECK(run.err.find("refused the credentials from kubeconfig $FLUXKEY_KUBECONFIG_DATA") !=
        std::string::npos);
  CHECK(run.err.find("the token expired at ") != std::string::npos);
  CHECK(run.err.find("ago)") != std::string::npos);
  CHECK(run.err.find("fluxkey rotate") != std::string::npos);
  CHECK(run.err.find(token) == std::string::npos);
  CHECK(run.out.empty());
}

TEST_CASE("reconcile against an unreachable API server is exit 1 naming it") {
  Fleet fleet;
  std::string kubeconfig =
      replace_all(fleet.kubeconfig_for("t"), fleet.sim.url(), "https://127.0.0.1:1");
  auto run = run_fluxkey({"reconcile"}, {{"FLUXKEY_KUBECONFIG_DATA", kubeconfig}});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("cannot reach the API server https://127.0.0.1:1") != std::string::npos);
}

TEST_CASE("reconcile --flux-cli runs flux from PATH with a private kubeconfig, never the token") {
  Fleet fleet;
  TempDir dir;
  std::string record = dir.path() + "/record";
  std::string bin = dir.path() + "/bin";
  // A stand-in flux: records its argv, env, and the kubeconfig's mode while
  // it runs, and checks the kubeconfig works by reading through it.
  dir.write("bin/flux",
            recording_flux_script(
                record,
                "kubectl --kubeconfig \"$k\" get --raw /apis/kustomize.toolkit.fluxcd.io/v1"
                "/namespaces/flux-system/kustomizations/apps > /dev/null 2>&1 && echo 'reach:ok'\n"
                "echo '► annotating Kustomization apps in flux-system namespace' >&2\n"
                "echo '✔ applied revision main@sha1:0123456789abcdef' >&2\n"),
            0755);
  PathGuard path(bin + ":/usr/local/bin:/usr/bin:/bin");

  std::string kubeconfig = fleet.kubeconfig_for(fleet.admin_token);
  auto run = run_fluxkey(
      {"reconcile", "--flux-cli", "--name", "apps", "--with-source", "--timeout", "90s"},
      {{"FLUXKEY_KUBECONFIG_DATA", base64_encode(kubeconfig)}}, 30s);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out == "main@sha1:0123456789abcdef\n");
  CHECK(run.err.find("► annotating Kustomization apps in flux-system namespace") !=
        std::string::npos);

  std::string seen = read_text(record);
  std::string args;
  for (size_t at = seen.find("arg:"); at != std::string::npos; at = seen.find("arg:", at + 1)) {
    args += seen.substr(at + 4, seen.find('\n', at) - at - 4) + " ";
  }
  std::string kubeconfig_path = recorded_kubeconfig_path(seen);
  REQUIRE_FALSE(kubeconfig_path.empty());
  CHECK(args ==
        "reconcile kustomization apps -n flux-system --with-source --timeout 1m30s "
        "--kubeconfig " +
            kubeconfig_path + " ");
  CHECK(seen.find("mode:600\n") != std::string::npos);
  CHECK(seen.find("reach:ok") != std::string::npos);
  CHECK(seen.find(fleet.admin_token) == std::string::npos);
  CHECK(seen.find("env:FLUXKEY_KUBECONFIG_DATA") == std::string::npos);
  CHECK(access(kubeconfig_path.c_str(), F_OK) != 0);

  // flux failing is ours failing, its last words kept.
  dir.write("bin/flux",
            "#!/bin/sh\necho '✗ timeout waiting for: context deadline exceeded' >&2\n"
            "exit 1\n",
            0755);
  auto failed = run_fluxkey({"reconcile", "--flux-cli"},
                            {{"FLUXKEY_KUBECONFIG_DATA", base64_encode(kubeconfig)}}, 30s);
  CHECK(failed.exit_code == 4);
  CHECK(failed.err.find("context deadline exceeded") != std::string::npos);
}

}  // namespace reconcile_command_test
