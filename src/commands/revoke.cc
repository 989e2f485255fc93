#include "commands/revoke.h"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "core/log.h"
#include "core/time.h"
#include "rotation/lease.h"
#include "rotation/state.h"

namespace fluxkey::commands {

namespace {

// `lease` is null for a dry run, which changes nothing.
ExitCode revoke(const RevokeOptions& options, kube::Client& kube, const rotation::RunLease* lease) {
  rotation::Store store(kube, options.k8s_secret, options.service_account);
  rotation::StoredKubeconfig stored = store.read();
  auto generations = store.generations();

  // The generation to keep is the stored one: one numbered above it was
  // left by a failed run and reached nobody (rotation::orphan_generations).
  // With nothing stored, the newest, which GitHub may still hold.
  long newest = stored.generation;
  if (newest <= 0) {
    for (const auto& g : generations) newest = std::max(newest, g.generation);
  }
  std::vector<rotation::GenerationSecret> doomed;
  for (const auto& g : generations) {
    if (options.all || g.generation != newest) doomed.push_back(g);
  }
  const std::string ns = options.service_account.namespace_;

  if (doomed.empty()) {
    logger().info(options.all || generations.empty()
                      ? "nothing to revoke: no generation Secret of " + options.k8s_secret.str() +
                            " exists in namespace " + ns
                      : "nothing to revoke: only generation " + std::to_string(newest) +
                            " is alive (pass --all to revoke it too)");
    return ExitCode::kOk;
  }
  if (options.dry_run) {
    std::string plan = "plan (--dry-run, nothing changed):\n";
    for (const auto& g : doomed) {
      plan += "  would delete " + store.generation_ref(g.name) +
              ", revoking the token of generation " + std::to_string(g.generation) + "\n";
    }
    if (options.all && stored.exists) {
      plan += "  would mark Secret " + options.k8s_secret.str() + " revoked\n";
    }
    std::fputs(plan.c_str(), stdout);
    std::fflush(stdout);
    return ExitCode::kOk;
  }

  // The stored state says "revoked" before the tokens die, so that status
  // and the next sync never trust a kubeconfig that may already be dead.
  if (options.all && stored.exists) {
    lease->check_held("marking Secret " + options.k8s_secret.str() + " revoked");
    stored.revoked_at = Clock::now();
    store.write(stored);
  }
  for (const auto& g : doomed) {
    lease->check_held("deleting " + store.generation_ref(g.name) + "; run fluxkey revoke again");
    store.delete_generation(g.name);
    logger().info("revoked generation " + std::to_string(g.generation) + ": deleted " +
                  store.generation_ref(g.name));
  }
  if (options.all) {
    std::string targets;
    for (const auto& [id, record] : stored.targets) targets += (targets.empty() ? "" : ", ") + id;
    logger().warn(
        "every token is revoked: " +
        (targets.empty() ? std::string("any copy of the kubeconfig")
                         : "the GitHub targets " + targets) +
        " now hold a dead credential, on purpose; run fluxkey rotate to hand out a new one");
  }
  return ExitCode::kOk;
}

}  // namespace

// Like sync, revoke holds the Lease so that it never deletes a generation a
// concurrent rotation is about to store or push, and renews it: the deletes
// may outlast it when the API server is slow.
ExitCode run_revoke(const RevokeOptions& options, kube::Client& kube) {
  if (options.dry_run) return revoke(options, kube, nullptr);
  rotation::RunLease lease(kube, options.k8s_secret,
                           [&kube] { return std::make_unique<kube::Client>(kube.config()); });
  ExitCode code = revoke(options, kube, &lease);
  lease.release();
  return code;
}

}  // namespace fluxkey::commands
