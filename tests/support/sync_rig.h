// The rig of the sync integration tests (sync_command_test.cc and
// fault_matrix_sync_test.cc): kube-sim with the reconcile ServiceAccount,
// github-sim with a repository (and its environment "prod"), a second
// repository, an organization and a token, fluxkey's arguments and
// environment for them, and what each side holds, read back through their
// admin credentials and control APIs.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "support/fluxkey_run.h"
#include "support/sim_process.h"

namespace fluxkey::testing {

// Test-only credential, never a real one.
inline constexpr const char* kGitHubToken = "ghp_syncTestToken000000000000000000000";

// acme/app, its environment prod, and the organization acme.
extern const std::vector<std::string> kThreeTargets;

struct RigOptions {
  std::vector<std::string> kube_args;    // extra flags of kube-sim
  std::vector<std::string> github_args;  // extra flags of github-sim
  // For stand-ins started with --tls-names: the name their certificate has,
  // which the rig's own calls verify instead of 127.0.0.1.
  std::string kube_tls_host;
  std::string github_tls_host;
};

struct Rig {
  SimProcess kube;
  SimProcess github;
  TempDir dir;

  explicit Rig(const RigOptions& options = {});

  std::vector<std::string> args(const std::string& command,
                                std::vector<std::string> extra = {}) const;
  // SSL_CERT_FILE for github-sim, and GITHUB_TOKEN when `token` is not empty.
  Env env(const std::string& token = kGitHubToken) const;
  ProcessResult run(const std::string& command, std::vector<std::string> extra = {}) const;

  // The cluster side, read as admin; null when absent (404).
  nlohmann::json kube_get(const std::string& path) const;
  nlohmann::json cluster_secret() const;
  std::string stored_kubeconfig() const;
  std::string annotation(const std::string& key) const;
  nlohmann::json targets_annotation() const;
  std::set<std::string> generation_secrets() const;
  nlohmann::json tokens() const;
  size_t live_tokens() const;

  // The GitHub side: every secret, decrypted by the stand-in.
  nlohmann::json github_secret(const std::string& scope, const std::string& repo,
                               const std::string& environment = "") const;
  std::string github_kubeconfig(const std::string& scope, const std::string& repo,
                                const std::string& environment = "") const;

  // Requests in a stand-in's log whose method is `method` and whose path
  // contains `path_part`, from index `since` on.
  size_t requests(const SimProcess& sim, const std::string& method, const std::string& path_part,
                  size_t since = 0) const;
  // Requests other than GET, leaving out the run's Lease (taken and released).
  size_t mutating_requests(const SimProcess& sim) const;
};

// Neither the kubeconfig's token nor the GitHub token in fluxkey's output.
void check_no_secret(const ProcessResult& run, const std::string& token);

}  // namespace fluxkey::testing
