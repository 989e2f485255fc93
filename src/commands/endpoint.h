// Which API server URL and CA go into the kubeconfig fluxkey hands out.
// fluxkey itself may talk to the API server over a cluster-internal address
// (in-cluster: https://10.96.0.1), which a GitHub runner cannot reach, so the
// server is resolved in the contract's order: --server, then the server in
// kube-public/cluster-info, then the URL fluxkey used.
#pragma once

#include <string>

#include "kube/client.h"
#include "kube/config_loader.h"

namespace fluxkey::commands {

struct EndpointOptions {
  std::string server;   // --server, validated https URL; empty = resolve
  std::string ca_pem;   // content of --server-ca, validated; empty = not given
  std::string ca_from;  // --server-ca-from: "", "in-cluster", "cluster-info", "system"
};

struct Endpoint {
  std::string server;
  std::string ca_pem;         // empty: none written (the server has a public certificate)
  std::string server_source;  // for the plan: "--server", "kube-public/cluster-info", ...
  std::string ca_source;
};

// Reads kube-public/cluster-info only when the server or CA is to come from
// it. Throws Error when --server-ca-from names a source that is missing.
Endpoint resolve_endpoint(kube::Client& client, const EndpointOptions& options,
                          const kube::InClusterPaths& in_cluster = {});

// True for addresses a runner outside the cluster cannot reach: *.svc names,
// kubernetes.default, and the in-cluster service address.
bool is_cluster_internal(const std::string& server_url);

}  // namespace fluxkey::commands
