// `fluxkey sync`, `rotate`, `revoke` and `status` end to end: the real binary
// against kube-sim and github-sim, what each stored read back through their
// control APIs, and the real kubectl using what GitHub received.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/base64.h"
#include "core/time.h"
#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/sim_process.h"
#include "support/sync_rig.h"

namespace sync_command_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;

TEST_CASE("sync stores the kubeconfig, then pushes it to a repository, an environment and an org") {
  Rig rig;
  auto run = rig.run("sync", kThreeTargets);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);

  json secret = rig.cluster_secret();
  REQUIRE(secret.is_object());
  CHECK(secret["type"] == "Opaque");
  CHECK(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "fluxkey");
  CHECK(rig.annotation("fluxkey.io/generation") == "1");
  CHECK_FALSE(rig.annotation("fluxkey.io/minted-at").empty());
  CHECK_FALSE(rig.annotation("fluxkey.io/expires-at").empty());
  bool fluxkey_manages = false;
  for (const auto& m : secret["metadata"]["managedFields"]) {
    fluxkey_manages |= m["manager"] == "fluxkey" && m["operation"] == "Apply";
  }
  CHECK(fluxkey_manages);

  // Every target holds the stored kubeconfig, base64 on one line.
  std::string kubeconfig = rig.stored_kubeconfig();
  CHECK(kubeconfig.find("server: " + rig.kube.url()) != std::string::npos);
  CHECK(rig.github_kubeconfig("repo", "acme/app") == kubeconfig);
  CHECK(rig.github_kubeconfig("env", "acme/app", "prod") == kubeconfig);
  CHECK(rig.github_kubeconfig("org", "acme") == kubeconfig);
  CHECK(rig.github_secret("org", "acme")["visibility"] == "private");
  json targets = rig.targets_annotation();
  for (const char* id : {"acme/app", "acme/app:prod", "org:acme"}) {
    CAPTURE(id);
    CHECK(targets[id]["generation"] == 1);
    CHECK(targets[id].contains("pushedAt"));
    CHECK_FALSE(targets[id].contains("error"));
  }

  // The token is bound to its generation Secret, never a legacy one.
  json tokens = rig.tokens();
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0]["sub"] == "system:serviceaccount:fluxkey:flux-reconcile");
  CHECK(tokens[0]["boundSecret"]["name"] == "flux-kubeconfig-gen-1");
  CHECK(rig.generation_secrets() == std::set<std::string>{"flux-kubeconfig-gen-1"});

  // The order that keeps workflows working: stored before any push.
  std::optional<Clock::time_point> stored_at, first_put;
  for (const auto& r : rig.kube.requests()) {
    if (r["method"] == "PATCH" && !stored_at) stored_at = parse_rfc3339(r["ts"].get<std::string>());
  }
  for (const auto& r : rig.github.requests()) {
    if (r["method"] == "PUT" && !first_put) first_put = parse_rfc3339(r["ts"].get<std::string>());
  }
  REQUIRE((stored_at && first_put));
  CHECK(*stored_at < *first_put);
  CHECK(run.err.find("pushed FLUX_KUBECONFIG to organization acme (3/3 targets)") !=
        std::string::npos);
  check_no_secret(run, token_of(kubeconfig));

  // Real kubectl works with what GitHub received.
  std::string path =
      rig.dir.write("from-github.kubeconfig", rig.github_kubeconfig("repo", "acme/app"));
  auto kubectl = run_program({"kubectl", "--kubeconfig", path, "get", "--raw",
                              "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile"});
  CHECK_MESSAGE(kubectl.exit_code == 0, kubectl.err);
}

