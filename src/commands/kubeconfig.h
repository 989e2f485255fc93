// `fluxkey kubeconfig`: mint a token for the reconcile ServiceAccount and
// print a kubeconfig around it. Touches no Secret and no GitHub.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "commands/endpoint.h"
#include "core/names.h"
#include "kube/client.h"

namespace fluxkey::commands {

struct KubeconfigOptions {
  NamespacedName service_account;
  std::chrono::seconds token_ttl{24 * 3600};
  std::vector<std::string> audiences;
  EndpointOptions endpoint;
  std::string output;  // empty or "-": stdout
  bool dry_run = false;
};

// Acts only: the options are validated and the client connected by the
// caller. Writes the kubeconfig to `out` unless options.output names a file.
void run_kubeconfig(const KubeconfigOptions& options, kube::Client& client, std::FILE* out);

}  // namespace fluxkey::commands
