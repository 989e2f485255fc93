#include "commands/reconcile.h"

#include "flux/credentials.h"
#include "flux/flux_cli.h"
#include "kube/client.h"

namespace fluxkey::commands {

flux::ReconcileResult run_reconcile(const ReconcileCommandOptions& options, std::FILE* out) {
  kube::RestConfig config = flux::load_reconcile_config(options.connection);
  flux::ReconcileResult result;
  if (options.flux_cli) {
    result = flux::reconcile_with_flux_cli(options.reconcile, config);
  } else {
    kube::Client client(config);
    try {
      result = flux::reconcile(options.reconcile, client);
    } catch (const kube::ApiError& e) {
      if (e.status() != 401) throw;
      throw Error(flux::unauthorized_message(client.config(), Clock::now()));
    }
  }
  if (!result.revision.empty()) {
    std::fprintf(out, "%s\n", result.revision.c_str());
    std::fflush(out);
  }
  return result;
}

}  // namespace fluxkey::commands
