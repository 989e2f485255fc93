// `fluxkey kubeconfig` end to end: the real binary against kube-sim, and the
// real kubectl using what it printed.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace kubeconfig_command_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;

namespace {

const char* kServiceAccount = R"({"apiVersion":"v1","kind":"ServiceAccount",
  "metadata":{"name":"flux-reconcile","namespace":"fluxkey"}})";

struct Cluster {
  explicit Cluster(std::vector<std::string> sim_args = {})
      : sim(binary_from_env("KUBE_SIM"), sim_args) {
    sim.control("POST", "/_sim/objects", json::parse(kServiceAccount));
  }
  std::string admin() const { return sim.state_dir() + "/admin.kubeconfig"; }
  // TokenRequests the stand-in answered.
  size_t token_requests() const {
    size_t n = 0;
    for (const auto& r : sim.requests()) {
      if (r["method"] == "POST" && r["path"].get<std::string>().ends_with("/token")) ++n;
    }
    return n;
  }
  SimProcess sim;
};

// `fluxkey kubeconfig` without --output prints the kubeconfig, token and
// all: its stdout is the credential by design. The secret guard still reads
// its stderr and the stand-in's request log.
ProcessResult print_kubeconfig(const std::vector<std::string>& args) {
  return run_fluxkey(args, {}, std::chrono::seconds(60),
                     StdoutIsCredential{"fluxkey kubeconfig prints the kubeconfig by design"});
}

}  // namespace

TEST_CASE("kubeconfig prints a working kubeconfig for the reconcile ServiceAccount") {
  Cluster cluster;
  TempDir dir;
  auto run = print_kubeconfig({"kubeconfig", "--kubeconfig", cluster.admin(), "--token-ttl", "1h"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.find("kind: Config") != std::string::npos);
  CHECK(run.out.find("server: " + cluster.sim.url()) != std::string::npos);
  CHECK(run.out.find("certificate-authority-data: ") != std::string::npos);
  std::string token = token_of(run.out);
  CHECK_FALSE(token.empty());
  CHECK(run.err.find(token) == std::string::npos);
  CHECK(run.err.find("minted a token for ServiceAccount fluxkey/flux-reconcile") !=
        std::string::npos);

  // The stand-in issued it for that ServiceAccount, for the TTL asked.
  json tokens = cluster.sim.control("GET", "/_sim/tokens");
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0]["sub"] == "system:serviceaccount:fluxkey:flux-reconcile");

  // Real kubectl authenticates with it.
  std::string path = dir.path() + "/out.kubeconfig";
  std::ofstream(path) << run.out;
  auto kubectl = run_program({"kubectl", "--kubeconfig", path, "get", "--raw",
                              "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile"});
  REQUIRE_MESSAGE(kubectl.exit_code == 0, kubectl.err);
  CHECK(json::parse(kubectl.out)["metadata"]["name"] == "flux-reconcile");
}

TEST_CASE("kubeconfig --output writes a 0600 file and nothing to stdout") {
  Cluster cluster;
  TempDir dir;
  std::string out = dir.path() + "/ci.kubeconfig";
  auto run = run_fluxkey({"kubeconfig", "--kubeconfig", cluster.admin(), "--output", out});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.empty());
  struct stat st {};
  REQUIRE(::stat(out.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read_text(out).find("current-context: fluxkey") != std::string::npos);
}

TEST_CASE("kubeconfig takes --server and --server-ca-from system as given") {
  Cluster cluster;
  auto run = print_kubeconfig({"kubeconfig", "--kubeconfig", cluster.admin(), "--server",
                               "https://k8s.example.com:6443/", "--server-ca-from", "system"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.find("server: https://k8s.example.com:6443\n") != std::string::npos);
  CHECK(run.out.find("certificate-authority") == std::string::npos);
}

TEST_CASE("kubeconfig takes the external server from kube-public/cluster-info") {
  Cluster cluster({"--cluster-info-server", "https://k8s.example.com:443"});
  auto run = print_kubeconfig({"kubeconfig", "--kubeconfig", cluster.admin()});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.find("server: https://k8s.example.com:443\n") != std::string::npos);
}

