// github-sim checked against the real gh CLI (2.23): if gh can set, update,
// list and delete repository, environment and organization secrets through
// it, and the stand-in opens what gh sealed, its shapes are GitHub's.
#include <doctest/doctest.h>

#include <string>

#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace fluxkey::testing::gh_conformance_test {
namespace {

using Json = nlohmann::json;

// Test-only credential, never a real one.
constexpr const char* kToken = "ghp_simTestToken0000000000000000000000";

struct GhFixture {
  SimProcess sim{binary_from_env("GITHUB_SIM"),
                 {"--repo", "acme/app:prod,stage one", "--repo", "acme/web", "--org", "acme"}};
  TempDir config;  // gh's config and state, fresh for each test

  GhFixture() {
    // The token goes through the control API, not the stand-in's argv.
    sim.control("POST", "/_sim/setup", {{"tokens", {{{"token", kToken}}}}});
  }

  // Runs gh against the stand-in only: GH_HOST makes it an Enterprise host,
  // so it calls /api/v3 with GH_ENTERPRISE_TOKEN; no developer token leaks in
  // (run_program passes only PATH and a private HOME).
  ProcessResult gh(const std::vector<std::string>& args, const std::string& token = kToken) {
    std::vector<std::string> argv = {"gh"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv,
                       {{"GH_HOST", "127.0.0.1:" + std::to_string(sim.port())},
                        {"GH_ENTERPRISE_TOKEN", token},
                        {"SSL_CERT_FILE", sim.ca_file()},
                        {"GH_CONFIG_DIR", config.path() + "/gh"},
                        {"XDG_CONFIG_HOME", config.path()},
                        {"XDG_STATE_HOME", config.path()},
                        {"XDG_CACHE_HOME", config.path()},
                        {"GH_PROMPT_DISABLED", "1"},
                        {"GH_NO_UPDATE_NOTIFIER", "1"},
                        {"NO_COLOR", "1"}},
                       std::chrono::seconds(30));
  }

  Json secret(const std::string& scope, const std::string& name) {
    Json all = sim.control("GET", "/_sim/secrets");
    for (const auto& s : all["secrets"]) {
      if (s["scope"] == scope && s["name"] == name) return s;
    }
    return nullptr;
  }

  int64_t repo_id(const std::string& full_name) {
    Json state = sim.control("GET", "/_sim/state");
    for (const auto& r : state["repos"]) {
      if (r["full_name"] == full_name) return r["id"].get<int64_t>();
    }
    FAIL("no repository " << full_name);
    return 0;
  }

