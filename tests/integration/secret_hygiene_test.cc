// Secret hygiene end to end. The guard every integration test runs under
// (support/secret_guard.h) shown able to fail; the stand-ins' ledgers of what
// they issued; and fluxkey's own side: no core dumps of the running process,
// private files replaced atomically, children (exec credential plugins, the
// flux CLI) that never see a credential in their argv or environment.
#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/base64.h"
#include "support/flux_fixtures.h"
#include "support/flux_stand_in.h"
#include "support/fluxkey_run.h"
#include "support/secret_guard.h"
#include "support/sim_process.h"

namespace secret_hygiene_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Test-only credentials, never real ones.
constexpr const char* kGitHubToken = "ghp_hygieneTestToken00000000000000000000";
constexpr const char* kGhToken = "gho_hygieneOtherToken0000000000000000000";
constexpr const char* kPlanted = "planted-secret-Zq8x1v0Rk2";

const char* kServiceAccount = R"({"apiVersion":"v1","kind":"ServiceAccount",
  "metadata":{"name":"flux-reconcile","namespace":"fluxkey"}})";

// A PEM private key made now, with its public half (openssl's CLI: the
// stand-in needs the public key, fluxkey the private one).
struct RsaKey {
  std::string private_pem;
  std::string public_pem;
};

RsaKey make_rsa_key(const TempDir& dir) {
  const std::string key = dir.path() + "/app.pem";
  auto gen = run_program({"openssl", "genrsa", "-out", key, "2048"}, {}, 60s);
  REQUIRE_MESSAGE(gen.exit_code == 0, gen.err);
  auto pub = run_program({"openssl", "rsa", "-in", key, "-pubout"}, {}, 30s);
  REQUIRE_MESSAGE(pub.exit_code == 0, pub.err);
  return {read_text(key), pub.out};
}

// A PEM-shaped private key for the scanner's own tests (not a usable key).
const std::string kFakePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7fakeKeyLine01\n"
    "q2Wb8n3JmQ0pX9yL4tR7sV1cF6gH2kD5aN8eB3uI0oP9rT4wZ7xY1vM6nC2bL5fake\n"
    "Lx9Kp==\n"
    "-----END PRIVATE KEY-----\n";

// Sets PATH for the test process (run_program hands its PATH to fluxkey)
// and puts it back.
class PathGuard {
 public:
  explicit PathGuard(const std::string& path) : old_(std::getenv("PATH")) {
    ::setenv("PATH", path.c_str(), 1);
  }
  ~PathGuard() { ::setenv("PATH", old_.c_str(), 1); }
  PathGuard(const PathGuard&) = delete;
  PathGuard& operator=(const PathGuard&) = delete;

 private:
  std::string old_;
};

// A kubeconfig for kube-sim's CA and URL with the given user block.
std::string kubeconfig_with_user(const SimProcess& kube, const std::string& user_yaml) {
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: " +
         kube.url() +
         "\n    certificate-authority-data: " + base64_encode(read_text(kube.ca_file())) +
         "\nusers:\n- name: u\n  user:\n" + user_yaml +
         "contexts:\n- name: c\n  context: {cluster: sim, user: u}\ncurrent-context: c\n";
}

// An executable shell script in `dir`.
std::string script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.write(name, "#!/bin/sh\n" + body);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

// Every `name=` of the secret variables a child must never get.
const std::vector<std::string> kSecretEnvNames = {"GITHUB_TOKEN", "GH_TOKEN",
                                                  "GITHUB_APP_PRIVATE_KEY",
                                                  "FLUXKEY_KUBECONFIG_DATA", "INPUT_KUBECONFIG"};

void check_child_record(const std::string& record, const GuardedRun& run, const char* who) {
  CAPTURE(who);
  REQUIRE_FALSE(record.empty());
  for (const auto& name : kSecretEnvNames) {
    CAPTURE(name);
    CHECK(record.find("env:" + name + "=") == std::string::npos);
  }
  // Not just the names: no value of any credential in play, in any form.
  std::vector<Leak> leaks = find_leaks(record, who, secrets_of(run));
  CHECK_MESSAGE(leaks.empty(), describe(leaks));
}

}  // namespace

