// What the Kubernetes client needs to reach and authenticate to an API
// server, whichever way it was found (kubeconfig or in-cluster).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/secret.h"
#include "http/http.h"

namespace fluxkey::kube {

// A client.authentication.k8s.io/v1 exec credential plugin (EKS, GKE, AKS).
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 (v1beta1 accepted)
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never, IfAvailable, Always: fluxkey never prompts
};

struct RestConfig {
  RestConfig() = default;
  // A copy clones the token (a SecretString, which never copies itself), so
  // each copy wipes its own; the client key, which the http layer's
  // TlsConfig keeps as a std::string, is wiped here.
  ~RestConfig() { wipe(tls.client_key_pem); }
  RestConfig(const RestConfig& other) { *this = other; }
  RestConfig& operator=(const RestConfig& other) {
    if (this != &other) {
      server = other.server;
      wipe(tls.client_key_pem);
      tls = other.tls;
      token = other.token.clone();
      token_file = other.token_file;
      exec = other.exec;
      default_namespace = other.default_namespace;
      origin = other.origin;
      in_cluster = other.in_cluster;
    }
    return *this;
  }
  RestConfig(RestConfig&&) = default;
  RestConfig& operator=(RestConfig&& other) {
    wipe(tls.client_key_pem);
    server = std::move(other.server);
    tls = std::move(other.tls);
    token = std::move(other.token);
    token_file = std::move(other.token_file);
    exec = std::move(other.exec);
    default_namespace = std::move(other.default_namespace);
    origin = std::move(other.origin);
    in_cluster = other.in_cluster;
    return *this;
  }

  std::string server;      // "https://host:port", no trailing slash
  http::TlsConfig tls;     // CA and client certificate; tls.ca_pem empty = system roots
  SecretString token;      // static bearer token
  std::string token_file;  // re-read before each use (in-cluster, tokenFile)
  std::optional<ExecConfig> exec;
  std::string default_namespace;  // the context's; in-cluster: the pod's (or "default")
  // Where this came from, for messages: "kubeconfig /root/.kube/config,
  // context kind-dev" or "in-cluster config".
  std::string origin;
  bool in_cluster = false;
};

}  // namespace fluxkey::kube
