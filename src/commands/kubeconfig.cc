#include "commands/kubeconfig.h"

#include <unistd.h>

#include "commands/mint.h"
#include "core/error.h"
#include "core/file.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/time.h"
#include "kube/kubeconfig_writer.h"

namespace fluxkey::commands {
namespace {

bool to_stdout(const KubeconfigOptions& options) {
  return options.output.empty() || options.output == "-";
}

// Refuse an output path that cannot be written before a token is minted for
// nothing.
void check_output_writable(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw UsageError("cannot write --output " + path + ": folder " + dir +
                     " does not exist or is not writable");
  }
}

}  // namespace

void run_kubeconfig(const KubeconfigOptions& options, kube::Client& client, std::FILE* out) {
  if (!to_stdout(options)) check_output_writable(options.output);
  Endpoint endpoint = resolve_endpoint(client, options.endpoint);

  if (options.dry_run) {
    std::string plan = "would mint a token for ServiceAccount " + options.service_account.str() +
                       " valid for " + format_duration(options.token_ttl) + "\n" +
                       "would write a kubeconfig for server " + endpoint.server + " (from " +
                       endpoint.server_source + "), CA: " + endpoint.ca_source + "\n" + "to " +
                       (to_stdout(options) ? "stdout" : options.output) + "\n";
    std::fputs(plan.c_str(), stderr);
    return;
  }

  kube::TokenRequestSpec spec;
  spec.expiration = options.token_ttl;
  spec.audiences = options.audiences;
  kube::IssuedToken token;
  try {
    token = kube::request_token(client, options.service_account.namespace_,
                                options.service_account.name, spec);
  } catch (const kube::ApiError& e) {
    explain_token_failure(e, options.service_account);
  }

  kube::KubeconfigSpec kubeconfig;
  kubeconfig.server = endpoint.server;
  kubeconfig.ca_pem = endpoint.ca_pem;
  kubeconfig.token = std::move(token.token);
  const SecretString text(kube::render_kubeconfig(kubeconfig));

  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(token.expires_at - Clock::now());
  logger().info("minted a token for ServiceAccount " + options.service_account.str() +
                    ", valid until " + format_rfc3339(token.expires_at) + " (" +
                    format_duration(std::chrono::duration_cast<std::chrono::seconds>(left)) + ")",
                {});
  if (to_stdout(options)) {
    std::fwrite(text.view().data(), 1, text.size(), out);
    std::fflush(out);
  } else {
    write_private_file(options.output, text.str());
    logger().info("wrote " + options.output + " (mode 0600)");
  }
}

}  // namespace fluxkey::commands
