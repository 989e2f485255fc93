#include "support/sync_rig.h"

#include <doctest/doctest.h>

#include "core/base64.h"

namespace fluxkey::testing {
namespace {

using nlohmann::json;

const char* kServiceAccount = R"({"apiVersion":"v1","kind":"ServiceAccount",
  "metadata":{"name":"flux-reconcile","namespace":"fluxkey"}})";

}  // namespace

const std::vector<std::string> kThreeTargets = {"--github-repo", "acme/app",     "--github-repo",
                                                "acme/app:prod", "--github-org", "acme"};

Rig::Rig(const RigOptions& options)
    : kube(binary_from_env("KUBE_SIM"), options.kube_args),
      github(binary_from_env("GITHUB_SIM"), options.github_args) {
  if (!options.kube_tls_host.empty()) kube.set_tls_host(options.kube_tls_host);
  if (!options.github_tls_host.empty()) github.set_tls_host(options.github_tls_host);
  kube.control("POST", "/_sim/objects", json::parse(kServiceAccount));
  github.control("POST", "/_sim/setup",
                 {{"repos", {"acme/app:prod", "acme/web"}},
                  {"orgs", {"acme"}},
                  {"tokens", {std::string(kGitHubToken) + "=repo,admin:org"}}});
}

std::vector<std::string> Rig::args(const std::string& command,
                                   std::vector<std::string> extra) const {
  std::vector<std::string> out = {command, "--kubeconfig", kube.state_dir() + "/admin.kubeconfig"};
  if (command == "sync" || command == "rotate") {
    out.insert(out.end(), {"--github-api-url", github.url()});
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

Env Rig::env(const std::string& token) const {
  Env e = {{"SSL_CERT_FILE", github.ca_file()}};
  if (!token.empty()) e.emplace_back("GITHUB_TOKEN", token);
  return e;
}

ProcessResult Rig::run(const std::string& command, std::vector<std::string> extra) const {
  return run_fluxkey(args(command, std::move(extra)), env());
}

json Rig::kube_get(const std::string& path) const {
  std::string token = read_text(kube.state_dir() + "/admin.token");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  auto reply = kube.request("GET", path, "", "", {{"Authorization", "Bearer " + token}});
  if (reply.status == 404) return nullptr;
  REQUIRE_MESSAGE(reply.status == 200, reply.body);
  return reply.json();
}

json Rig::cluster_secret() const {
  return kube_get("/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig");
}

std::string Rig::stored_kubeconfig() const {
  json s = cluster_secret();
  REQUIRE(s.is_object());
  return base64_decode(s["data"]["kubeconfig"].get<std::string>()).value_or("");
}

std::string Rig::annotation(const std::string& key) const {
  json s = cluster_secret();
  REQUIRE(s.is_object());
  return s["metadata"]["annotations"].value(key, "");
}

json Rig::targets_annotation() const {
  return json::parse(annotation("fluxkey.io/targets"));
}

std::set<std::string> Rig::generation_secrets() const {
  std::set<std::string> out;
  json list = kube_get("/api/v1/namespaces/fluxkey/secrets");
  for (const auto& item : list["items"]) {
    std::string name = item["metadata"]["name"];
    if (name.starts_with("flux-kubeconfig-gen-")) out.insert(name);
  }
  return out;
}

json Rig::tokens() const {
  return kube.control("GET", "/_sim/tokens");
}

size_t Rig::live_tokens() const {
  size_t n = 0;
  for (const auto& t : tokens()) n += t["alive"].get<bool>() ? 1 : 0;
  return n;
}

json Rig::github_secret(const std::string& scope, const std::string& repo,
                        const std::string& environment) const {
  const json all = github.control("GET", "/_sim/secrets");
  for (const auto& s : all["secrets"]) {
    if (s["scope"] != scope || s["name"] != "FLUX_KUBECONFIG") continue;
    std::string where = s["owner"];
    if (scope != "org") where += "/" + s["repository"].get<std::string>();
    if (where == repo && s.value("environment", "") == environment) return s;
  }
  return nullptr;
}

std::string Rig::github_kubeconfig(const std::string& scope, const std::string& repo,
                                   const std::string& environment) const {
  json s = github_secret(scope, repo, environment);
  REQUIRE_MESSAGE(s.is_object(), "no secret in " << scope << " " << repo);
  return base64_decode(s["value"].get<std::string>()).value_or("<not base64>");
}

size_t Rig::requests(const SimProcess& sim, const std::string& method, const std::string& path_part,
                     size_t since) const {
  size_t n = 0;
  for (const auto& r : sim.requests(since)) {
    if (r["method"] == method &&
        r["path"].get<std::string>().find(path_part) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

size_t Rig::mutating_requests(const SimProcess& sim) const {
  size_t n = 0;
  for (const auto& r : sim.requests()) {
    // The run's Lease is taken and released around every sync: coordination,
    // not a change a run leaves behind.
    if (r["path"].get<std::string>().find("/coordination.k8s.io/") != std::string::npos) continue;
    n += r["method"] != "GET" ? 1 : 0;
  }
  return n;
}

void check_no_secret(const ProcessResult& run, const std::string& token) {
  CHECK(run.out.find(token) == std::string::npos);
  CHECK(run.err.find(token) == std::string::npos);
  CHECK(run.err.find(kGitHubToken) == std::string::npos);
  CHECK(run.out.find(kGitHubToken) == std::string::npos);
}

}  // namespace fluxkey::testing
