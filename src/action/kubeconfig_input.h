// The action's kubeconfig input: the GitHub secret fluxkey sync pushes,
// base64 on one line (--github-format base64) or the YAML itself (raw).
// Everything here treats the input as a secret: no message quotes it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "kube/rest_config.h"

namespace fluxkey::action {

// What the step must mask before it prints anything: the whole input when it
// is one line (each line of wrapped base64), and every credential inside the
// kubeconfig decode_input gives (tokens, client keys, passwords), found by
// parsing it and, should it not parse, by scanning its lines. Never throws:
// it runs before the input is checked, so it makes do with whatever it is.
std::vector<std::string> secrets_in_input(const std::string& input);

struct DecodedInput {
  std::string yaml;     // the kubeconfig (secret)
  bool base64 = false;  // whether the input was base64
};

// Tells raw YAML from base64 and decodes the latter. Throws UsageError for
// an empty input and for one that is neither.
DecodedInput decode_input(const std::string& input);

// decode_input, then the kubeconfig parsed for its current context. Throws
// UsageError (exit 2) with a one-line message naming the input and the fix,
// including when the token is a JWT that expired before `now` (its exp read
// without verifying anything, by flux::jwt_expiry).
kube::RestConfig load_input(const std::string& input, Clock::time_point now);

}  // namespace fluxkey::action
