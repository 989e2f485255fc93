#include "kube/client.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "core/base64.h"
#include "core/error.h"
#include "core/time.h"
#include "kube/config_loader.h"
#include "support/kube_fakes.h"

namespace kube_client_test {

using namespace fluxkey;
using namespace fluxkey::kube;
using fluxkey::kube::testing::EnvGuard;
using fluxkey::kube::testing::FakeReply;
using fluxkey::kube::testing::FakeState;
using fluxkey::kube::testing::FakeTransport;
using fluxkey::kube::testing::kCa;
using fluxkey::testing::TempDir;
using std::chrono::milliseconds;

namespace {

const std::string kServer = "https://127.0.0.1:6443";

RestConfig token_config(const std::string& token = "static-token") {
  RestConfig config;
  config.server = kServer;
  config.token = token;
  config.tls.ca_pem = kCa;
  config.origin = "kubeconfig /x, context y";
  return config;
}

// A Client over a fake transport whose retries do not sleep.
struct Harness {
  std::shared_ptr<FakeState> state = std::make_shared<FakeState>();
  std::vector<milliseconds> sleeps;
  Client client;

  explicit Harness(RestConfig config)
      : client(std::move(config), std::make_unique<FakeTransport>(state)) {
    client.http().set_sleeper([this](milliseconds d) { sleeps.push_back(d); });
  }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename F>
ApiError api_error_of(F&& f) {
  try {
    f();
  } catch (const ApiError& e) {
    return e;
  }
  FAIL("no ApiError thrown");
  return ApiError(0, "", "");
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("Client sends JSON with a bearer token and parses the answer") {
  Harness h(token_config());
  h.state->push(200, R"({"kind":"Secret","metadata":{"name":"s"}})");
  Json secret = h.client.get("/api/v1/namespaces/ns/secrets/s");
  CHECK(secret["metadata"]["name"] == "s");
  REQUIRE(h.state->requests.size() == 1);
  const auto& r = h.state->requests[0];
  CHECK(r.method == "GET");
  CHECK(r.url == kServer + "/api/v1/namespaces/ns/secrets/s");
  CHECK(r.idempotent);
  CHECK(h.state->header(0, "Accept") == "application/json");
  CHECK(h.state->authorization(0) == "Bearer static-token");
}

TEST_CASE("Client sends no Authorization header when it has no token") {
  RestConfig config = token_config("");
  config.tls.client_cert_pem = "cert";
  config.tls.client_key_pem = "key";
  Harness h(config);
  h.state->push(200, "{}");
  h.client.get("/version");
  CHECK(h.state->authorization(0).empty());
}

TEST_CASE("Client methods, content types and idempotency") {
  Harness h(token_config());
  for (int i = 0; i < 7; ++i) h.state->push(200, R"({"ok":true})");
  Json body = {{"kind", "Secret"}};
  h.client.create("/api/v1/namespaces/ns/secrets", body);
  h.client.replace("/api/v1/namespaces/ns/secrets/s", body);
  h.client.patch("/p", body, PatchType::kMerge);
  h.client.patch("/p", body, PatchType::kStrategicMerge);
  h.client.patch("/p", Json::array(), PatchType::kJsonPatch);
  h.client.apply("/apis/x/v1/namespaces/ns/things/t", body, "fluxkey ctl", true);
  h.client.remove("/api/v1/namespaces/ns/secrets/s");
  auto& rq = h.state->requests;
  REQUIRE(rq.size() == 7);
  CHECK(rq[0].method == "POST");
  CHECK_FALSE(rq[0].idempotent);
  CHECK(h.state->header(0, "Content-Type") == "application/json");
  CHECK(Json::parse(rq[0].body) == body);
  CHECK(rq[1].method == "PUT");
  CHECK(rq[1].idempotent);
  CHECK(h.state->header(1, "Content-Type") == "application/json");
  CHECK(rq[2].method == "PATCH");
  CHECK(rq[2].idempotent);
  CHECK(h.state->header(2, "Content-Type") == "application/merge-patch+json");
  CHECK(h.state->header(3, "Content-Type") == "application/strategic-merge-patch+json");
  CHECK(h.state->header(4, "Content-Type") == "application/json-patch+json");
  CHECK_FALSE(rq[4].idempotent);
  CHECK(rq[5].method == "PATCH");
  CHECK(rq[5].url ==
        kServer + "/apis/x/v1/namespaces/ns/things/t?fieldManager=fluxkey%20ctl&force=true");
  CHECK(h.state->header(5, "Content-Type") == "application/apply-patch+yaml");
  CHECK(rq[5].idempotent);
  CHECK(Json::parse(rq[5].body) == body);
  CHECK(rq[6].method == "DELETE");
  CHECK(rq[6].idempotent);
  for (size_t i = 0; i < rq.size(); ++i) CHECK(h.state->authorization(i) == "Bearer static-token");

  h.state->push(200, "{}");
  h.client.apply("/x?dryRun=All", body, "fluxkey", false);
  CHECK(rq.back().url == kServer + "/x?dryRun=All&fieldManager=fluxkey&force=false");
}

TEST_CASE("Client turns a Status object into an ApiError") {
  Harness h(token_config());
  h.state->push(403, R"({"kind":"Status","apiVersion":"v1","status":"Failure",
      "message":"secrets \"s\" is forbidden: User \"x\" cannot get resource \"secrets\"",
      "reason":"Forbidden","code":403})");
  ApiError e = api_error_of([&] { h.client.get("/api/v1/namespaces/ns/secrets/s"); });
  CHECK(e.status() == 403);
  CHECK(e.reason() == "Forbidden");
  CHECK(e.server_message() ==
        "secrets \"s\" is forbidden: User \"x\" cannot get resource \"secrets\"");
  CHECK(std::string(e.what()) ==
        "secrets \"s\" is forbidden: User \"x\" cannot get resource \"secrets\" (Forbidden)");
  CHECK(e.code() == ExitCode::kFailed);

  h.state->push(409, R"({"kind":"Status","message":"secrets \"s\" already exists",
      "reason":"AlreadyExists","code":409})");
  e = api_error_of([&] { h.client.create("/api/v1/namespaces/ns/secrets", Json::object()); });
  CHECK(e.status() == 409);
  CHECK(e.reason() == "AlreadyExists");
}

TEST_CASE("Client falls back to the HTTP status when the body is no Status") {
  Harness h(token_config());
  h.state->push(404, "<html>not here</html>");
  ApiError e = api_error_of([&] { h.client.get("/nope"); });
  CHECK(e.status() == 404);
  CHECK(e.reason() == "NotFound");
  CHECK(e.server_message() == "the server responded with status 404");
  CHECK(std::string(e.what()) == "the server responded with status 404 (NotFound)");

  h.state->push(409, R"({"kind":"Status","message":"x"})");
  CHECK(api_error_of([&] { h.client.get("/c"); }).reason() == "Conflict");
}

TEST_CASE("Client says what a 401 means") {
  Harness h(token_config());
  h.state->push(401,
                R"({"kind":"Status","message":"Unauthorized","reason":"Unauthorized","code":401})");
  ApiError e = api_error_of([&] { h.client.get("/api/v1/namespaces"); });
  CHECK(e.status() == 401);
  CHECK(std::string(e.what()) ==
        "Unauthorized (Unauthorized); the credentials from kubeconfig /x, context y are expired "
        "or wrong");
  CHECK(std::string(e.what()).find("static-token") == std::string::npos);
}

TEST_CASE("get_optional returns nullopt on 404 only") {
  Harness h(token_config());
  h.state->push(404, R"({"kind":"Status","reason":"NotFound","message":"not found","code":404})");
  CHECK_FALSE(h.client.get_optional("/a").has_value());
  h.state->push(200, R"({"a":1})");
  CHECK(h.client.get_optional("/a") == Json({{"a", 1}}));
  h.state->push(403, R"({"kind":"Status","reason":"Forbidden","message":"no","code":403})");
  CHECK_THROWS_AS(h.client.get_optional("/a"), ApiError);
}

TEST_CASE("Client retries a 5xx through the http::Client") {
  Harness h(token_config());
  h.state->push(503, R"({"kind":"Status","reason":"ServiceUnavailable","code":503})");
  h.state->push(500, "boom");
  h.state->push(200, R"({"ok":true})");
  CHECK(h.client.get("/api/v1/namespaces/ns/secrets/s")["ok"] == true);
  CHECK(h.state->requests.size() == 3);
  CHECK(h.sleeps.size() == 2);
  // Every attempt carries the credentials.
  CHECK(h.state->authorization(2) == "Bearer static-token");
}

TEST_CASE("Client names the API server and the config when it cannot reach it") {
  Harness h(token_config());
  h.state->fallback = FakeReply{};
  h.state->fallback->error =
      http::NetworkError("cannot connect to 127.0.0.1:6443: connection refused",
                         http::NetworkError::Kind::kConnect, false);
  std::string message;
  try {
    h.client.get("/version");
  } catch (const http::NetworkError& e) {
    message = e.what();
    CHECK(e.kind() == http::NetworkError::Kind::kConnect);
  }
  CHECK(message ==
        "cannot reach the API server https://127.0.0.1:6443 (from kubeconfig /x, context y): "
        "connection refused (tried 5 times)");
  CHECK(h.state->requests.size() == static_cast<size_t>(Client::retry_policy().max_attempts));

  Harness tls(token_config());
  tls.state->push_error(http::NetworkError("TLS verification of 127.0.0.1:6443 failed: x",
                                           http::NetworkError::Kind::kTls, false, true));
  CHECK(error_of([&] { tls.client.get("/version"); }) ==
        "the API server https://127.0.0.1:6443 (from kubeconfig /x, context y): TLS verification "
        "of 127.0.0.1:6443 failed: x");
}

TEST_CASE("Client re-reads the token file before each request") {
  TempDir dir;
  RestConfig config = token_config("ignored-static");
  config.token_file = dir.write("token", "first-token\n");
  Harness h(config);
  h.state->push(200, "{}");
  h.state->push(200, "{}");
  h.state->push(200, "{}");
  h.client.get("/a");
  CHECK(h.state->authorization(0) == "Bearer first-token");
  h.client.get("/a");
  CHECK(h.state->authorization(1) == "Bearer first-token");
  dir.write("token", "rotated-token");
  h.client.get("/a");
  CHECK(h.state->authorization(2) == "Bearer rotated-token");

  ::unlink(config.token_file.c_str());
  std::string message = error_of([&] { h.client.get("/a"); });
  CHECK(message == "cannot read token file " + config.token_file + ": No such file or directory");
}

namespace {

// A kubeconfig whose user runs `plugin.sh` (beside it) and the script: it
// counts its runs, records its environment and prints an ExecCredential.
struct ExecFixture {
  TempDir dir;
  std::string kubeconfig_path;

