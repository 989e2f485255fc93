// The action's inputs (action.yml), as the runner hands them over: one
// environment variable each, INPUT_ and the input's name upper-cased with
// its hyphens kept (INPUT_WITH-SOURCE). The runner passes "" for an input
// the workflow left out, so "" means the default.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "flux/reconcile.h"

namespace fluxkey::action {

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
EnvLookup process_env();

// INPUT_<NAME> for an input name as action.yml spells it.
std::string input_variable(const std::string& input);

// The kubeconfig input, untouched (it is a secret: callers mask it first).
std::string raw_kubeconfig_input(const EnvLookup& env);

// Every other input, trimmed, defaulted and checked. Throws UsageError naming
// the input and what it accepts.
flux::ReconcileOptions reconcile_inputs(const EnvLookup& env);

}  // namespace fluxkey::action
