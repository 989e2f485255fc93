// A stand-in for the flux binary that `reconcile --flux-cli` runs: it writes
// down what fluxkey handed it, so a test can check that the kubeconfig came
// in a private 0600 file and no secret in argv or the environment.
#pragma once

#include <string>

namespace fluxkey::testing {

// A /bin/sh script that appends to `record`: `arg:A` for each argument, the
// `--kubeconfig` file it was given as `path:P`, `mode:M` (the file's mode)
// and `dirmode:M` (its folder's), and `env:NAME=VALUE` for its environment;
// then runs `rest`.
inline std::string recording_flux_script(const std::string& record, const std::string& rest) {
  return "#!/bin/sh\n"
         "exec >> '" +
         record +
         "'\n"
         "for a in \"$@\"; do echo \"arg:$a\"; done\n"
         "k=; prev=\n"
         "for a in \"$@\"; do [ \"$prev\" = --kubeconfig ] && k=$a; prev=$a; done\n"
         "echo \"path:$k\"\n"
         "echo \"mode:$(stat -c %a \"$k\")\"\n"
         "echo \"dirmode:$(stat -c %a \"$(dirname \"$k\")\")\"\n"
         "env | sed 's/^/env:/'\n" +
         rest;
}

// The kubeconfig path the first run recorded ("" when none did).
inline std::string recorded_kubeconfig_path(const std::string& record_text) {
  size_t at = record_text.find("path:");
  if (at == std::string::npos) return "";
  at += 5;
  return record_text.substr(at, record_text.find('\n', at) - at);
}

}  // namespace fluxkey::testing