// ---------------------------------------------------------------- the guard

TEST_CASE("secret guard: a planted secret is found raw, base64 at any offset, and base64url") {
  SecretSet secrets;
  secrets.add(kPlanted, "planted token");
  CHECK(secrets.secrets() == 1);

  auto raw = find_leaks(std::string("error: refused ") + kPlanted + "\n", "stderr", secrets);
  REQUIRE(raw.size() == 1);
  CHECK(raw[0].origin == "planted token");
  CHECK(raw[0].form == "raw");
  CHECK(raw[0].where == "stderr");
  CHECK(raw[0].offset == 15);
  // The report shows where, never what.
  CHECK(describe(raw).find(kPlanted) == std::string::npos);
  CHECK(describe(raw).find("<SECRET>") != std::string::npos);

  for (std::string prefix : {"", "a", "ab", "abc", "users:\n- token: "}) {
    CAPTURE(prefix);
    std::string blob = base64_encode(prefix + kPlanted + "\ntail");
    auto found = find_leaks("kubeconfig: " + blob, "stdout", secrets);
    REQUIRE_FALSE(found.empty());
    CHECK(found[0].form == "base64");
    CHECK_FALSE(find_leaks(base64url_encode(prefix + kPlanted + "\ntail"), "x", secrets).empty());
  }
  auto in_json = find_leaks(json{{"msg", "minted"}, {"token", kPlanted}}.dump(), "log", secrets);
  CHECK(in_json.size() == 1);

  CHECK(find_leaks("nothing secret in here, not even planted-secret", "x", secrets).empty());
  SecretSet too_short;
  too_short.add("abc123", "short");
  CHECK(too_short.needles().empty());
}

TEST_CASE("secret guard: a private key is found whole, as base64, and line by line") {
  SecretSet secrets;
  secrets.add_pem(kFakePem, "App key");
  std::string second_line = kFakePem.substr(kFakePem.find('\n') + 1);
  second_line = second_line.substr(0, second_line.find('\n'));
  // A JSON log escapes the newlines: each body line is still there.
  std::string logged = json{{"msg", "bad key"}, {"key", kFakePem}}.dump();
  auto found = find_leaks(logged, "stderr", secrets);
  REQUIRE_FALSE(found.empty());
  CHECK(found[0].form == "PEM line");
  CHECK_FALSE(find_leaks("... " + second_line + " ...", "x", secrets).empty());
  CHECK_FALSE(find_leaks(base64_encode(kFakePem), "x", secrets).empty());
  // The armour lines are no secret; a short last line is not looked for.
  CHECK(find_leaks("-----BEGIN PRIVATE KEY-----\nLx9Kp==\n", "x", secrets).empty());
}

TEST_CASE("secret guard: credentials are found in the env, kubeconfigs and the files flags name") {
  TempDir dir;
  const std::string token = "kubeconfig-token-0123456789abcdef";
  const std::string from_file = "token-from-tokenFile-0123456789";
  dir.write("token", from_file + "\n");
  const std::string kubeconfig =
      "apiVersion: v1\nusers:\n- name: a\n  user:\n    token: " + token +
      "\n- name: b\n  user:\n    client-key-data: " + base64_encode(kFakePem) +
      "\n- name: c\n  user:\n    tokenFile: token\n";
  const std::string path = dir.write("config", kubeconfig);
  const std::string ghp_file = dir.write("ghp", std::string(kGitHubToken) + "\n");
  auto leaks_of = [](const SecretSet& set, const std::string& text) {
    return find_leaks(text, "x", set);
  };

  SecretSet from_env;
  from_env.add_from_env({{"FLUXKEY_KUBECONFIG_DATA", base64_encode(kubeconfig)},
                         {"GH_TOKEN", kGhToken},
                         {"PATH", "/usr/local/bin:/usr/bin:/bin"},
                         {"FLUX_SYSTEM_NAMESPACE", "flux-system"}});
  CHECK_FALSE(leaks_of(from_env, "Bearer " + token).empty());
  CHECK_FALSE(leaks_of(from_env, kGhToken).empty());
  CHECK_FALSE(leaks_of(from_env, base64_encode(kubeconfig)).empty());  // the variable as given
  CHECK_FALSE(leaks_of(from_env, kFakePem).empty());  // decoded from client-key-data
  CHECK(leaks_of(from_env, "PATH=/usr/local/bin:/usr/bin:/bin in flux-system").empty());

  SecretSet from_args;
  from_args.add_from_args({"sync", "--kubeconfig", path, "--github-token-file=" + ghp_file});
  CHECK_FALSE(leaks_of(from_args, token).empty());
  CHECK_FALSE(leaks_of(from_args, from_file).empty());  // tokenFile, relative to the kubeconfig
  CHECK_FALSE(leaks_of(from_args, kGitHubToken).empty());

  SecretSet from_kubeconfig_env;
  from_kubeconfig_env.add_from_env({{"KUBECONFIG", "/nonexistent:" + path}});
  CHECK_FALSE(leaks_of(from_kubeconfig_env, token).empty());
}

