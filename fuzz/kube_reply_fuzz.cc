// What the Kubernetes API server answers, read by fluxkey: kube::Client
// (the Status -> ApiError mapping, JSON bodies, watch event lines),
// request_token, rotation::Store (the kubeconfig Secret, its annotations and
// the generation Secrets), flux::ApiVersions (objects and discovery) and
// commands::resolve_endpoint (kube-public/cluster-info).
//
// The first line names the operation; the rest is the script of replies
// (fuzz_support.h). `targets` takes the rest as the targets annotation,
// `lease` as a Lease (rotation::parse_lease).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "commands/endpoint.h"
#include "flux/api_version.h"
#include "flux/kinds.h"
#include "fuzz_support.h"
#include "kube/client.h"
#include "rotation/lease.h"
#include "rotation/state.h"

namespace {

using fluxkey::fuzz::expect_errors_only;
using fluxkey::fuzz::private_folder;
using fluxkey::fuzz::require;
using fluxkey::kube::Json;

constexpr const char* kToken = "fuzz-kube-bearer-token";
constexpr const char* kEnd = "FUZZ-END";

fluxkey::kube::RestConfig rest_config() {
  fluxkey::kube::RestConfig config;
  config.server = "https://127.0.0.1:6443";
  config.token = kToken;
  config.origin = "kubeconfig fuzz, context fuzz";
  return config;
}

void targets_round_trip(const std::string& annotation) {
  auto decoded = fluxkey::rotation::decode_targets(annotation);
  // Once decoded, encoding is stable: what fluxkey writes it reads back.
  const std::string once = fluxkey::rotation::encode_targets(decoded);
  const std::string twice =
      fluxkey::rotation::encode_targets(fluxkey::rotation::decode_targets(once));
  require(once == twice, "targets annotation does not read back: " + once + " vs " + twice);
}

void run(const std::string& op, fluxkey::kube::Client& client) {
  const fluxkey::NamespacedName secret{"fluxkey", "flux-kubeconfig"};
  const fluxkey::NamespacedName sa{"fluxkey", "flux-reconcile"};
  if (op == "get") {
    client.get("/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig");
  } else if (op == "get-optional") {
    client.get_optional("/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig");
  } else if (op == "remove") {
    client.remove("/api/v1/namespaces/fluxkey/secrets/flux-kubeconfig-gen-3");
  } else if (op == "token") {
    fluxkey::kube::TokenRequestSpec spec;
    spec.audiences = {"https://kubernetes.default.svc"};
    spec.bound_object = fluxkey::kube::BoundObjectRef{"Secret", "v1", "flux-kubeconfig-gen-3", "u"};
    auto issued = fluxkey::kube::request_token(client, "fluxkey", "flux-reconcile", spec);
    require(!issued.token.empty(), "an empty token was accepted");
  } else if (op == "watch") {
    client.watch(
        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations"
        "?fieldSelector=metadata.name%3Dflux-system",
        std::chrono::hours(1), [](const Json& event) {
          require(event.is_object() && event["type"].is_string(), "event without type");
          const std::string type = event["type"].get<std::string>();
          require(type != "ERROR" && type != "BOOKMARK", "passed on a " + type);
          return type != kEnd;
        });
  } else if (op == "store-read") {
    fluxkey::rotation::Store store(client, secret, sa);
    auto stored = store.read();
    require(stored.exists || stored.kubeconfig.empty(), "a kubeconfig from a missing Secret");
    require(stored.generation >= 0, "negative generation");
  } else if (op == "store-generations") {
    fluxkey::rotation::Store store(client, secret, sa);
    auto generations = store.generations();
    for (size_t i = 0; i < generations.size(); ++i) {
      require(generations[i].generation > 0, "generation 0 listed");
      require(i == 0 || generations[i - 1].generation <= generations[i].generation, "unsorted");
    }
  } else if (op == "store-create") {
    fluxkey::rotation::Store store(client, secret, sa);
    require(!store.create_generation(4).empty(), "empty uid");
  } else if (op == "store-write") {
    fluxkey::rotation::Store store(client, secret, sa);
    fluxkey::rotation::StoredKubeconfig stored;
    stored.kubeconfig = "apiVersion: v1\nkind: Config\n";
    stored.generation = 4;
    stored.targets["acme/app"] = {4, fluxkey::Clock::now(), "", std::nullopt};
    store.write(stored);
    require(stored.exists, "not marked as existing after a write");
  } else if (op == "flux-get") {
    const auto* kind = fluxkey::flux::find_kind("kustomization");
    fluxkey::flux::ApiVersions versions(client);
    auto found = versions.get(fluxkey::flux::ObjectRef{kind, "flux-system", "apps"});
    require(std::find(kind->versions.begin(), kind->versions.end(), found.version) !=
                kind->versions.end(),
            "a version outside the table: " + found.version);
  } else if (op == "endpoint") {
    fluxkey::commands::EndpointOptions options;
    options.ca_from = "cluster-info";
    fluxkey::kube::InClusterPaths paths;
    paths.ca_file = private_folder().path() + "/ca.crt";
    auto endpoint = fluxkey::commands::resolve_endpoint(client, options, paths);
    require(!endpoint.ca_pem.empty(), "cluster-info CA missing but accepted");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Lambdas cannot capture structured bindings in C++20.
  const auto parts = fluxkey::fuzz::split_first_line(input);
  const std::string& op = parts.first;
  const std::string_view script = parts.second;
  if (op == "targets") {
    targets_round_trip(std::string(script));
    return 0;
  }
  if (op == "lease") {
    expect_errors_only("parse_lease", [&] {
      fluxkey::rotation::parse_lease(Json::parse(script, nullptr, false));
    });
    return 0;
  }
  static const char* const kOps[] = {
      "get",        "get-optional",      "remove",       "token",       "watch",
      "store-read", "store-generations", "store-create", "store-write", "flux-get",
      "endpoint"};
  if (std::find(std::begin(kOps), std::end(kOps), op) == std::end(kOps)) return -1;

  auto transport = std::make_unique<fluxkey::fuzz::ScriptedTransport>(script);
  transport->set_stream_tail(std::string("\n{\"type\":\"") + kEnd + "\"}\n");
  fluxkey::fuzz::ScriptedTransport& script_log = *transport;
  fluxkey::kube::Client client(rest_config(), std::move(transport));
  client.http().set_sleeper([](std::chrono::milliseconds) {});
  client.http().set_jitter([](std::chrono::milliseconds) { return std::chrono::milliseconds(0); });

  std::string message = expect_errors_only(op.c_str(), [&] { run(op, client); });
  // Unless the replies themselves carry it (then it is the server's words).
  require(message.find(kToken) == std::string::npos || input.find(kToken) != std::string::npos,
          "a message quotes the bearer token");
  for (const auto& request : script_log.requests()) {
    require(request.find(" https://127.0.0.1:6443/") != std::string::npos,
            "a request left the API server: " + request);
  }
  return 0;
}
