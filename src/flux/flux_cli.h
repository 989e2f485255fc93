// `fluxkey reconcile --flux-cli`: the same request made by the real flux
// binary found on PATH, for teams that want flux's own behaviour. flux gets
// the credentials fluxkey would use in a private kubeconfig file (0600, in
// a 0700 folder, removed afterwards): never in its argv or environment.
#pragma once

#include <string>
#include <vector>

#include "core/process.h"
#include "flux/reconcile.h"
#include "kube/rest_config.h"

namespace fluxkey::flux {

// flux's arguments after argv[0]: reconcile <subcommand...> NAME -n NS
// [--with-source] [--force] [--reset] --timeout D --kubeconfig FILE.
// Throws UsageError for what flux cannot do (an unknown kind, --no-wait).
std::vector<std::string> flux_cli_args(const ReconcileOptions& options,
                                       const std::string& kubeconfig_path);

// A self-contained kubeconfig holding `config`: server, CA, and the token
// (a token file is read now), client certificate or exec plugin. Secret.
std::string render_cli_kubeconfig(const kube::RestConfig& config);

// What flux printed: the revision of its last "✔ applied/fetched revision"
// line, and its last "✗" line (the failure).
struct FluxOutput {
  std::string revision;
  std::string success;  // the last "✔" line's text
  std::string failure;  // the last "✗" line's text
};
FluxOutput parse_flux_output(const std::string& text);

// flux's exit as ours: 0 ok, a timeout (flux's own, or ours killing it) 4,
// anything else 1.
ExitCode flux_exit_code(const ProcessResult& run);

// Runs flux and forwards its output through the logger. Throws like
// reconcile(): UsageError, Error (flux missing), ReconcileError.
ReconcileResult reconcile_with_flux_cli(const ReconcileOptions& options,
                                        const kube::RestConfig& config);

}  // namespace fluxkey::flux
