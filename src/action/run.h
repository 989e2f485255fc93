// `fluxkey action`: the GitHub Action's flow. Masks the credentials in the
// kubeconfig input before anything else, reads the other inputs, reconciles,
// then writes the step's outputs and job summary (on failure too) and an
// error annotation when it failed.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>

#include "action/inputs.h"
#include "core/error.h"
#include "core/time.h"
#include "flux/reconcile.h"
#include "kube/client.h"

namespace fluxkey::action {

using ReconcileFn =
    std::function<flux::ReconcileResult(const flux::ReconcileOptions&, kube::Client&)>;
using ClientFactory = std::function<std::unique_ptr<kube::Client>(kube::RestConfig)>;

struct ActionContext {
  EnvLookup env;   // INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY
  std::FILE* out;  // workflow commands (the runner reads them on stdout)
  ReconcileFn reconcile;
  ClientFactory make_client;  // production: a kube::Client over curl
  std::function<Clock::time_point()> now = [] { return Clock::now(); };
};

// What the step reports, whichever way it ended.
struct Outcome {
  ExitCode code = ExitCode::kOk;
  bool ready = false;
  std::string revision;
  std::string message;
  std::chrono::milliseconds duration{0};
  std::string object;  // "Kustomization flux-system/flux-system"
  std::string source;  // "GitRepository flux-system/flux-system", "" when not reached
  bool with_source = false;
};

// The job summary's Markdown for an outcome.
std::string summary_markdown(const Outcome& outcome);

// "12.3": seconds with one decimal, for the duration-seconds output.
std::string format_seconds(std::chrono::milliseconds duration);

ExitCode run_action(const ActionContext& context);

}  // namespace fluxkey::action
