#include "commands/sync.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>

#include "commands/mint.h"
#include "core/base64.h"
#include "core/log.h"
#include "core/time.h"
#include "kube/kubeconfig_writer.h"
#include "rotation/lease.h"
#include "rotation/plan.h"
#include "rotation/state.h"

namespace fluxkey::commands {
namespace {

using rotation::Plan;
using rotation::StoredKubeconfig;

std::string seconds_text(std::chrono::seconds d) {
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(d));
}

std::string count_text(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// What goes into the GitHub secret.
std::string secret_value(const SyncOptions& options, const std::string& kubeconfig) {
  return options.github_format_raw ? kubeconfig : base64_encode(kubeconfig);
}

bool uses_selected_repos(const github::Target& target, const SyncOptions& options) {
  return target.scope == github::Scope::kOrganization &&
         options.org_access.visibility == "selected";
}

// Reads each target's public key (and selected repository ids) before
// anything changes: a target that cannot be read now would fail its push.
// Returns the failures by target id; the keys stay cached in the client.
std::map<std::string, std::string> preflight(const SyncOptions& options,
                                             const std::vector<github::Target>& targets,
                                             github::Client& github) {
  std::map<std::string, std::string> failures;
  github.prefetch_public_keys(targets);
  for (const auto& target : targets) {
    try {
      github.public_key(target);
      if (uses_selected_repos(target, options)) {
        github.repository_ids(target.owner, options.org_access.selected_repos);
      }
    } catch (const Error& e) {
      failures[target.id()] = e.what();
    }
  }
  return failures;
}

void print_plan(const SyncOptions& options, const Plan& plan, const StoredKubeconfig& stored,
                const std::string& generation_secret, const Endpoint& endpoint,
                const std::vector<rotation::GenerationSecret>& generations,
                const std::map<std::string, std::string>& failures, bool read_github) {
  std::string out = "plan (--dry-run, nothing changed): " + plan.reason + "\n";
  if (plan.action == Plan::Action::kMint) {
    out += "  would create " +
           rotation::generation_secret_ref(options.service_account.namespace_, generation_secret) +
           " and mint a token for ServiceAccount " + options.service_account.str() +
           " bound to it, valid " + seconds_text(options.token_ttl) + "\n";
    out += "  would store the kubeconfig (server " + endpoint.server + ", from " +
           endpoint.server_source + "; CA: " + endpoint.ca_source + ") in Secret " +
           options.k8s_secret.str() + (stored.exists ? "" : " (new)") + "\n";
  }
  for (const auto& target : plan.to_push) {
    auto failed = failures.find(target.id());
    out += "  would push " + options.github_secret + " to " + target.describe();
    if (failed != failures.end()) {
      out += ": would fail: " + failed->second;
    } else if (!read_github) {
      out += " (not checked: a GitHub App needs an installation token to read it)";
    }
    out += "\n";
  }
  if (plan.action == Plan::Action::kMint) {
    auto prune =
        rotation::generations_to_prune(generations, plan.generation, options.revoke_previous);
    for (const auto& g : prune) {
      out += "  would delete " +
             rotation::generation_secret_ref(options.service_account.namespace_, g.name) +
             (options.revoke_previous ? " (revoking its token)" : "") + "\n";
    }
  }
  for (const auto& g : plan.orphans) {
    out += "  would delete " +
           rotation::generation_secret_ref(options.service_account.namespace_, g.name) +
           ", left by a failed run (no stored kubeconfig names it)\n";
  }
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

class Sync {
 public:
  Sync(const SyncOptions& options, kube::Client& kube, github::Client* github)
      : options_(options),
        github_(github),
        store_(kube, options.k8s_secret, options.service_account),
        kube_(kube) {}

  // A run that changes anything holds the Lease from its first read to its
  // last write, so a concurrent run plans from what this one left.
  ExitCode run() {
    // A forced run pushes to every target whatever the cluster holds, so it
    // reads GitHub's keys while it takes the Lease and reads the cluster. A
    // plain sync first learns whether it has anything to do, and may never
    // ask GitHub.
    if (options_.force && reads_github()) {
      early_ = std::async(std::launch::async,
                          [this] { return preflight(options_, options_.targets, *github_); });
    }
    if (options_.dry_run) return act();
    rotation::RunLease lease(kube_, options_.k8s_secret,
                             [this] { return std::make_unique<kube::Client>(kube_.config()); });
    lease_ = &lease;
    ExitCode code = act();
    lease.release();
    return code;
  }

 private:
  // Throws Error when this run may no longer hold the Lease (see
  // RunLease::check_held): it then makes no further change of its own.
  void check_lease(const std::string& next) const {
    if (lease_ != nullptr) lease_->check_held(next);
  }

  bool reads_github() const {
    return github_ != nullptr && (!options_.dry_run || options_.dry_run_reads_github);
  }

  ExitCode act() {
    const bool read_github = reads_github();
    // The API server's own words seldom name the object ("service
    // unavailable", a reset): the line says which read failed.
    StoredKubeconfig stored;
    std::vector<rotation::GenerationSecret> generations;
    try {
      stored = store_.read();
    } catch (const UsageError&) {
      throw;
    } catch (const Error& e) {
      throw Error("cannot read Secret " + options_.k8s_secret.str() + ": " + e.what() +
                  "; nothing was changed");
    }
    try {
      generations = store_.generations();
    } catch (const Error& e) {
      throw Error("cannot list the generation Secrets of " + options_.k8s_secret.str() +
                  " in namespace " + options_.service_account.namespace_ + ": " + e.what() +
                  "; nothing was changed");
    }
    Endpoint endpoint = resolve_endpoint(kube_, options_.endpoint);

    rotation::PlanInput input{options_.service_account.str(), endpoint.server,
                              options_.refresh_before, options_.force, options_.targets};
    Plan plan = rotation::plan_sync(input, stored, generations, Clock::now());
    if (plan.action == Plan::Action::kSkip) {
      logger().info(plan.reason);
      return ExitCode::kOk;
    }
    // Prune deletes the orphans on their own, whatever the targets hold; the
    // rest of the run weighs only the generations once stored.
    std::erase_if(generations, [&](const rotation::GenerationSecret& g) {
      return std::any_of(plan.orphans.begin(), plan.orphans.end(),
                         [&](const auto& o) { return o.generation == g.generation; });
    });

    std::map<std::string, std::string> failures;
    if (early_.valid()) {
      failures = early_.get();
      // Those reads went on while another run held the Lease, perhaps for
      // minutes: a target that failed then is read again now.
      if (!failures.empty() && lease_ != nullptr && lease_->waited()) {
        std::vector<github::Target> failed;
        for (const auto& target : options_.targets) {
          if (failures.count(target.id()) != 0) failed.push_back(target);
        }
        failures = preflight(options_, failed, *github_);
      }
    } else if (read_github) {
      failures = preflight(options_, plan.to_push, *github_);
    }

    if (options_.dry_run) {
      print_plan(options_, plan, stored, store_.generation_name(plan.generation), endpoint,
                 generations, failures, read_github);
      return failures.empty() ? ExitCode::kOk : ExitCode::kFailed;
    }
    if (!plan.to_push.empty() && failures.size() == plan.to_push.size()) {
      // One target: its own message is the one line; several: one line each
      // and a summary.
      if (failures.size() == 1) throw Error(failures.begin()->second + "; nothing was changed");
      for (const auto& [id, message] : failures) logger().error(message);
      throw Error("no GitHub target can be reached (" +
                  count_text(failures.size(), "target", "targets") +
                  " failed, see above); nothing was changed");
    }

    logger().info(plan.action == Plan::Action::kMint
                      ? "renewing (generation " + std::to_string(plan.generation) +
                            "): " + plan.reason
                      : plan.reason);
    if (plan.action == Plan::Action::kMint) {
      check_lease("minting generation " + std::to_string(plan.generation) +
                  "; nothing was changed");
      mint(plan.generation, endpoint, stored);
      generations.push_back(
          {store_.generation_name(plan.generation), plan.generation, Clock::now()});
    }
    push(plan, stored, failures);
    prune(plan, stored, generations);
    return report(plan, failures);
  }

  void mint(long generation, const Endpoint& endpoint, StoredKubeconfig& stored) {
    const NamespacedName& sa = options_.service_account;
    std::string uid;
    try {
      uid = store_.create_generation(generation);
    } catch (const kube::ApiError& e) {
      if (e.status() == 409) {
        throw Error(store_.generation_ref(generation) +
                    " already exists: is another fluxkey sync running? Nothing was changed");
      }
      throw Error("cannot create " + store_.generation_ref(generation) + ": " + e.what());
    }

    kube::TokenRequestSpec spec;
    spec.expiration = options_.token_ttl;
    spec.audiences = options_.audiences;
    spec.bound_object =
        kube::BoundObjectRef{"Secret", "v1", store_.generation_name(generation), uid};
    kube::IssuedToken token;
    try {
      token = kube::request_token(kube_, sa.namespace_, sa.name, spec);
    } catch (const kube::ApiError& e) {
      discard_generation(generation);
      explain_token_failure(e, sa);
    } catch (const Error& e) {
      // No answer (a reset, a timeout): the server may have minted a token
      // all the same, bound to the generation Secret; deleting that revokes it.
      const std::string secret = store_.generation_ref(generation);
      throw Error(
          "cannot mint a token for ServiceAccount " + sa.str() + ": " + e.what() +
          (discard_generation(generation, false)
               ? "; nothing was changed (a token minted meanwhile was revoked with " + secret + ")"
               : "; delete " + secret + " to revoke a token the API server may have minted"));
    } catch (...) {
      discard_generation(generation);
      throw;
    }

    kube::KubeconfigSpec kubeconfig;
    kubeconfig.server = endpoint.server;
    kubeconfig.ca_pem = endpoint.ca_pem;
    kubeconfig.token = std::move(token.token);

    StoredKubeconfig next = stored;
    next.kubeconfig = kube::render_kubeconfig(kubeconfig);
    next.generation = generation;
    next.minted_at = Clock::now();
    next.expires_at = token.expires_at;
    next.revoked_at.reset();
    next.service_account = sa.str();
    next.server = endpoint.server;
    next.targets = configured_records(stored);
    try {
      write_checked(next);
    } catch (const Error& e) {
      // The token was never stored anywhere: revoke it rather than leave a
      // live credential nobody knows about.
      discard_generation(generation);
      auto* api = dynamic_cast<const kube::ApiError*>(&e);
      if (api != nullptr && api->status() == 409) {
        throw Error("Secret " + options_.k8s_secret.str() +
                    " changed while fluxkey was writing it (another fluxkey run?); nothing was "
                    "pushed, run sync again");
      }
      throw Error("cannot store the kubeconfig in Secret " + options_.k8s_secret.str() + ": " +
                  e.what() + "; nothing was pushed");
    }
    stored = std::move(next);
    logger().info("minted generation " + std::to_string(generation) + " for ServiceAccount " +
                  sa.str() + ", valid until " + format_rfc3339(token.expires_at) +
                  "; stored in Secret " + options_.k8s_secret.str());
  }

  // A Conflict on the resourceVersion precondition has two causes: another
  // writer, or fluxkey's own attempt that landed while its reply was lost
  // (the retry then carries a stale resourceVersion). Re-reading tells them
  // apart: when the Secret still holds this generation's kubeconfig, the
  // records are fluxkey's alone to write, so it writes again.
  void write_checked(StoredKubeconfig& wanted) {
    for (int attempt = 1;; ++attempt) {
      try {
        store_.write(wanted);
        return;
      } catch (const kube::ApiError& e) {
        if (e.status() != 409 || attempt == 3) throw;
        StoredKubeconfig current = store_.read();
        if (current.generation != wanted.generation || current.kubeconfig != wanted.kubeconfig) {
          throw;
        }
        wanted.resource_version = current.resource_version;
      }
    }
  }

  // Returns false when the generation Secret may still exist, and warns
  // unless the caller's own error line says so.
  bool discard_generation(long generation, bool warn = true) {
    try {
      store_.delete_generation(store_.generation_name(generation));
      return true;
    } catch (const Error& e) {
      if (warn) {
        logger().warn("could not delete " + store_.generation_ref(generation) + ": " + e.what() +
                      "; delete it to revoke its unused token");
      }
      return false;
    }
  }

  // Records of targets still configured; a target dropped from the
  // configuration is no longer fluxkey's to report on.
  std::map<std::string, rotation::TargetRecord> configured_records(const StoredKubeconfig& s) {
    std::map<std::string, rotation::TargetRecord> out;
    for (const auto& target : options_.targets) {
      auto it = s.targets.find(target.id());
      out[target.id()] = it != s.targets.end() ? it->second : rotation::TargetRecord{};
    }
    return out;
  }

  void push(const Plan& plan, StoredKubeconfig& stored,
            std::map<std::string, std::string>& failures) {
    if (plan.to_push.empty()) return;
    const std::string value = secret_value(options_, stored.kubeconfig);
    const size_t total = plan.to_push.size();
    size_t done = 0;
    std::string pushed;  // targets that hold stored.generation now, for the record's failure
    for (const auto& target : plan.to_push) {
      ++done;
      auto& record = stored.targets[target.id()];
      std::string progress =
          " (" + std::to_string(done) + "/" + std::to_string(total) + " targets)";
      if (auto failed = failures.find(target.id()); failed != failures.end()) {
        record.error = failed->second;
        record.failed_at = Clock::now();
        logger().error(failed->second + progress);
        continue;
      }
      try {
        check_lease("pushing to " + target.describe());
        github_->put_secret(target, options_.github_secret, value, options_.org_access);
        record.generation = stored.generation;
        record.pushed_at = Clock::now();
        record.error.clear();
        record.failed_at.reset();
        pushed += (pushed.empty() ? "" : ", ") + target.describe();
        logger().info("pushed " + options_.github_secret + " to " + target.describe() + progress);
      } catch (const Error& e) {
        failures[target.id()] = e.what();
        record.error = e.what();
        record.failed_at = Clock::now();
        logger().error(std::string(e.what()) + progress);
      }
    }
    stored.targets = configured_records(stored);
    try {
      // The kube client retries a lost connection or a 5xx a bounded number
      // of times; beyond that, the one line below is the only record.
      write_checked(stored);
    } catch (const Error& e) {
      const std::string generation = "generation " + std::to_string(stored.generation);
      std::string what = pushed.empty() ? "no GitHub target got " + generation
                                        : "GitHub holds " + generation + " in " + pushed;
      throw Error(what + " (" + std::to_string(total - failures.size()) + " of " +
                  std::to_string(total) + " targets), but Secret " + options_.k8s_secret.str() +
                  " cannot record it: " + e.what() + "; the next sync pushes the stored " +
                  generation + " to them again and records it, without minting a new token");
    }
  }

  bool every_target_current(const StoredKubeconfig& stored) const {
    return std::all_of(options_.targets.begin(), options_.targets.end(), [&](const auto& t) {
      auto it = stored.targets.find(t.id());
      return it != stored.targets.end() && it->second.generation == stored.generation;
    });
  }

  // False, with a warning, once this run may no longer hold the Lease: the
  // pushes are done and recorded, so what is left to delete waits.
  bool may_prune() const {
    try {
      check_lease(options_.revoke_previous
                      ? "revoking earlier generations; `fluxkey revoke` revokes them"
                      : "deleting earlier generations; the next sync deletes them");
      return true;
    } catch (const Error& e) {
      logger().warn(e.what());
      return false;
    }
  }

  // `generations` holds no orphan: those go whatever the targets hold.
  void prune(const Plan& plan, const StoredKubeconfig& stored,
             const std::vector<rotation::GenerationSecret>& generations) {
    const long newest = plan.generation;
    for (const auto& g : plan.orphans) {
      if (!may_prune()) return;
      try {
        store_.delete_generation(g.name);
        logger().info("deleted " + store_.generation_ref(g.name) +
                      ", left by a failed run: no stored kubeconfig named it, and a token it "
                      "may have minted no longer works");
      } catch (const Error& e) {
        logger().warn("could not delete " + store_.generation_ref(g.name) +
                      ", left by a failed run: " + e.what() + "; a later sync deletes it");
      }
    }
    const bool complete = every_target_current(stored);
    if (!complete && !options_.revoke_previous) {
      long older = std::count_if(generations.begin(), generations.end(),
                                 [&](const auto& g) { return g.generation < newest; });
      if (older > 0) {
        logger().info("keeping " + count_text(older, "earlier generation", "earlier generations") +
                      " valid until every GitHub target has generation " + std::to_string(newest));
      }
      return;
    }
    auto doomed = rotation::generations_to_prune(generations, newest, options_.revoke_previous);
    for (const auto& g : doomed) {
      if (!may_prune()) return;
      try {
        store_.delete_generation(g.name);
      } catch (const Error& e) {
        throw Error("cannot delete " + store_.generation_ref(g.name) + " (generation " +
                    std::to_string(g.generation) + ", no longer needed): " + e.what() +
                    "; the next sync deletes it");
      }
      logger().info("deleted " + store_.generation_ref(g.name) + ": the token of generation " +
                    std::to_string(g.generation) + " no longer works");
    }
    if (options_.revoke_previous && !complete) {
      // Targets that hold an earlier generation; one that never got any holds
      // nothing of fluxkey's to revoke.
      std::string left;
      size_t count = 0;
      for (const auto& t : options_.targets) {
        auto it = stored.targets.find(t.id());
        if (it != stored.targets.end() && it->second.generation > 0 &&
            it->second.generation != newest) {
          left += (left.empty() ? "" : ", ") + t.describe();
          ++count;
        }
      }
      if (count > 0) {
        logger().warn(
            "--revoke-previous: " + left +
            (count == 1 ? " still holds a revoked credential" : " still hold revoked credentials") +
            " until the next successful sync");
      }
    }
  }

  ExitCode report(const Plan& plan, const std::map<std::string, std::string>& failures) {
    size_t pushed = plan.to_push.size() - failures.size();
    std::string summary = "generation " + std::to_string(plan.generation) + ": pushed to " +
                          std::to_string(pushed) + " of " +
                          count_text(plan.to_push.size(), "GitHub target", "GitHub targets");
    if (failures.empty()) {
      logger().info(summary);
      return ExitCode::kOk;
    }
    std::string names;
    for (const auto& [id, message] : failures) names += (names.empty() ? "" : ", ") + id;
    // Each failure already had its error line; this one sums them up.
    logger().warn(summary + "; failed: " + names + " (the next sync retries them)");
    return ExitCode::kPartial;
  }

  const SyncOptions& options_;
  github::Client* github_;
  rotation::Store store_;
  kube::Client& kube_;
  const rotation::RunLease* lease_ = nullptr;  // held by run() while it acts
  // Declared last, so that it is destroyed first: its task uses the members
  // above, and a future of std::async waits for its task when destroyed.
  std::future<std::map<std::string, std::string>> early_;  // a forced run's preflight
};

}  // namespace

ExitCode run_sync(const SyncOptions& options, kube::Client& kube, github::Client* github) {
  if (github == nullptr && !options.targets.empty()) {
    throw Error("run_sync: GitHub targets given without a GitHub client");
  }
  return Sync(options, kube, github).run();
}

}  // namespace fluxkey::commands
