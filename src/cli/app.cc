#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "action/command.h"
#include "cli/flags.h"
#include "cli/options.h"
#include "cli/values.h"
#include "commands/version.h"
#include "core/build_stamp.h"
#include "core/error.h"
#include "core/file.h"
#include "core/log.h"

namespace fluxkey::cli {
namespace {

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
  app.set_version_flag("--version", std::string("fluxkey ") + build_version());
  app.formatter(std::make_shared<Formatter>());

  RawFlags flags;
  std::function<ExitCode()> action;
  auto kube_client = [&flags] {
    return kube::Client(kube::load_rest_config(connection_options(flags)));
  };

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
    action = [&, options] {
      kube::Client client = kube_client();
      client.http().set_request_timeout(request_timeout(flags));
      commands::run_kubeconfig(options, client, stdout);
      return ExitCode::kOk;
    };
  });

  const char* sync_footer =
      "Exit codes: 0 done or nothing to do, 1 failed (nothing changed, or what changed is "
      "reported), 2 usage or configuration error, 3 partial: the cluster Secret holds the new "
      "kubeconfig but some GitHub targets failed.";
  auto sync_action = [&](bool rotate) {
    configure_logging(flags);
    commands::SyncOptions options = sync_options(flags);
    if (rotate) {
      options.force = true;
      options.revoke_previous = flags.revoke_previous;
    }
    std::optional<github::ClientOptions> github_options_;
    if (!options.targets.empty()) github_options_ = github_options(flags);
    action = [&, options, github_options_] {
      kube::Client client = kube_client();
      client.http().set_request_timeout(request_timeout(flags));
      std::unique_ptr<github::Client> github;
      if (github_options_) github = std::make_unique<github::Client>(*github_options_);
      return commands::run_sync(options, client, github.get());
    };
  };
  auto* sync = app.add_subcommand(
      "sync",
      "Renew the kubeconfig when due and push it to every GitHub target (what the CronJob runs)");
  sync->footer(sync_footer);
  register_flags(*sync, flags, kSync);
  sync->callback([&] { sync_action(false); });

  auto* rotate = app.add_subcommand(
      "rotate", "Mint a new kubeconfig now and push it everywhere (sync --force)");
  rotate->footer(sync_footer);
  register_flags(*rotate, flags, kRotate);
  rotate->callback([&] { sync_action(true); });

  auto* revoke =
      app.add_subcommand("revoke", "Revoke tokens at once: every one but the newest, or --all");
  revoke->footer("Exit codes: 0 done or nothing to revoke, 1 failed, 2 usage error.");
  register_flags(*revoke, flags, kRevoke);
  revoke->callback([&] {
    configure_logging(flags);
    commands::RevokeOptions options = revoke_options(flags);
    action = [&, options] {
      kube::Client client = kube_client();
      client.http().set_request_timeout(request_timeout(flags));
      return commands::run_revoke(options, client);
    };
  });

  auto* status = app.add_subcommand(
      "status", "Show the stored kubeconfig's generation, expiry and per-target push state");
  status->footer(
      "Exit codes: 0 healthy, 1 expired, revoked, within --warn-before of expiry, or failed to "
      "read, 2 usage error.");
  register_flags(*status, flags, kStatus);
  status->callback([&] {
    configure_logging(flags);
    commands::StatusOptions options = status_options(flags);
    action = [&, options] {
      kube::Client client = kube_client();
      client.http().set_request_timeout(request_timeout(flags));
      return commands::run_status(options, client, stdout);
    };
  });

  auto* reconcile = app.add_subcommand(
      "reconcile",
      "What `flux reconcile` does, natively: annotate (the source first with --with-source), then "
      "wait for Ready; the revision goes to stdout");
  reconcile->footer(
      "Credentials: FLUXKEY_KUBECONFIG_DATA (kubeconfig YAML or its base64) wins over "
      "--kubeconfig.\nExit codes: 0 ready, 1 failed (refused, unreachable, suspended, stalled or "
      "failed reconcile), 2 usage or configuration error, 4 not ready within --timeout.");
  register_flags(*reconcile, flags, kReconcile);
  reconcile->callback([&] {
    configure_logging(flags);
    commands::ReconcileCommandOptions options = reconcile_options(flags);
    action = [options] {
      commands::run_reconcile(options, stdout);
      return ExitCode::kOk;
    };
  });

  auto* action_command = app.add_subcommand(
      "action",
      "Run as the GitHub Action (action.yml): inputs from INPUT_*, reconcile, then the step's "
      "outputs, job summary and masks");
  action_command->footer(
      "Inputs: INPUT_KUBECONFIG (required: the secret, base64 or raw), INPUT_KIND, INPUT_NAME, "
      "INPUT_NAMESPACE, INPUT_WITH-SOURCE, INPUT_TIMEOUT, INPUT_FORCE; \"\" means the default.\n"
      "Exit codes: 0 ready, 1 failed, 2 bad input, 4 not ready within the timeout.");
  action_command->callback([&] { action = [] { return fluxkey::action::run_action_command(); }; });

  auto* version = app.add_subcommand(
      "version",
      "Print the version, commit, build date, platform and the libcurl, OpenSSL and libsodium "
      "versions fluxkey runs with (what a bug report needs)");
  version->footer("Exit codes: 0 done, 2 usage error.");
  std::string version_output = "text";
  version->add_option("-o,--output", version_output, "text, json or yaml")
      ->type_name("FORMAT")
      ->capture_default_str();
  version->callback([&] {
    std::string output = parse_choice("--output", version_output, {"text", "json", "yaml"});
    action = [output] {
      commands::run_version(output, stdout);
      return ExitCode::kOk;
    };
  });

  try {
    if (std::string config = find_config_path(argc, argv); !config.empty()) {
      if (unsigned which = command_of(first_subcommand(argc, argv)); which != 0) {
        apply_config_file(expand_home(config), flags, static_cast<Command>(which));
      }
    }
    app.parse(argc, argv);
    if (!action) {
      std::cout << app.help();
      return argc > 1 ? static_cast<int>(ExitCode::kUsage) : 0;
    }
    return static_cast<int>(action());
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
