// kube-sim: a local HTTPS stand-in for the Kubernetes API, for fluxkey's
// integration tests, demo and benchmarks. See tests/sim/README.md.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "core/error.h"
#include "core/file.h"
#include "sim/common/secret_ledger.h"
#include "sim/common/sim_server.h"
#include "sim/kube/flux.h"
#include "sim/kube/kube_api.h"
#include "sim/kube/kubeconfig.h"
#include "sim/kube/rbac.h"
#include "sim/kube/watch.h"
#include "sim/kube/yaml_json.h"

namespace {

using fluxkey::sim::kube::ApiError;

std::string reason_for(int status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "";
  }
}

}  // namespace

int main(int argc, char** argv) {
  fluxkey::sim::SimOptions options;
  std::vector<std::string> seed_files;
  std::string cluster_info_server;
  std::string admin_token_file;
  CLI::App app{"kube-sim: a local stand-in for the Kubernetes API"};
  fluxkey::sim::add_sim_options(app, options);
  app.add_option("--seed", seed_files, "multi-document YAML of objects to create (repeatable)")
      ->check(CLI::ExistingFile);
  app.add_option("--cluster-info-server", cluster_info_server,
                 "server URL published in kube-public/cluster-info (default: kube-sim's own URL)");
  app.add_option(
      "--admin-token-file", admin_token_file,
      "admin bearer token: read from FILE when it exists, else generated and written there");
  fluxkey::sim::rbac::RbacFlags rbac_flags;
  fluxkey::sim::rbac::add_flags(app, rbac_flags);
  fluxkey::sim::flux::FluxFlags flux_flags;
  fluxkey::sim::flux::add_flags(app, flux_flags);
  CLI11_PARSE(app, argc, argv);

  try {
    // Parse the seeds before anything listens, so a bad file fails fast.
    std::vector<nlohmann::json> seeds;
    for (const auto& file : seed_files) {
      try {
        for (auto& doc : fluxkey::sim::kube::parse_yaml_documents(fluxkey::read_file(file, "seed")))
          seeds.push_back(std::move(doc));
      } catch (const std::runtime_error& e) {
        throw fluxkey::UsageError("cannot parse seed " + file + ": " + e.what());
      }
    }

    fluxkey::sim::SimServer server("kube-sim", options);
    fluxkey::sim::open_secret_ledger(server.state_dir());
    server.request_client_certificates();
    fluxkey::sim::kube::KubeApi api(server);

    std::string admin_token;
    if (!admin_token_file.empty() && ::access(admin_token_file.c_str(), F_OK) == 0) {
      admin_token = fluxkey::read_file(admin_token_file, "admin token");
      while (!admin_token.empty() && (admin_token.back() == '\n' || admin_token.back() == '\r')) {
        admin_token.pop_back();
      }
      if (admin_token.empty())
        throw fluxkey::UsageError("admin token file " + admin_token_file + " is empty");
    } else {
      admin_token = fluxkey::sim::kube::random_token();
      if (!admin_token_file.empty())
        fluxkey::write_private_file(admin_token_file, admin_token + "\n");
    }
    api.authenticator().add_token(admin_token, {"admin", "", {"system:masters"}, {}});
    fluxkey::sim::record_secret("admin token", admin_token);

    server.set_handler([&api](const httplib::Request& req, httplib::Response& res,
                              fluxkey::sim::SimContext& ctx) { api.handle(req, res, ctx); });
    server.set_fault_body_builder([](int status) {
      nlohmann::json s = {{"kind", "Status"},
                          {"apiVersion", "v1"},
                          {"metadata", nlohmann::json::object()},
                          {"status", "Failure"},
                          {"message", "kube-sim injected fault: HTTP " + std::to_string(status)},
                          {"code", status}};
      if (!reason_for(status).empty()) s["reason"] = reason_for(status);
      return std::make_pair(std::string("application/json"), s.dump());
    });

    // ----- extensions: the Flux kinds, watch and RBAC -----
    fluxkey::sim::watch::WatchService watch(api);
    fluxkey::sim::rbac::RbacService rbac(api);
    fluxkey::sim::flux::FluxService flux(api, fluxkey::sim::flux::parse_api_set(flux_flags.api));
    try {
      rbac.load_files(rbac_flags.files);
    } catch (const std::invalid_argument& e) {
      throw fluxkey::UsageError(e.what());
    }
    flux.start();

    server.on_ready([&] {
      for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
        api.seed({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
      }
      std::string published = cluster_info_server.empty() ? server.url() : cluster_info_server;
      api.seed({{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"name", "cluster-info"}, {"namespace", "kube-public"}}},
                {"data",
                 {{"kubeconfig", fluxkey::sim::kube::cluster_info_kubeconfig(
                                     published, server.pki().ca_pem())}}}});
      for (const auto& doc : seeds) api.seed(doc);
      fluxkey::write_private_file(
          server.state_dir() + "/admin.kubeconfig",
          fluxkey::sim::kube::admin_kubeconfig(server.url(), server.pki().ca_pem(), admin_token));
      fluxkey::write_private_file(server.state_dir() + "/admin.token", admin_token + "\n");
    });
    return server.run();
  } catch (const ApiError& e) {
    std::cerr << "kube-sim: cannot seed: " << e.what() << std::endl;
    return 2;
  } catch (const fluxkey::Error& e) {
    std::cerr << "kube-sim: " << e.what() << std::endl;
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::cerr << "kube-sim: " << e.what() << std::endl;
    return 1;
  }
}