TEST_CASE("rotate --verbose logs GitHub's requests too, and no credential") {
  Rig rig;
  auto run = rig.run("rotate", {"--github-repo", "acme/app", "--verbose"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const std::string repo = rig.github.url() + "/repos/acme/app/actions/secrets/";
  CHECK(run.err.find("debug: http request method=GET url=" + repo + "public-key status=200 ") !=
        std::string::npos);
  CHECK(run.err.find("debug: http request method=PUT url=" + repo +
                     "FLUX_KUBECONFIG status=201 ") != std::string::npos);
  check_no_secret(run, token_of(rig.stored_kubeconfig()));
}

TEST_CASE("sync skips while the token is fresh and every target is current") {
  Rig rig;
  REQUIRE(rig.run("sync", {"--github-repo", "acme/app"}).exit_code == 0);
  size_t github_before = rig.github.requests().size();
  auto again = rig.run("sync", {"--github-repo", "acme/app"});
  REQUIRE_MESSAGE(again.exit_code == 0, again.err);
  CHECK(count_lines(again.err) == 1);
  CHECK(again.err.find("nothing to do") != std::string::npos);
  CHECK(rig.tokens().size() == 1);
  CHECK(rig.github.requests().size() == github_before);  // GitHub not even asked

  // Under --refresh-before the token is renewed: 24h are left, 25h asked.
  auto renew = rig.run(
      "sync", {"--github-repo", "acme/app", "--token-ttl", "48h", "--refresh-before", "25h"});
  REQUIRE_MESSAGE(renew.exit_code == 0, renew.err);
  CHECK(renew.err.find("under --refresh-before 25h") != std::string::npos);
  CHECK(rig.annotation("fluxkey.io/generation") == "2");
  CHECK(rig.tokens().size() == 2);
}

TEST_CASE("rotate keeps the previous generation; --revoke-previous kills every older token") {
  Rig rig;
  REQUIRE(rig.run("sync", {"--github-repo", "acme/app"}).exit_code == 0);
  std::string first = rig.stored_kubeconfig();
  REQUIRE(rig.run("rotate", {"--github-repo", "acme/app"}).exit_code == 0);
  CHECK(rig.generation_secrets() ==
        std::set<std::string>{"flux-kubeconfig-gen-1", "flux-kubeconfig-gen-2"});
  CHECK(rig.live_tokens() == 2);  // workflows that started with generation 1 keep working

  REQUIRE(rig.run("rotate", {"--github-repo", "acme/app"}).exit_code == 0);
  CHECK(rig.generation_secrets() ==
        std::set<std::string>{"flux-kubeconfig-gen-2", "flux-kubeconfig-gen-3"});
  CHECK(rig.live_tokens() == 2);

  auto revoke = rig.run("rotate", {"--github-repo", "acme/app", "--revoke-previous"});
  REQUIRE_MESSAGE(revoke.exit_code == 0, revoke.err);
  CHECK(rig.generation_secrets() == std::set<std::string>{"flux-kubeconfig-gen-4"});
  CHECK(rig.live_tokens() == 1);
  CHECK(rig.github_kubeconfig("repo", "acme/app") == rig.stored_kubeconfig());
  CHECK(rig.github_secret("repo", "acme/app")["writes"] == 4);

  // The first kubeconfig is refused now; the newest works.
  std::string old_path = rig.dir.write("old.kubeconfig", first);
  auto refused =
      run_program({"kubectl", "--kubeconfig", old_path, "get", "--raw", "/api/v1/namespaces"});
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("Unauthorized") != std::string::npos);
  std::string new_path = rig.dir.write("new.kubeconfig", rig.stored_kubeconfig());
  auto works = run_program({"kubectl", "--kubeconfig", new_path, "get", "--raw",
                            "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile"});
  CHECK_MESSAGE(works.exit_code == 0, works.err);
}

TEST_CASE("rotate --revoke-previous names the targets it leaves holding a revoked credential") {
  Rig rig;
  REQUIRE(rig.run("sync", {"--github-repo", "acme/app", "--github-repo", "acme/web"}).exit_code ==
          0);
  const std::string first = rig.stored_kubeconfig();
  rig.github.add_fault({{"method", "PUT"},
                        {"path", "/repos/acme/web/actions/secrets/FLUX_KUBECONFIG$"},
                        {"action", "status"},
                        {"status", 404},
                        {"times", -1}});
  auto run = rig.run("rotate", {"--github-repo", "acme/app", "--github-repo", "acme/web",
                                "--github-repo", "acme/missing", "--revoke-previous"});
  CHECK(run.exit_code == 3);
  CHECK(run.err.find("--revoke-previous: repository acme/web still holds a revoked credential "
                     "until the next successful sync") != std::string::npos);
  // acme/missing never received a generation: it holds nothing to revoke.
  CHECK(run.err.find("acme/missing still") == std::string::npos);
  CHECK(rig.generation_secrets() == std::set<std::string>{"flux-kubeconfig-gen-2"});
  // What acme/web holds is dead, as the line says.
  CHECK(rig.github_kubeconfig("repo", "acme/web") == first);
  CHECK(rig.kube
            .request("GET", "/api/v1/namespaces/fluxkey/secrets", "", "",
                     {{"Authorization", "Bearer " + token_of(first)}})
            .status == 401);
}

TEST_CASE(
    "a failing target: exit 3, named with GitHub's message, recorded; the next sync pushes "
    "only it") {
  Rig rig;
  auto run = rig.run("sync", {"--github-repo", "acme/app", "--github-repo", "acme/missing"});
  CHECK(run.exit_code == 3);
  CHECK(run.err.find("acme/missing") != std::string::npos);
  CHECK(run.err.find("Not Found") != std::string::npos);
  json targets = rig.targets_annotation();
  CHECK(targets["acme/app"]["generation"] == 1);
  CHECK(targets["acme/missing"].value("generation", 0) == 0);
  CHECK(targets["acme/missing"]["error"].get<std::string>().find("Not Found") != std::string::npos);
  CHECK(rig.github_kubeconfig("repo", "acme/app") == rig.stored_kubeconfig());

  // A second rotation keeps generation 1 alive: acme/missing never got 2.
  REQUIRE(
      rig.run("rotate", {"--github-repo", "acme/app", "--github-repo", "acme/missing"}).exit_code ==
      3);
  REQUIRE(
      rig.run("rotate", {"--github-repo", "acme/app", "--github-repo", "acme/missing"}).exit_code ==
      3);
  CHECK(rig.generation_secrets().size() == 3);

  // Once the repository exists, sync pushes to it alone and mints nothing.
  rig.github.control("POST", "/_sim/setup", {{"repos", {"acme/missing"}}});
  size_t tokens_before = rig.tokens().size();
  size_t since = rig.github.requests().size();
  auto fixed = rig.run("sync", {"--github-repo", "acme/app", "--github-repo", "acme/missing"});
  REQUIRE_MESSAGE(fixed.exit_code == 0, fixed.err);
  CHECK(rig.tokens().size() == tokens_before);
  CHECK(rig.requests(rig.github, "PUT", "/secrets/FLUX_KUBECONFIG", since) == 1);
  CHECK(rig.github_kubeconfig("repo", "acme/missing") == rig.stored_kubeconfig());
  CHECK_FALSE(rig.targets_annotation()["acme/missing"].contains("error"));
  // Everyone has generation 3 now: generations 1 is pruned, 2 and 3 stay.
  CHECK(rig.generation_secrets() ==
        std::set<std::string>{"flux-kubeconfig-gen-2", "flux-kubeconfig-gen-3"});
}

TEST_CASE("sync: when no target can be reached nothing changes and the exit is 1") {
  Rig rig;
  auto run = rig.run("sync", {"--github-repo", "acme/missing"});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("nothing was changed") != std::string::npos);
  CHECK(rig.cluster_secret().is_null());
  CHECK(rig.tokens().empty());

  auto bad_token = run_fluxkey(rig.args("sync", {"--github-repo", "acme/app"}),
                               rig.env("ghp_notARealToken0000000000000000000000"));
  CHECK(bad_token.exit_code == 1);
  CHECK(bad_token.err.find("Bad credentials") != std::string::npos);
  CHECK(bad_token.err.find("ghp_notARealToken") == std::string::npos);
  CHECK(rig.mutating_requests(rig.kube) == 0);
}

