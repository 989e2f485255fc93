#include "action/command.h"

#include <unistd.h>

#include <cstdio>

#include "action/run.h"

namespace fluxkey::action {

ExitCode run_action_command() {
  // The runner reads stdout and stderr through two pipes and may interleave
  // them in either order; the masks must come before any line, so the
  // progress the logger writes to stderr joins stdout, in order.
  std::fflush(stdout);
  std::fflush(stderr);
  if (::dup2(STDOUT_FILENO, STDERR_FILENO) < 0) {
    throw Error("cannot send stderr to stdout for the runner's log");
  }
  ActionContext context{
      .env = process_env(),
      .out = stdout,
      .reconcile = [](const flux::ReconcileOptions& options,
                      kube::Client& client) { return flux::reconcile(options, client); },
      .make_client =
          [](kube::RestConfig config) { return std::make_unique<kube::Client>(std::move(config)); },
  };
  return run_action(context);
}

}  // namespace fluxkey::action