  explicit ExecFixture(const std::string& credential_status, const std::string& extra_script = "",
                       bool provide_cluster_info = true) {
    dir.write("plugin.sh",
              "#!/bin/sh\n"
              "echo run >> \"$(dirname \"$0\")/runs\"\n"
              "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$(dirname \"$0\")/exec-info\"\n"
              "echo \"$1|$PLUGIN_MODE|${GITHUB_TOKEN-unset}\" > \"$(dirname \"$0\")/seen\"\n" +
                  extra_script +
                  "cat <<'JSON'\n"
                  "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                  "\"status\":" +
                  credential_status + "}\nJSON\n",
              0700);
    std::string yaml =
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
        "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
        "    certificate-authority-data: " +
        base64_encode(kCa) +
        "\n"
        "users:\n- name: u\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1\n"
        "      command: ./plugin.sh\n"
        "      args: [token-for-dev]\n"
        "      env: [{name: PLUGIN_MODE, value: fast}]\n"
        "      installHint: Install plugin.sh from example.com\n"
        "      interactiveMode: Never\n"
        "      provideClusterInfo: " +
        std::string(provide_cluster_info ? "true" : "false") +
        "\n"
        "contexts:\n- name: dev\n  context: {cluster: c, user: u}\n";
    kubeconfig_path = dir.write("config", yaml);
  }

