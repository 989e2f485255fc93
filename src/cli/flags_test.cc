#include "cli/flags.h"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "support/temp_dir.h"

namespace cli_flags_test {

using namespace fluxkey;
using namespace fluxkey::cli;

namespace {

// A config file in a private temporary folder, removed afterwards.
struct ConfigFile {
  explicit ConfigFile(const std::string& text) : path(dir.write("config.yaml", text)) {}
  fluxkey::testing::TempDir dir;
  std::string path;
};

std::string usage_error_of(const std::string& text) {
  ConfigFile file(text);
  RawFlags flags;
  try {
    apply_config_file(file.path, flags, kKubeconfig);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config file keys are the flag names; flags override them") {
  ConfigFile file(
      "token-ttl: 12h\n"
      "service-account: ops/reconciler\n"
      "audience: [a, b]\n"
      "github-repo: acme/web\n"  // another command's key: accepted, left alone
      "dry-run: true\n");
  RawFlags flags;
  apply_config_file(file.path, flags, kKubeconfig);
  CHECK(flags.token_ttl == "12h");
  CHECK(flags.service_account == "ops/reconciler");
  CHECK(flags.audiences == std::vector<std::string>{"a", "b"});
  CHECK(flags.github_repos.empty());
  CHECK(flags.dry_run);

  CLI::App app;
  register_flags(app, flags, kKubeconfig);
  // CLI11 takes a vector of arguments in reverse order.
  std::vector<std::string> reversed{"2h", "--token-ttl"};
  app.parse(reversed);
  CHECK(flags.token_ttl == "2h");
  CHECK(flags.service_account == "ops/reconciler");
}

TEST_CASE("a flag with a meaning per command has a row per command, in help and config") {
  for (Command which : {kSync, kReconcile}) {
    RawFlags flags;
    CLI::App app;
    register_flags(app, flags, which);
    std::string help = app.help();
    CAPTURE(help);
    CHECK((help.find("stored token is fresh") != std::string::npos) == (which == kSync));
    CHECK((help.find("Helm install") != std::string::npos) == (which == kReconcile));

    ConfigFile file("force: true\n");
    apply_config_file(file.path, flags, which);
    CHECK(flags.force);
  }
  RawFlags status;
  ConfigFile file("force: true\n");
  apply_config_file(file.path, status, kStatus);  // known key, not status's: left alone
  CHECK_FALSE(status.force);
}

TEST_CASE("-o is kubeconfig's file and status's format, as kubectl's -o") {
  RawFlags status;
  CLI::App status_app;
  register_flags(status_app, status, kStatus);
  CHECK(status.status_output == "table");
  status_app.parse("-o json", false);
  CHECK(status.status_output == "json");
  CHECK(status.output.empty());

  RawFlags kubeconfig;
  CLI::App kubeconfig_app;
  register_flags(kubeconfig_app, kubeconfig, kKubeconfig);
  kubeconfig_app.parse("-o out.yaml", false);
  CHECK(kubeconfig.output == "out.yaml");
  CHECK(kubeconfig.status_output == "table");
}

TEST_CASE("config file errors name the file and the key") {
  CHECK(usage_error_of("token_ttl: 12h\n").find("unknown key \"token_ttl\"") != std::string::npos);
  CHECK(usage_error_of("config: other.yaml\n").find("unknown key \"config\"") != std::string::npos);
  CHECK(usage_error_of("token-ttl: [1h]\n").find("\"token-ttl\" wants a single value") !=
        std::string::npos);
  CHECK(usage_error_of("dry-run: maybe\n").find("\"dry-run\" wants true or false") !=
        std::string::npos);
  CHECK(usage_error_of("- a\n- b\n").find("want a map of settings") != std::string::npos);
  CHECK(usage_error_of("a: [\n").find("is not valid YAML") != std::string::npos);
  CHECK(usage_error_of("").empty());
}

TEST_CASE("a missing config file is a usage error naming it") {
  RawFlags flags;
  CHECK_THROWS_WITH_AS(
      apply_config_file("/nonexistent/fluxkey.yaml", flags, kKubeconfig),
      "cannot read config file /nonexistent/fluxkey.yaml: No such file or directory", UsageError);
}

TEST_CASE("config file: odd keys are usage errors on one line (fuzz)") {
  // A key that is a list used to escape as a yaml-cpp conversion error.
  CHECK(usage_error_of("? [a, b]\n: 1\n").find("keys are flag names") != std::string::npos);
  std::string quoted = usage_error_of("\"token\\nttl\": 1h\n");
  CHECK(quoted.find("unknown key \"token\\nttl\"") != std::string::npos);
  CHECK(quoted.find('\n') == std::string::npos);
  CHECK(usage_error_of("a: \"\\\n\"\n").find('\n') == std::string::npos);
}

}  // namespace cli_flags_test
