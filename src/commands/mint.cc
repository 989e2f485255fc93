#include "commands/mint.h"

namespace fluxkey::commands {

void explain_token_failure(const kube::ApiError& e, const NamespacedName& sa) {
  std::string what = "cannot mint a token for ServiceAccount " + sa.str() + ": ";
  if (e.status() == 404) {
    // A token bound to a Secret that vanished meanwhile (another run pruned
    // it) has the server's own words; otherwise it is the ServiceAccount.
    if (e.server_message().find("secrets \"") != std::string::npos) {
      throw Error(what + e.server_message() + "; run it again");
    }
    throw Error(what + "it does not exist; create it (kubectl apply -k k8s/) or pass " +
                "--service-account NS/NAME");
  }
  if (e.status() == 403) {
    throw Error(what + e.server_message() +
                "; grant create on serviceaccounts/token for it (see k8s/)");
  }
  throw Error(what + e.what());
}

}  // namespace fluxkey::commands