  RestConfig config() const {
    return parse_kubeconfig(read_text(kubeconfig_path), kubeconfig_path, "");
  }
  size_t runs() const {
    std::string text = read_text(dir.path() + "/runs");
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }
};

std::string in_hours(int hours) {
  return format_rfc3339(Clock::now() + std::chrono::hours(hours));
}

}  // namespace

TEST_CASE("Client runs the exec plugin and caches its token until it expires") {
  ExecFixture plugin(R"({"token":"exec-token","expirationTimestamp":")" + in_hours(1) + "\"}");
  EnvGuard env;
  env.set("GITHUB_TOKEN", "must-not-leak");
  Harness h(plugin.config());
  for (int i = 0; i < 3; ++i) h.state->push(200, "{}");
  h.client.get("/a");
  h.client.get("/b");
  h.client.create("/c", Json::object());
  CHECK(plugin.runs() == 1);
  for (size_t i = 0; i < 3; ++i) CHECK(h.state->authorization(i) == "Bearer exec-token");
  CHECK(read_text(plugin.dir.path() + "/seen") == "token-for-dev|fast|unset\n");

  Json info = Json::parse(read_text(plugin.dir.path() + "/exec-info"));
  CHECK(info["apiVersion"] == "client.authentication.k8s.io/v1");
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == "https://127.0.0.1:6443");
  CHECK(info["spec"]["cluster"]["certificate-authority-data"] == base64_encode(kCa));
}

