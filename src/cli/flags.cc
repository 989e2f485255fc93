#include "cli/flags.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <variant>

#include "core/error.h"
#include "core/file.h"

namespace fluxkey::cli {
namespace {

using Member =
    std::variant<std::string RawFlags::*, std::vector<std::string> RawFlags::*, bool RawFlags::*>;

struct FlagSpec {
  const char* name;  // long flag name without dashes; also the config key
  Member member;
  unsigned commands;    // Command bits; 0: known key, not a flag of any command yet
  const char* env;      // fallback environment variable, or nullptr
  const char* metavar;  // what --help shows as the value; nullptr for switches
  const char* help;
};

// Order is the order of --help.
const FlagSpec kFlags[] = {
    {"config", &RawFlags::config, kKubeconfig, "FLUXKEY_CONFIG", "FILE",
     "YAML file with these settings; flags override it"},
    {"kubeconfig", &RawFlags::kubeconfig, kKubeconfig, nullptr, "FILE",
     "kubeconfig fluxkey itself uses (default: $KUBECONFIG, in-cluster, ~/.kube/config)"},
    {"context", &RawFlags::context, kKubeconfig, nullptr, "NAME",
     "kubeconfig context (default: current-context)"},
    {"service-account", &RawFlags::service_account, kKubeconfig, nullptr, "NS/NAME",
     "NS/NAME of the ServiceAccount whose token goes into the kubeconfig"},
    {"token-ttl", &RawFlags::token_ttl, kKubeconfig, nullptr, "DURATION",
     "requested token lifetime, at least 10m"},
    {"refresh-before", &RawFlags::refresh_before, 0, nullptr, "DURATION",
     "renew when less than this is left (default: a third of the TTL)"},
    {"audience", &RawFlags::audiences, kKubeconfig, nullptr, "AUD",
     "token audience (repeatable; default: the API server's)"},
    {"server", &RawFlags::server, kKubeconfig, nullptr, "URL",
     "API server URL written into the kubeconfig (default: kube-public/cluster-info, else the "
     "URL fluxkey uses)"},
    {"server-ca", &RawFlags::server_ca, kKubeconfig, nullptr, "FILE",
     "PEM file with the CA written into the kubeconfig"},
    {"server-ca-from", &RawFlags::server_ca_from, kKubeconfig, nullptr, "SOURCE",
     "where the CA comes from: in-cluster, cluster-info or system (writes none)"},
    {"k8s-secret", &RawFlags::k8s_secret, 0, nullptr, "NS/NAME", "NS/NAME of the cluster Secret"},
    {"github-secret", &RawFlags::github_secret, 0, nullptr, "NAME", "GitHub secret name"},
    {"github-repo", &RawFlags::github_repos, 0, nullptr, "OWNER/REPO[:ENV]",
     "OWNER/REPO[:ENVIRONMENT] (repeatable)"},
    {"github-org", &RawFlags::github_orgs, 0, nullptr, "ORG", "organization (repeatable)"},
    {"github-org-visibility", &RawFlags::github_org_visibility, 0, nullptr, "VISIBILITY",
     "all, private or selected"},
    {"github-org-repos", &RawFlags::github_org_repos, 0, nullptr, "R1,R2",
     "R1,R2: repositories for selected visibility"},
    {"github-api-url", &RawFlags::github_api_url, 0, "GITHUB_API_URL", "URL", "GitHub API URL"},
    {"github-token-file", &RawFlags::github_token_file, 0, nullptr, "FILE",
     "file holding a GitHub token"},
    {"github-app-id", &RawFlags::github_app_id, 0, "GITHUB_APP_ID", "ID",
     "GitHub App id or client id"},
    {"github-app-key", &RawFlags::github_app_key, 0, nullptr, "FILE",
     "GitHub App private key (PEM file)"},
    {"github-app-installation-id", &RawFlags::github_app_installation_id, 0, nullptr, "ID",
     "GitHub App installation id"},
    {"github-format", &RawFlags::github_format, 0, nullptr, "FORMAT", "base64 or raw"},
    {"output", &RawFlags::output, kKubeconfig, nullptr, "FILE",
     "write the kubeconfig to FILE (mode 0600) instead of stdout"},
    {"dry-run", &RawFlags::dry_run, kKubeconfig, nullptr, nullptr,
     "read everything, change nothing, print the plan"},
    {"log-format", &RawFlags::log_format, kKubeconfig, "FLUXKEY_LOG_FORMAT", "FORMAT",
     "text or json"},
};

// Flags that only make sense on the command line.
bool config_settable(const FlagSpec& spec) {
  return std::string_view(spec.name) != "config";
}

}  // namespace

void register_flags(CLI::App& command, RawFlags& flags, Command which) {
  for (const auto& spec : kFlags) {
    if ((spec.commands & which) == 0) continue;
    std::string name = std::string("--") + spec.name;
    if (std::string_view(spec.name) == "output") name = "-o," + name;
    CLI::Option* opt = std::visit(
        [&](auto member) -> CLI::Option* {
          using T = std::decay_t<decltype(flags.*member)>;
          if constexpr (std::is_same_v<T, bool>) {
            return command.add_flag(name, flags.*member, spec.help);
          } else if constexpr (std::is_same_v<T, std::string>) {
            auto* o = command.add_option(name, flags.*member, spec.help);
            if (!(flags.*member).empty()) o->capture_default_str();
            return o;
          } else {
            return command.add_option(name, flags.*member, spec.help)->take_all();
          }
        },
        spec.member);
    if (spec.env != nullptr) opt->envname(spec.env);
    if (spec.metavar != nullptr) opt->type_name(spec.metavar);
  }
}

void apply_config_file(const std::string& path, RawFlags& flags, Command which) {
  std::string text = read_file(path, "config file");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UsageError("config file " + path + " is not valid YAML: " + e.msg + " (line " +
                     std::to_string(e.mark.line + 1) + ")");
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) throw UsageError("config file " + path + ": want a map of settings");
  for (const auto& item : root) {
    std::string key = item.first.as<std::string>();
    const FlagSpec* spec = nullptr;
    for (const auto& s : kFlags) {
      if (key == s.name && config_settable(s)) spec = &s;
    }
    if (spec == nullptr) {
      throw UsageError("config file " + path + ": unknown key \"" + key +
                       "\" (keys are the flag names, e.g. token-ttl)");
    }
    if ((spec->commands & which) == 0) continue;
    const YAML::Node& value = item.second;
    auto scalar = [&](const YAML::Node& n) {
      if (!n.IsScalar()) {
        throw UsageError("config file " + path + ": \"" + key + "\" wants a single value");
      }
      return n.as<std::string>();
    };
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(flags.*member)>;
          if constexpr (std::is_same_v<T, bool>) {
            std::string v = scalar(value);
            if (v != "true" && v != "false") {
              throw UsageError("config file " + path + ": \"" + key + "\" wants true or false");
            }
            flags.*member = v == "true";
          } else if constexpr (std::is_same_v<T, std::string>) {
            flags.*member = scalar(value);
          } else {
            T list;
            if (value.IsSequence()) {
              for (const auto& v : value) list.push_back(scalar(v));
            } else {
              list.push_back(scalar(value));
            }
            flags.*member = list;
          }
        },
        spec->member);
  }
}

}  // namespace fluxkey::cli
