// `fluxkey status`: what the cluster Secret says about the kubeconfig
// handed out: generation, expiry, live generations and, per GitHub target,
// what it last received. For people and for monitoring (exit 1 when the
// token is expired, revoked or close to expiry).
#pragma once

#include <chrono>
#include <cstdio>
#include <vector>

#include "core/error.h"
#include "core/names.h"
#include "github/target.h"
#include "kube/client.h"

namespace fluxkey::commands {

struct StatusOptions {
  NamespacedName k8s_secret;
  NamespacedName service_account;  // where the generation Secrets live
  std::chrono::seconds warn_before{2 * 3600};
  // Configured targets, shown even before their first push; the recorded
  // ones are shown either way.
  std::vector<github::Target> targets;
  bool json = false;  // one JSON object on `out` instead of a table
};

ExitCode run_status(const StatusOptions& options, kube::Client& kube, std::FILE* out);

}  // namespace fluxkey::commands