TEST_CASE("kubeconfig warns when the server is cluster-internal") {
  Cluster cluster;
  auto run = print_kubeconfig({"kubeconfig", "--kubeconfig", cluster.admin(), "--server",
                               "https://kubernetes.default.svc"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.err.find("cluster-internal address") != std::string::npos);
}

TEST_CASE("kubeconfig --dry-run mints nothing") {
  Cluster cluster;
  auto run = run_fluxkey({"kubeconfig", "--kubeconfig", cluster.admin(), "--dry-run"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.empty());
  CHECK(run.err.find("would mint a token for ServiceAccount fluxkey/flux-reconcile") !=
        std::string::npos);
  CHECK(cluster.token_requests() == 0);
}

TEST_CASE("kubeconfig usage errors exit 2 before any request") {
  Cluster cluster;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--token-ttl", "5m"}, "invalid --token-ttl \"5m\": must be at least 10m"},
      {{"--token-ttl", "soon"}, "invalid --token-ttl \"soon\""},
      {{"--service-account", "flux-reconcile"}, "want NAMESPACE/NAME"},
      {{"--server", "http://k8s:6443"}, "want an https:// URL"},
      {{"--server-ca-from", "nowhere"}, "want one of in-cluster|cluster-info|system"},
      {{"--server-ca", "/nonexistent/ca.crt"}, "cannot read --server-ca /nonexistent/ca.crt"},
      {{"--log-format", "xml"}, "invalid --log-format \"xml\""},
      {{"--bogus"}, "--bogus"},
      {{"--token-ttl"}, "--token-ttl"},
      {{"--output", "/nonexistent/dir/k"}, "folder /nonexistent/dir does not exist"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"kubeconfig", "--kubeconfig", cluster.admin()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto run = run_fluxkey(args);
    CAPTURE(c.message);
    CHECK(run.exit_code == 2);
    CHECK(run.err.find(c.message) != std::string::npos);
    CHECK(count_lines(run.err) == 1);
    CHECK(run.out.empty());
  }
  CHECK(cluster.token_requests() == 0);
}

TEST_CASE("kubeconfig: a missing ServiceAccount is named with the fix, and no file is left") {
  Cluster cluster;
  TempDir dir;
  std::string out = dir.path() + "/k";
  auto run = run_fluxkey({"kubeconfig", "--kubeconfig", cluster.admin(), "--service-account",
                          "fluxkey/nobody", "--output", out});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("ServiceAccount fluxkey/nobody") != std::string::npos);
  CHECK(run.err.find("--service-account") != std::string::npos);
  CHECK(count_lines(run.err) == 1);
  CHECK(::access(out.c_str(), F_OK) != 0);
  CHECK(dir.entries() == 0);
}

TEST_CASE("kubeconfig: bad kubeconfigs and unreachable servers get one clear line") {
  Cluster cluster;
  TempDir dir;
  SUBCASE("malformed YAML is a configuration error") {
    std::string bad = dir.write("bad.kubeconfig", "clusters: [\n");
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", bad});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find(bad) != std::string::npos);
    CHECK(count_lines(run.err) == 1);
  }
  SUBCASE("an unreadable kubeconfig is a configuration error") {
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", dir.path() + "/missing"});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find(dir.path() + "/missing") != std::string::npos);
  }
  SUBCASE("a CA that does not match") {
    std::string admin = read_text(cluster.admin());
    // Another stand-in has another CA: trust it instead of ours.
    SimProcess other(binary_from_env("KUBE_SIM"));
    std::string other_admin = read_text(other.state_dir() + "/admin.kubeconfig");
    std::string mixed = replace_line_with(admin, "certificate-authority-data:", other_admin);
    std::string path = dir.write("mixed.kubeconfig", mixed);
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", path});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("TLS") != std::string::npos);
    CHECK(count_lines(run.err) == 1);
    CHECK(cluster.token_requests() == 0);
  }
  SUBCASE("an API server that is not there") {
    std::string admin = read_text(cluster.admin());
    std::string url = cluster.sim.url();
    cluster.sim.terminate();
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", cluster.admin()});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find(url.substr(8)) != std::string::npos);
    CHECK(count_lines(run.err) == 1);
  }
}