TEST_CASE("secret guard: a run's stdout, stderr and Action files are scanned; one opt-out") {
  TempDir dir;
  const std::string output = dir.write("github_output", "ready<<EOF\ntrue\nEOF\n");
  ProcessResult result;
  result.exit_code = 0;
  result.out = std::string("::add-mask::") + kGitHubToken + "\nmain@sha1:0123\n";
  result.err = "progress\n";
  GuardedRun run{{"/bin/fluxkey", "action"},
                 {{"GITHUB_TOKEN", kGitHubToken}, {"GITHUB_OUTPUT", output}},
                 &result,
                 ""};
  SecretSet secrets = secrets_of(run);
  // The mask command is the one line whose purpose is the secret.
  CHECK(scan_run(run, secrets).empty());

  result.err = std::string("failed with token ") + kGitHubToken + "\n";
  auto in_err = scan_run(run, secrets);
  REQUIRE(in_err.size() == 1);
  CHECK(in_err[0].where == "stderr of fluxkey action");
  CHECK(in_err[0].origin == "GITHUB_TOKEN");

  result.err.clear();
  result.out += std::string("token: ") + kGitHubToken + "\n";
  REQUIRE(scan_run(run, secrets).size() == 1);
  run.stdout_credential_reason = "this command prints the credential by design";
  CHECK(scan_run(run, secrets).empty());  // stdout only...
  result.err = kGitHubToken;
  CHECK(scan_run(run, secrets).size() == 1);  // ...stderr stays guarded

  result.err.clear();
  std::ofstream(output, std::ios::app) << "message<<EOF\n" << kGitHubToken << "\nEOF\n";
  auto in_file = scan_run(run, secrets);
  REQUIRE(in_file.size() == 1);
  CHECK(in_file[0].where == "$GITHUB_OUTPUT of fluxkey action");
}

// ------------------------------------------------------- the stand-ins' side

