// From parsed flags to each command's options: every value validated here,
// so that a usage error (exit 2) is found before any request is sent.
#pragma once

#include "cli/flags.h"
#include "commands/kubeconfig.h"
#include "commands/reconcile.h"
#include "commands/revoke.h"
#include "commands/status.h"
#include "commands/sync.h"
#include "github/client.h"
#include "kube/config_loader.h"

namespace fluxkey::cli {

void configure_logging(const RawFlags& flags);
kube::ConnectionOptions connection_options(const RawFlags& flags);
// --request-timeout: at least 100ms.
std::chrono::milliseconds request_timeout(const RawFlags& flags);
commands::KubeconfigOptions kubeconfig_options(const RawFlags& flags);

// Options of sync (rotate: force and revoke_previous set by the caller).
commands::SyncOptions sync_options(const RawFlags& flags);
// The GitHub client's options, credentials read from their files or the
// environment. Only called when there are targets.
github::ClientOptions github_options(const RawFlags& flags);
commands::StatusOptions status_options(const RawFlags& flags);
commands::RevokeOptions revoke_options(const RawFlags& flags);
// Options of reconcile: the kind known, --force/--reset only for helmrelease,
// names valid, --timeout positive.
commands::ReconcileCommandOptions reconcile_options(const RawFlags& flags);

}  // namespace fluxkey::cli
