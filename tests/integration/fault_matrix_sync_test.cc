// The fault matrix of `fluxkey sync` (the table is in tests/README.md): one
// fault per cell, injected on the GitHub side or the Kubernetes side, and for
// each of them
//   (a) the exit code of INTERFACE.md;
//   (b) exactly one error line, naming the target or object (and the fix);
//   (c) the stand-ins' request logs: a bounded number of attempts, a backoff
//       between them, Retry-After honoured;
//   (d) the cluster Secret's annotations against what github-sim holds, and
//       no live token (generation Secret) that nothing references.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/base64.h"
#include "core/time.h"
#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/sim_process.h"
#include "support/sync_rig.h"

namespace fault_matrix_sync_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

using Steady = std::chrono::steady_clock;

// The retry policies of src/github/client.cc and src/kube/client.cc: how many
// attempts, and the least wait before each retry (the jitter never picks less
// than half the backoff ceiling).
constexpr size_t kGitHubAttempts = 4;
const std::vector<milliseconds> kGitHubGaps = {milliseconds(250), milliseconds(500),
                                               milliseconds(1000)};
constexpr size_t kKubeAttempts = 5;
const std::vector<milliseconds> kKubeGaps = {milliseconds(125), milliseconds(250),
                                             milliseconds(500), milliseconds(1000)};
// The stand-ins stamp a request once they have handled it, to the microsecond.
constexpr milliseconds kSlack{15};

const char* kSecretPath = "/namespaces/fluxkey/secrets/flux-kubeconfig$";
const char* kAppKey = "^/repos/acme/app/actions/secrets/public-key$";
const char* kAppPut = "^/repos/acme/app/actions/secrets/FLUX_KUBECONFIG$";

// A GitHub target as the Secret's annotation names it and github-sim files it.
struct TargetRef {
  std::string id, scope, repo, environment;
};
const TargetRef kApp{"acme/app", "repo", "acme/app", ""};
const TargetRef kProd{"acme/app:prod", "env", "acme/app", "prod"};
const TargetRef kOrg{"org:acme", "org", "acme", ""};
const TargetRef kWeb{"acme/web", "repo", "acme/web", ""};
const std::vector<TargetRef> kAll3 = {kApp, kProd, kOrg};

struct Timed {
  ProcessResult run;
  milliseconds elapsed;
};

Timed timed(const std::vector<std::string>& args, const Env& env) {
  auto start = Steady::now();
  ProcessResult run = run_fluxkey(args, env);
  return {std::move(run), std::chrono::duration_cast<milliseconds>(Steady::now() - start)};
}

// fluxkey sync against the rig, with another kubeconfig or GitHub URL.
std::vector<std::string> sync_args(const Rig& rig, const std::vector<std::string>& extra,
                                   const std::string& kubeconfig = "",
                                   const std::string& github_url = "") {
  std::vector<std::string> out = {
      "sync", "--kubeconfig",
      kubeconfig.empty() ? rig.kube.state_dir() + "/admin.kubeconfig" : kubeconfig,
      "--github-api-url", github_url.empty() ? rig.github.url() : github_url};
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

Env with(Env env, const std::string& name, const std::string& value) {
  env.emplace_back(name, value);
  return env;
}

// admin.kubeconfig with `from` (which must be in it) replaced by `to`.
std::string edited_kubeconfig(const Rig& rig, const std::string& name, const std::string& from,
                              const std::string& to) {
  std::string text = read_text(rig.kube.state_dir() + "/admin.kubeconfig");
  size_t at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "admin.kubeconfig lacks " << from);
  text.replace(at, from.size(), to);
  return rig.dir.write(name, text);
}

// A port on 127.0.0.1 where nothing listens.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

// (b) The lines fluxkey wrote at error level: exactly one, holding each part.
void check_one_error(const ProcessResult& run, const std::vector<std::string>& parts) {
  std::vector<std::string> errors;
  size_t start = 0;
  while (start < run.err.size()) {
    size_t end = run.err.find('\n', start);
    if (end == std::string::npos) end = run.err.size();
    std::string line = run.err.substr(start, end - start);
    if (line.starts_with("error: ")) errors.push_back(line);
    start = end + 1;
  }
  REQUIRE_MESSAGE(errors.size() == 1, "want one error line in:\n" << run.err);
  for (const auto& part : parts) {
    CHECK_MESSAGE(errors[0].find(part) != std::string::npos,
                  "\"" << part << "\" is not in: " << errors[0]);
  }
  CHECK(run.err.find(kGitHubToken) == std::string::npos);
}