TEST_CASE("Client runs the exec plugin again once its credential has expired") {
  ExecFixture plugin(R"({"token":"short-lived","expirationTimestamp":")" + in_hours(-1) + "\"}", "",
                     false);
  Harness h(plugin.config());
  h.state->push(200, "{}");
  h.state->push(200, "{}");
  h.client.get("/a");
  h.client.get("/b");
  CHECK(plugin.runs() == 2);
  CHECK(h.state->authorization(1) == "Bearer short-lived");
  Json info = Json::parse(read_text(plugin.dir.path() + "/exec-info"));
  CHECK_FALSE(info["spec"].contains("cluster"));
}

TEST_CASE("Client asks the exec plugin again after a 401, once") {
  ExecFixture plugin(R"({"token":"exec-token"})");
  Harness h(plugin.config());
  h.state->push(401, R"({"kind":"Status","reason":"Unauthorized","message":"Unauthorized"})");
  h.state->push(200, R"({"ok":1})");
  CHECK(h.client.get("/a")["ok"] == 1);
  CHECK(plugin.runs() == 2);

  h.state->push(401, R"({"kind":"Status","reason":"Unauthorized","message":"Unauthorized"})");
  h.state->push(401, R"({"kind":"Status","reason":"Unauthorized","message":"Unauthorized"})");
  CHECK(api_error_of([&] { h.client.get("/a"); }).status() == 401);
  CHECK(h.state->requests.size() == 4);
}

TEST_CASE("Client takes a client certificate from the exec plugin") {
  ExecFixture plugin(R"({"clientCertificateData":"CERT PEM","clientKeyData":"KEY PEM"})");
  Harness h(plugin.config());
  h.state->push(200, "{}");
  h.client.get("/a");
  CHECK(h.state->authorization(0).empty());
  CHECK(h.client.config().tls.client_cert_pem == "CERT PEM");
  CHECK(h.client.config().tls.client_key_pem == "KEY PEM");
}

TEST_CASE("Client reports a failing exec plugin with its last words and the install hint") {
  ExecFixture plugin(R"({"token":"x"})",
                     "echo 'starting' >&2\necho 'no AWS credentials' >&2\nexit 3\n");
  Harness h(plugin.config());
  std::string message = error_of([&] { h.client.get("/a"); });
  CHECK(message == "the exec credential plugin " + plugin.dir.path() +
                       "/./plugin.sh of kubeconfig " + plugin.kubeconfig_path +
                       ", context dev failed with exit code 3: no AWS credentials; Install "
                       "plugin.sh from example.com");
  CHECK(h.state->requests.empty());

  ExecFixture garbage(R"({"token":"x"})", "echo not-json; exit 0\n");
  Harness g(garbage.config());
  CHECK(error_of([&] { g.client.get("/a"); }).find("not an ExecCredential") != std::string::npos);

  ExecFixture empty(R"({})");
  Harness e(empty.config());
  CHECK(error_of([&] { e.client.get("/a"); }).find("neither status.token") != std::string::npos);

  // What it prints instead of the credential, and how it ends.
  const std::vector<std::pair<std::string, std::string>> wrong = {
      {"kill -9 $$\n", "was killed by signal 9"},
      {"echo '{\"kind\":\"Config\"}'; exit 0\n", "printed something that is not an ExecCredential"},
      {"echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/"
       "v1beta1\",\"status\":{\"token\":\"x\"}}'; exit 0\n",
       "answered with apiVersion \"client.authentication.k8s.io/v1beta1\", but the kubeconfig asks "
       "for client.authentication.k8s.io/v1"},
      {"echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\"}'; "
       "exit 0\n",
       "printed an ExecCredential without status"},
  };
  for (const auto& entry : wrong) {  // clang 14 cannot capture a structured binding
    CAPTURE(entry.second);
    ExecFixture fixture(R"({"token":"x"})", entry.first);
    Harness w(fixture.config());
    CHECK(error_of([&] { w.client.get("/a"); }).find(entry.second) != std::string::npos);
    CHECK(w.state->requests.empty());
  }

  RestConfig missing = plugin.config();
  missing.exec->command = "fluxkey-test-no-such-plugin";
  Harness m(missing);
  CHECK(error_of([&] { m.client.get("/a"); }) ==
        "the exec credential plugin fluxkey-test-no-such-plugin of kubeconfig " +
            plugin.kubeconfig_path +
            ", context dev cannot be started: cannot run fluxkey-test-no-such-plugin: not found "
            "in PATH; install it or fix PATH; Install plugin.sh from example.com");
}

