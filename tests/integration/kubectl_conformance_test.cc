// kube-sim checked against the real kubectl (and plain HTTPS calls where the
// exact status or body matters), plus the stand-in frame's fault injection
// seen from an ordinary client.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/base64.h"
#include "core/file.h"
#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace fluxkey::testing::kubectl_conformance_test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string admin_kubeconfig(const SimProcess& sim) {
  return sim.state_dir() + "/admin.kubeconfig";
}

// A kubeconfig for `user` (a token or a client certificate), 0600 in the sim's private dir.
std::string write_kubeconfig(const SimProcess& sim, const std::string& name, const json& user) {
  json config = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       {{{"name", "sim"},
         {"cluster",
          {{"server", sim.url()},
           {"certificate-authority-data", base64_encode(read_file(sim.ca_file(), "CA"))}}}}}},
      {"users", {{{"name", "u"}, {"user", user}}}},
      {"contexts", {{{"name", "c"}, {"context", {{"cluster", "sim"}, {"user", "u"}}}}}},
      {"current-context", "c"}};
  std::string path = sim.state_dir() + "/" + name;
  write_private_file(path, config.dump());  // JSON is YAML
  return path;
}

ProcessResult kubectl(const SimProcess& sim, std::vector<std::string> args,
                      const std::string& kubeconfig = "") {
  std::vector<std::string> argv = {"kubectl",
                                   "--kubeconfig",
                                   kubeconfig.empty() ? admin_kubeconfig(sim) : kubeconfig,
                                   "--cache-dir",
                                   sim.state_dir() + "/kubectl-cache",
                                   "--request-timeout",
                                   "20s"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, {}, seconds(40));
}

HttpReply api(const SimProcess& sim, const std::string& method, const std::string& path,
              const json& body = nullptr, const std::string& token = "",
              const std::string& content_type = "application/json") {
  std::map<std::string, std::string> headers;
  headers["Authorization"] = "Bearer " + (token.empty() ? kube_admin_token(sim) : token);
  return sim.request(method, path, body.is_null() ? "" : body.dump(),
                     body.is_null() ? "" : content_type, headers);
}

json jwt_claims(const std::string& token) {
  size_t a = token.find('.');
  size_t b = token.find('.', a + 1);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  std::string part = token.substr(a + 1, b - a - 1);
  for (char& c : part) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (part.size() % 4) part.push_back('=');
  auto raw = base64_decode(part);
  REQUIRE(raw.has_value());
  return json::parse(*raw);
}

void create_namespace(const SimProcess& sim, const std::string& ns) {
  auto r = kubectl(sim, {"create", "namespace", ns});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

}  // namespace

TEST_CASE("kubectl reads cluster-info through get --raw") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  auto r = kubectl(sim, {"get", "--raw", "/api/v1/namespaces/kube-public/configmaps/cluster-info"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json cm = json::parse(r.out);
  CHECK(cm["kind"] == "ConfigMap");
  std::string kubeconfig = cm["data"]["kubeconfig"];
  CHECK(kubeconfig.find("server: " + sim.url()) != std::string::npos);
  CHECK(kubeconfig.find(base64_encode(read_file(sim.ca_file(), "CA"))) != std::string::npos);
}

TEST_CASE("--cluster-info-server publishes another URL") {
  SimProcess sim(binary_from_env("KUBE_SIM"),
                 {"--cluster-info-server", "https://api.example.test:6443"});
  auto r = api(sim, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info");
  REQUIRE(r.status == 200);
  std::string kubeconfig = r.json()["data"]["kubeconfig"];
  CHECK(kubeconfig.find("server: https://api.example.test:6443") != std::string::npos);
}

TEST_CASE("kubectl create token: the token works until its bound Secret is deleted") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  create_namespace(sim, "apps");
  REQUIRE(kubectl(sim, {"create", "serviceaccount", "robot", "-n", "apps"}).exit_code == 0);
  REQUIRE(
      kubectl(sim, {"create", "secret", "generic", "anchor", "-n", "apps", "--from-literal=a=b"})
          .exit_code == 0);
  auto minted = kubectl(sim, {"create", "token", "robot", "-n", "apps", "--duration", "10m",
                              "--bound-object-kind", "Secret", "--bound-object-name", "anchor"});
  REQUIRE_MESSAGE(minted.exit_code == 0, minted.err);
  std::string token = trimmed(minted.out);
  json claims = jwt_claims(token);
  CHECK(claims["sub"] == "system:serviceaccount:apps:robot");
  CHECK(claims["kubernetes.io"]["secret"]["name"] == "anchor");
  CHECK(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>() == 600);

  std::string kc = write_kubeconfig(sim, "robot.kubeconfig", {{"token", token}});
  auto who = kubectl(sim, {"auth", "whoami", "-o", "json"}, kc);
  REQUIRE_MESSAGE(who.exit_code == 0, who.err);
  json review = json::parse(who.out);
  CHECK(review["status"]["userInfo"]["username"] == "system:serviceaccount:apps:robot");
  auto read = kubectl(sim, {"get", "--raw", "/api/v1/namespaces/apps/serviceaccounts/robot"}, kc);
  CHECK_MESSAGE(read.exit_code == 0, read.err);

  REQUIRE(kubectl(sim, {"delete", "secret", "anchor", "-n", "apps"}).exit_code == 0);
  auto refused =
      kubectl(sim, {"get", "--raw", "/api/v1/namespaces/apps/serviceaccounts/robot"}, kc);
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("Unauthorized") != std::string::npos);

  json tokens = sim.control("GET", "/_sim/tokens");
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0]["alive"] == false);
  CHECK(tokens[0]["boundSecret"]["name"] == "anchor");
  CHECK(tokens.dump().find(token) == std::string::npos);
}