  // Statuses of the logged requests whose path ends with `suffix`.
  std::vector<int> statuses(const std::string& method, const std::string& suffix) {
    std::vector<int> out;
    for (const auto& r : sim.requests()) {
      const std::string path = r["path"];
      if (r["method"] == method && path.size() >= suffix.size() &&
          path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(r["status"].get<int>());
      }
    }
    return out;
  }
};

#define REQUIRE_GH_OK(result)      \
  do {                             \
    const auto& r_ = (result);     \
    INFO("gh stderr: " << r_.err); \
    REQUIRE_FALSE(r_.timed_out);   \
    REQUIRE(r_.exit_code == 0);    \
  } while (false)

TEST_CASE("gh sets a repository secret, updates it, lists and deletes it") {
  GhFixture f;
  REQUIRE_GH_OK(
      f.gh({"secret", "set", "FLUX_KUBECONFIG", "--body", "first value", "-R", "acme/app"}));
  Json s = f.secret("repo", "FLUX_KUBECONFIG");
  REQUIRE(s.is_object());
  CHECK(s["value"] == "first value");
  CHECK(s["owner"] == "acme");
  CHECK(s["repository"] == "app");

  REQUIRE_GH_OK(
      f.gh({"secret", "set", "FLUX_KUBECONFIG", "--body", "second value", "-R", "acme/app"}));
  s = f.secret("repo", "FLUX_KUBECONFIG");
  CHECK(s["value"] == "second value");
  CHECK(s["writes"] == 2);
  // gh went through /api/v3; the first PUT created (201 {}), the second updated (204).
  CHECK(f.statuses("PUT", "/api/v3/repos/acme/app/actions/secrets/FLUX_KUBECONFIG") ==
        std::vector<int>{201, 204});

  auto list = f.gh({"secret", "list", "-R", "acme/app"});
  REQUIRE_GH_OK(list);
  CHECK(list.out.find("FLUX_KUBECONFIG") == 0);

  REQUIRE_GH_OK(f.gh({"secret", "delete", "FLUX_KUBECONFIG", "-R", "acme/app"}));
  CHECK(f.secret("repo", "FLUX_KUBECONFIG").is_null());
  auto empty = f.gh({"secret", "list", "-R", "acme/app"});
  CHECK_FALSE(empty.timed_out);
  CHECK(empty.out.find("FLUX_KUBECONFIG") == std::string::npos);
}

TEST_CASE("gh sets an environment secret") {
  GhFixture f;
  REQUIRE_GH_OK(
      f.gh({"secret", "set", "DEPLOY", "--env", "prod", "--body", "env value", "-R", "acme/app"}));
  Json s = f.secret("env", "DEPLOY");
  REQUIRE(s.is_object());
  CHECK(s["environment"] == "prod");
  CHECK(s["value"] == "env value");
  auto list = f.gh({"secret", "list", "--env", "prod", "-R", "acme/app"});
  REQUIRE_GH_OK(list);
  CHECK(list.out.find("DEPLOY") == 0);
  auto missing =
      f.gh({"secret", "set", "DEPLOY", "--env", "nope", "--body", "x", "-R", "acme/app"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("404") != std::string::npos);
}

TEST_CASE("gh sets an organization secret for selected repositories") {
  GhFixture f;
  REQUIRE_GH_OK(f.gh({"secret", "set", "ORG_KUBECONFIG", "--org", "acme", "--visibility",
                      "selected", "--repos", "app,web", "--body", "org value"}));
  Json s = f.secret("org", "ORG_KUBECONFIG");
  REQUIRE(s.is_object());
  CHECK(s["value"] == "org value");
  CHECK(s["visibility"] == "selected");
  std::vector<int64_t> want = {f.repo_id("acme/app"), f.repo_id("acme/web")};
  std::sort(want.begin(), want.end());
  CHECK(s["selected_repository_ids"].get<std::vector<int64_t>>() == want);
  // The ids came from the GraphQL lookup gh makes.
  CHECK(f.statuses("POST", "/api/graphql") == std::vector<int>{200});

  REQUIRE_GH_OK(f.gh({"secret", "set", "ORG_KUBECONFIG", "--org", "acme", "--visibility", "all",
                      "--body", "now for all"}));
  s = f.secret("org", "ORG_KUBECONFIG");
  CHECK(s["visibility"] == "all");
  CHECK(s["value"] == "now for all");
  auto list = f.gh({"secret", "list", "--org", "acme"});
  REQUIRE_GH_OK(list);
  CHECK(list.out.find("ORG_KUBECONFIG") == 0);
  CHECK(list.out.find("ALL") != std::string::npos);

  auto ghost = f.gh({"secret", "set", "X", "--org", "acme", "--repos", "app,ghost", "--body", "x"});
  CHECK(ghost.exit_code != 0);
  CHECK(ghost.err.find("Could not resolve to a Repository with the name 'acme/ghost'") !=
        std::string::npos);
}

TEST_CASE("gh fails on a bad token and stores nothing") {
  GhFixture f;
  auto r = f.gh({"secret", "set", "X", "--body", "x", "-R", "acme/app"},
                "ghp_notTheRightToken000000000000000000");
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("401") != std::string::npos);
  CHECK(r.err.find("Bad credentials") != std::string::npos);
  CHECK(f.sim.control("GET", "/_sim/secrets")["secrets"].empty());
}

TEST_CASE("the request log holds neither the token nor secret values") {
  GhFixture f;
  REQUIRE_GH_OK(
      f.gh({"secret", "set", "LOGGED", "--body", "value-that-must-not-leak", "-R", "acme/app"}));
  const std::string log = read_text(f.sim.state_dir() + "/requests.jsonl");
  CHECK(log.find("/api/v3/repos/acme/app/actions/secrets/LOGGED") != std::string::npos);
  CHECK(log.find(kToken) == std::string::npos);
  CHECK(log.find("value-that-must-not-leak") == std::string::npos);
  CHECK(log.find("encrypted_value") == std::string::npos);
}

}  // namespace
}  // namespace fluxkey::testing::gh_conformance_test
