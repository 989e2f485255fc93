// kube::parse_kubeconfig: the kubeconfig fluxkey itself connects with
// (--kubeconfig, $KUBECONFIG, ~/.kube/config). The file sits in a private
// folder holding a CA, a token and a client certificate and key, so that
// relative file references resolve; the product reads no other file
// (fuzz_support.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "kube/config_loader.h"

namespace {

using fluxkey::fuzz::private_folder;
using fluxkey::fuzz::require;

std::string parse_message(const std::string& yaml, const std::string& path) {
  return fluxkey::fuzz::expect_errors_only(
      "parse_kubeconfig", [&] { fluxkey::kube::parse_kubeconfig(yaml, path, ""); });
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fluxkey::fuzz::readable_folder() = private_folder().path();
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  private_folder().write("ca.crt", pem);
  private_folder().write("client.crt", pem);
  private_folder().write("client.key",
                         "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n");
  private_folder().write("token", "fuzz-file-token\n");
  private_folder().write("empty", "");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  const std::string path = private_folder().path() + "/config";

  fluxkey::kube::RestConfig config;
  std::string message = fluxkey::fuzz::expect_errors_only("parse_kubeconfig", [&] {
    config = fluxkey::kube::parse_kubeconfig(yaml, path, "");
    // What a successful parse promises the client.
    require(config.server.rfind("https://", 0) == 0, "server is not https: " + config.server);
    require(config.server.size() == 8 || config.server.back() != '/', "server keeps a slash");
    require(!config.token.empty() || !config.token_file.empty() ||
                !config.tls.client_cert_pem.empty() || config.exec.has_value(),
            "a config without credentials was accepted");
    require(config.tls.client_cert_pem.empty() == config.tls.client_key_pem.empty(),
            "a client certificate without its key (or the reverse) was accepted");
    require(config.token_file.empty() || config.token_file.rfind(private_folder().path(), 0) == 0,
            "tokenFile resolved outside the kubeconfig's folder: " + config.token_file);
    require(!config.origin.empty(), "no origin");
  });
  fluxkey::fuzz::check_no_secret_leak(yaml, yaml, message, [&](const std::string& altered) {
    return parse_message(altered, path);
  });
  return 0;
}