TEST_CASE("kubectl create token refuses durations under 10 minutes with the real message") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  REQUIRE(kubectl(sim, {"create", "serviceaccount", "robot"}).exit_code == 0);
  auto r = kubectl(sim, {"create", "token", "robot", "--duration", "5m"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: "
                   "Invalid value: 300: may not specify a duration less than 10 minutes") !=
        std::string::npos);
}

TEST_CASE("kubectl creates and gets and deletes a Secret") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  create_namespace(sim, "ns");
  auto created =
      kubectl(sim, {"create", "secret", "generic", "x", "-n", "ns", "--from-literal=k=v"});
  REQUIRE_MESSAGE(created.exit_code == 0, created.err);
  auto raw = kubectl(sim, {"get", "--raw", "/api/v1/namespaces/ns/secrets/x"});
  REQUIRE(raw.exit_code == 0);
  json secret = json::parse(raw.out);
  CHECK(secret["data"]["k"] == base64_encode("v"));
  CHECK(secret["type"] == "Opaque");
  CHECK(secret["metadata"]["managedFields"][0]["manager"] == "kubectl-create");

  auto got = kubectl(sim, {"get", "secret", "x", "-n", "ns", "-o", "json"});
  REQUIRE_MESSAGE(got.exit_code == 0, got.err);
  CHECK(json::parse(got.out)["metadata"]["name"] == "x");
  auto table = kubectl(sim, {"get", "secrets", "-n", "ns"});
  REQUIRE_MESSAGE(table.exit_code == 0, table.err);
  CHECK(table.out.find("Opaque") != std::string::npos);

  auto dup = kubectl(sim, {"create", "secret", "generic", "x", "-n", "ns", "--from-literal=k=v"});
  CHECK(dup.exit_code != 0);
  CHECK(dup.err.find("secrets \"x\" already exists") != std::string::npos);

  REQUIRE(kubectl(sim, {"delete", "secret", "x", "-n", "ns"}).exit_code == 0);
  auto gone = kubectl(sim, {"get", "secret", "x", "-n", "ns"});
  CHECK(gone.exit_code != 0);
  CHECK(gone.err.find("secrets \"x\" not found") != std::string::npos);
}