TEST_CASE("watch splits the stream into events across chunk boundaries") {
  Harness h(token_config());
  FakeReply reply = FakeState::json(200, "");
  reply.chunks = {R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"
                  "\n"
                  R"({"type":"MOD)",
                  R"(IFIED","object":{"metadata":{"name":"b"}}})", "\r\n\n",
                  R"({"type":"BOOKMARK","object":{}})"
                  "\n"
                  R"({"type":"DELETED","object":{"metadata":{"name":"c"}}})"
                  "\n"};
  h.state->replies.push_back(reply);
  std::vector<std::string> seen;
  bool stopped =
      h.client.watch("/apis/x/v1/namespaces/ns/things?fieldSelector=metadata.name%3Da",
                     milliseconds(5'000), [&](const Json& event) {
                       seen.push_back(event["type"].get<std::string>() + ":" +
                                      event["object"]["metadata"]["name"].get<std::string>());
                       return seen.size() < 3;
                     });
  CHECK(stopped);
  CHECK(seen == std::vector<std::string>{"ADDED:a", "MODIFIED:b", "DELETED:c"});
  REQUIRE(h.state->requests.size() == 1);
  const std::string& url = h.state->requests[0].url;
  CHECK(url.rfind(kServer + "/apis/x/v1/namespaces/ns/"
                            "things?fieldSelector=metadata.name%3Da&watch=true&timeoutSeconds=",
                  0) == 0);
  CHECK(h.state->requests[0].timeout <= milliseconds(5'000));
  CHECK(h.state->requests[0].timeout > milliseconds(0));
  CHECK(h.state->authorization(0) == "Bearer static-token");
}

TEST_CASE("watch returns false when the timeout ends it, and watches again meanwhile") {
  Harness h(token_config());
  FakeReply first = FakeState::json(200, "");
  first.chunks = {R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"};  // no final newline
  h.state->replies.push_back(first);
  h.state->fallback = FakeState::json(200, "");
  int events = 0;
  auto start = std::chrono::steady_clock::now();
  bool result =
      h.client.watch("/things?watch=true&timeoutSeconds=1", milliseconds(1'500), [&](const Json&) {
        ++events;
        return true;
      });
  CHECK_FALSE(result);
  CHECK(events == 1);
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(4'000));
  CHECK(h.state->requests[0].url == kServer + "/things?watch=true&timeoutSeconds=1");
  // The server ended the first stream early: fluxkey watched again.
  CHECK(h.state->requests.size() >= 2);
}

TEST_CASE("watch treats a transfer timeout as the end of the wait") {
  Harness h(token_config());
  h.state->push_error(
      http::NetworkError("request timed out", http::NetworkError::Kind::kTimeout, true));
  CHECK_FALSE(h.client.watch("/things", milliseconds(2'000), [](const Json&) { return true; }));
}

TEST_CASE("watch throws the API's refusals") {
  Harness h(token_config());
  h.state->push(403,
                R"({"kind":"Status","reason":"Forbidden","message":"cannot watch","code":403})");
  ApiError e = api_error_of(
      [&] { h.client.watch("/things", milliseconds(2'000), [](const Json&) { return true; }); });
  CHECK(e.status() == 403);
  CHECK(e.reason() == "Forbidden");

  FakeReply expired = FakeState::json(200, "");
  expired.chunks = {
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}})"
      "\n"};
  h.state->replies.push_back(expired);
  e = api_error_of([&] {
    h.client.watch("/things?resourceVersion=1", milliseconds(2'000),
                   [](const Json&) { return true; });
  });
  CHECK(e.status() == 410);
  CHECK(e.reason() == "Expired");

  FakeReply junk = FakeState::json(200, "");
  junk.chunks = {"not json\n"};
  h.state->replies.push_back(junk);
  CHECK(error_of([&] {
          h.client.watch("/things", milliseconds(2'000), [](const Json&) { return true; });
        }).find("not JSON") != std::string::npos);

  // What on_event throws comes out of watch unchanged.
  FakeReply one = FakeState::json(200, "");
  one.chunks = {R"({"type":"ADDED","object":{}})"
                "\n"};
  h.state->replies.push_back(one);
  CHECK(error_of([&] {
          h.client.watch("/things", milliseconds(2'000),
                         [](const Json&) -> bool { throw Error("caller gave up"); });
        }) == "caller gave up");
}

TEST_CASE("request_token sends a TokenRequest and reads the token and its expiry") {
  Harness h(token_config());
  h.state->push(201, R"({"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1",
      "status":{"token":"minted.jwt.token","expirationTimestamp":"2026-11-28T17:43:22Z"}})");
  TokenRequestSpec spec;
  spec.expiration = std::chrono::hours(24);
  spec.audiences = {"https://kubernetes.default.svc", "flux"};
  spec.bound_object = BoundObjectRef{"Secret", "v1", "fluxkey-token-3", "uid-123"};
  IssuedToken token = request_token(h.client, "fluxkey", "flux-reconcile", spec);
  CHECK(token.token == "minted.jwt.token");
  CHECK(token.expires_at == *parse_rfc3339("2026-11-28T17:43:22Z"));

  const auto& r = h.state->requests.at(0);
  CHECK(r.method == "POST");
  CHECK(r.url == kServer + "/api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token");
  Json expected = {{"apiVersion", "authentication.k8s.io/v1"},
                   {"kind", "TokenRequest"},
                   {"spec",
                    {{"audiences", {"https://kubernetes.default.svc", "flux"}},
                     {"expirationSeconds", 86400},
                     {"boundObjectRef",
                      {{"kind", "Secret"},
                       {"apiVersion", "v1"},
                       {"name", "fluxkey-token-3"},
                       {"uid", "uid-123"}}}}}};
  CHECK(Json::parse(r.body) == expected);

  h.state->push(201, R"({"status":{"token":"t2","expirationTimestamp":"2026-11-28T18:00:00Z"}})");
  TokenRequestSpec plain;
  plain.expiration = std::chrono::minutes(10);
  request_token(h.client, "ns", "sa", plain);
  Json body = Json::parse(h.state->requests.at(1).body);
  CHECK_FALSE(body["spec"].contains("audiences"));
  CHECK_FALSE(body["spec"].contains("boundObjectRef"));
  CHECK(body["spec"]["expirationSeconds"] == 600);
}

TEST_CASE("request_token names the ServiceAccount it did not find") {
  Harness h(token_config());
  h.state->push(
      404,
      R"({"kind":"Status","reason":"NotFound","message":"serviceaccounts \"sa\" not found","code":404})");
  ApiError e = api_error_of([&] { request_token(h.client, "ns", "sa", {}); });
  CHECK(e.status() == 404);
  CHECK(e.reason() == "NotFound");
  CHECK(e.server_message() == "ServiceAccount ns/sa not found");

  h.state->push(201, R"({"status":{"expirationTimestamp":"2026-11-28T18:00:00Z"}})");
  CHECK(error_of([&] { request_token(h.client, "ns", "sa", {}); }) ==
        "the TokenRequest for ServiceAccount ns/sa returned no token");
  h.state->push(201, R"({"status":{"token":"t","expirationTimestamp":"tomorrow"}})");
  std::string message = error_of([&] { request_token(h.client, "ns", "sa", {}); });
  CHECK(message ==
        "the TokenRequest for ServiceAccount ns/sa returned no valid expirationTimestamp");
}

}  // namespace kube_client_test
