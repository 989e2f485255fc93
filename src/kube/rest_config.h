// What the Kubernetes client needs to reach and authenticate to an API
// server, whichever way it was found (kubeconfig or in-cluster).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  std::string server;      // "https://host:port", no trailing slash
  http::TlsConfig tls;     // CA and client certificate; tls.ca_pem empty = system roots
  std::string token;       // static bearer token (secret)
  std::string token_file;  // re-read before each use (in-cluster, tokenFile)
  std::optional<ExecConfig> exec;
  std::string default_namespace;  // the context's; in-cluster: the pod's (or "default")
  // Where this came from, for messages: "kubeconfig /root/.kube/config,
  // context kind-dev" or "in-cluster config".
  std::string origin;
  bool in_cluster = false;
};

}  // namespace fluxkey::kube