TEST_CASE("kube-sim records what it issues in a 0600 ledger, never in its request log") {
  SimProcess kube(binary_from_env("KUBE_SIM"));
  kube.control("POST", "/_sim/objects", json::parse(kServiceAccount));
  auto minted =
      kube.request("POST", "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token",
                   R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})",
                   "application/json", {{"Authorization", "Bearer " + kube_admin_token(kube)}});
  REQUIRE_MESSAGE(minted.status == 201, minted.body);
  const std::string sa_token = minted.json()["status"]["token"];
  const std::string static_token =
      kube.control("POST", "/_sim/tokens", {{"user", "someone"}})["token"];
  const std::string client_key =
      kube.control("POST", "/_sim/client-certs", {{"user", "someone"}})["key_pem"];

  struct stat st {};
  REQUIRE(::stat(kube.secrets_file().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::string ledger = read_text(kube.secrets_file());
  for (const std::string* secret : {&sa_token, &static_token, &client_key}) {
    CHECK(ledger.find(json(*secret).dump()) != std::string::npos);
  }
  CHECK(ledger.find(json(kube_admin_token(kube)).dump()) != std::string::npos);
  CHECK(ledger.find("\"kind\":\"ServiceAccount token\"") != std::string::npos);

  // What the guard knows without being told: every live stand-in's ledger.
  SecretSet known = secrets_of(GuardedRun{});
  CHECK_FALSE(find_leaks("Bearer " + sa_token, "x", known).empty());
  CHECK_FALSE(find_leaks(static_token, "x", known).empty());
  CHECK_FALSE(find_leaks(client_key, "x", known).empty());
  CHECK(scan_request_log(kube.state_dir(), "kube-sim", known).empty());
  CHECK(read_text(kube.state_dir() + "/requests.jsonl").find(sa_token) == std::string::npos);
}

TEST_CASE("sync as a GitHub App: the App key and the installation tokens leak nowhere") {
  SimProcess kube(binary_from_env("KUBE_SIM"));
  SimProcess github(binary_from_env("GITHUB_SIM"));
  TempDir dir;
  kube.control("POST", "/_sim/objects", json::parse(kServiceAccount));
  RsaKey key = make_rsa_key(dir);
  github.control("POST", "/_sim/setup",
                 {{"repos", {"acme/app"}},
                  {"tokens", {"ghp_hygieneSetupToken000000000000000000=repo"}},
                  {"apps",
                   {{{"id", 4242},
                     {"public_key_pem", key.public_pem},
                     {"installations", {{{"id", 99}, {"account", "acme"}}}}}}}});

  const Env env = {{"SSL_CERT_FILE", github.ca_file()},
                   {"GITHUB_APP_PRIVATE_KEY", key.private_pem}};
  const std::vector<std::string> args = {"sync",
                                         "--kubeconfig",
                                         kube.state_dir() + "/admin.kubeconfig",
                                         "--github-api-url",
                                         github.url(),
                                         "--github-repo",
                                         "acme/app",
                                         "--github-app-id",
                                         "4242",
                                         "--log-format",
                                         "json"};
  auto run = run_fluxkey(args, env);  // the guard checks every output here
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);

  std::string ledger = read_text(github.secrets_file());
  CHECK(ledger.find("\"kind\":\"installation token\"") != std::string::npos);
  CHECK(ledger.find("ghp_hygieneSetupToken") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat(github.secrets_file().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // The same check by hand, to see what the guard knew: the installation
  // token from the ledger, the key's lines from the environment.
  GuardedRun guarded{{binary_from_env("FLUXKEY")}, env, &run, ""};
  guarded.argv.insert(guarded.argv.end(), args.begin(), args.end());
  SecretSet known = secrets_of(guarded);
  std::string install_token = ledger.substr(ledger.find("ghs_"), 40);
  CHECK_FALSE(find_leaks(install_token, "x", known).empty());
  std::string key_line = key.private_pem.substr(key.private_pem.find('\n') + 1, 64);
  CHECK_FALSE(find_leaks(key_line, "x", known).empty());
  CHECK(scan_run(guarded, known).empty());
}

// ------------------------------------------------------------ fluxkey's side

TEST_CASE("the running fluxkey cannot dump core and is not dumpable") {
  SimProcess kube(binary_from_env("KUBE_SIM"));
  auto seeded =
      kube.request("POST", "/_sim/objects", flux_source_and_kustomization(), "application/yaml");
  REQUIRE_MESSAGE(seeded.status == 201, seeded.body);
  // The controller never answers: fluxkey stays in its wait.
  kube.control("POST", "/_sim/flux", {{"kind", "ks"}, {"mode", "never"}});

  // A process that is not dumpable has its /proc/PID files owned by root
  // whoever runs it (the folder's own inode may keep the old owner, so a
  // file inside is what tells). Root would see no difference: as root, the
  // processes below run as nobody.
  std::vector<std::string> launcher;
  std::string binary = binary_from_env("FLUXKEY");
  uid_t uid = ::getuid();
  TempDir reachable;
  if (uid == 0) {
    REQUIRE_MESSAGE(::access("/usr/bin/setpriv", X_OK) == 0, "setpriv (util-linux) is needed");
    launcher = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    uid = 65534;
    // The build folder may be out of nobody's reach: a copy in a folder it can enter.
    ::chmod(reachable.path().c_str(), 0755);
    const std::string copy = reachable.path() + "/fluxkey";
    std::filesystem::copy_file(binary, copy);
    ::chmod(copy.c_str(), 0755);
    binary = copy;
  }
  auto owner = [](pid_t pid) {
    struct stat st {};
    REQUIRE(::stat(("/proc/" + std::to_string(pid) + "/status").c_str(), &st) == 0);
    return st.st_uid;
  };
  const Env env = {{"FLUXKEY_KUBECONFIG_DATA",
                    base64_encode(read_text(kube.state_dir() + "/admin.kubeconfig"))}};

  // The control: an ordinary program launched the same way is owned by its
  // user, so the check below can tell the difference.
  {
    std::vector<std::string> argv = launcher;
    argv.insert(argv.end(), {"/bin/sleep", "10"});
    std::vector<char*> argvp;
    for (auto& a : argv) argvp.push_back(a.data());
    argvp.push_back(nullptr);
    char* no_env[] = {nullptr};
    pid_t pid = -1;
    REQUIRE(::posix_spawn(&pid, argvp[0], nullptr, nullptr, argvp.data(), no_env) == 0);
    // Until setpriv has exec'd sleep, /proc/PID still shows root (bounded).
    uid_t seen = 0;
    for (auto until = std::chrono::steady_clock::now() + 5s;
         seen != uid && std::chrono::steady_clock::now() < until;
         std::this_thread::sleep_for(20ms)) {
      seen = owner(pid);
    }
    CHECK(seen == uid);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }

  BackgroundFluxkey fluxkey({"reconcile", "--name", "apps", "--timeout", "6s"}, env, launcher,
                            binary);
  // Wait (bounded) until fluxkey is watching: main() has run by then.
  bool watching = false;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       !watching && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(50ms)) {
    for (const auto& r : kube.requests()) {
      watching |= r["query"].get<std::string>().find("watch=") != std::string::npos;
    }
  }
  REQUIRE_MESSAGE(watching, "fluxkey never started its watch");

  CHECK(owner(fluxkey.pid()) == 0);  // prctl(PR_SET_DUMPABLE, 0)
  std::string status = read_text("/proc/" + std::to_string(fluxkey.pid()) + "/status");
  CHECK(status.find("Uid:\t" + std::to_string(uid) + "\t") != std::string::npos);
  std::string limits = read_text("/proc/" + std::to_string(fluxkey.pid()) + "/limits");
  auto at = limits.find("Max core file size");
  REQUIRE(at != std::string::npos);
  std::istringstream line(limits.substr(at + std::string("Max core file size").size()));
  std::string soft, hard;
  line >> soft >> hard;
  CHECK(soft == "0");  // RLIMIT_CORE 0, soft and hard
  CHECK(hard == "0");

  // Seen what there was to see: no need to sit out the --timeout.
  ::kill(fluxkey.pid(), SIGTERM);
  auto run = fluxkey.wait(20s);
  CHECK(run.signal == SIGTERM);
}

TEST_CASE("kubeconfig --output replaces the file atomically with a 0600 one") {
  SimProcess kube(binary_from_env("KUBE_SIM"));
  kube.control("POST", "/_sim/objects", json::parse(kServiceAccount));
  TempDir dir;
  const std::string admin = kube.state_dir() + "/admin.kubeconfig";

  SUBCASE("an existing world-readable file becomes a private one, no temporary left") {
    const std::string out = dir.write("kubeconfig", "old\n");
    ::chmod(out.c_str(), 0644);
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", admin, "--output", out});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.out.empty());
    struct stat st {};
    REQUIRE(::stat(out.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_text(out).find("token: ") != std::string::npos);
    CHECK(dir.entries() == 1);
  }
  SUBCASE("a symlink at the path is replaced, never written through") {
    const std::string target = dir.write("elsewhere", "untouched\n");
    ::chmod(target.c_str(), 0644);
    const std::string out = dir.path() + "/link";
    REQUIRE(::symlink(target.c_str(), out.c_str()) == 0);
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", admin, "--output", out});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(read_text(target) == "untouched\n");
    struct stat st {};
    REQUIRE(::lstat(out.c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
  }
  SUBCASE("a folder that does not exist: refused before minting, nothing written") {
    auto run = run_fluxkey(
        {"kubeconfig", "--kubeconfig", admin, "--output", dir.path() + "/missing/kubeconfig"});
    CHECK(run.exit_code != 0);
    CHECK(dir.entries() == 0);
    CHECK(kube.control("GET", "/_sim/tokens").empty());
  }
}

TEST_CASE("an exec credential plugin gets no secret of fluxkey's in its argv or environment") {
  SimProcess kube(binary_from_env("KUBE_SIM"));
  SimProcess github(binary_from_env("GITHUB_SIM"));
  TempDir dir;
  kube.control("POST", "/_sim/objects", json::parse(kServiceAccount));
  github.control("POST", "/_sim/setup",
                 {{"repos", {"acme/app"}}, {"tokens", {std::string(kGitHubToken) + "=repo"}}});
  // The plugin hands out a static admin token (the stand-in records it).
  const std::string plugin_token = kube.control(
      "POST", "/_sim/tokens", {{"user", "plugin"}, {"groups", {"system:masters"}}})["token"];
  const std::string record = dir.path() + "/record";
  const std::string plugin =
      script(dir, "plugin",
             "for a in \"$0\" \"$@\"; do echo \"arg:$a\"; done >> " + record +
                 "\n"
                 "env | sed 's/^/env:/' >> " +
                 record +
                 "\n"
                 "printf '%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                 "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" +
                 plugin_token + "\"}}'\n");
  const std::string exec_user =
      "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: " + plugin +
      "\n      args: [--cluster, sim]\n      env: [{name: PLUGIN_MODE, value: test}]\n"
      "      interactiveMode: Never\n";
  const std::string kubeconfig = dir.write("kubeconfig", kubeconfig_with_user(kube, exec_user));
  RsaKey key = make_rsa_key(dir);
  const Env env = {{"SSL_CERT_FILE", github.ca_file()},
                   {"GITHUB_TOKEN", kGitHubToken},
                   {"GH_TOKEN", kGhToken},
                   {"GITHUB_APP_PRIVATE_KEY", key.private_pem},
                   {"INPUT_KUBECONFIG", base64_encode(read_text(kubeconfig))}};

  SUBCASE("sync: the plugin runs, GitHub's credentials stay with fluxkey") {
    std::vector<std::string> argv = {
        binary_from_env("FLUXKEY"), "sync",       "--kubeconfig",  kubeconfig,
        "--github-api-url",         github.url(), "--github-repo", "acme/app"};
    auto run = run_program(argv, env);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    std::string seen = read_text(record);
    CHECK(seen.find("arg:--cluster") != std::string::npos);
    CHECK(seen.find("env:PLUGIN_MODE=test") != std::string::npos);
    check_child_record(seen, GuardedRun{argv, env, &run, ""}, "the exec plugin");
  }
  SUBCASE("reconcile with FLUXKEY_KUBECONFIG_DATA: the plugin never sees that variable") {
    auto seeded =
        kube.request("POST", "/_sim/objects", flux_source_and_kustomization(), "application/yaml");
    REQUIRE_MESSAGE(seeded.status == 201, seeded.body);
    Env with_data = env;
    with_data.emplace_back("FLUXKEY_KUBECONFIG_DATA", read_text(kubeconfig));
    std::vector<std::string> argv = {
        binary_from_env("FLUXKEY"), "reconcile", "--name", "apps", "--timeout", "20s"};
    auto run = run_program(argv, with_data, 30s);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    check_child_record(read_text(record), GuardedRun{argv, with_data, &run, ""}, "the exec plugin");
  }
}

TEST_CASE("the flux CLI gets its kubeconfig in a private file, no secret in argv or env") {
  SimProcess kube(binary_from_env("KUBE_SIM"));
  auto seeded =
      kube.request("POST", "/_sim/objects", flux_source_and_kustomization(), "application/yaml");
  REQUIRE_MESSAGE(seeded.status == 201, seeded.body);
  TempDir dir;
  const std::string record = dir.path() + "/record";
  dir.write("bin/flux",
            recording_flux_script(record,
                                  "if [ -n \"$FLUX_SLEEP\" ]; then echo \"pid:$$\"; exec sleep "
                                  "\"$FLUX_SLEEP\"; fi\n"
                                  "echo '✔ applied revision main@sha1:0123456789abcdef' >&2\n"
                                  "exit ${FLUX_EXIT:-0}\n"),
            0700);
  PathGuard path(dir.path() + "/bin:/usr/local/bin:/usr/bin:/bin");
  RsaKey key = make_rsa_key(dir);
  const Env env = {
      {"FLUXKEY_KUBECONFIG_DATA", base64_encode(read_text(kube.state_dir() + "/admin.kubeconfig"))},
      {"GITHUB_TOKEN", kGitHubToken},
      {"GH_TOKEN", kGhToken},
      {"GITHUB_APP_PRIVATE_KEY", key.private_pem},
      {"INPUT_KUBECONFIG", "not-a-kubeconfig-but-secret-0123456789"}};
  std::vector<std::string> argv = {
      binary_from_env("FLUXKEY"), "reconcile", "--flux-cli", "--name", "apps", "--timeout", "30s"};
  auto run = run_program(argv, env, 60s);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  std::string seen = read_text(record);
  CHECK(seen.find("mode:600\ndirmode:700\n") != std::string::npos);
  check_child_record(seen, GuardedRun{argv, env, &run, ""}, "the flux CLI");
  std::string kubeconfig_path = recorded_kubeconfig_path(seen);
  REQUIRE_FALSE(kubeconfig_path.empty());
  CHECK_FALSE(std::filesystem::exists(kubeconfig_path));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(kubeconfig_path).parent_path()));

  // flux failing: the private folder goes all the same.
  std::filesystem::remove(record);
  Env failing = env;
  failing.emplace_back("FLUX_EXIT", "1");
  auto failed = run_program(argv, failing, 60s);
  CHECK(failed.exit_code == 1);
  seen = read_text(record);
  kubeconfig_path = recorded_kubeconfig_path(seen);
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(kubeconfig_path).parent_path()));

  // fluxkey stopped by a signal while flux runs (a cancelled workflow): no
  // destructor runs then, the signal handler removes the folder and passes
  // the signal on to flux, which runs in a process group of its own.
  std::filesystem::remove(record);
  Env sleeping = env;
  sleeping.emplace_back("FLUX_SLEEP", "30");
  BackgroundFluxkey background(std::vector<std::string>(argv.begin() + 1, argv.end()), sleeping);
  for (auto until = std::chrono::steady_clock::now() + 10s;
       read_text(record).find("pid:") == std::string::npos &&
       std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(20ms)) {
  }
  seen = read_text(record);
  REQUIRE_MESSAGE(seen.find("pid:") != std::string::npos, "the stand-in flux never started");
  kubeconfig_path = recorded_kubeconfig_path(seen);
  CHECK(std::filesystem::exists(kubeconfig_path));
  const pid_t flux = std::atoi(seen.substr(seen.find("pid:") + 4).c_str());
  REQUIRE(flux > 0);
  ::kill(background.pid(), SIGTERM);
  auto stopped = background.wait(10s);
  CHECK(stopped.signal == SIGTERM);
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(kubeconfig_path).parent_path()));
  // Gone, or a zombie that nobody reaps yet (its parent, fluxkey, is gone).
  auto flux_running = [&] {
    std::string stat = read_text("/proc/" + std::to_string(flux) + "/stat");
    size_t state = stat.rfind(')');
    return state != std::string::npos && state + 2 < stat.size() && stat[state + 2] != 'Z';
  };
  for (auto until = std::chrono::steady_clock::now() + 5s;
       flux_running() && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(20ms)) {
  }
  CHECK_FALSE_MESSAGE(flux_running(), "flux outlived the fluxkey that started it");
  if (flux_running()) ::kill(flux, SIGKILL);
}

}  // namespace secret_hygiene_test
