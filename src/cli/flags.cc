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

// Order is the order of --help. A name may have a row per command where it
// means something different there.
constexpr unsigned kMinting = kKubeconfig | kSync | kRotate;
constexpr unsigned kPushing = kSync | kRotate;
constexpr unsigned kStored = kSync | kRotate | kRevoke | kStatus;
constexpr unsigned kAll = kMinting | kStored;

const FlagSpec kFlags[] = {
    {"config", &RawFlags::config, kAll | kReconcile, "FLUXKEY_CONFIG", "FILE",
     "YAML file with these settings; flags override it"},
    {"kubeconfig", &RawFlags::kubeconfig, kAll | kReconcile, nullptr, "FILE",
     "kubeconfig fluxkey itself uses (default: $KUBECONFIG, in-cluster, ~/.kube/config)"},
    {"context", &RawFlags::context, kAll | kReconcile, nullptr, "NAME",
     "kubeconfig context (default: current-context)"},
    {"service-account", &RawFlags::service_account, kAll, nullptr, "NS/NAME",
     "NS/NAME of the ServiceAccount whose token goes into the kubeconfig"},
    {"token-ttl", &RawFlags::token_ttl, kMinting, nullptr, "DURATION",
     "requested token lifetime, at least 10m"},
    {"refresh-before", &RawFlags::refresh_before, kSync, nullptr, "DURATION",
     "renew when less than this is left (default: a third of the TTL)"},
    {"audience", &RawFlags::audiences, kMinting, nullptr, "AUD",
     "token audience (repeatable; default: the API server's)"},
    {"server", &RawFlags::server, kMinting, nullptr, "URL",
     "API server URL written into the kubeconfig (default: kube-public/cluster-info, else the "
     "URL fluxkey uses)"},
    {"server-ca", &RawFlags::server_ca, kMinting, nullptr, "FILE",
     "PEM file with the CA written into the kubeconfig"},
    {"server-ca-from", &RawFlags::server_ca_from, kMinting, nullptr, "SOURCE",
     "where the CA comes from: in-cluster, cluster-info or system (writes none)"},
    {"k8s-secret", &RawFlags::k8s_secret, kStored, nullptr, "NS/NAME",
     "NS/NAME of the cluster Secret holding the kubeconfig"},
    {"github-secret", &RawFlags::github_secret, kPushing, nullptr, "NAME", "GitHub secret name"},
    {"github-repo", &RawFlags::github_repos, kPushing | kStatus, nullptr, "OWNER/REPO[:ENV]",
     "repository secret, or environment secret with :ENVIRONMENT (repeatable)"},
    {"github-org", &RawFlags::github_orgs, kPushing | kStatus, nullptr, "ORG",
     "organization secret (repeatable)"},
    {"github-org-visibility", &RawFlags::github_org_visibility, kPushing, nullptr, "VISIBILITY",
     "which repositories see the organization secret: all, private or selected"},
    {"github-org-repos", &RawFlags::github_org_repos, kPushing, nullptr, "R1,R2",
     "repositories for selected visibility"},
    {"github-api-url", &RawFlags::github_api_url, kPushing, "GITHUB_API_URL", "URL",
     "GitHub API URL (GitHub Enterprise Server: https://HOST/api/v3)"},
    {"github-token-file", &RawFlags::github_token_file, kPushing, nullptr, "FILE",
     "file holding a GitHub token (default: $GITHUB_TOKEN)"},
    {"github-app-id", &RawFlags::github_app_id, kPushing, "GITHUB_APP_ID", "ID",
     "GitHub App id or client id, instead of a token"},
    {"github-app-key", &RawFlags::github_app_key, kPushing, nullptr, "FILE",
     "GitHub App private key, PEM (default: $GITHUB_APP_PRIVATE_KEY)"},
    {"github-app-installation-id", &RawFlags::github_app_installation_id, kPushing, nullptr, "ID",
     "GitHub App installation id (default: looked up per owner)"},
    {"github-format", &RawFlags::github_format, kPushing, nullptr, "FORMAT",
     "what the GitHub secret holds: base64 (the kubeconfig base64-encoded on one line) or raw"},
    {"github-max-writes-per-minute", &RawFlags::github_max_writes_per_minute, kPushing, nullptr,
     "N", "write budget toward GitHub (the hourly budget scales with it)"},
    {"output", &RawFlags::output, kKubeconfig, nullptr, "FILE",
     "write the kubeconfig to FILE (mode 0600) instead of stdout"},
    {"force", &RawFlags::force, kSync, nullptr, nullptr,
     "renew even while the stored token is fresh"},
    {"revoke-previous", &RawFlags::revoke_previous, kRotate, nullptr, nullptr,
     "revoke every earlier token once the new one is stored"},
    {"all", &RawFlags::all, kRevoke, nullptr, nullptr,
     "revoke the newest token too (GitHub is left with a dead credential)"},
    {"output", &RawFlags::status_output, kStatus, nullptr, "FORMAT",
     "table or json, as kubectl's -o (one JSON object on stdout)"},
    {"warn-before", &RawFlags::warn_before, kStatus, nullptr, "DURATION",
     "exit 1 when the token expires within this"},
    {"dry-run", &RawFlags::dry_run, kMinting | kRevoke, nullptr, nullptr,
     "read everything, change nothing, print the plan"},
    {"log-format", &RawFlags::log_format, kAll | kReconcile, "FLUXKEY_LOG_FORMAT", "FORMAT",
     "text or json"},
    {"verbose", &RawFlags::verbose, kAll | kReconcile, "FLUXKEY_VERBOSE", nullptr,
     "also log each API request (method, URL, status, time taken) and each retry"},
    {"request-timeout", &RawFlags::request_timeout, kAll, nullptr, "DURATION",
     "how long one API request (Kubernetes or GitHub) may take before it is abandoned, as "
     "kubectl's --request-timeout; failed requests are retried a bounded number of times"},
    {"kind", &RawFlags::kind, kReconcile, nullptr, "KIND",
     "kustomization (ks), helmrelease (hr), gitrepository, ocirepository, helmrepository, "
     "helmchart, bucket, imagerepository, imageupdateautomation or receiver"},
    {"name", &RawFlags::name, kReconcile, nullptr, "NAME", "name of the object to reconcile"},
    {"namespace", &RawFlags::namespace_, kReconcile, "FLUX_SYSTEM_NAMESPACE", "NS",
     "namespace of the object"},
    {"with-source", &RawFlags::with_source, kReconcile, nullptr, nullptr,
     "reconcile the object's source first, as flux does"},
    {"force", &RawFlags::force, kReconcile, nullptr, nullptr,
     "force a one-off Helm install or upgrade (helmrelease only)"},
    {"reset", &RawFlags::reset, kReconcile, nullptr, nullptr,
     "reset the HelmRelease's failure counts (helmrelease only)"},
    {"timeout", &RawFlags::timeout, kReconcile, nullptr, "DURATION",
     "how long to wait for readiness"},
    {"no-wait", &RawFlags::no_wait, kReconcile, nullptr, nullptr, "annotate and return"},
    {"flux-cli", &RawFlags::flux_cli, kReconcile, nullptr, nullptr,
     "run the flux binary found on PATH instead of the native protocol"},
};

