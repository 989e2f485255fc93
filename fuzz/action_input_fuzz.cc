// The kubeconfig as a workflow hands it over: the action's `kubeconfig`
// input (action::secrets_in_input, decode_input, load_input) and
// FLUXKEY_KUBECONFIG_DATA (flux::parse_kubeconfig_data), each base64 or the
// YAML itself. Both resolve relative file names against the working
// directory: here every such read fails as a missing file (fuzz_support.h).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "action/kubeconfig_input.h"
#include "core/base64.h"
#include "core/text.h"
#include "flux/credentials.h"
#include "fuzz_support.h"

namespace {

using fluxkey::fuzz::require;

// 2026-11-28T00:00:00Z: tokens in the seeds expire on either side of it.
const fluxkey::Clock::time_point kNow{std::chrono::seconds(1795824000)};

std::string load_message(const std::string& input) {
  return fluxkey::fuzz::expect_errors_only("load_input",
                                           [&] { fluxkey::action::load_input(input, kNow); });
}

// The value load_reconcile_config reads from the environment, handed over
// directly: a setenv per input would keep every value it replaced (glibc
// never frees them), and the process would grow by the input's size each time.
std::string reconcile_config_message(const std::string& data) {
  return fluxkey::fuzz::expect_errors_only("parse_kubeconfig_data",
                                           [&] { fluxkey::flux::parse_kubeconfig_data(data, {}); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  // Documented never to throw: it runs before anything is checked.
  std::vector<std::string> masks;
  try {
    masks = fluxkey::action::secrets_in_input(input);
  } catch (const std::exception& e) {
    fluxkey::fuzz::fail(std::string("secrets_in_input threw: ") + e.what());
  }
  for (const auto& mask : masks) {
    require(!mask.empty() && mask == fluxkey::trim(mask), "a mask is empty or untrimmed");
  }

  fluxkey::action::DecodedInput decoded;
  bool decodes = false;
  fluxkey::fuzz::expect_errors_only("decode_input", [&] {
    decoded = fluxkey::action::decode_input(input);
    decodes = true;
  });
  if (decodes) {
    if (decoded.base64) {
      require(fluxkey::base64_decode(fluxkey::trim(input)) == decoded.yaml,
              "base64 input decoded to something else");
    } else {
      require(decoded.yaml == fluxkey::trim(input) + "\n", "raw input was altered");
    }
    fluxkey::kube::RestConfig config;
    std::string message = fluxkey::fuzz::expect_errors_only(
        "load_input", [&] { config = fluxkey::action::load_input(input, kNow); });
    if (message.empty() && !config.token.empty()) {
      // The action masks the token before it prints anything.
      require(std::find(masks.begin(), masks.end(), config.token.str()) != masks.end(),
              "the kubeconfig's token is not among the masks");
    }
    fluxkey::fuzz::check_no_secret_leak(
        decoded.yaml, decoded.yaml, message, [&](const std::string& altered) {
          return load_message(decoded.base64 ? fluxkey::base64_encode(altered) : altered);
        });
  }

  // FLUXKEY_KUBECONFIG_DATA parses the same kubeconfig once more: done for
  // inputs of even length only, which keeps the target fast enough for long
  // runs and still gives that reader every kind of input.
  if (size % 2 != 0) return 0;
  // The environment cannot hold a NUL: the variable ends at the first one.
  const std::string env_data = input.substr(0, input.find('\0'));
  std::string yaml;
  fluxkey::fuzz::expect_errors_only(
      "decode_kubeconfig_data", [&] { yaml = fluxkey::flux::decode_kubeconfig_data(env_data); });
  if (yaml.empty()) return 0;
  std::string message = reconcile_config_message(env_data);
  fluxkey::fuzz::check_no_secret_leak(yaml, yaml, message, [&](const std::string& altered) {
    const bool base64 = fluxkey::base64_decode(fluxkey::trim(env_data)).has_value();
    return reconcile_config_message(base64 ? fluxkey::base64_encode(altered) : altered);
  });
  return 0;
}
