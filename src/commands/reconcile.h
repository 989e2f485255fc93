// `fluxkey reconcile`: what `flux reconcile` does (flux/reconcile.h), with
// the credentials of FLUXKEY_KUBECONFIG_DATA or the usual kubeconfig, the
// flux CLI instead when asked, and the revision alone on stdout.
#pragma once

#include <cstdio>

#include "flux/reconcile.h"
#include "kube/config_loader.h"

namespace fluxkey::commands {

struct ReconcileCommandOptions {
  flux::ReconcileOptions reconcile;
  kube::ConnectionOptions connection;
  bool flux_cli = false;
};

// Prints the revision the object ended on to `out` (nothing when it has
// none, or with --no-wait). Throws as flux::reconcile does; a 401 becomes
// one line saying the token was refused, when it expired when known, and
// how to renew it.
flux::ReconcileResult run_reconcile(const ReconcileCommandOptions& options, std::FILE* out);

}  // namespace fluxkey::commands