// Flags that only make sense on the command line.
bool config_settable(const FlagSpec& spec) {
  return std::string_view(spec.name) != "config";
}

}  // namespace

unsigned command_of(const std::string& name) {
  if (name == "kubeconfig") return kKubeconfig;
  if (name == "sync") return kSync;
  if (name == "rotate") return kRotate;
  if (name == "revoke") return kRevoke;
  if (name == "status") return kStatus;
  if (name == "reconcile") return kReconcile;
  return 0;
}

void register_flags(CLI::App& command, RawFlags& flags, Command which) {
  for (const auto& spec : kFlags) {
    if ((spec.commands & which) == 0) continue;
    std::string name = std::string("--") + spec.name;
    if (std::string_view(spec.name) == "output") name = "-o," + name;
    if (std::string_view(spec.name) == "namespace") name = "-n," + name;
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
    // yaml-cpp's message may quote the offending character: a line break.
    throw UsageError("config file " + path + " is not valid YAML: " + e.msg + " (line " +
                     std::to_string(e.mark.line + 1) + ")");
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) throw UsageError("config file " + path + ": want a map of settings");
  for (const auto& item : root) {
    // A key that is not a scalar (`? [a, b]`) names no flag.
    if (!item.first.IsScalar()) {
      throw UsageError("config file " + path + ": keys are flag names, e.g. token-ttl");
    }
    const std::string& key = item.first.Scalar();
    // The row of this command, else any row: the key is known but not this command's.
    const FlagSpec* spec = nullptr;
    for (const auto& s : kFlags) {
      if (key != s.name || !config_settable(s)) continue;
      if (spec == nullptr || (s.commands & which) != 0) spec = &s;
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