TEST_CASE("sync: bad input gets one line and exit 2 before any request") {
  Rig rig;
  struct Case {
    std::vector<std::string> args;
    std::string token;
    const char* says;
  };
  const Case cases[] = {
      {{"--github-repo", "acme/app"}, "", "no GitHub credential"},
      {{"--github-repo", "acme"}, kGitHubToken, "--github-repo"},
      {{"--github-repo", "acme/app", "--github-secret", "GITHUB_KUBECONFIG"},
       kGitHubToken,
       "--github-secret"},
      {{"--github-repo", "acme/app", "--github-secret", "1ABC"}, kGitHubToken, "--github-secret"},
      {{"--github-org", "acme/app"}, kGitHubToken, "--github-org"},
      {{"--github-org", "acme", "--github-org-visibility", "selected"},
       kGitHubToken,
       "--github-org-repos"},
      {{"--github-repo", "acme/app", "--github-format", "yaml"}, kGitHubToken, "--github-format"},
      {{"--github-repo", "acme/app", "--token-ttl", "1m"}, kGitHubToken, "--token-ttl"},
      {{"--github-repo", "acme/app", "--refresh-before", "25h"}, kGitHubToken, "--refresh-before"},
      {{"--github-repo", "acme/app", "--github-max-writes-per-minute", "0"},
       kGitHubToken,
       "--github-max-writes-per-minute"},
      {{"--github-repo", "acme/app", "--github-app-id", "12"}, kGitHubToken, "--github-app-key"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.says);
    auto run = run_fluxkey(rig.args("sync", c.args), rig.env(c.token));
    CHECK(run.exit_code == 2);
    CHECK(count_lines(run.err) == 1);
    CHECK(run.err.find(c.says) != std::string::npos);
  }
  std::string config = rig.dir.write("bad.yaml", "github-repo: acme/app\ngithub-repos: acme/web\n");
  auto run = run_fluxkey(rig.args("sync", {"--config", config}), rig.env());
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("unknown key \"github-repos\"") != std::string::npos);
  CHECK(rig.kube.requests().empty());
  CHECK(rig.github.requests().empty());
}

