#include "rotation/plan.h"

#include <doctest/doctest.h>

#include <functional>

namespace rotation_plan_test {

using namespace fluxkey;
using namespace fluxkey::rotation;
using std::chrono::hours;

namespace {

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);

PlanInput input(std::vector<github::Target> targets = {github::Target::repository("acme", "app")}) {
  PlanInput in;
  in.service_account = "fluxkey/flux-reconcile";
  in.server = "https://k8s.example.com";
  in.refresh_before = hours(8);
  in.targets = std::move(targets);
  return in;
}

// Generation 4, minted 4h ago, 20h left, every target has it.
StoredKubeconfig fresh() {
  StoredKubeconfig s;
  s.exists = true;
  s.kubeconfig = "apiVersion: v1\n";
  s.generation = 4;
  s.minted_at = kNow - hours(4);
  s.expires_at = kNow + hours(20);
  s.service_account = "fluxkey/flux-reconcile";
  s.server = "https://k8s.example.com";
  s.targets["acme/app"] = {4, kNow - hours(4), "", std::nullopt};
  return s;
}

std::vector<GenerationSecret> alive(std::vector<long> gens) {
  std::vector<GenerationSecret> out;
  for (long g : gens) out.push_back({"flux-kubeconfig-gen-" + std::to_string(g), g, kNow});
  return out;
}

std::vector<long> names(const std::vector<GenerationSecret>& v) {
  std::vector<long> out;
  for (const auto& g : v) out.push_back(g.generation);
  return out;
}

}  // namespace

TEST_CASE("rotation plan: a fresh token with every target current is skipped, with the reason") {
  Plan plan = plan_sync(input(), fresh(), alive({3, 4}), kNow);
  CHECK(plan.action == Plan::Action::kSkip);
  CHECK(plan.to_push.empty());
  CHECK(plan.reason.find("valid for 20h") != std::string::npos);
  CHECK(plan.reason.find("every GitHub target has it") != std::string::npos);
}

TEST_CASE("rotation plan: a target that lacks the generation is pushed without minting") {
  auto in =
      input({github::Target::repository("acme", "app"), github::Target::organization("acme")});
  StoredKubeconfig s = fresh();
  s.targets["org:acme"] = {3, kNow - hours(28), "Bad credentials", kNow - hours(4)};
  Plan plan = plan_sync(in, s, alive({3, 4}), kNow);
  CHECK(plan.action == Plan::Action::kPush);
  CHECK(plan.generation == 4);
  REQUIRE(plan.to_push.size() == 1);
  CHECK(plan.to_push[0].id() == "org:acme");
  CHECK(plan.reason.find("1 of 2 GitHub targets lack it") != std::string::npos);
}

TEST_CASE("rotation plan: each reason to renew mints the next generation") {
  struct Case {
    const char* name;
    std::function<void(StoredKubeconfig&, PlanInput&, std::vector<GenerationSecret>&)> change;
    const char* reason;
  };
  const Case cases[] = {
      {"nothing stored", [](auto& s, auto&, auto&) { s = StoredKubeconfig{}; },
       "no kubeconfig is stored yet"},
      {"forced", [](auto&, auto& in, auto&) { in.force = true; }, "forced"},
      {"under refresh-before", [](auto& s, auto&, auto&) { s.expires_at = kNow + hours(7); },
       "expires in 7h, under --refresh-before 8h"},
      {"expired", [](auto& s, auto&, auto&) { s.expires_at = kNow - hours(1); }, "expired at"},
      {"revoked", [](auto& s, auto&, auto&) { s.revoked_at = kNow; }, "was revoked"},
      {"generation Secret gone", [](auto&, auto&, auto& g) { g = alive({3}); }, "is gone"},
      {"other ServiceAccount", [](auto&, auto& in, auto&) { in.service_account = "ops/sa"; },
       "ServiceAccount changed"},
      {"other server", [](auto&, auto& in, auto&) { in.server = "https://new.example.com"; },
       "server changed"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    StoredKubeconfig s = fresh();
    PlanInput in = input();
    auto gens = alive({3, 4});
    c.change(s, in, gens);
    Plan plan = plan_sync(in, s, gens, kNow);
    CHECK(plan.action == Plan::Action::kMint);
    CHECK(plan.reason.find(c.reason) != std::string::npos);
    CHECK(plan.to_push.size() == in.targets.size());
  }
}

TEST_CASE("rotation plan: the next generation follows the highest one seen anywhere") {
  StoredKubeconfig s = fresh();
  s.expires_at = kNow;  // due
  CHECK(plan_sync(input(), s, alive({3, 4}), kNow).generation == 5);
  // A generation Secret newer than the annotation (an interrupted run) is
  // never reused, and the plan names it to delete.
  Plan plan = plan_sync(input(), s, alive({4, 7}), kNow);
  CHECK(plan.generation == 8);
  CHECK(names(plan.orphans) == std::vector<long>{7});
}

TEST_CASE("rotation plan: pruning keeps the newest and the one before, or only the newest") {
  auto gens = alive({2, 3, 4, 5});
  CHECK(names(generations_to_prune(gens, 5, false)) == std::vector<long>{2, 3});
  CHECK(names(generations_to_prune(gens, 5, true)) == std::vector<long>{2, 3, 4});
  CHECK(generations_to_prune(alive({5}), 5, true).empty());
  // The one before is the highest below the newest, wherever a gap is.
  CHECK(names(generations_to_prune(alive({1, 3}), 3, false)).empty());
  CHECK(names(generations_to_prune(alive({1, 2, 4}), 4, false)) == std::vector<long>{1});
}

TEST_CASE("rotation plan: generations above the stored one are orphans of a failed run") {
  CHECK(names(orphan_generations(alive({1, 2, 3}), 1)) == std::vector<long>{2, 3});
  CHECK(orphan_generations(alive({1, 2}), 2).empty());
  // Nothing stored: any of them may be what GitHub still holds.
  CHECK(orphan_generations(alive({1, 2}), 0).empty());
}

}  // namespace rotation_plan_test
