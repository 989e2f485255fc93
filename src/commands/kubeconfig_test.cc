#include "commands/kubeconfig.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <map>

#include "core/base64.h"
#include "core/error.h"

namespace commands_kubeconfig_test {

using namespace fluxkey;
using namespace fluxkey::commands;

namespace {

// Answers by "METHOD path" and records what was asked: HTTP injected, as the
// commands are meant to be tested.
class FakeApi : public http::Transport {
 public:
  std::map<std::string, http::Response> routes;
  std::vector<http::Request> seen;

  http::Response send(const http::Request& request) override {
    seen.push_back(request);
    std::string path = request.url.substr(request.url.find('/', 8));
    path = path.substr(0, path.find('?'));
    auto it = routes.find(request.method + " " + path);
    if (it != routes.end()) return it->second;
    return {404, {}, R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound",
                        "message":"not found","code":404})"};
  }
};

const char* kTokenPath = "POST /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile/token";

http::Response token_reply(const std::string& token) {
  return {201,
          {{"content-type", "application/json"}},
          R"({"kind":"TokenRequest","apiVersion":"authentication.k8s.io/v1",
              "status":{"token":")" +
              token + R"(","expirationTimestamp":"2099-01-01T00:00:00Z"}})"};
}

struct Fixture {
  FakeApi* api;
  std::unique_ptr<kube::Client> client;
  KubeconfigOptions options;

  Fixture() {
    auto transport = std::make_unique<FakeApi>();
    api = transport.get();
    kube::RestConfig config;
    config.server = "https://127.0.0.1:6443";
    config.tls.ca_pem = "-----BEGIN CERTIFICATE-----\nfluxkey's own\n-----END CERTIFICATE-----\n";
    config.token = "admin-token";
    config.origin = "test";
    client = std::make_unique<kube::Client>(config, std::move(transport));
    client->http().set_sleeper([](std::chrono::milliseconds) {});
    options.service_account = {"fluxkey", "flux-reconcile"};
  }

  std::string run() {
    std::FILE* out = std::tmpfile();
    run_kubeconfig(options, *client, out);
    std::rewind(out);
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, out)) > 0) text.append(buf, n);
    std::fclose(out);
    return text;
  }
};

}  // namespace

TEST_CASE("kubeconfig requests a token with the TTL and audiences asked") {
  Fixture f;
  f.api->routes[kTokenPath] = token_reply("minted-token");
  f.options.token_ttl = std::chrono::hours(2);
  f.options.audiences = {"https://kubernetes.default.svc"};
  std::string text = f.run();

  const http::Request* post = nullptr;
  for (const auto& r : f.api->seen) {
    if (r.method == "POST") post = &r;
  }
  REQUIRE(post != nullptr);
  auto body = nlohmann::json::parse(post->body);
  CHECK(body["spec"]["expirationSeconds"] == 7200);
  CHECK(body["spec"]["audiences"] == nlohmann::json::array({"https://kubernetes.default.svc"}));
  CHECK(text.find("token: minted-token") != std::string::npos);
}

TEST_CASE("without cluster-info the server and CA are the ones fluxkey uses") {
  Fixture f;
  f.api->routes[kTokenPath] = token_reply("t");
  std::string text = f.run();
  CHECK(text.find("server: https://127.0.0.1:6443") != std::string::npos);
  CHECK(text.find("certificate-authority-data: " + base64_encode(f.client->config().tls.ca_pem)) !=
        std::string::npos);
}

TEST_CASE("cluster-info's server and CA are used when asked for") {
  Fixture f;
  f.api->routes[kTokenPath] = token_reply("t");
  std::string published_ca = "-----BEGIN CERTIFICATE-----\npublished\n-----END CERTIFICATE-----\n";
  nlohmann::json cm = {{"kind", "ConfigMap"},
                       {"data",
                        {{"kubeconfig",
                          "apiVersion: v1\nkind: Config\nclusters:\n- name: ''\n  cluster:\n"
                          "    server: https://k8s.example.com:6443\n"
                          "    certificate-authority-data: " +
                              base64_encode(published_ca) + "\n"}}}};
  f.api->routes["GET /api/v1/namespaces/kube-public/configmaps/cluster-info"] = {
      200, {}, cm.dump()};
  f.options.endpoint.ca_from = "cluster-info";
  std::string text = f.run();
  CHECK(text.find("server: https://k8s.example.com:6443") != std::string::npos);
  CHECK(text.find(base64_encode(published_ca)) != std::string::npos);
}

TEST_CASE("--server-ca-from cluster-info without cluster-info fails before minting") {
  Fixture f;
  f.api->routes[kTokenPath] = token_reply("t");
  f.options.endpoint.ca_from = "cluster-info";
  CHECK_THROWS_AS(f.run(), Error);
  for (const auto& r : f.api->seen) CHECK(r.method != "POST");
}

TEST_CASE("a missing ServiceAccount names it and the fix") {
  Fixture f;
  CHECK_THROWS_WITH(f.run(),
                    "cannot mint a token for ServiceAccount fluxkey/flux-reconcile: it does not "
                    "exist; create it (kubectl apply -k k8s/) or pass --service-account NS/NAME");
}

TEST_CASE("a refused TokenRequest names the permission to grant") {
  Fixture f;
  f.api->routes[kTokenPath] = {
      403, {}, R"({"kind":"Status","status":"Failure","reason":"Forbidden","code":403,
               "message":"serviceaccounts \"flux-reconcile\" is forbidden: nope"})"};
  CHECK_THROWS_WITH(f.run(), doctest::Contains("grant create on serviceaccounts/token"));
}

TEST_CASE("dry run sends no write") {
  Fixture f;
  f.api->routes[kTokenPath] = token_reply("t");
  f.options.dry_run = true;
  CHECK(f.run().empty());
  for (const auto& r : f.api->seen) CHECK(r.method == "GET");
}

}  // namespace commands_kubeconfig_test
