// The credentials `fluxkey reconcile` runs with. In a workflow they arrive
// as the GitHub secret's value in FLUXKEY_KUBECONFIG_DATA (raw YAML or its
// base64, never a flag: argv is visible to every process); elsewhere the
// usual kubeconfig lookup applies. And what to say when the API server
// refuses the token: it has most likely expired, which the CronJob fixes.
#pragma once

#include <optional>
#include <string>

#include "core/time.h"
#include "kube/config_loader.h"
#include "kube/rest_config.h"

namespace fluxkey::flux {

constexpr const char* kKubeconfigDataEnv = "FLUXKEY_KUBECONFIG_DATA";

// The kubeconfig YAML in `data`: base64 of it (one line or wrapped), or the
// YAML itself. Never echoes the data in an error.
std::string decode_kubeconfig_data(const std::string& data);

// The kubeconfig FLUXKEY_KUBECONFIG_DATA holds, `data` being its value, at
// connection.context or its current context. UsageError when it is empty
// or not a kubeconfig.
kube::RestConfig parse_kubeconfig_data(const std::string& data,
                                       const kube::ConnectionOptions& connection);

// parse_kubeconfig_data of FLUXKEY_KUBECONFIG_DATA when set, else
// kube::load_rest_config(connection).
kube::RestConfig load_reconcile_config(const kube::ConnectionOptions& connection);

// The `exp` claim of a JWT bearer token, read without verifying anything
// (it only makes a message more precise); nullopt when it is not a JWT.
std::optional<Clock::time_point> jwt_expiry(const std::string& token);

// One line for a 401: which credentials were refused, when the token
// expired when that is known, and that the fluxkey CronJob renews it.
std::string unauthorized_message(const kube::RestConfig& config, Clock::time_point now);

}  // namespace fluxkey::flux
