// Finding and reading the credentials fluxkey itself uses, in kubectl's
// order: --kubeconfig, then $KUBECONFIG, then in-cluster when
// KUBERNETES_SERVICE_HOST is set, then ~/.kube/config.
#pragma once

#include <string>

#include "kube/rest_config.h"

namespace fluxkey::kube {

struct ConnectionOptions {
  std::string kubeconfig_path;  // --kubeconfig; empty = not given
  std::string context;          // --context; empty = current-context
};

// Parses kubeconfig YAML (clusters, users, contexts, current-context;
// certificate-authority(-data), token, tokenFile, client-certificate(-data),
// client-key(-data), exec). Relative file paths resolve against the folder
// of `path`. Throws UsageError naming the file and what is wrong.
RestConfig parse_kubeconfig(const std::string& yaml, const std::string& path,
                            const std::string& context);

// Where the in-cluster config lives; tests point it elsewhere.
struct InClusterPaths {
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// As client-go's InClusterConfig: KUBERNETES_SERVICE_HOST and _PORT
// (IPv6 hosts bracketed), the mounted token (re-read, it rotates) and CA.
RestConfig load_in_cluster(const InClusterPaths& paths = {});

// The whole lookup described above.
RestConfig load_rest_config(const ConnectionOptions& options);

}  // namespace fluxkey::kube