TEST_CASE("sync reads its settings from the CronJob's config file; flags win") {
  Rig rig;
  std::string config = rig.dir.write("fluxkey.yaml",
                                     "service-account: fluxkey/flux-reconcile\n"
                                     "token-ttl: 12h\n"
                                     "github-repo: [acme/app, \"acme/app:prod\"]\n"
                                     "github-secret: FROM_CONFIG\n"
                                     "github-format: raw\n"
                                     "warn-before: 1h\n"  // status's key: accepted
                                     "revoke-previous: false\n");
  auto run = rig.run("sync", {"--config", config, "--github-secret", "FLUX_KUBECONFIG"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  // raw: the YAML itself.
  json s = rig.github_secret("env", "acme/app", "prod");
  REQUIRE(s.is_object());
  CHECK(s["value"] == rig.stored_kubeconfig());
  auto expires = parse_rfc3339(rig.annotation("fluxkey.io/expires-at"));
  auto minted = parse_rfc3339(rig.annotation("fluxkey.io/minted-at"));
  REQUIRE((expires && minted));
  CHECK(*expires - *minted > std::chrono::hours(11));
  CHECK(*expires - *minted < std::chrono::hours(13));
}

TEST_CASE("sync --dry-run reads both APIs, changes nothing and prints the plan") {
  Rig rig;
  auto run = rig.run("sync", {"--dry-run", "--github-repo", "acme/app", "--github-repo",
                              "acme/missing", "--github-org", "acme"});
  CHECK(run.exit_code == 1);  // a target would fail
  CHECK(run.out.find("would create generation Secret fluxkey/flux-kubeconfig-gen-1") !=
        std::string::npos);
  CHECK(run.out.find("would push FLUX_KUBECONFIG to repository acme/app\n") != std::string::npos);
  CHECK(run.out.find("repository acme/missing: would fail") != std::string::npos);
  CHECK(rig.mutating_requests(rig.kube) == 0);
  CHECK(rig.mutating_requests(rig.github) == 0);
  CHECK(rig.requests(rig.github, "GET", "/public-key") == 3);

  REQUIRE(rig.run("sync", {"--github-repo", "acme/app"}).exit_code == 0);
  size_t kube_since = rig.kube.requests().size();
  size_t github_since = rig.github.requests().size();
  auto rotate = rig.run("rotate", {"--dry-run", "--revoke-previous", "--github-repo", "acme/app"});
  REQUIRE_MESSAGE(rotate.exit_code == 0, rotate.err);
  CHECK(rotate.out.find("would create generation Secret fluxkey/flux-kubeconfig-gen-2") !=
        std::string::npos);
  for (const auto& r : rig.kube.requests(kube_since)) CHECK(r["method"] == "GET");
  for (const auto& r : rig.github.requests(github_since)) CHECK(r["method"] == "GET");
}

TEST_CASE("status reports generations, expiry and per-target state; exit 1 near expiry") {
  Rig rig;
  auto none = rig.run("status");
  CHECK(none.exit_code == 1);
  CHECK(none.err.find("run fluxkey sync") != std::string::npos);

  REQUIRE(
      rig.run("sync", {"--github-repo", "acme/app", "--github-repo", "acme/missing"}).exit_code ==
      3);
  auto table = rig.run("status", {"--github-repo", "acme/web"});
  REQUIRE_MESSAGE(table.exit_code == 0, table.err);
  CHECK(table.out.find("Generation    1") != std::string::npos);
  CHECK(table.out.find("Health        ok") != std::string::npos);
  CHECK(table.out.find("acme/app ") != std::string::npos);
  CHECK(table.out.find("current") != std::string::npos);
  CHECK(table.out.find("failing: ") != std::string::npos);
  CHECK(table.out.find("never pushed") != std::string::npos);  // acme/web: configured only
  check_no_secret(table, token_of(rig.stored_kubeconfig()));

  auto json_run = rig.run("status", {"-o", "json"});
  REQUIRE_MESSAGE(json_run.exit_code == 0, json_run.err);
  json doc = json::parse(json_run.out);
  // --log-format shapes the log alone: the report stays a table.
  auto logged = rig.run("status", {"--log-format", "json"});
  CHECK(logged.exit_code == 0);
  CHECK(logged.out.find("Generation    1") != std::string::npos);
  auto bad = rig.run("status", {"-o", "yaml"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--output") != std::string::npos);
  CHECK(doc["generation"] == 1);
  CHECK(doc["healthy"] == true);
  CHECK(doc["generations"] == json::array({1}));
  CHECK(doc["targets"].size() == 2);

  auto warn = rig.run("status", {"--warn-before", "25h"});
  CHECK(warn.exit_code == 1);
  CHECK(warn.err.find("within --warn-before 25h") != std::string::npos);
}

TEST_CASE("status: a token past its expiry, or whose generation Secret is gone, is exit 1") {
  Rig rig;
  REQUIRE(rig.run("sync", {"--github-repo", "acme/app"}).exit_code == 0);
  const std::map<std::string, std::string> admin = {
      {"Authorization", "Bearer " + kube_admin_token(rig.kube)}};
  const std::string secret = "/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig";
  auto patched = rig.kube.request(
      "PATCH", secret,
      R"({"metadata":{"annotations":{"fluxkey.io/expires-at":"2026-01-01T00:00:00Z"}}})",
      "application/merge-patch+json", admin);
  REQUIRE_MESSAGE(patched.status == 200, patched.body);
  auto expired = rig.run("status");
  CHECK(expired.exit_code == 1);
  CHECK(expired.err.find("expired at 2026-01-01T00:00:00Z") != std::string::npos);

  auto deleted = rig.kube.request(
      "DELETE", "/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig-gen-1", "", "", admin);
  REQUIRE_MESSAGE(deleted.status == 200, deleted.body);
  auto gone = rig.run("status");
  CHECK(gone.exit_code == 1);
  CHECK(gone.err.find("revoked: the generation Secret of generation 1 is gone") !=
        std::string::npos);
}

TEST_CASE("revoke deletes all generations but the newest; --all the newest too, and says so") {
  Rig rig;
  for (int i = 0; i < 2; ++i)
    REQUIRE(rig.run("rotate", {"--github-repo", "acme/app"}).exit_code == 0);
  CHECK(rig.live_tokens() == 2);

  auto dry = rig.run("revoke", {"--dry-run"});
  REQUIRE_MESSAGE(dry.exit_code == 0, dry.err);
  CHECK(dry.out.find("would delete generation Secret fluxkey/flux-kubeconfig-gen-1") !=
        std::string::npos);
  CHECK(rig.live_tokens() == 2);

  auto revoke = rig.run("revoke");
  REQUIRE_MESSAGE(revoke.exit_code == 0, revoke.err);
  CHECK(rig.live_tokens() == 1);
  CHECK(rig.generation_secrets() == std::set<std::string>{"flux-kubeconfig-gen-2"});
  auto nothing = rig.run("revoke");
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.err.find("nothing to revoke") != std::string::npos);

  auto all = rig.run("revoke", {"--all"});
  REQUIRE_MESSAGE(all.exit_code == 0, all.err);
  CHECK(rig.live_tokens() == 0);
  CHECK(all.err.find("dead credential") != std::string::npos);
  CHECK(all.err.find("acme/app") != std::string::npos);
  auto status = rig.run("status");
  CHECK(status.exit_code == 1);
  CHECK(status.out.find("revoked") != std::string::npos);

  // The next sync sees the revocation and mints again.
  auto sync = rig.run("sync", {"--github-repo", "acme/app"});
  REQUIRE_MESSAGE(sync.exit_code == 0, sync.err);
  CHECK(sync.err.find("was revoked") != std::string::npos);
  CHECK(rig.live_tokens() == 1);
  CHECK(rig.run("status").exit_code == 0);
}

TEST_CASE("sync refuses a Secret that fluxkey does not manage") {
  Rig rig;
  rig.kube.control("POST", "/_sim/objects",
                   json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":
                     {"name":"flux-kubeconfig","namespace":"fluxkey"},"data":{"a":"Yg=="}})"));
  auto run = rig.run("sync", {"--github-repo", "acme/app"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("not managed by fluxkey") != std::string::npos);
  CHECK(rig.tokens().empty());
}

// GitHub and API server faults: tests/integration/fault_matrix_sync_test.cc (tests/README.md).

TEST_CASE("sync selected org visibility sends the repository ids, every time") {
  Rig rig;
  auto run = rig.run("sync", {"--github-org", "acme", "--github-org-visibility", "selected",
                              "--github-org-repos", "app,web"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  json s = rig.github_secret("org", "acme");
  REQUIRE(s.is_object());
  CHECK(s["visibility"] == "selected");
  CHECK(s["selected_repository_ids"].size() == 2);
  REQUIRE(rig.run("rotate", {"--github-org", "acme", "--github-org-visibility", "selected",
                             "--github-org-repos", "app,web"})
              .exit_code == 0);
  CHECK(rig.github_secret("org", "acme")["selected_repository_ids"].size() == 2);
}

TEST_CASE("sync paces its writes: a tight write budget is never exceeded") {
  Rig rig;
  // A minute of 3 s on both sides; 2 writes a minute.
  rig.github.control("POST", "/_sim/limits", {{"writes_per_minute", 2}, {"time_scale", 0.05}});
  auto env = rig.env();
  env.emplace_back("FLUXKEY_PACING_TIME_SCALE", "0.05");
  auto run = run_fluxkey(
      rig.args("sync", {"--github-repo", "acme/app", "--github-repo", "acme/web", "--github-repo",
                        "acme/app:prod", "--github-max-writes-per-minute", "2"}),
      env);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  for (const auto& r : rig.github.requests()) CHECK(r["status"] != 403);
  CHECK(rig.requests(rig.github, "PUT", "/secrets/FLUX_KUBECONFIG") == 3);
}

TEST_CASE("sync as a GitHub App: one installation token per account, reused for the run") {
  Rig rig;
  std::string key = rig.dir.path() + "/app.pem";
  auto genkey = run_program(
      {"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key});
  REQUIRE_MESSAGE(genkey.exit_code == 0, genkey.err);
  auto pub = run_program({"openssl", "pkey", "-in", key, "-pubout"});
  REQUIRE_MESSAGE(pub.exit_code == 0, pub.err);
  rig.github.control("POST", "/_sim/setup",
                     {{"apps",
                       {{{"id", 77},
                         {"client_id", "Iv1.fluxkeytest"},
                         {"public_key_pem", pub.out},
                         {"installations", {{{"id", 1001}, {"account", "acme"}}}}}}}});

  std::vector<std::string> app = {"--github-app-id", "Iv1.fluxkeytest", "--github-app-key", key};
  std::vector<std::string> args = kThreeTargets;
  args.insert(args.end(), app.begin(), app.end());

  // --dry-run creates no installation token (a POST), so it reads nothing from GitHub.
  std::vector<std::string> dry_args = args;
  dry_args.push_back("--dry-run");
  auto dry = run_fluxkey(rig.args("sync", dry_args), rig.env(""));
  REQUIRE_MESSAGE(dry.exit_code == 0, dry.err);
  CHECK(dry.out.find("not checked") != std::string::npos);
  CHECK(rig.github.requests().empty());

  auto run = run_fluxkey(rig.args("sync", args), rig.env(""));
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(rig.github_kubeconfig("repo", "acme/app") == rig.stored_kubeconfig());
  CHECK(rig.github_kubeconfig("env", "acme/app", "prod") == rig.stored_kubeconfig());
  CHECK(rig.github_kubeconfig("org", "acme") == rig.stored_kubeconfig());
  CHECK(rig.requests(rig.github, "POST", "/access_tokens") == 1);
  CHECK(rig.requests(rig.github, "GET", "/installation") == 1);
  for (const auto& r : rig.github.requests()) {
    if (r["method"] == "PUT") CHECK(r["user"] == "installation:1001");
  }

  // Not installed on the account: one line naming the App and the fix.
  auto other = run_fluxkey(rig.args("sync", {"--github-repo", "other/app", "--github-app-id", "77",
                                             "--github-app-key", key}),
                           rig.env(""));
  CHECK(other.exit_code == 1);
  CHECK(other.err.find("not installed on other") != std::string::npos);
}

TEST_CASE("sync: a token without the organization permission is named with the scope it needs") {
  Rig rig;
  constexpr const char* kRepoOnly = "ghp_syncRepoOnly00000000000000000000000";
  rig.github.control("POST", "/_sim/setup", {{"tokens", {std::string(kRepoOnly) + "=repo"}}});
  auto run = run_fluxkey(rig.args("sync", kThreeTargets), rig.env(kRepoOnly));
  CHECK(run.exit_code == 3);
  CHECK(run.err.find("organization acme") != std::string::npos);
  CHECK(run.err.find("admin:org") != std::string::npos);
  CHECK(run.err.find(kRepoOnly) == std::string::npos);
  CHECK(rig.github_kubeconfig("repo", "acme/app") == rig.stored_kubeconfig());
  CHECK(rig.targets_annotation()["org:acme"]["error"].get<std::string>().find("admin:org") !=
        std::string::npos);
}

}  // namespace sync_command_test
