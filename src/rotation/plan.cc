#include "rotation/plan.h"

#include <algorithm>

namespace fluxkey::rotation {
namespace {

std::string left_text(Clock::time_point expires, Clock::time_point now) {
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(expires - now));
}

std::string ds(std::chrono::seconds d) {
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(d));
}

// Why the stored kubeconfig cannot be handed out again, or "" when it can.
std::string why_renew(const PlanInput& input, const StoredKubeconfig& stored,
                      const std::vector<GenerationSecret>& generations, Clock::time_point now) {
  if (input.force) return "forced";
  if (!stored.exists) return "no kubeconfig is stored yet";
  if (stored.kubeconfig.empty() || stored.generation == 0 || !stored.expires_at) {
    return "the stored kubeconfig is incomplete";
  }
  if (stored.revoked_at) return "generation " + std::to_string(stored.generation) + " was revoked";
  bool alive = std::any_of(generations.begin(), generations.end(),
                           [&](const auto& g) { return g.generation == stored.generation; });
  if (!alive) {
    return "the generation Secret of generation " + std::to_string(stored.generation) +
           " is gone, so its token is revoked";
  }
  if (stored.service_account != input.service_account) {
    return "the ServiceAccount changed from " + stored.service_account + " to " +
           input.service_account;
  }
  if (stored.server != input.server) {
    return "the server changed from " + stored.server + " to " + input.server;
  }
  if (*stored.expires_at <= now)
    return "the token expired at " + format_rfc3339(*stored.expires_at);
  if (*stored.expires_at - now <= input.refresh_before) {
    return "the token expires in " + left_text(*stored.expires_at, now) +
           ", under --refresh-before " + ds(input.refresh_before);
  }
  return "";
}

}  // namespace

Plan plan_sync(const PlanInput& input, const StoredKubeconfig& stored,
               const std::vector<GenerationSecret>& generations, Clock::time_point now) {
  Plan plan;
  plan.orphans = orphan_generations(generations, stored.generation);
  // Orphans count for numbering: a generation's name is never used twice.
  long newest = stored.generation;
  for (const auto& g : generations) newest = std::max(newest, g.generation);

  if (std::string why = why_renew(input, stored, generations, now); !why.empty()) {
    plan.action = Plan::Action::kMint;
    plan.reason = why;
    plan.generation = newest + 1;
    plan.to_push = input.targets;
    return plan;
  }

  plan.generation = stored.generation;
  for (const auto& target : input.targets) {
    auto it = stored.targets.find(target.id());
    if (it == stored.targets.end() || it->second.generation != stored.generation) {
      plan.to_push.push_back(target);
    }
  }
  std::string validity = "the token of generation " + std::to_string(stored.generation) +
                         " is valid for " + left_text(*stored.expires_at, now) +
                         " (renewal under " + ds(input.refresh_before) + ")";
  if (plan.to_push.empty()) {
    plan.action = Plan::Action::kSkip;
    plan.reason = "nothing to do: " + validity + " and " +
                  (input.targets.empty() ? std::string("no GitHub target is configured")
                                         : "every GitHub target has it");
  } else {
    plan.action = Plan::Action::kPush;
    plan.reason = validity + "; " + std::to_string(plan.to_push.size()) + " of " +
                  std::to_string(input.targets.size()) + " GitHub targets lack it";
  }
  return plan;
}

std::vector<GenerationSecret> orphan_generations(const std::vector<GenerationSecret>& all,
                                                 long stored_generation) {
  std::vector<GenerationSecret> out;
  if (stored_generation <= 0) return out;
  for (const auto& g : all) {
    if (g.generation > stored_generation) out.push_back(g);
  }
  return out;
}

std::vector<GenerationSecret> generations_to_prune(const std::vector<GenerationSecret>& all,
                                                   long newest, bool revoke_previous) {
  // Numbers have gaps where a failed run's generation was deleted.
  long previous = 0;
  for (const auto& g : all) {
    if (g.generation < newest) previous = std::max(previous, g.generation);
  }
  const long keep_from = revoke_previous ? newest : previous;
  std::vector<GenerationSecret> out;
  for (const auto& g : all) {
    if (g.generation < keep_from) out.push_back(g);
  }
  return out;
}

}  // namespace fluxkey::rotation