TEST_CASE("kubectl apply --server-side creates then conflicts with another manager then forces") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  create_namespace(sim, "ns");
  std::string manifest = sim.state_dir() + "/secret.yaml";
  write_private_file(manifest,
                     "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: ns\n"
                     "  labels:\n    app: demo\nstringData:\n  user: alice\n");
  auto applied = kubectl(sim, {"apply", "--server-side", "-f", manifest});
  REQUIRE_MESSAGE(applied.exit_code == 0, applied.err);
  CHECK(applied.out.find("serverside-applied") != std::string::npos);
  json s = api(sim, "GET", "/api/v1/namespaces/ns/secrets/s").json();
  CHECK(s["data"]["user"] == base64_encode("alice"));
  CHECK(!s.contains("stringData"));
  CHECK(s["metadata"]["managedFields"][0]["operation"] == "Apply");

  REQUIRE(kubectl(sim, {"create", "secret", "generic", "o", "-n", "ns", "--from-literal=k=one"})
              .exit_code == 0);
  std::string other = sim.state_dir() + "/other.yaml";
  write_private_file(other,
                     "apiVersion: v1\nkind: Secret\nmetadata:\n  name: o\n  namespace: ns\n"
                     "data:\n  k: " +
                         base64_encode("two") + "\n");
  auto conflict = kubectl(sim, {"apply", "--server-side", "-f", other});
  CHECK(conflict.exit_code != 0);
  CHECK(conflict.err.find("Apply failed with 1 conflict: conflict with \"kubectl-create\" using "
                          "v1: .data.k") != std::string::npos);
  auto forced = kubectl(sim, {"apply", "--server-side", "--force-conflicts", "-f", other});
  REQUIRE_MESSAGE(forced.exit_code == 0, forced.err);
  json o = api(sim, "GET", "/api/v1/namespaces/ns/secrets/o").json();
  CHECK(o["data"]["k"] == base64_encode("two"));
  REQUIRE(o["metadata"]["managedFields"].size() == 1);
  CHECK(o["metadata"]["managedFields"][0]["manager"] == "kubectl");
}

TEST_CASE("kubectl authenticates with a client certificate") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  json issued =
      sim.control("POST", "/_sim/client-certs", {{"user", "jane"}, {"groups", {"dev", "ops"}}});
  std::string kc = write_kubeconfig(
      sim, "jane.kubeconfig",
      {{"client-certificate-data", base64_encode(issued["cert_pem"].get<std::string>())},
       {"client-key-data", base64_encode(issued["key_pem"].get<std::string>())}});
  auto who = kubectl(sim, {"auth", "whoami", "-o", "json"}, kc);
  REQUIRE_MESSAGE(who.exit_code == 0, who.err);
  json user = json::parse(who.out)["status"]["userInfo"];
  CHECK(user["username"] == "jane");
  CHECK(user["groups"] == json({"dev", "ops", "system:authenticated"}));
}

TEST_CASE("seeding from --seed files and /_sim/objects; static tokens from /_sim/tokens") {
  TempDir dir;
  std::string seed = dir.write("seed.yaml",
                               "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n---\n"
                               "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
                               "  namespace: team\nstringData:\n  k: v\n");
  SimProcess sim(binary_from_env("KUBE_SIM"), {"--seed", seed});
  auto s = api(sim, "GET", "/api/v1/namespaces/team/secrets/s");
  REQUIRE(s.status == 200);
  CHECK(s.json()["data"]["k"] == base64_encode("v"));
  // The namespace got its default ServiceAccount, as the controller does.
  CHECK(api(sim, "GET", "/api/v1/namespaces/team/serviceaccounts/default").status == 200);

  HttpReply seeded = sim.request("POST", "/_sim/objects",
                                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                                 "  namespace: fresh\ndata:\n  x: \"1\"\n---\n"
                                 "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: b\n"
                                 "  namespace: fresh\n",
                                 "application/yaml");
  REQUIRE(seeded.status == 201);
  CHECK(seeded.json().size() == 2);
  CHECK(api(sim, "GET", "/api/v1/namespaces/fresh/configmaps/a").json()["data"]["x"] == "1");
  CHECK(sim.request("POST", "/_sim/objects", "apiVersion: v9\nkind: Gadget\n", "application/yaml")
            .status == 400);

  json registered = sim.control("POST", "/_sim/tokens", {{"user", "bob"}, {"groups", {"qa"}}});
  std::string bob = registered["token"];
  auto review =
      api(sim, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
          {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}}, bob);
  REQUIRE(review.status == 201);
  CHECK(review.json()["status"]["userInfo"]["username"] == "bob");
  CHECK(review.json()["status"]["userInfo"]["groups"] == json({"qa", "system:authenticated"}));
  bool logged_bob = false;
  for (const auto& entry : sim.requests()) logged_bob = logged_bob || entry["user"] == "bob";
  CHECK(logged_bob);
}

