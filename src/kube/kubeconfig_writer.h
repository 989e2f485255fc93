// Renders the kubeconfig fluxkey hands out: one cluster, one user with a
// bearer token, one context, current-context set.
#pragma once

#include <string>

namespace fluxkey::kube {

struct KubeconfigSpec {
  std::string name = "fluxkey";  // cluster, user and context are named after it
  std::string server;
  std::string ca_pem;      // empty: no certificate-authority-data (public CA)
  std::string token;       // secret
  std::string namespace_;  // context namespace; empty = none
};

std::string render_kubeconfig(const KubeconfigSpec& spec);

}  // namespace fluxkey::kube
