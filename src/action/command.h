// The `fluxkey action` command as the runner starts it: the process
// environment, stdout, the native reconcile over a real Kubernetes client.
#pragma once

#include "core/error.h"

namespace fluxkey::action {

ExitCode run_action_command();

}  // namespace fluxkey::action