TEST_CASE("unknown credentials and paths get real Status objects") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  auto anonymous = sim.request("GET", "/api/v1/namespaces");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.json()["reason"] == "Unauthorized");
  auto bad = api(sim, "GET", "/api/v1/namespaces", nullptr, "not-a-token");
  CHECK(bad.status == 401);
  auto unknown = api(sim, "GET", "/api/v1/widgets");
  CHECK(unknown.status == 404);
  CHECK(unknown.json() == json({{"kind", "Status"},
                                {"apiVersion", "v1"},
                                {"metadata", json::object()},
                                {"status", "Failure"},
                                {"message", "the server could not find the requested resource"},
                                {"reason", "NotFound"},
                                {"details", json::object()},
                                {"code", 404}}));
  auto missing = api(sim, "GET", "/api/v1/namespaces/default/secrets/nope");
  CHECK(missing.status == 404);
  CHECK(missing.json()["message"] == "secrets \"nope\" not found");
  CHECK(missing.json()["details"] == json({{"name", "nope"}, {"kind", "secrets"}}));
  CHECK(sim.request("GET", "/version").status == 200);
}

TEST_CASE(
    "kube-sim Secrets: resourceVersion conflicts and merge patch and selectors and preconditions") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "s"}, {"labels", {{"app", "a"}}}}},
                 {"stringData", {{"k", "v"}}}};
  auto created = api(sim, "POST", "/api/v1/namespaces/default/secrets", secret);
  REQUIRE(created.status == 201);
  json first = created.json();
  CHECK(first["data"]["k"] == base64_encode("v"));
  CHECK(api(sim, "POST", "/api/v1/namespaces/default/secrets", secret).json()["reason"] ==
        "AlreadyExists");

  json update = first;
  update["data"]["k"] = base64_encode("w");
  auto updated = api(sim, "PUT", "/api/v1/namespaces/default/secrets/s", update);
  REQUIRE(updated.status == 200);
  auto stale = api(sim, "PUT", "/api/v1/namespaces/default/secrets/s", update);
  CHECK(stale.status == 409);
  CHECK(stale.json()["message"] ==
        "Operation cannot be fulfilled on secrets \"s\": the object has been modified; please "
        "apply your changes to the latest version and try again");

  auto patched =
      api(sim, "PATCH", "/api/v1/namespaces/default/secrets/s",
          {{"metadata", {{"labels", {{"tier", "db"}}}}}}, "", "application/merge-patch+json");
  REQUIRE(patched.status == 200);
  CHECK(patched.json()["metadata"]["labels"] == json({{"app", "a"}, {"tier", "db"}}));
  auto bad_b64 = api(sim, "PATCH", "/api/v1/namespaces/default/secrets/s",
                     {{"data", {{"k", "not base64!"}}}}, "", "application/merge-patch+json");
  CHECK(bad_b64.status == 400);
  CHECK(bad_b64.json()["message"].get<std::string>().find("illegal base64 data at input byte 3") !=
        std::string::npos);

  secret["metadata"] = {{"name", "t"}};
  REQUIRE(api(sim, "POST", "/api/v1/namespaces/default/secrets", secret).status == 201);
  auto by_label = api(sim, "GET", "/api/v1/namespaces/default/secrets?labelSelector=app%3Da");
  REQUIRE(by_label.status == 200);
  CHECK(by_label.json()["items"].size() == 1);
  CHECK(api(sim, "GET", "/api/v1/namespaces/default/secrets?labelSelector=%21app")
            .json()["items"][0]["metadata"]["name"] == "t");
  CHECK(api(sim, "GET", "/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dt")
            .json()["items"]
            .size() == 1);

  auto wrong_uid = api(sim, "DELETE", "/api/v1/namespaces/default/secrets/t",
                       {{"kind", "DeleteOptions"},
                        {"apiVersion", "v1"},
                        {"preconditions", {{"uid", "00000000-0000-0000-0000-000000000000"}}}});
  CHECK(wrong_uid.status == 409);
  auto deleted = api(sim, "DELETE", "/api/v1/namespaces/default/secrets/t");
  REQUIRE(deleted.status == 200);
  CHECK(deleted.json()["status"] == "Success");
  CHECK(deleted.json()["details"]["kind"] == "secrets");
}

