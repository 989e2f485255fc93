// Renders the kubeconfig fluxkey hands out: one cluster, one user with a
// bearer token, one context, current-context set.
#pragma once

#include <string>

#include "core/secret.h"

namespace fluxkey::kube {

struct KubeconfigSpec {
  std::string name = "fluxkey";  // cluster, user and context are named after it
  std::string server;
  std::string ca_pem;  // empty: no certificate-authority-data (public CA)
  SecretString token;
  std::string namespace_;  // context namespace; empty = none
};

// The text carries the token: keep it in a SecretString. (yaml-cpp's
// emitter buffer, which also held it, is freed unwiped: a library copy.)
std::string render_kubeconfig(const KubeconfigSpec& spec);

}  // namespace fluxkey::kube
