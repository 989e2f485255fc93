// Two fluxkey runs against one kubeconfig Secret at the same time: the
// CronJob's sync and a person's rotate, say. The Lease keeps them apart;
// afterwards the cluster Secret, what GitHub holds and the live tokens must
// agree, whatever the interleaving was.
#include <doctest/doctest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/base64.h"
#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace concurrency_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;

namespace {

// Test-only credential, never a real one.
constexpr const char* kGitHubToken = "ghp_concurrencyTestToken0000000000000000";
constexpr const char* kLeasePath =
    "/apis/coordination.k8s.io/v1/namespaces/fluxkey/leases/flux-kubeconfig";

struct Stand {
  SimProcess kube{binary_from_env("KUBE_SIM")};
  SimProcess github{binary_from_env("GITHUB_SIM")};
  std::string admin_token;

  Stand() {
    kube.control("POST", "/_sim/objects", json::parse(R"({"apiVersion":"v1","kind":"ServiceAccount",
                   "metadata":{"name":"flux-reconcile","namespace":"fluxkey"}})"));
    github.control("POST", "/_sim/setup",
                   {{"repos", {"acme/app"}},
                    {"orgs", {"acme"}},
                    {"tokens", {std::string(kGitHubToken) + "=repo,admin:org"}}});
    // 200 pushes within a minute are beyond GitHub's content-creation budget
    // (80 a minute), which each run paces only for itself; not this test's subject.
    github.control("POST", "/_sim/limits", {{"writes_per_minute", 1000}});
    admin_token = kube_admin_token(kube);
  }

  // `command` against both stand-ins, pushing to acme/app and the acme org.
  std::vector<std::string> args(std::vector<std::string> command) const {
    command.insert(command.end(),
                   {"--kubeconfig", kube.state_dir() + "/admin.kubeconfig", "--github-api-url",
                    github.url(), "--github-repo", "acme/app", "--github-org", "acme"});
    return command;
  }
  Env github_env() const {
    return {{"SSL_CERT_FILE", github.ca_file()}, {"GITHUB_TOKEN", kGitHubToken}};
  }
  ProcessResult sync_force() const {
    return run_fluxkey(args({"sync", "--force"}), github_env(), std::chrono::seconds(60));
  }

