// What kubeconfig and sync share about minting: the API server's refusal of
// a TokenRequest names the problem only; this adds the fix.
#pragma once

#include "core/names.h"
#include "kube/client.h"

namespace fluxkey::commands {

[[noreturn]] void explain_token_failure(const kube::ApiError& e, const NamespacedName& sa);

}  // namespace fluxkey::commands