TEST_CASE("TokenRequest validation over plain HTTPS") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  sim.control("POST", "/_sim/objects",
              json({{"apiVersion", "v1"},
                    {"kind", "ServiceAccount"},
                    {"metadata", {{"name", "sa"}, {"namespace", "t"}}}}));
  auto secret = api(sim, "POST", "/api/v1/namespaces/t/secrets",
                    {{"metadata", {{"name", "bound"}}}, {"stringData", {{"a", "b"}}}});
  REQUIRE(secret.status == 201);
  std::string uid = secret.json()["metadata"]["uid"];
  const std::string path = "/api/v1/namespaces/t/serviceaccounts/sa/token";
  auto request = [](const json& spec) {
    return json{
        {"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", spec}};
  };

  auto no_sa = api(sim, "POST", "/api/v1/namespaces/t/serviceaccounts/ghost/token", request({}));
  CHECK(no_sa.status == 404);
  CHECK(no_sa.json()["message"] == "serviceaccounts \"ghost\" not found");

  auto short_ttl = api(sim, "POST", path, request({{"expirationSeconds", 300}}));
  CHECK(short_ttl.status == 422);
  CHECK(short_ttl.json()["reason"] == "Invalid");

  auto bad_kind = api(
      sim, "POST", path,
      request({{"boundObjectRef", {{"kind", "ConfigMap"}, {"apiVersion", "v1"}, {"name", "x"}}}}));
  CHECK(bad_kind.status == 400);
  CHECK(bad_kind.json()["message"] == "cannot bind token to object of type /v1, Kind=ConfigMap");

  auto no_secret = api(
      sim, "POST", path,
      request({{"boundObjectRef", {{"kind", "Secret"}, {"apiVersion", "v1"}, {"name", "nope"}}}}));
  CHECK(no_secret.status == 404);
  CHECK(no_secret.json()["message"] == "secrets \"nope\" not found");

  auto wrong_uid = api(sim, "POST", path,
                       request({{"boundObjectRef",
                                 {{"kind", "Secret"},
                                  {"apiVersion", "v1"},
                                  {"name", "bound"},
                                  {"uid", "11111111-1111-1111-1111-111111111111"}}}}));
  CHECK(wrong_uid.status == 409);
  CHECK(wrong_uid.json()["reason"] == "Conflict");

  auto ok =
      api(sim, "POST", path,
          request({{"boundObjectRef",
                    {{"kind", "Secret"}, {"apiVersion", "v1"}, {"name", "bound"}, {"uid", uid}}}}));
  REQUIRE(ok.status == 201);
  json tr = ok.json();
  CHECK(tr["spec"]["expirationSeconds"] == 3600);
  CHECK(tr["spec"]["audiences"] == json({"https://kubernetes.default.svc.cluster.local"}));
  std::string token = tr["status"]["token"];
  json claims = jwt_claims(token);
  CHECK(claims["kubernetes.io"]["secret"]["uid"] == uid);
  CHECK(api(sim, "GET", "/api/v1/namespaces/t/serviceaccounts/sa", nullptr, token).status == 200);

  // Expiry follows the sim clock.
  sim.control("POST", "/_sim/clock", {{"offset_seconds", 3601}});
  CHECK(api(sim, "GET", "/api/v1/namespaces/t/serviceaccounts/sa", nullptr, token).status == 401);
  sim.control("POST", "/_sim/clock", {{"offset_seconds", 0}});
  CHECK(api(sim, "GET", "/api/v1/namespaces/t/serviceaccounts/sa", nullptr, token).status == 200);

  // A Secret re-created under the same name has another uid: the token dies.
  REQUIRE(api(sim, "DELETE", "/api/v1/namespaces/t/secrets/bound").status == 200);
  REQUIRE(api(sim, "POST", "/api/v1/namespaces/t/secrets", {{"metadata", {{"name", "bound"}}}})
              .status == 201);
  CHECK(api(sim, "GET", "/api/v1/namespaces/t/serviceaccounts/sa", nullptr, token).status == 401);

  // Tokens for audiences the API server does not accept do not authenticate.
  auto foreign = api(sim, "POST", path, request({{"audiences", {"vault"}}}));
  REQUIRE(foreign.status == 201);
  CHECK(api(sim, "GET", "/api/v1/namespaces/t/serviceaccounts/sa", nullptr,
            foreign.json()["status"]["token"])
            .status == 401);
}