  HttpReply as(const std::string& token, const std::string& path) const {
    return kube.request("GET", path, "", "", {{"Authorization", "Bearer " + token}});
  }
  json cluster_secret() const {
    auto reply = as(admin_token, "/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig");
    REQUIRE_MESSAGE(reply.status == 200, reply.body);
    return reply.json();
  }
  // Every FLUX_KUBECONFIG GitHub holds, decrypted by the stand-in.
  std::vector<std::string> github_kubeconfigs() const {
    std::vector<std::string> out;
    const json all = github.control("GET", "/_sim/secrets");  // not a temporary: see range-for
    for (const auto& s : all["secrets"]) {
      if (s["name"] == "FLUX_KUBECONFIG") {
        out.push_back(base64_decode(s["value"].get<std::string>()).value_or("<not base64>"));
      }
    }
    return out;
  }
  // Waits for fluxkey to hold the Lease, then hands it to another holder, as
  // a run that found it expired would.
  void take_lease_over() const {
    json lease;
    for (int i = 0; i < 500; ++i) {  // 5 s at most
      auto reply = as(admin_token, kLeasePath);
      if (reply.status == 200 && reply.json()["spec"].value("holderIdentity", "") != "") {
        lease = reply.json();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE_MESSAGE(!lease.is_null(), "fluxkey never took the Lease");
    lease["spec"]["holderIdentity"] = "laptop_7f3e";
    auto taken = kube.request("PUT", kLeasePath, lease.dump(), "application/json",
                              {{"Authorization", "Bearer " + admin_token}});
    REQUIRE_MESSAGE(taken.status == 200, taken.body);
  }
  // The next delete of a generation Secret answers after 11 s: past the
  // Lease's first renewal (at 10 s).
  void slow_first_generation_delete() const {
    kube.control("POST", "/_sim/faults",
                 {{"method", "DELETE"},
                  {"path", "/secrets/flux-kubeconfig-gen-"},
                  {"action", "delay"},
                  {"delay_ms", 11'000}});
  }
  std::string lease_holder() const {
    return as(admin_token, kLeasePath).json()["spec"].value("holderIdentity", "");
  }
  size_t live_tokens() const {
    size_t n = 0;
    const json tokens = kube.control("GET", "/_sim/tokens");
    for (const auto& t : tokens) n += t["alive"].get<bool>() ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST_CASE("two sync --force at once, 50 times: the Secret, GitHub and the live tokens agree") {
  Stand stand;
  size_t waited = 0;
  for (int round = 1; round <= 50; ++round) {
    CAPTURE(round);
    auto first = std::async(std::launch::async, [&] { return stand.sync_force(); });
    auto second = std::async(std::launch::async, [&] { return stand.sync_force(); });
    for (const ProcessResult& run : {first.get(), second.get()}) {
      CAPTURE(run.err);
      // Each run ends done, or refused with one line that says why.
      CHECK((run.exit_code == 0 || (run.exit_code == 1 && count_lines(run.err) == 1 &&
                                    run.err.find("another fluxkey run") != std::string::npos)));
      waited += run.err.find("waiting for another fluxkey run") != std::string::npos ? 1 : 0;
      CHECK(run.err.find(kGitHubToken) == std::string::npos);
    }

    json secret = stand.cluster_secret();
    const std::string stored =
        base64_decode(secret["data"]["kubeconfig"].get<std::string>()).value_or("<not base64>");
    const json targets = json::parse(
        secret["metadata"]["annotations"].value("fluxkey.io/targets", std::string("{}")));
    const long generation =
        std::stol(secret["metadata"]["annotations"].value("fluxkey.io/generation", "0"));
    // Both targets hold what the cluster Secret holds, and it says so.
    auto held = stand.github_kubeconfigs();
    REQUIRE(held.size() == 2);
    for (const auto& kubeconfig : held) CHECK(kubeconfig == stored);
    for (const char* id : {"acme/app", "org:acme"}) CHECK(targets[id]["generation"] == generation);
    // The token they hold works; at most this generation and the one before live.
    CHECK(stand.as(token_of(stored), "/api/v1/namespaces/fluxkey/secrets").status == 200);
    CHECK(stand.live_tokens() <= 2);
  }
  // Runs did meet: a test where they never overlapped would prove nothing.
  CHECK(waited > 0);
  MESSAGE("runs that waited for the other: " << waited << " of 100");
}

// A forced run reads GitHub's public keys while it waits for the Lease. A
// key that could not be read then is read again once the Lease is this
// run's: here GitHub answered 503 to all four tries while another run held
// the Lease, and had recovered by the time it let go.
TEST_CASE("a rotate that waited for the Lease reads again the public keys that failed meanwhile") {
  Stand stand;
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "flux-kubeconfig"}, {"namespace", "fluxkey"}}},
                {"spec",
                 {{"holderIdentity", "laptop_7f3e"},
                  {"leaseDurationSeconds", 30},
                  {"renewTime", "2026-11-29T00:00:00.000000Z"}}}};
  auto held = stand.kube.request("POST", "/apis/coordination.k8s.io/v1/namespaces/fluxkey/leases",
                                 lease.dump(), "application/json",
                                 {{"Authorization", "Bearer " + stand.admin_token}});
  REQUIRE_MESSAGE(held.status == 201, held.body);
  const std::string key_path = "/repos/acme/app/actions/secrets/public-key";
  stand.github.add_fault({{"method", "GET"},
                          {"path", key_path + "$"},
                          {"action", "status"},
                          {"status", 503},
                          {"times", 4}});
  BackgroundFluxkey run(stand.args({"rotate"}), stand.github_env());

  auto key_reads = [&] {
    size_t n = 0;
    for (const auto& r : stand.github.requests()) n += r["path"] == key_path ? 1 : 0;
    return n;
  };
  for (int i = 0; i < 1000 && key_reads() < 4; ++i) {  // 10 s at most
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(key_reads() == 4);
  CHECK(stand.lease_holder() == "laptop_7f3e");
  lease = held.json();
  lease["spec"]["holderIdentity"] = "";
  auto released = stand.kube.request("PUT", kLeasePath, lease.dump(), "application/json",
                                     {{"Authorization", "Bearer " + stand.admin_token}});
  REQUIRE_MESSAGE(released.status == 200, released.body);

  ProcessResult result = run.wait(std::chrono::seconds(60));
  CAPTURE(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.err.find("waiting for another fluxkey run to finish") != std::string::npos);
  CHECK(key_reads() == 5);
  const std::string stored =
      base64_decode(stand.cluster_secret()["data"]["kubeconfig"].get<std::string>())
          .value_or("<not base64>");
  auto held_by_github = stand.github_kubeconfigs();
  REQUIRE(held_by_github.size() == 2);
  for (const auto& kubeconfig : held_by_github) CHECK(kubeconfig == stored);
}

// The Lease renews every 10 s, so this run pushes for longer: 8 targets, one
// PUT at a time, 1.5 s each. Another run takes the Lease over at the start;
// at its first renewal fluxkey finds it taken and pushes no more.
TEST_CASE("a run whose Lease is taken over stops pushing, and records what it did") {
  Stand stand;
  std::vector<std::string> repos;
  for (int i = 1; i <= 8; ++i) repos.push_back("acme/app" + std::to_string(i));
  stand.github.control("POST", "/_sim/setup", {{"repos", repos}});
  stand.github.control("POST", "/_sim/latency", {{"ms", 1500}});
  std::vector<std::string> args = {"sync",
                                   "--force",
                                   "--kubeconfig",
                                   stand.kube.state_dir() + "/admin.kubeconfig",
                                   "--github-api-url",
                                   stand.github.url()};
  for (const auto& repo : repos) args.insert(args.end(), {"--github-repo", repo});
  BackgroundFluxkey run(args, stand.github_env());

  stand.take_lease_over();

  ProcessResult result = run.wait(std::chrono::seconds(60));
  CAPTURE(result.err);
  CHECK(result.exit_code == 3);
  CHECK(result.err.find("Lease fluxkey/flux-kubeconfig was taken over by another fluxkey run "
                        "(laptop_7f3e); stopped before pushing to repository acme/app") !=
        std::string::npos);
  CHECK(result.err.find("deleted generation Secret") == std::string::npos);
  CHECK(result.err.find("before this run released it") == std::string::npos);

  // The Secret says which targets got the new kubeconfig, and GitHub agrees.
  json secret = stand.cluster_secret();
  const std::string stored =
      base64_decode(secret["data"]["kubeconfig"].get<std::string>()).value_or("<not base64>");
  const json targets =
      json::parse(secret["metadata"]["annotations"].value("fluxkey.io/targets", std::string("{}")));
  const long generation =
      std::stol(secret["metadata"]["annotations"].value("fluxkey.io/generation", "0"));
  const json all = stand.github.control("GET", "/_sim/secrets");
  size_t pushed = 0, stopped = 0;
  for (const auto& repo : repos) {
    CAPTURE(repo);
    bool holds = false;
    for (const auto& s : all["secrets"]) {
      holds = holds || (s["repository"] == repo.substr(5) &&
                        base64_decode(s["value"].get<std::string>()) == stored);
    }
    const json record = targets.value(repo, json::object());
    const bool recorded = record.value("generation", 0L) == generation;
    CHECK(holds == recorded);
    if (recorded) {
      ++pushed;
    } else {
      ++stopped;
      CHECK(record.value("error", "").find("taken over") != std::string::npos);
    }
  }
  CHECK(pushed >= 1);
  CHECK(stopped >= 1);
  // The other run's Lease is left as it is.
  CHECK(stand.lease_holder() == "laptop_7f3e");
}

// The Lease taken over once the pushes are done: a rotate with
// --revoke-previous deletes generations 1 and 2, and the first delete takes
// 11 s, past the first renewal (at 10 s), which finds the Lease taken. The
// run has pushed and recorded everything; it deletes no other generation.
TEST_CASE("a rotate whose Lease is taken over while it prunes deletes no more") {
  Stand stand;
  for (int i = 0; i < 2; ++i) REQUIRE(stand.sync_force().exit_code == 0);
  stand.slow_first_generation_delete();
  BackgroundFluxkey rotate(stand.args({"rotate", "--revoke-previous"}), stand.github_env());
  stand.take_lease_over();
  ProcessResult result = rotate.wait(std::chrono::seconds(60));
  CAPTURE(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.err.find("deleted generation Secret fluxkey/flux-kubeconfig-gen-1") !=
        std::string::npos);
  CHECK(result.err.find("Lease fluxkey/flux-kubeconfig was taken over by another fluxkey run "
                        "(laptop_7f3e); stopped before revoking earlier generations; `fluxkey "
                        "revoke` revokes them") != std::string::npos);
  CHECK(result.err.find("before this run released it") == std::string::npos);
  const json annotations = stand.cluster_secret()["metadata"]["annotations"];
  CHECK(annotations.value("fluxkey.io/generation", "") == "3");
  const json records = json::parse(annotations.value("fluxkey.io/targets", "{}"));
  REQUIRE(records.size() == 2);
  for (const auto& record : records) CHECK(record.value("generation", 0L) == 3);
  const std::string secrets = "/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig-gen-";
  CHECK(stand.as(stand.admin_token, secrets + "2").status == 200);
  CHECK(stand.lease_holder() == "laptop_7f3e");
}

// revoke renews the Lease as sync does. Its first delete answers after 11 s,
// past the first renewal (at 10 s), which finds the Lease taken over: revoke
// deletes nothing more.
TEST_CASE("a revoke whose Lease is taken over deletes no more generation Secrets") {
  Stand stand;
  for (int i = 0; i < 2; ++i) REQUIRE(stand.sync_force().exit_code == 0);
  const std::string secrets = "/api/v1/namespaces/fluxkey/secrets/";
  REQUIRE(stand.as(stand.admin_token, secrets + "flux-kubeconfig-gen-1").status == 200);
  stand.slow_first_generation_delete();
  BackgroundFluxkey run(
      {"revoke", "--all", "--kubeconfig", stand.kube.state_dir() + "/admin.kubeconfig"}, {});
  stand.take_lease_over();

  ProcessResult result = run.wait(std::chrono::seconds(60));
  CAPTURE(result.err);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find("Lease fluxkey/flux-kubeconfig was taken over by another fluxkey run "
                        "(laptop_7f3e); stopped before deleting generation Secret "
                        "fluxkey/flux-kubeconfig-gen-2; run fluxkey revoke again") !=
        std::string::npos);
  CHECK(stand.as(stand.admin_token, secrets + "flux-kubeconfig-gen-1").status == 404);
  CHECK(stand.as(stand.admin_token, secrets + "flux-kubeconfig-gen-2").status == 200);
  CHECK(stand.lease_holder() == "laptop_7f3e");
}

}  // namespace concurrency_test
