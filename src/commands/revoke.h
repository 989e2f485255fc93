// `fluxkey revoke`: in an incident, make tokens stop working at once by
// deleting their generation Secrets (each token is bound to one). By default
// every generation but the newest; with --all the newest too, which leaves
// the GitHub targets holding a dead credential on purpose.
#pragma once

#include "core/error.h"
#include "core/names.h"
#include "kube/client.h"

namespace fluxkey::commands {

struct RevokeOptions {
  NamespacedName k8s_secret;
  NamespacedName service_account;
  bool all = false;
  bool dry_run = false;
};

ExitCode run_revoke(const RevokeOptions& options, kube::Client& kube);

}  // namespace fluxkey::commands
