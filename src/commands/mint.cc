#include "commands/mint.h"

namespace fluxkey::commands {

void explain_token_failure(const kube::ApiError& e, const NamespacedName& sa) {
  std::string what = "cannot mint a token for ServiceAccount " + sa.str() + ": ";
  if (e.status() == 404) {
    // The server's words say which is missing: the ServiceAccount, or the
    // Secret the token was to be bound to.
    throw Error(what + e.server_message() + "; create it (kubectl apply -k k8s/) or pass " +
                "--service-account NS/NAME");
  }
  if (e.status() == 403) {
    throw Error(what + e.server_message() +
                "; grant create on serviceaccounts/token for it (see k8s/)");
  }
  throw Error(what + e.what());
}

}  // namespace fluxkey::commands