TEST_CASE("kubeconfig reads its settings from --config; flags win") {
  Cluster cluster;
  TempDir dir;
  std::string config = dir.write("fluxkey.yaml",
                                 "service-account: fluxkey/nobody\n"
                                 "token-ttl: 2h\n"
                                 "server: https://from-config.example.com\n"
                                 "github-repo: [acme/web]\n");
  auto run = print_kubeconfig({"kubeconfig", "--config", config, "--kubeconfig", cluster.admin(),
                               "--service-account", "fluxkey/flux-reconcile"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.out.find("server: https://from-config.example.com\n") != std::string::npos);

  std::string bad = dir.write("bad.yaml", "token-tll: 2h\n");
  auto refused = run_fluxkey({"kubeconfig", "--config", bad, "--kubeconfig", cluster.admin()});
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("unknown key \"token-tll\"") != std::string::npos);
}

TEST_CASE("help lists every command of the contract") {
  auto run = run_fluxkey({"--help"});
  CHECK(run.exit_code == 0);
  for (const char* command :
       {"sync", "rotate", "revoke", "kubeconfig", "status", "reconcile", "action", "version"}) {
    CAPTURE(command);
    CHECK(run.out.find(std::string("  ") + command + " ") != std::string::npos);
  }
  auto sub = run_fluxkey({"kubeconfig", "--help"});
  CHECK(sub.exit_code == 0);
  CHECK(sub.out.find("--token-ttl") != std::string::npos);
  CHECK(sub.out.find("--github-repo") == std::string::npos);
}

TEST_CASE("GnuTLS, which Debian's libcurl loads, skips its own initialisation") {
  // The dynamic linker names each symbol binding; GnuTLS's constructor asks
  // _gnutls_global_init_skip whether to initialise, and fluxkey answers.
  auto run = run_fluxkey({"version"}, {{"LD_DEBUG", "bindings"}});
  REQUIRE(run.exit_code == 0);
  if (run.err.find("libgnutls") == std::string::npos) {
    MESSAGE("this libcurl does not load GnuTLS: nothing to skip");
    return;
  }
  std::string binding;
  std::istringstream lines(run.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("`_gnutls_global_init_skip'") != std::string::npos) binding = line;
  }
  CAPTURE(binding);
  CHECK(binding.find("binding file ") != std::string::npos);
  CHECK(binding.find(" to " + binary_from_env("FLUXKEY") + " ") != std::string::npos);
}

namespace {
size_t count_requests(const SimProcess& sim, const std::string& method, const std::string& path) {
  size_t n = 0;
  for (const auto& r : sim.requests()) {
    if (r["method"] == method && r["path"] == path) ++n;
  }
  return n;
}
const char* kClusterInfo = "/api/v1/namespaces/kube-public/configmaps/cluster-info";
const char* kTokenRequest = "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token";
}  // namespace

