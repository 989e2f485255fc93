#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <cstring>
#include <functional>
#include <iostream>

#include "cli/flags.h"
#include "cli/values.h"
#include "commands/kubeconfig.h"
#include "core/error.h"
#include "core/file.h"
#include "core/log.h"
#include "crypto/pem.h"
#include "http/http.h"
#include "kube/config_loader.h"

namespace fluxkey::cli {
namespace {

constexpr auto kMinTokenTtl = std::chrono::minutes(10);

void configure_logging(const RawFlags& flags) {
  std::string format = parse_choice("--log-format", flags.log_format, {"text", "json"});
  logger().set_format(format == "json" ? LogFormat::kJson : LogFormat::kText);
}

commands::EndpointOptions endpoint_options(const RawFlags& flags) {
  commands::EndpointOptions out;
  if (!flags.server.empty()) out.server = parse_https_url("--server", flags.server);
  if (!flags.server_ca.empty() && !flags.server_ca_from.empty()) {
    throw UsageError("--server-ca and --server-ca-from exclude each other; pass one");
  }
  if (!flags.server_ca_from.empty()) {
    out.ca_from = parse_choice("--server-ca-from", flags.server_ca_from,
                               {"in-cluster", "cluster-info", "system"});
  }
  if (!flags.server_ca.empty()) {
    out.ca_pem = read_file(expand_home(flags.server_ca), "--server-ca");
    if (crypto::count_pem_certificates(out.ca_pem) == 0) {
      throw UsageError("--server-ca " + flags.server_ca +
                       " holds no PEM certificate; pass the API server's CA (ca.crt)");
    }
  }
  return out;
}

commands::KubeconfigOptions kubeconfig_options(const RawFlags& flags) {
  commands::KubeconfigOptions out;
  out.service_account = parse_namespaced_name("--service-account", flags.service_account);
  out.token_ttl = std::chrono::duration_cast<std::chrono::seconds>(
      parse_duration_flag("--token-ttl", flags.token_ttl, kMinTokenTtl));
  for (const auto& audience : flags.audiences) {
    if (audience.empty()) throw UsageError("invalid --audience \"\": an audience cannot be empty");
  }
  out.audiences = flags.audiences;
  out.endpoint = endpoint_options(flags);
  out.output = flags.output.empty() ? flags.output : expand_home(flags.output);
  out.dry_run = flags.dry_run;
  return out;
}

kube::ConnectionOptions connection_options(const RawFlags& flags) {
  return {flags.kubeconfig.empty() ? "" : expand_home(flags.kubeconfig), flags.context};
}

// --config FILE, --config=FILE or $FLUXKEY_CONFIG, found before CLI11 parses
// so that flags and environment variables can override the file.
std::string find_config_path(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
    if (std::strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
  }
  const char* env = std::getenv("FLUXKEY_CONFIG");
  return env != nullptr ? env : "";
}

std::string first_subcommand(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] != '-') return argv[i];
  }
  return "";
}

// CLI11 names a subcommand alone in its usage line; users type the full path.
class Formatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App* app, std::string name) const override {
    for (const CLI::App* parent = app->get_parent(); parent != nullptr;
         parent = parent->get_parent()) {
      name = parent->get_name() + " " + name;
    }
    return CLI::Formatter::make_usage(app, name);
  }
};

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{
      "fluxkey keeps GitHub Actions able to drive Flux: it mints short-lived ServiceAccount "
      "tokens, wraps them in a kubeconfig and hands them out.",
      "fluxkey"};
  app.require_subcommand(0, 1);
  app.footer("Run 'fluxkey COMMAND --help' for a command's flags.");
  app.set_version_flag("--version", "fluxkey " FLUXKEY_VERSION);
  app.formatter(std::make_shared<Formatter>());

  RawFlags flags;
  std::function<void()> action;

  auto* kubeconfig =
      app.add_subcommand("kubeconfig",
                         "Mint a token and print a kubeconfig around it (touches no Secret and no "
                         "GitHub)");
  kubeconfig->footer(
      "Exit codes: 0 done, 1 failed (nothing written), 2 usage or configuration error.");
  register_flags(*kubeconfig, flags, kKubeconfig);
  kubeconfig->callback([&] {
    configure_logging(flags);
    commands::KubeconfigOptions options = kubeconfig_options(flags);
    action = [&flags, options] {
      kube::Client client(kube::load_rest_config(connection_options(flags)));
      commands::run_kubeconfig(options, client, stdout);
    };
  });

  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([&] { action = [] { std::cout << "fluxkey " FLUXKEY_VERSION "\n"; }; });

  try {
    if (std::string config = find_config_path(argc, argv); !config.empty()) {
      if (first_subcommand(argc, argv) == "kubeconfig") {
        apply_config_file(expand_home(config), flags, kKubeconfig);
      }
    }
    app.parse(argc, argv);
    if (!action) {
      std::cout << app.help();
      return argc > 1 ? static_cast<int>(ExitCode::kUsage) : 0;
    }
    action();
    return 0;
  } catch (const CLI::CallForHelp&) {
    std::cout << (app.get_subcommands().empty() ? app.help()
                                                : app.get_subcommands().front()->help());
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string where = app.get_subcommands().empty()
                            ? "fluxkey --help"
                            : "fluxkey " + app.get_subcommands().front()->get_name() + " --help";
    logger().error(std::string(e.what()) + " (see '" + where + "')");
    return static_cast<int>(ExitCode::kUsage);
  } catch (const Error& e) {
    logger().error(e.what());
    return static_cast<int>(e.code());
  }
}

}  // namespace fluxkey::cli
