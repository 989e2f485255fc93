#include "action/inputs.h"

#include <cctype>
#include <cstdlib>

#include "core/error.h"
#include "core/text.h"
#include "core/time.h"

namespace fluxkey::action {
namespace {

// The input's value, trimmed (as @actions/core reads inputs), or the default
// when it is unset or empty.
std::string input(const EnvLookup& env, const std::string& name, const std::string& fallback) {
  std::optional<std::string> value = env(input_variable(name));
  std::string trimmed = value ? trim(*value) : "";
  return trimmed.empty() ? fallback : trimmed;
}

// YAML 1.2's core schema booleans, as @actions/core's getBooleanInput takes them.
bool boolean_input(const EnvLookup& env, const std::string& name, bool fallback) {
  std::string value = input(env, name, fallback ? "true" : "false");
  if (value == "true" || value == "True" || value == "TRUE") return true;
  if (value == "false" || value == "False" || value == "FALSE") return false;
  throw UsageError("input " + name + " is \"" + value + "\"; set it to true or false");
}

// Kubernetes object and namespace names: lower-case letters, digits, '-' and
// '.'. Checked here so that a typo is named as the input it came from.
std::string name_input(const EnvLookup& env, const std::string& name, const std::string& fallback) {
  std::string value = input(env, name, fallback);
  bool valid = value.size() <= 253 && std::isalnum(static_cast<unsigned char>(value.front())) &&
               std::isalnum(static_cast<unsigned char>(value.back()));
  for (char c : value) {
    valid = valid && (std::islower(static_cast<unsigned char>(c)) ||
                      std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  }
  if (!valid) {
    throw UsageError("input " + name + " is \"" + value +
                     "\", which is not a Kubernetes name (lower-case letters, digits, '-' and "
                     "'.', starting and ending with a letter or digit)");
  }
  return value;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::string input_variable(const std::string& input) {
  // The runner's rule: spaces become '_', then upper case; '-' stays.
  std::string out = "INPUT_";
  for (char c : input) {
    out += c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string raw_kubeconfig_input(const EnvLookup& env) {
  return env(input_variable("kubeconfig")).value_or("");
}

flux::ReconcileOptions reconcile_inputs(const EnvLookup& env) {
  flux::ReconcileOptions options;
  options.kind = input(env, "kind", "kustomization");
  options.name = name_input(env, "name", "flux-system");
  options.namespace_ = name_input(env, "namespace", "flux-system");
  options.with_source = boolean_input(env, "with-source", true);
  options.force = boolean_input(env, "force", false);
  std::string timeout = input(env, "timeout", "5m");
  auto parsed = parse_duration(timeout);
  if (!parsed) {
    throw UsageError("input timeout is \"" + timeout +
                     "\", which is not a duration; write it as flux does, e.g. 5m, 90s or 1h30m");
  }
  if (parsed->count() <= 0) {
    throw UsageError("input timeout is \"" + timeout + "\"; it must be longer than 0");
  }
  options.timeout = *parsed;
  options.wait = true;
  return options;
}

}  // namespace fluxkey::action