// (c) The attempts a stand-in logged of `method` on a path matching
// `path_regex`; waits (bounded) until there are `at_least`, for requests a
// delay fault still holds (they are logged once handled).
std::vector<json> attempts(const SimProcess& sim, const std::string& method,
                           const std::string& path_regex, size_t at_least = 0) {
  const std::regex path(path_regex);
  const auto deadline = Steady::now() + std::chrono::seconds(5);
  for (;;) {
    std::vector<json> out;
    for (const auto& r : sim.requests()) {
      if (r["method"] == method && std::regex_search(r["path"].get<std::string>(), path)) {
        out.push_back(r);
      }
    }
    if (out.size() >= at_least || Steady::now() >= deadline) return out;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Clock::time_point stamp(const json& entry) {
  auto t = parse_rfc3339(entry["ts"].get<std::string>());
  REQUIRE(t.has_value());
  return *t;
}

milliseconds gap(const json& earlier, const json& later) {
  return std::chrono::duration_cast<milliseconds>(stamp(later) - stamp(earlier));
}

// (c) Each retry came at least `least[i]` after the attempt before it.
void check_backoff(const std::vector<json>& tries, const std::vector<milliseconds>& least) {
  for (size_t i = 1; i < tries.size(); ++i) {
    milliseconds want = least[std::min(i - 1, least.size() - 1)];
    milliseconds got = gap(tries[i - 1], tries[i]);
    CHECK_MESSAGE(got + kSlack >= want, "retry " << i << " came " << got.count()
                                                 << "ms after the attempt before, want at least "
                                                 << want.count() << "ms");
  }
}

long generation_of(const std::string& secret_name) {
  return std::stol(secret_name.substr(secret_name.rfind('-') + 1));
}

// (d) What the cluster Secret says each target holds is what github-sim
// holds: a target recorded at the stored generation without an error holds
// the stored kubeconfig, and one that is not holds something else (or
// nothing). With no Secret, GitHub holds nothing.
void check_truth(const Rig& rig, const std::vector<TargetRef>& targets) {
  json secret = rig.cluster_secret();
  if (!secret.is_object()) {
    for (const auto& t : targets) {
      CHECK_MESSAGE(rig.github_secret(t.scope, t.repo, t.environment).is_null(),
                    t.id << " holds a secret though no kubeconfig was stored");
    }
    return;
  }
  const std::string stored = rig.stored_kubeconfig();
  const long generation = std::stol(rig.annotation("fluxkey.io/generation"));
  const json records = rig.targets_annotation();
  for (const auto& t : targets) {
    json record = records.value(t.id, json::object());
    json held = rig.github_secret(t.scope, t.repo, t.environment);
    bool holds =
        held.is_object() && base64_decode(held["value"].get<std::string>()).value_or("") == stored;
    bool says = record.value("generation", 0L) == generation && !record.contains("error");
    CHECK_MESSAGE(holds == says, t.id << ": the annotation says " << record.dump() << " but GitHub "
                                      << (holds ? "holds" : "lacks") << " generation "
                                      << generation);
  }
}

// (d) Every live token belongs to a generation the state references: the
// stored one, one a target is recorded at, or the one just before the stored
// one (kept for workflows that started with it). Tokens die with their
// generation Secret, so the Secrets are checked too.
void check_no_orphans(const Rig& rig) {
  std::set<long> referenced;
  const auto generations = rig.generation_secrets();
  json secret = rig.cluster_secret();
  if (secret.is_object()) {
    const long stored = std::stol(rig.annotation("fluxkey.io/generation"));
    referenced.insert(stored);
    const json records = rig.targets_annotation();  // items() must not outlive it
    for (const auto& [id, record] : records.items()) {
      if (record.contains("generation")) referenced.insert(record["generation"].get<long>());
    }
    long previous = 0;
    for (const auto& name : generations) {
      long g = generation_of(name);
      if (g < stored) previous = std::max(previous, g);
    }
    if (previous > 0) referenced.insert(previous);
  }
  for (const auto& name : generations) {
    CHECK_MESSAGE(referenced.count(generation_of(name)) == 1,
                  "generation Secret " << name << " is referenced by nothing");
  }
  for (const auto& t : rig.tokens()) {
    if (!t["alive"].get<bool>()) continue;
    REQUIRE_MESSAGE(t["boundSecret"].is_object(), "a live token bound to nothing");
    std::string name = t["boundSecret"]["name"];
    CHECK_MESSAGE(generations.count(name) == 1, "a live token bound to missing " << name);
    CHECK_MESSAGE(referenced.count(generation_of(name)) == 1,
                  "the live token of " << name << " is referenced by nothing");
  }
}

// Nothing changed on either side: no Secret, no token, no GitHub secret.
void check_nothing_changed(const Rig& rig, const std::vector<TargetRef>& targets) {
  CHECK(rig.cluster_secret().is_null());
  CHECK(rig.generation_secrets().empty());
  CHECK(rig.live_tokens() == 0);
  check_truth(rig, targets);
}

// A sync, then a rotation whose TokenRequest reply is lost (the token is
// minted) and whose generation Secret cannot be deleted: generation 2 stays
// above the stored generation 1.
ProcessResult rotate_leaving_orphan(const Rig& rig) {
  REQUIRE(rig.run("sync", {"--github-repo", "acme/app"}).exit_code == 0);
  rig.kube.add_fault({{"method", "POST"},
                      {"path", "/serviceaccounts/flux-reconcile/token$"},
                      {"action", "reset"},
                      {"phase", "mid-body"}});
  rig.kube.add_fault({{"method", "DELETE"},
                      {"path", "/secrets/flux-kubeconfig-gen-2$"},
                      {"action", "status"},
                      {"status", 503},
                      {"times", -1}});
  auto run = rig.run("rotate", {"--github-repo", "acme/app"});
  rig.kube.clear_faults();
  return run;
}

// Whether the kube API accepts the token of `kubeconfig`.
bool authenticates(const Rig& rig, const std::string& kubeconfig) {
  return rig.kube
             .request("GET", "/api/v1/namespaces/fluxkey/secrets", "", "",
                      {{"Authorization", "Bearer " + token_of(kubeconfig)}})
             .status == 200;
}

}  // namespace

TEST_CASE("fault matrix sync: connection refused") {
  Rig rig;
  SUBCASE("github: nothing listens at the API URL; 4 tries with backoff, nothing changed") {
    const std::string url = "https://127.0.0.1:" + std::to_string(closed_port());
    auto t = timed(sync_args(rig, {"--github-repo", "acme/app"}, "", url), rig.env());
    CHECK(t.run.exit_code == 1);
    check_one_error(t.run, {"repository acme/app", "cannot reach GitHub at " + url,
                            "connection refused", "(tried 4 times)", "nothing was changed"});
    // Nothing can log a refused connection: the retries' least backoff shows
    // in the run's length, and the line counts the tries.
    CHECK(t.elapsed + kSlack >= kGitHubGaps[0] + kGitHubGaps[1] + kGitHubGaps[2]);
    CHECK(t.elapsed < std::chrono::seconds(15));
    check_nothing_changed(rig, {kApp});
  }
  SUBCASE("kube: nothing listens at the kubeconfig's server; 5 tries, GitHub untouched") {
    const std::string url = "https://127.0.0.1:" + std::to_string(closed_port());
    std::string kubeconfig = edited_kubeconfig(rig, "refused.kubeconfig", rig.kube.url(), url);
    auto t = timed(sync_args(rig, {"--github-repo", "acme/app"}, kubeconfig), rig.env());
    CHECK(t.run.exit_code == 1);
    check_one_error(
        t.run, {"cannot reach the API server " + url, "connection refused", "(tried 5 times)"});
    CHECK(t.elapsed + kSlack >= kKubeGaps[0] + kKubeGaps[1] + kKubeGaps[2] + kKubeGaps[3]);
    CHECK(t.elapsed < std::chrono::seconds(15));
    CHECK(rig.github.requests().empty());
    check_nothing_changed(rig, {kApp});
  }
}

TEST_CASE("fault matrix sync: connection reset") {
  Rig rig;
  SUBCASE("github: a reset mid-body on the key and one before the PUT's reply: each retried once") {
    rig.github.add_fault(
        {{"method", "GET"}, {"path", kAppKey}, {"action", "reset"}, {"phase", "mid-body"}});
    rig.github.add_fault({{"method", "PUT"}, {"path", kAppPut}, {"action", "reset"}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find("error:") == std::string::npos);
    for (const auto& step : {std::pair{"GET", kAppKey}, std::pair{"PUT", kAppPut}}) {
      const auto& [method, path] = step;
      CAPTURE(step.first);  // clang 14 cannot capture a structured binding
      auto tries = attempts(rig.github, method, path);
      REQUIRE(tries.size() == 2);
      CHECK(tries[0]["fault"] == "reset");
      CHECK(tries[1]["status"].get<int>() / 100 == 2);
      // A kept-alive connection that dies before any byte of the reply is
      // dialled again at once by libcurl, as by every HTTP client (the server
      // may have closed it as idle): the PUT went out on the key's connection.
      if (std::string(method) == "GET") check_backoff(tries, kGitHubGaps);
    }
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("github: every reply to the PUT lost after it was served: exit 3, the next sync heals") {
    // GitHub stored the value each time, but no reply says so: fluxkey
    // records the target as failed (it cannot know better) and the next
    // sync pushes it again, after which the record and GitHub agree.
    rig.github.add_fault({{"method", "PUT"},
                          {"path", kAppPut},
                          {"action", "reset"},
                          {"phase", "after"},
                          {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 3);
    check_one_error(run, {"repository acme/app", "connection"});
    auto tries = attempts(rig.github, "PUT", kAppPut);
    // One more when the first went out on the key's kept-alive connection,
    // which libcurl re-dials at once (see the cell above).
    CHECK(tries.size() >= kGitHubAttempts);
    CHECK(tries.size() <= kGitHubAttempts + 1);
    check_backoff(std::vector<json>(tries.end() - kGitHubAttempts + 1, tries.end()),
                  {kGitHubGaps.begin() + 1, kGitHubGaps.end()});
    json record = rig.targets_annotation()["acme/app"];
    CHECK(record.contains("error"));
    CHECK(base64_decode(rig.github_secret("repo", "acme/app", "")["value"].get<std::string>())
              .value_or("") == rig.stored_kubeconfig());
    check_no_orphans(rig);

    rig.github.clear_faults();
    auto again = rig.run("sync", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK(attempts(rig.github, "PUT", kAppPut).size() == tries.size() + 1);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("kube: a reset mid-body on the TokenRequest: not sent again, the token revoked") {
    rig.kube.add_fault({{"method", "POST"},
                        {"path", "/serviceaccounts/flux-reconcile/token$"},
                        {"action", "reset"},
                        {"phase", "mid-body"}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"cannot mint a token for ServiceAccount fluxkey/flux-reconcile",
                          "nothing was changed",
                          "revoked with generation Secret fluxkey/flux-kubeconfig-gen-1"});
    // A POST that may have been served is never sent twice.
    CHECK(attempts(rig.kube, "POST", "/token$").size() == 1);
    // The server did mint it; deleting its generation Secret killed it.
    CHECK(rig.tokens().size() == 1);
    check_nothing_changed(rig, {kApp});
    CHECK(rig.mutating_requests(rig.github) == 0);

    auto again = rig.run("sync", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("kube: the TokenRequest reset and its generation Secret not deletable: left, named") {
    auto run = rotate_leaving_orphan(rig);
    CHECK(run.exit_code == 1);
    check_one_error(run, {"cannot mint a token for ServiceAccount fluxkey/flux-reconcile",
                          "delete generation Secret fluxkey/flux-kubeconfig-gen-2 to revoke a "
                          "token the API server may have minted"});
    CHECK(run.err.find("warning") == std::string::npos);
    // The stored generation 1 and what GitHub holds are untouched; generation
    // 2's token lives, bound to a Secret no stored kubeconfig names.
    CHECK(rig.annotation("fluxkey.io/generation") == "1");
    const std::string first = rig.stored_kubeconfig();
    check_truth(rig, {kApp});
    CHECK(rig.generation_secrets() ==
          std::set<std::string>{"flux-kubeconfig-gen-1", "flux-kubeconfig-gen-2"});
    CHECK(rig.live_tokens() == 2);

    // The next rotation deletes that orphan and keeps generation 1, the one
    // running workflows hold, as the one before.
    auto again = rig.run("rotate", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(again.exit_code == 0, again.err);
    CHECK(again.err.find("deleted generation Secret fluxkey/flux-kubeconfig-gen-2, left by a "
                         "failed run") != std::string::npos);
    CHECK(rig.generation_secrets() ==
          std::set<std::string>{"flux-kubeconfig-gen-1", "flux-kubeconfig-gen-3"});
    CHECK(rig.live_tokens() == 2);
    CHECK(authenticates(rig, first));
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("kube: revoke with a failed run's generation above the stored one: that one goes") {
    REQUIRE(rotate_leaving_orphan(rig).exit_code == 1);
    REQUIRE(rig.generation_secrets().size() == 2);
    auto revoke = rig.run("revoke", {});
    REQUIRE_MESSAGE(revoke.exit_code == 0, revoke.err);
    // The stored generation stays: it is what GitHub holds.
    CHECK(rig.generation_secrets() == std::set<std::string>{"flux-kubeconfig-gen-1"});
    CHECK(authenticates(rig, rig.stored_kubeconfig()));
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
}

TEST_CASE("fault matrix sync: truncated JSON") {
  Rig rig;
  SUBCASE("github: the key's reply cut short once: read again after a backoff") {
    rig.github.add_fault({{"method", "GET"}, {"path", kAppKey}, {"action", "truncate"}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    auto tries = attempts(rig.github, "GET", kAppKey);
    REQUIRE(tries.size() == 2);
    CHECK(tries[0]["fault"] == "truncate");
    check_backoff(tries, kGitHubGaps);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("kube: every read of the Secret cut short: 5 tries, then one line, GitHub untouched") {
    rig.kube.add_fault(
        {{"method", "GET"}, {"path", kSecretPath}, {"action", "truncate"}, {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"the API server " + rig.kube.url(),
                          "GET " + rig.kube.url() +
                              "/api/v1/namespaces/fluxkey/secrets/"
                              "flux-kubeconfig was cut short",
                          "(tried 5 times)"});
    auto tries = attempts(rig.kube, "GET", kSecretPath);
    CHECK(tries.size() == kKubeAttempts);
    check_backoff(tries, kKubeGaps);
    CHECK(rig.github.requests().empty());
    rig.kube.clear_faults();
    check_nothing_changed(rig, {kApp});
  }
}

TEST_CASE("fault matrix sync: 500, 502 and 503 once") {
  Rig rig;
  SUBCASE("github: each failed request is retried once, after a backoff; all three pushed") {
    rig.github.add_fault({{"method", "GET"}, {"path", kAppKey}, {"status", 500}});
    rig.github.add_fault({{"method", "PUT"}, {"path", "^/orgs/acme/"}, {"status", 502}});
    rig.github.add_fault({{"method", "PUT"}, {"path", "/environments/prod/"}, {"status", 503}});
    auto run = rig.run("sync", kThreeTargets);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find("error:") == std::string::npos);
    for (const auto& step : {std::pair{"GET", kAppKey}, std::pair{"PUT", "^/orgs/acme/"},
                             std::pair{"PUT", "/environments/prod/"}}) {
      const auto& [method, path] = step;
      CAPTURE(step.second);  // clang 14 cannot capture a structured binding
      auto tries = attempts(rig.github, method, path);
      REQUIRE(tries.size() == 2);
      CHECK(tries[0]["status"].get<int>() / 100 == 5);
      check_backoff(tries, kGitHubGaps);
    }
    check_truth(rig, kAll3);
    check_no_orphans(rig);
  }
  SUBCASE("kube: a 500 on the read, a 502 on the list, a 503 on the write: each retried once") {
    rig.kube.add_fault({{"method", "GET"}, {"path", kSecretPath}, {"status", 500}});
    rig.kube.add_fault(
        {{"method", "GET"}, {"path", "/namespaces/fluxkey/secrets$"}, {"status", 502}});
    rig.kube.add_fault({{"method", "PATCH"}, {"path", kSecretPath}, {"status", 503}});
    auto run = rig.run("sync", kThreeTargets);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    for (const auto& [method, path] :
         {std::pair{"GET", kSecretPath}, std::pair{"GET", "/namespaces/fluxkey/secrets$"}}) {
      auto tries = attempts(rig.kube, method, path);
      REQUIRE(tries.size() == 2);
      check_backoff(tries, kKubeGaps);
    }
    auto writes = attempts(rig.kube, "PATCH", kSecretPath);
    REQUIRE(writes.size() == 3);  // 503, the store, the record of the pushes
    CHECK(writes[0]["status"] == 503);
    check_backoff({writes[0], writes[1]}, kKubeGaps);
    CHECK(rig.tokens().size() == 1);
    check_truth(rig, kAll3);
    check_no_orphans(rig);
  }
}

TEST_CASE("fault matrix sync: 500, 502 and 503 always") {
  Rig rig;
  SUBCASE("github: one target down: exit 3, it alone named, the others pushed") {
    rig.github.add_fault({{"method", "PUT"},
                          {"path", "/environments/prod/"},
                          {"action", "status"},
                          {"status", 503},
                          {"times", -1}});
    auto run = rig.run("sync", kThreeTargets);
    CHECK(run.exit_code == 3);
    check_one_error(run, {"environment prod of acme/app", "503", "GitHub is failing"});
    auto tries = attempts(rig.github, "PUT", "/environments/prod/");
    CHECK(tries.size() == kGitHubAttempts);
    check_backoff(tries, kGitHubGaps);
    json targets = rig.targets_annotation();
    CHECK(targets["acme/app"]["generation"] == 1);
    CHECK(targets["org:acme"]["generation"] == 1);
    CHECK(targets["acme/app:prod"].contains("error"));
    check_truth(rig, kAll3);
    check_no_orphans(rig);
  }
  SUBCASE("kube: the API server down: exit 1, GitHub untouched") {
    rig.kube.add_fault(
        {{"path", "/secrets"}, {"action", "status"}, {"status", 503}, {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"flux-kubeconfig", "503"});
    auto tries = attempts(rig.kube, "GET", kSecretPath);
    CHECK(tries.size() == kKubeAttempts);
    check_backoff(tries, kKubeGaps);
    CHECK(rig.mutating_requests(rig.github) == 0);
    rig.kube.clear_faults();
    check_nothing_changed(rig, {kApp});
  }
}

TEST_CASE("fault matrix sync: 429, with and without Retry-After") {
  Rig rig;
  SUBCASE("github: retry-after 1 is waited out, once") {
    rig.github.add_fault({{"method", "PUT"},
                          {"path", kAppPut},
                          {"status", 429},
                          {"headers", {{"retry-after", "1"}}}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find("GitHub rate limit: waiting 1s") != std::string::npos);
    auto tries = attempts(rig.github, "PUT", kAppPut);
    REQUIRE(tries.size() == 2);
    check_backoff(tries, {milliseconds(1000)});
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("github: without retry-after, GitHub's minute (scaled) is waited out") {
    rig.github.add_fault({{"method", "PUT"}, {"path", kAppPut}, {"status", 429}});
    // The minute fluxkey waits when GitHub names no wait, at 1/50 scale: 1.2s.
    auto run = run_fluxkey(rig.args("sync", {"--github-repo", "acme/app"}),
                           with(rig.env(), "FLUXKEY_PACING_TIME_SCALE", "0.02"));
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    auto tries = attempts(rig.github, "PUT", kAppPut);
    REQUIRE(tries.size() == 2);
    check_backoff(tries, {milliseconds(1200)});
    check_truth(rig, {kApp});
  }
  SUBCASE("github: retry-after beyond what fluxkey waits: one try, exit 3, when to run again") {
    rig.github.add_fault({{"method", "PUT"},
                          {"path", kAppPut},
                          {"status", 429},
                          {"headers", {{"retry-after", "3600"}}},
                          {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 3);
    check_one_error(run, {"repository acme/app", "rate limit", "GitHub asks to wait 1h",
                          "run fluxkey again after that"});
    CHECK(attempts(rig.github, "PUT", kAppPut).size() == 1);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("kube: Retry-After 1 honoured on the read; without it, a backoff on the list") {
    rig.kube.add_fault({{"method", "GET"},
                        {"path", kSecretPath},
                        {"status", 429},
                        {"headers", {{"Retry-After", "1"}}}});
    rig.kube.add_fault(
        {{"method", "GET"}, {"path", "/namespaces/fluxkey/secrets$"}, {"status", 429}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    auto reads = attempts(rig.kube, "GET", kSecretPath);
    REQUIRE(reads.size() >= 2);
    check_backoff({reads[0], reads[1]}, {milliseconds(1000)});
    auto lists = attempts(rig.kube, "GET", "/namespaces/fluxkey/secrets$");
    REQUIRE(lists.size() >= 2);
    check_backoff({lists[0], lists[1]}, kKubeGaps);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
}

TEST_CASE("fault matrix sync: 403 secondary rate limit, with and without retry-after") {
  Rig rig;
  SUBCASE("github: the stand-in's write limit answers retry-after; fluxkey waits it out") {
    // One write a (0.6s) minute: the second target's PUT is refused with
    // retry-after, as GitHub does. fluxkey's own budget is GitHub's real one.
    rig.github.control("POST", "/_sim/limits", {{"writes_per_minute", 1}, {"time_scale", 0.01}});
    auto run = rig.run("sync", {"--github-repo", "acme/app", "--github-repo", "acme/web"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find("(secondary rate limit) before PUT") != std::string::npos);
    auto puts = attempts(rig.github, "PUT", "/secrets/FLUX_KUBECONFIG$");
    REQUIRE(puts.size() == 3);
    CHECK(puts[1]["status"] == 403);
    check_backoff({puts[1], puts[2]}, {milliseconds(1000)});
    check_truth(rig, {kApp, kWeb});
    check_no_orphans(rig);
  }
  SUBCASE("github: without retry-after, GitHub's minute (scaled) is waited out") {
    rig.github.add_fault({{"method", "PUT"},
                          {"path", kAppPut},
                          {"status", 403},
                          {"body", json({{"message",
                                          "You have exceeded a secondary rate limit. Please wait a "
                                          "few minutes before you try again."},
                                         {"documentation_url", "https://docs.github.com/rest"}})
                                       .dump()}});
    auto run = run_fluxkey(rig.args("sync", {"--github-repo", "acme/app"}),
                           with(rig.env(), "FLUXKEY_PACING_TIME_SCALE", "0.02"));
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    auto tries = attempts(rig.github, "PUT", kAppPut);
    REQUIRE(tries.size() == 2);
    check_backoff(tries, {milliseconds(1200)});
    check_truth(rig, {kApp});
  }
}

TEST_CASE("fault matrix sync: primary rate limit exhausted") {
  Rig rig;
  SUBCASE("github: remaining 0, reset soon: waited out until x-ratelimit-reset") {
    // One request an (1.08s) hour: the key's GET spends it, the PUT is refused.
    rig.github.control("POST", "/_sim/limits", {{"primary", 1}, {"time_scale", 0.0003}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find("(API rate limit) before PUT") != std::string::npos);
    auto keys = attempts(rig.github, "GET", kAppKey);
    auto puts = attempts(rig.github, "PUT", kAppPut);
    REQUIRE(keys.size() == 1);
    REQUIRE(puts.size() == 2);
    CHECK(puts[0]["status"] == 403);
    // The window opened with the GET; the retry waited for its end.
    CHECK(gap(keys[0], puts[1]) + kSlack >= milliseconds(1080));
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("github: remaining 0, reset in an hour: one try, nothing minted, when to run again") {
    rig.github.control("POST", "/_sim/limits", {{"primary", 0}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"repository acme/app", "API rate limit exceeded", "it resets at",
                          "beyond the 15m", "run fluxkey again after that", "nothing was changed"});
    CHECK(rig.github.requests().size() == 1);
    CHECK(rig.tokens().empty());
    check_nothing_changed(rig, {kApp});
  }
}

TEST_CASE("fault matrix sync: a reply slower than --request-timeout") {
  Rig rig;
  SUBCASE("github: every key read slower than the timeout: abandoned, 4 tries, nothing changed") {
    rig.github.add_fault({{"method", "GET"},
                          {"path", kAppKey},
                          {"action", "delay"},
                          {"delay_ms", 1500},
                          {"times", -1}});
    auto run = run_fluxkey(
        rig.args("sync", {"--github-repo", "acme/app", "--request-timeout", "250ms"}), rig.env());
    CHECK(run.exit_code == 1);
    check_one_error(run, {"repository acme/app", "timed out after 250ms", "(tried 4 times)",
                          "nothing was changed"});
    auto tries = attempts(rig.github, "GET", kAppKey, kGitHubAttempts);
    CHECK(tries.size() == kGitHubAttempts);
    check_backoff(tries, kGitHubGaps);
    // Each is logged when answered, 1.5s after it was sent: had fluxkey waited
    // for the answers, they would be more than 1.5s apart.
    CHECK(gap(tries[0], tries[1]) < milliseconds(1500));
    check_nothing_changed(rig, {kApp});
  }
  SUBCASE("kube: one slow read is abandoned and sent again before its reply would come") {
    rig.kube.add_fault(
        {{"method", "GET"}, {"path", kSecretPath}, {"action", "delay"}, {"delay_ms", 1500}});
    auto run = run_fluxkey(
        rig.args("sync", {"--github-repo", "acme/app", "--request-timeout", "250ms"}), rig.env());
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    // A request is logged once answered: the retry, answered at once, comes
    // first; the slow one 1.5s after it was sent.
    auto reads = attempts(rig.kube, "GET", kSecretPath, 2);
    REQUIRE(reads.size() == 2);
    CHECK_FALSE(reads[0].contains("fault"));
    CHECK(reads[1]["fault"] == "delay");
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
}

TEST_CASE("fault matrix sync: a certificate from the wrong CA") {
  Rig rig;
  SUBCASE("github: SSL_CERT_FILE trusts another CA: refused at once, nothing changed") {
    auto run = run_fluxkey(rig.args("sync", {"--github-repo", "acme/app"}),
                           {{"SSL_CERT_FILE", rig.kube.ca_file()}, {"GITHUB_TOKEN", kGitHubToken}});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"repository acme/app", "certificate signed by an unknown authority",
                          "SSL_CERT_FILE=" + rig.kube.ca_file(), "nothing was changed"});
    CHECK(run.err.find("tried") == std::string::npos);  // never retried
    CHECK(rig.github.requests().empty());
    check_nothing_changed(rig, {kApp});
  }
  SUBCASE("kube: the kubeconfig's CA is another one: refused at once, GitHub untouched") {
    std::string kubeconfig =
        edited_kubeconfig(rig, "wrong-ca.kubeconfig", base64_encode(read_text(rig.kube.ca_file())),
                          base64_encode(read_text(rig.github.ca_file())));
    auto run = run_fluxkey(sync_args(rig, {"--github-repo", "acme/app"}, kubeconfig), rig.env());
    CHECK(run.exit_code == 1);
    check_one_error(run, {"the API server " + rig.kube.url(),
                          "certificate signed by an unknown authority", "check the CA in"});
    CHECK(run.err.find("tried") == std::string::npos);
    CHECK(rig.kube.requests().empty());
    CHECK(rig.github.requests().empty());
    check_nothing_changed(rig, {kApp});
  }
}

TEST_CASE("fault matrix sync: a certificate for another host name") {
  SUBCASE("github: github-sim's certificate names sim.invalid only: refused at once") {
    RigOptions options;
    options.github_args = {"--tls-names", "DNS:sim.invalid"};
    options.github_tls_host = "sim.invalid";
    Rig rig(options);
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"repository acme/app",
                          "certificate is not valid for 127.0.0.1 (its names do not include it)",
                          "nothing was changed"});
    CHECK(run.err.find("tried") == std::string::npos);
    CHECK(rig.github.requests().empty());
    check_nothing_changed(rig, {kApp});
  }
  SUBCASE("kube: kube-sim's certificate names sim.invalid only: refused at once") {
    RigOptions options;
    options.kube_args = {"--tls-names", "DNS:sim.invalid"};
    options.kube_tls_host = "sim.invalid";
    Rig rig(options);
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"the API server " + rig.kube.url(),
                          "certificate is not valid for 127.0.0.1 (its names do not include it)"});
    CHECK(rig.kube.requests().empty());
    CHECK(rig.github.requests().empty());
    check_nothing_changed(rig, {kApp});
  }
}

TEST_CASE("fault matrix sync: 401, a credential refused") {
  Rig rig;
  SUBCASE("github: the token revoked after the key was read: the PUT alone refused, exit 3") {
    rig.github.add_fault({{"method", "PUT"},
                          {"path", kAppPut},
                          {"status", 401},
                          {"body", R"({"message":"Bad credentials"})"},
                          {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 3);
    check_one_error(run, {"repository acme/app", "GitHub rejected the credential (Bad credentials)",
                          "check GITHUB_TOKEN / --github-token-file"});
    CHECK(attempts(rig.github, "PUT", kAppPut).size() == 1);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("github: an App's installation token expired early: renewed once, pushed") {
    std::string key = rig.dir.path() + "/app.pem";
    auto genkey = run_program({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                               "rsa_keygen_bits:2048", "-out", key});
    REQUIRE_MESSAGE(genkey.exit_code == 0, genkey.err);
    auto pub = run_program({"openssl", "pkey", "-in", key, "-pubout"});
    REQUIRE_MESSAGE(pub.exit_code == 0, pub.err);
    rig.github.control("POST", "/_sim/setup",
                       {{"apps",
                         {{{"id", 77},
                           {"public_key_pem", pub.out},
                           {"installations", {{{"id", 1001}, {"account", "acme"}}}}}}}});
    rig.github.add_fault({{"method", "PUT"},
                          {"path", kAppPut},
                          {"status", 401},
                          {"body", R"({"message":"Bad credentials"})"}});
    auto run = run_fluxkey(rig.args("sync", {"--github-repo", "acme/app", "--github-app-id", "77",
                                             "--github-app-key", key}),
                           rig.env(""));
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(attempts(rig.github, "POST", "/access_tokens$").size() == 2);
    CHECK(attempts(rig.github, "PUT", kAppPut).size() == 2);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("kube: the kubeconfig's token is not accepted: one request, GitHub untouched") {
    std::string kubeconfig = edited_kubeconfig(
        rig, "expired.kubeconfig", kube_admin_token(rig.kube), "expired-or-wrong-token");
    auto run = run_fluxkey(sync_args(rig, {"--github-repo", "acme/app"}, kubeconfig), rig.env());
    CHECK(run.exit_code == 1);
    check_one_error(run, {"Unauthorized", "the credentials from kubeconfig " + kubeconfig,
                          "are expired or wrong"});
    CHECK(rig.kube.requests().size() == 1);
    CHECK(rig.github.requests().empty());
    check_nothing_changed(rig, {kApp});
  }
}

TEST_CASE("fault matrix sync: 403, a permission missing") {
  Rig rig;
  SUBCASE("github: a token without admin:org for the only target: named with the scope") {
    constexpr const char* kRepoOnly = "ghp_matrixRepoOnly000000000000000000000";
    rig.github.control("POST", "/_sim/setup", {{"tokens", {std::string(kRepoOnly) + "=repo"}}});
    auto run = run_fluxkey(rig.args("sync", {"--github-org", "acme"}), rig.env(kRepoOnly));
    CHECK(run.exit_code == 1);
    check_one_error(
        run, {"organization acme: GitHub refused access", "admin:org", "nothing was changed"});
    CHECK(run.err.find(kRepoOnly) == std::string::npos);
    CHECK(rig.github.requests().size() == 1);
    check_nothing_changed(rig, {kOrg});
  }
  SUBCASE("github: the PUT refused for want of the Secrets write permission: exit 3") {
    rig.github.add_fault(
        {{"method", "PUT"},
         {"path", kAppPut},
         {"status", 403},
         {"headers", {{"x-accepted-github-permissions", "secrets=write"}}},
         {"body", R"({"message":"Resource not accessible by personal access token"})"},
         {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 3);
    check_one_error(run, {"repository acme/app", "Resource not accessible",
                          "the token needs the Secrets write permission"});
    CHECK(attempts(rig.github, "PUT", kAppPut).size() == 1);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("kube: RBAC without serviceaccounts/token: the fix named, the generation undone") {
    json runner = rig.kube.control("POST", "/_sim/tokens", {{"user", "fluxkey-runner"}});
    // k8s/rbac-rotator.yaml without its TokenRequest rule.
    const char* rbac = R"(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: runner, namespace: fluxkey}
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get, list, create, patch, delete]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runner, namespace: fluxkey}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: runner}
subjects: [{kind: User, name: fluxkey-runner}]
)";
    auto reply = rig.kube.request("POST", "/_sim/rbac", rbac, "application/yaml");
    REQUIRE_MESSAGE(reply.status / 100 == 2, reply.body);
    std::string kubeconfig = edited_kubeconfig(rig, "runner.kubeconfig", kube_admin_token(rig.kube),
                                               runner["token"].get<std::string>());
    auto run = run_fluxkey(sync_args(rig, {"--github-repo", "acme/app"}, kubeconfig), rig.env());
    CHECK(run.exit_code == 1);
    check_one_error(run, {"cannot mint a token for ServiceAccount fluxkey/flux-reconcile",
                          "forbidden", "grant create on serviceaccounts/token"});
    CHECK(attempts(rig.kube, "POST", "/token$").size() == 1);
    rig.kube.request("DELETE", "/_sim/rbac");
    check_nothing_changed(rig, {kApp});
    CHECK(rig.mutating_requests(rig.github) == 0);
  }
  SUBCASE("kube: the Secret write refused after minting: the token revoked, nothing pushed") {
    rig.kube.add_fault({{"method", "PATCH"},
                        {"path", kSecretPath},
                        {"action", "status"},
                        {"status", 403},
                        {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"cannot store the kubeconfig in Secret fluxkey/flux-kubeconfig",
                          "nothing was pushed"});
    CHECK(attempts(rig.kube, "PATCH", kSecretPath).size() == 1);
    CHECK(rig.tokens().size() == 1);
    check_nothing_changed(rig, {kApp});
    CHECK(rig.mutating_requests(rig.github) == 0);
  }
}

TEST_CASE("fault matrix sync: 404, a target or object missing") {
  Rig rig;
  SUBCASE("github: an environment that does not exist: named with the fix, the rest pushed") {
    auto run = rig.run("sync", {"--github-repo", "acme/app", "--github-repo", "acme/app:staging"});
    CHECK(run.exit_code == 3);
    check_one_error(
        run, {"environment staging of acme/app not found", "check that the environment exists"});
    CHECK(attempts(rig.github, "GET", "/environments/staging/").size() == 1);
    CHECK(attempts(rig.github, "PUT", "/environments/staging/").empty());
    check_truth(rig, {kApp, {"acme/app:staging", "env", "acme/app", "staging"}});
    check_no_orphans(rig);
  }
  SUBCASE("github: the repository gone between the key's read and the PUT: exit 3") {
    rig.github.add_fault({{"method", "PUT"}, {"path", kAppPut}, {"status", 404}, {"times", -1}});
    auto run = rig.run("sync", kThreeTargets);
    CHECK(run.exit_code == 3);
    check_one_error(run, {"repository acme/app not found, or the credential cannot see it"});
    CHECK(attempts(rig.github, "PUT", kAppPut).size() == 1);
    check_truth(rig, kAll3);
    check_no_orphans(rig);
  }
  SUBCASE("kube: the ServiceAccount does not exist: named with the fix, nothing left behind") {
    auto run = rig.run("sync", {"--github-repo", "acme/app", "--service-account", "fluxkey/gone"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"cannot mint a token for ServiceAccount fluxkey/gone",
                          "it does not exist; create it"});
    CHECK(attempts(rig.kube, "POST", "/token$").size() == 1);
    check_nothing_changed(rig, {kApp});
    CHECK(rig.mutating_requests(rig.github) == 0);
  }
}

TEST_CASE("fault matrix sync: 409 on the Secret write") {
  Rig rig;
  SUBCASE("kube: another writer: one write, the fresh token revoked, run again") {
    rig.kube.add_fault(
        {{"method", "PATCH"}, {"path", kSecretPath}, {"status", 409}, {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 1);
    check_one_error(run, {"Secret fluxkey/flux-kubeconfig changed while fluxkey was writing it",
                          "nothing was pushed, run sync again"});
    CHECK(attempts(rig.kube, "PATCH", kSecretPath).size() == 1);
    check_nothing_changed(rig, {kApp});
    CHECK(rig.mutating_requests(rig.github) == 0);
  }
  SUBCASE("kube: fluxkey's own write whose reply was lost is told apart from another writer") {
    rig.kube.add_fault({{"method", "PATCH"},
                        {"path", kSecretPath},
                        {"action", "reset"},
                        {"phase", "after"},
                        {"times", 2}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(rig.live_tokens() == 1);
    CHECK(rig.github_kubeconfig("repo", "acme/app") == rig.stored_kubeconfig());
    CHECK(rig.targets_annotation()["acme/app"]["generation"] == 1);
    // Two lost replies, then the Conflict of a stale resourceVersion, the
    // re-read, and the write: bounded.
    CHECK(attempts(rig.kube, "PATCH", kSecretPath).size() <= 5);
    REQUIRE(rig.run("rotate", {"--github-repo", "acme/app"}).exit_code == 0);
    rig.kube.add_fault(
        {{"method", "PATCH"}, {"path", kSecretPath}, {"action", "reset"}, {"phase", "after"}});
    REQUIRE(rig.run("rotate", {"--github-repo", "acme/app"}).exit_code == 0);
    CHECK(rig.annotation("fluxkey.io/generation") == "3");
    CHECK(rig.targets_annotation()["acme/app"]["generation"] == 3);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
}

TEST_CASE("fault matrix sync: 422, a stale public key") {
  Rig rig;
  SUBCASE("github: 422 while the key is unchanged (304): no second seal, exit 3") {
    rig.github.add_fault(
        {{"method", "PUT"},
         {"path", kAppPut},
         {"status", 422},
         {"body",
          R"({"message":"Bad request - validation failed due to an improperly encrypted secret"})"},
         {"times", -1}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 3);
    check_one_error(
        run, {"repository acme/app: GitHub refused secret FLUX_KUBECONFIG", "improperly encrypted",
              "the public key has not changed, so sealing again cannot help"});
    CHECK(attempts(rig.github, "PUT", kAppPut).size() == 1);
    auto keys = attempts(rig.github, "GET", kAppKey);
    REQUIRE(keys.size() == 2);
    CHECK(keys[1]["status"] == 304);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
  SUBCASE("github: the key changes after every read: sealed again once only, exit 3") {
    rig.github.control("POST", "/_sim/rotate-key",
                       {{"scope", "repo"}, {"repo", "acme/app"}, {"after_reads", 3}});
    auto run = rig.run("sync", {"--github-repo", "acme/app"});
    CHECK(run.exit_code == 3);
    check_one_error(run, {"repository acme/app: GitHub refused secret FLUX_KUBECONFIG",
                          "improperly encrypted"});
    CHECK(attempts(rig.github, "PUT", kAppPut).size() == 2);
    CHECK(attempts(rig.github, "GET", kAppKey).size() == 2);
    check_truth(rig, {kApp});
    check_no_orphans(rig);
  }
}

TEST_CASE("fault matrix sync: the public key changes between the GET and the PUT") {
  Rig rig;
  SUBCASE("github: the 422 makes fluxkey read the new key and seal again, once") {
    rig.github.control(
        "POST", "/_sim/rotate-key",
        {{"scope", "env"}, {"repo", "acme/app"}, {"environment", "prod"}, {"after_reads", 1}});
    auto run = rig.run("sync", kThreeTargets);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find("GitHub public key changed; sealing again") != std::string::npos);
    auto puts = attempts(rig.github, "PUT", "/environments/prod/secrets/FLUX_KUBECONFIG$");
    REQUIRE(puts.size() == 2);
    CHECK(puts[0]["status"] == 422);
    CHECK(attempts(rig.github, "GET", "/environments/prod/secrets/public-key$").size() == 2);
    check_truth(rig, kAll3);
    check_no_orphans(rig);
  }
}

TEST_CASE("fault matrix sync: the API server goes away between the Secret write and the pushes") {
  Rig rig;
  SUBCASE(
      "kube: the pushes cannot be recorded: one line says what GitHub holds; the next sync "
      "records it without minting") {
    // The first write (the new kubeconfig) lands; every later one is dropped.
    rig.kube.add_fault({{"method", "PATCH"},
                        {"path", kSecretPath},
                        {"action", "reset"},
                        {"skip", 1},
                        {"times", -1}});
    auto run = rig.run("sync", kThreeTargets);
    CHECK(run.exit_code == 1);
    check_one_error(
        run, {"GitHub holds generation 1 in repository acme/app, environment prod of acme/app, "
              "organization acme (3 of 3 targets)",
              "Secret fluxkey/flux-kubeconfig cannot record it", "(tried 5 times)",
              "the next sync pushes the stored generation 1 to them again and records it, "
              "without minting a new token"});
    auto writes = attempts(rig.kube, "PATCH", kSecretPath);
    // The store, then 5 tries of the record; the first may have gone out on
    // the kept-alive connection, which libcurl then dials again at once.
    REQUIRE_MESSAGE(writes.size() >= 1 + kKubeAttempts, run.err);
    CHECK(writes.size() <= 2 + kKubeAttempts);
    check_backoff(std::vector<json>(writes.end() - kKubeAttempts, writes.end()), kKubeGaps);
    // The line tells what the annotation could not: GitHub has generation 1.
    const std::string stored = rig.stored_kubeconfig();
    CHECK(rig.annotation("fluxkey.io/generation") == "1");
    for (const auto& t : kAll3) {
      CAPTURE(t.id);
      CHECK(rig.github_kubeconfig(t.scope, t.repo, t.environment) == stored);
      CHECK(rig.targets_annotation()[t.id].value("generation", 0) == 0);
    }
    check_no_orphans(rig);

    rig.kube.clear_faults();
    const size_t tokens = rig.tokens().size();
    const size_t since = rig.github.requests().size();
    auto next = rig.run("sync", kThreeTargets);
    REQUIRE_MESSAGE(next.exit_code == 0, next.err);
    CHECK(rig.tokens().size() == tokens);
    CHECK(rig.requests(rig.github, "PUT", "/secrets/FLUX_KUBECONFIG", since) == 3);
    CHECK(rig.stored_kubeconfig() == stored);
    check_truth(rig, kAll3);
    check_no_orphans(rig);
  }
}

}  // namespace fault_matrix_sync_test
