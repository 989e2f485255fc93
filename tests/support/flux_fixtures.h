// The Flux objects integration tests seed kube-sim with (POST /_sim/objects,
// YAML), and the stand-in's admin token for a test's own requests.
#pragma once

#include <string>

#include "support/sim_process.h"

namespace fluxkey::testing {

// The API versions the objects are written in: what Flux 2.3 and later
// serves, or (kube-sim --flux-api old) the betas before it.
struct FluxVersions {
  std::string source = "v1";
  std::string kustomize = "v1";
  std::string helm = "v2";
  std::string image = "v1";
  std::string notification = "v1";

  static FluxVersions of(bool old_api);
};

// GitRepository flux-system and the Kustomization apps it feeds, both in
// flux-system: what most reconcile tests need.
std::string flux_source_and_kustomization(const FluxVersions& versions = {});

// Every kind fluxkey reconciles, in flux-system, wired as a fleet is; the
// pair above comes first.
std::string flux_fleet(const FluxVersions& versions = {});

// The ServiceAccount fluxkey mints tokens for (k8s/: fluxkey/flux-reconcile).
std::string flux_reconcile_service_account();

// kube-sim's cluster-admin token (STATE_DIR/admin.token): the test's own
// reads and writes, kept apart from fluxkey's identity.
std::string kube_admin_token(const SimProcess& kube);

}  // namespace fluxkey::testing