TEST_CASE(
    "kube-sim fault injection: status N times then reset then truncate then delay then latency") {
  SimProcess sim(binary_from_env("KUBE_SIM"));
  const std::string path = "/api/v1/namespaces/kube-public/configmaps/cluster-info";

  sim.add_fault({{"path", "^/api/v1/namespaces/kube-public/"},
                 {"action", "status"},
                 {"status", 503},
                 {"headers", {{"Retry-After", "1"}}},
                 {"times", 2}});
  auto first = api(sim, "GET", path);
  CHECK(first.status == 503);
  CHECK(first.headers["Retry-After"] == "1");
  CHECK(first.json()["kind"] == "Status");
  CHECK(first.json()["reason"] == "ServiceUnavailable");
  CHECK(api(sim, "GET", path).status == 503);
  CHECK(api(sim, "GET", path).status == 200);

  sim.add_fault({{"method", "GET"}, {"path", "cluster-info$"}, {"action", "reset"}});
  auto reset = api(sim, "GET", path);
  CHECK(reset.status == 0);
  CHECK(!reset.error.empty());
  CHECK(api(sim, "GET", path).status == 200);

  sim.add_fault({{"path", "cluster-info$"}, {"action", "truncate"}});
  auto truncated = api(sim, "GET", path);
  CHECK(truncated.status == 0);
  CHECK(api(sim, "GET", path).status == 200);

  sim.add_fault({{"path", "cluster-info$"}, {"action", "delay"}, {"delay_ms", 1500}});
  auto start = std::chrono::steady_clock::now();
  std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + kube_admin_token(sim)}};
  auto slow = sim.request("GET", path, "", "", auth, milliseconds(500));
  CHECK(slow.status == 0);
  CHECK(std::chrono::steady_clock::now() - start < seconds(1));
  // The delayed request is logged once the server finishes it.
  auto logged_delay = [&] {
    for (const auto& entry : sim.requests()) {
      if (entry.value("fault", "") == "delay") return true;
    }
    return false;
  };
  for (int i = 0; i < 50 && !logged_delay(); ++i) std::this_thread::sleep_for(milliseconds(100));
  REQUIRE(logged_delay());

  sim.clear_faults();
  sim.control("POST", "/_sim/latency", {{"ms", 300}});
  start = std::chrono::steady_clock::now();
  CHECK(api(sim, "GET", path).status == 200);
  CHECK(std::chrono::steady_clock::now() - start >= milliseconds(300));
  sim.control("POST", "/_sim/latency", {{"ms", 0}});

  // A reset after serving: the write happened, the reply was lost.
  sim.add_fault(
      {{"method", "POST"}, {"path", "/secrets$"}, {"action", "reset"}, {"phase", "after"}});
  auto lost =
      api(sim, "POST", "/api/v1/namespaces/default/secrets", {{"metadata", {{"name", "z"}}}});
  CHECK(lost.status == 0);
  CHECK(api(sim, "GET", "/api/v1/namespaces/default/secrets/z").status == 200);

  json log = sim.requests();
  std::vector<std::string> faults;
  for (const auto& entry : log) {
    if (entry.contains("fault")) {
      faults.push_back(entry["fault"]);
    } else {
      CHECK(entry["user"] == "admin");
    }
  }
  CHECK(faults ==
        std::vector<std::string>{"status", "status", "reset", "truncate", "delay", "reset"});
  CHECK(sim.requests(log.size() - 1).size() == 1);
  std::string file = read_file(sim.state_dir() + "/requests.jsonl", "request log");
  CHECK(file.find(kube_admin_token(sim)) == std::string::npos);
  CHECK(file.find("Bearer") == std::string::npos);
}

}  // namespace fluxkey::testing::kubectl_conformance_test
