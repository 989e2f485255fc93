// Decides what a sync does from what is stored, before anything changes:
// nothing, push the stored kubeconfig to the targets that lack it, or mint
// a new generation. A pure function, so every branch is unit-tested.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "github/target.h"
#include "rotation/state.h"

namespace fluxkey::rotation {

struct PlanInput {
  std::string service_account;  // NS/NAME the kubeconfig is for
  std::string server;           // the server the kubeconfig would name
  std::chrono::seconds refresh_before{8 * 3600};
  bool force = false;
  std::vector<github::Target> targets;
};

struct Plan {
  enum class Action { kSkip, kPush, kMint };
  Action action = Action::kSkip;
  // One line for people: why this action ("the token expires in 3h, under
  // --refresh-before 8h").
  std::string reason;
  long generation = 0;  // the generation the targets end up with
  std::vector<github::Target> to_push;
  // Generation Secrets a failed run left (orphan_generations): deleted by a
  // run that changes anything, whatever the targets hold.
  std::vector<GenerationSecret> orphans;
};

Plan plan_sync(const PlanInput& input, const StoredKubeconfig& stored,
               const std::vector<GenerationSecret>& generations, Clock::time_point now);

// Generation Secrets no stored kubeconfig ever named: those numbered above
// the stored generation. A run that failed between creating one and storing
// its kubeconfig, and could not delete it, leaves one behind; its token, if
// minted, reached nobody. Empty when no generation is stored (then any of
// them may be what GitHub still holds).
std::vector<GenerationSecret> orphan_generations(const std::vector<GenerationSecret>& all,
                                                 long stored_generation);

// Generation Secrets to delete once `newest` is everywhere: all but the
// newest and the one before it, the highest below it (workflows that started
// with it keep working), or all but the newest when `revoke_previous`. `all`
// holds no orphan: an orphan is never the one before.
std::vector<GenerationSecret> generations_to_prune(const std::vector<GenerationSecret>& all,
                                                   long newest, bool revoke_previous);

}  // namespace fluxkey::rotation
