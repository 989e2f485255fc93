// `fluxkey sync` and `fluxkey rotate`: mint a token bound to a new
// generation Secret, store the kubeconfig around it in the cluster Secret,
// then push it sealed to every GitHub target; or push only what is missing,
// or nothing, as rotation::plan_sync decides.
//
// Order is what keeps workflows working: the cluster Secret holds the new
// kubeconfig before any push, and older generations stay valid until every
// target has the new one.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "commands/endpoint.h"
#include "core/error.h"
#include "core/names.h"
#include "github/client.h"
#include "github/target.h"
#include "kube/client.h"

namespace fluxkey::commands {

struct SyncOptions {
  NamespacedName service_account;
  std::chrono::seconds token_ttl{24 * 3600};
  std::chrono::seconds refresh_before{8 * 3600};
  std::vector<std::string> audiences;
  EndpointOptions endpoint;
  NamespacedName k8s_secret;
  std::string github_secret = "FLUX_KUBECONFIG";
  std::vector<github::Target> targets;
  github::OrgAccess org_access;
  bool github_format_raw = false;  // the secret holds the YAML, not its base64
  bool force = false;              // rotate
  bool revoke_previous = false;    // rotate --revoke-previous
  bool dry_run = false;
  // A GitHub App reads public keys only with an installation token, whose
  // creation is a POST; --dry-run then leaves GitHub alone.
  bool dry_run_reads_github = true;
};

// Acts only: options validated, clients connected by the caller. `github`
// may be null when no target is configured. Returns kOk or kPartial (some
// targets failed, each named in the log); throws Error when nothing or only
// the cluster side could be done.
ExitCode run_sync(const SyncOptions& options, kube::Client& kube, github::Client* github);

}  // namespace fluxkey::commands