TEST_CASE("--verbose logs each request and each retry, FLUXKEY_VERBOSE=1 too") {
  Cluster cluster;
  TempDir dir;
  auto one_503 = [&] {
    cluster.sim.add_fault({{"method", "GET"},
                           {"path", "cluster-info$"},
                           {"action", "status"},
                           {"status", 503},
                           {"times", 1}});
  };
  const std::vector<std::string> args = {"kubeconfig", "--kubeconfig", cluster.admin(), "--output",
                                         dir.path() + "/out"};
  // The guard of run_fluxkey fails the test if the minted token shows.
  auto check_verbose = [&](const ProcessResult& run) {
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    const std::string url = cluster.sim.url() + kClusterInfo;
    CHECK(run.err.find("debug: http request method=GET url=" + url + " status=503 attempt=1 ") !=
          std::string::npos);
    CHECK(run.err.find("debug: retrying GET " + url + " in ") != std::string::npos);
    CHECK(run.err.find("debug: http request method=POST url=" + cluster.sim.url() + kTokenRequest +
                       " status=201 attempt=1 duration_ms=") != std::string::npos);
  };

  SUBCASE("without it, no debug line") {
    one_503();
    auto run = run_fluxkey(args);
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(run.err.find("debug: ") == std::string::npos);
  }
  SUBCASE("--verbose") {
    one_503();
    std::vector<std::string> verbose = args;
    verbose.push_back("--verbose");
    check_verbose(run_fluxkey(verbose));
  }
  SUBCASE("FLUXKEY_VERBOSE=1") {
    one_503();
    check_verbose(run_fluxkey(args, {{"FLUXKEY_VERBOSE", "1"}}));
  }
}

TEST_CASE("kubeconfig rides out faults where retrying is safe, and only there") {
  Cluster cluster;
  SUBCASE("reads are retried through 503s") {
    cluster.sim.add_fault({{"method", "GET"},
                           {"path", "cluster-info$"},
                           {"action", "status"},
                           {"status", 503},
                           {"times", 2}});
    auto run = print_kubeconfig({"kubeconfig", "--kubeconfig", cluster.admin()});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(count_requests(cluster.sim, "GET", kClusterInfo) == 3);
    CHECK(count_lines(run.err) == 1);  // the "minted" line; retries are not noise
  }
  SUBCASE("a TokenRequest answered 429 with Retry-After is sent again after the wait") {
    cluster.sim.add_fault({{"method", "POST"},
                           {"path", "/token$"},
                           {"action", "status"},
                           {"status", 429},
                           {"headers", {{"Retry-After", "1"}}},
                           {"times", 1}});
    auto start = std::chrono::steady_clock::now();
    auto run = print_kubeconfig({"kubeconfig", "--kubeconfig", cluster.admin()});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::seconds(1));
    CHECK(count_requests(cluster.sim, "POST", kTokenRequest) == 2);
  }
  SUBCASE("a TokenRequest whose connection breaks is not sent twice") {
    cluster.sim.add_fault(
        {{"method", "POST"}, {"path", "/token$"}, {"action", "reset"}, {"times", -1}});
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", cluster.admin()});
    CHECK(run.exit_code == 1);
    CHECK(count_lines(run.err) == 1);
    CHECK(count_requests(cluster.sim, "POST", kTokenRequest) == 1);
  }
  SUBCASE("a 500 on the TokenRequest is reported, not retried") {
    cluster.sim.add_fault({{"method", "POST"},
                           {"path", "/token$"},
                           {"action", "status"},
                           {"status", 500},
                           {"times", -1}});
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", cluster.admin()});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("ServiceAccount fluxkey/flux-reconcile") != std::string::npos);
    CHECK(count_lines(run.err) == 1);
    CHECK(count_requests(cluster.sim, "POST", kTokenRequest) == 1);
  }
  SUBCASE("a body cut short is a failure, not a kubeconfig") {
    cluster.sim.add_fault(
        {{"method", "POST"}, {"path", "/token$"}, {"action", "truncate"}, {"times", -1}});
    auto run = run_fluxkey({"kubeconfig", "--kubeconfig", cluster.admin()});
    CHECK(run.exit_code == 1);
    CHECK(run.out.empty());
    CHECK(count_lines(run.err) == 1);
  }
}

}  // namespace kubeconfig_command_test
