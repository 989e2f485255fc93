// The flags of INTERFACE.md as one table: each entry registers a CLI11 option
// on the commands that use it and names the config-file key that sets it, so
// a flag and its key can never drift apart. Values are kept as typed; the
// commands' option builders validate them (cli/values.h).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace fluxkey::cli {

// Which commands take a flag. A bit mask: a flag may serve several.
enum Command : unsigned {
  kKubeconfig = 1u << 0,
  kSync = 1u << 1,
  kRotate = 1u << 2,
  kRevoke = 1u << 3,
  kStatus = 1u << 4,
  kReconcile = 1u << 5,
};

struct RawFlags {
  std::string config;
  std::string kubeconfig;
  std::string context;
  std::string service_account = "fluxkey/flux-reconcile";
  std::string token_ttl = "24h";
  std::string refresh_before;
  std::vector<std::string> audiences;
  std::string server;
  std::string server_ca;
  std::string server_ca_from;
  std::string k8s_secret = "fluxkey/flux-kubeconfig";
  std::string github_secret = "FLUX_KUBECONFIG";
  std::vector<std::string> github_repos;
  std::vector<std::string> github_orgs;
  std::string github_org_visibility = "private";
  std::string github_org_repos;
  std::string github_api_url = "https://api.github.com";
  std::string github_token_file;
  std::string github_app_id;
  std::string github_app_key;
  std::string github_app_installation_id;
  std::string github_format = "base64";
  std::string github_max_writes_per_minute = "80";
  std::string output;
  std::string status_output = "table";
  std::string log_format = "text";
  bool verbose = false;
  std::string warn_before = "2h";
  std::string request_timeout = "30s";
  bool dry_run = false;
  bool force = false;
  bool revoke_previous = false;
  bool all = false;
  // reconcile
  std::string kind = "kustomization";
  std::string name = "flux-system";
  std::string namespace_ = "flux-system";
  bool with_source = false;
  bool reset = false;
  std::string timeout = "5m";
  bool no_wait = false;
  bool flux_cli = false;
};

// The command a subcommand name stands for, or 0.
unsigned command_of(const std::string& name);

// Adds to `command` every flag of the table whose mask includes `which`.
void register_flags(CLI::App& command, RawFlags& flags, Command which);

// Reads a --config YAML file into `flags`. Keys are the flag names without
// dashes ("token-ttl: 12h"); list flags take a YAML list or one string.
// Keys of other commands are accepted and left alone (the CronJob's file is
// shared by every command); unknown keys are usage errors naming the key.
void apply_config_file(const std::string& path, RawFlags& flags, Command which);

}  // namespace fluxkey::cli
