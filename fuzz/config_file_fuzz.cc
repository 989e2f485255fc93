// cli::apply_config_file, the --config YAML file (the CronJob mounts it from
// a ConfigMap), for every command, then the option builders that validate
// what it set. Files the settings name (--server-ca, --github-token-file,
// --github-app-key) are readable only inside the run's folder
// (fuzz_support.h).
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "cli/flags.h"
#include "cli/options.h"
#include "fuzz_support.h"

namespace {

using fluxkey::cli::Command;
using fluxkey::fuzz::expect_errors_only;
using fluxkey::fuzz::private_folder;

void build_options(const fluxkey::cli::RawFlags& flags, Command which) {
  switch (which) {
    case fluxkey::cli::kKubeconfig:
      expect_errors_only("kubeconfig_options", [&] { fluxkey::cli::kubeconfig_options(flags); });
      break;
    case fluxkey::cli::kSync:
    case fluxkey::cli::kRotate:
      expect_errors_only("sync_options", [&] { fluxkey::cli::sync_options(flags); });
      expect_errors_only("github_options", [&] { fluxkey::cli::github_options(flags); });
      break;
    case fluxkey::cli::kRevoke:
      expect_errors_only("revoke_options", [&] { fluxkey::cli::revoke_options(flags); });
      break;
    case fluxkey::cli::kStatus:
      expect_errors_only("status_options", [&] { fluxkey::cli::status_options(flags); });
      break;
    case fluxkey::cli::kReconcile:
      expect_errors_only("reconcile_options", [&] { fluxkey::cli::reconcile_options(flags); });
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fluxkey::fuzz::readable_folder() = private_folder().path();
  // github_options takes the token from here without --github-token-file;
  // it is never sent anywhere.
  ::setenv("GITHUB_TOKEN", "fuzz-token", 1);
  ::unsetenv("GITHUB_APP_PRIVATE_KEY");
  ::unsetenv("FLUXKEY_PACING_TIME_SCALE");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      private_folder().write("config.yaml", std::string(reinterpret_cast<const char*>(data), size));
  // One command per input (so the file is read once), or all of them at
  // once: every key then applies, and every builder runs.
  constexpr Command kCommands[] = {fluxkey::cli::kKubeconfig, fluxkey::cli::kSync,
                                   fluxkey::cli::kRotate,     fluxkey::cli::kRevoke,
                                   fluxkey::cli::kStatus,     fluxkey::cli::kReconcile};
  const size_t pick = size % (std::size(kCommands) + 1);
  Command which = pick < std::size(kCommands) ? kCommands[pick] : static_cast<Command>(0);
  if (pick == std::size(kCommands)) {
    unsigned all = 0;
    for (Command c : kCommands) all |= c;
    which = static_cast<Command>(all);
  }
  fluxkey::cli::RawFlags flags;
  bool applied = false;
  expect_errors_only("apply_config_file", [&] {
    fluxkey::cli::apply_config_file(path, flags, which);
    applied = true;
  });
  if (!applied) return 0;
  for (Command c : kCommands) {
    if ((which & c) != 0) build_options(flags, c);
  }
  return 0;
}
