#include "cli/options.h"

#include <cmath>
#include <cstdlib>

#include "cli/values.h"
#include "core/error.h"
#include "core/file.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/text.h"
#include "crypto/pem.h"
#include "flux/kinds.h"

namespace fluxkey::cli {
namespace {

constexpr auto kMinTokenTtl = std::chrono::minutes(10);
// GitHub's documented secondary limits: content-creating requests.
constexpr int kGitHubWritesPerMinute = 80;
constexpr int kGitHubWritesPerHour = 500;

std::chrono::seconds to_seconds(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d);
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

std::chrono::seconds token_ttl(const RawFlags& flags) {
  return to_seconds(parse_duration_flag("--token-ttl", flags.token_ttl, kMinTokenTtl));
}

std::vector<std::string> audiences(const RawFlags& flags) {
  for (const auto& audience : flags.audiences) {
    if (audience.empty()) throw UsageError("invalid --audience \"\": an audience cannot be empty");
  }
  return flags.audiences;
}

NamespacedName k8s_secret(const RawFlags& flags) {
  NamespacedName out = parse_namespaced_name("--k8s-secret", flags.k8s_secret);
  // The name is a label value on the generation Secrets.
  if (out.name.size() > 63) {
    throw UsageError("invalid --k8s-secret \"" + flags.k8s_secret +
                     "\": the name may have at most 63 characters (fluxkey labels its generation "
                     "Secrets with it)");
  }
  return out;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = trim(text.substr(start, comma - start));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<github::Target> targets(const RawFlags& flags) {
  std::vector<github::Target> out;
  auto add = [&](github::Target t) {
    for (const auto& have : out) {
      if (have == t) return;  // given twice: pushed once
    }
    out.push_back(std::move(t));
  };
  for (const auto& value : flags.github_repos) {
    RepoTarget t = parse_repo_target("--github-repo", value);
    add(t.environment.empty() ? github::Target::repository(t.owner, t.repo)
                              : github::Target::environment_of(t.owner, t.repo, t.environment));
  }
  for (const auto& org : flags.github_orgs) {
    add(github::Target::organization(parse_github_org("--github-org", org)));
  }
  return out;
}

std::string read_secret_file(const std::string& flag, const std::string& path) {
  std::string raw = read_file(expand_home(path), flag);
  std::string text = trim(raw);
  wipe(raw);  // the caller keeps the trimmed copy in a SecretString
  if (text.empty()) throw UsageError(flag + " " + path + " is empty");
  return text;
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? trim(value) : "";
}

}  // namespace

void configure_logging(const RawFlags& flags) {
  std::string format = parse_choice("--log-format", flags.log_format, {"text", "json"});
  logger().set_format(format == "json" ? LogFormat::kJson : LogFormat::kText);
  logger().set_verbose(flags.verbose);
}

kube::ConnectionOptions connection_options(const RawFlags& flags) {
  return {flags.kubeconfig.empty() ? "" : expand_home(flags.kubeconfig), flags.context};
}

std::chrono::milliseconds request_timeout(const RawFlags& flags) {
  return parse_duration_flag("--request-timeout", flags.request_timeout,
                             std::chrono::milliseconds(100));
}

commands::KubeconfigOptions kubeconfig_options(const RawFlags& flags) {
  commands::KubeconfigOptions out;
  out.service_account = parse_namespaced_name("--service-account", flags.service_account);
  out.token_ttl = token_ttl(flags);
  out.audiences = audiences(flags);
  out.endpoint = endpoint_options(flags);
  out.output = flags.output.empty() ? flags.output : expand_home(flags.output);
  out.dry_run = flags.dry_run;
  return out;
}

commands::SyncOptions sync_options(const RawFlags& flags) {
  commands::SyncOptions out;
  out.service_account = parse_namespaced_name("--service-account", flags.service_account);
  out.token_ttl = token_ttl(flags);
  out.refresh_before = out.token_ttl / 3;
  if (!flags.refresh_before.empty()) {
    out.refresh_before = to_seconds(parse_duration_flag("--refresh-before", flags.refresh_before));
    if (out.refresh_before >= out.token_ttl) {
      throw UsageError("--refresh-before " + flags.refresh_before +
                       " is not shorter than --token-ttl " + flags.token_ttl +
                       ": every sync would mint a new token; pass a shorter one");
    }
  }
  out.audiences = audiences(flags);
  out.endpoint = endpoint_options(flags);
  out.k8s_secret = k8s_secret(flags);
  github::validate_secret_name("--github-secret", flags.github_secret);
  out.github_secret = flags.github_secret;
  out.targets = targets(flags);

  out.org_access.visibility = parse_choice("--github-org-visibility", flags.github_org_visibility,
                                           {"all", "private", "selected"});
  out.org_access.selected_repos = split_list(flags.github_org_repos);
  if (out.org_access.visibility == "selected" && out.org_access.selected_repos.empty()) {
    throw UsageError(
        "--github-org-visibility selected needs --github-org-repos R1,R2: the repositories that "
        "may read the secret");
  }
  if (out.org_access.visibility != "selected" && !out.org_access.selected_repos.empty()) {
    throw UsageError("--github-org-repos applies only with --github-org-visibility selected");
  }
  for (const auto& repo : out.org_access.selected_repos) {
    parse_github_repo_name("--github-org-repos", repo);
  }
  out.github_format_raw =
      parse_choice("--github-format", flags.github_format, {"base64", "raw"}) == "raw";
  out.dry_run = flags.dry_run;
  out.force = flags.force;
  out.dry_run_reads_github = flags.github_app_id.empty();
  return out;
}

github::ClientOptions github_options(const RawFlags& flags) {
  github::ClientOptions out;
  out.api_url = parse_https_url("--github-api-url", flags.github_api_url);
  out.request_timeout = request_timeout(flags);

  const std::string& per_minute = flags.github_max_writes_per_minute;
  char* end = nullptr;
  long writes = std::strtol(per_minute.c_str(), &end, 10);
  if (per_minute.empty() || *end != '\0' || writes < 1 || writes > 100000) {
    throw UsageError("invalid --github-max-writes-per-minute \"" + per_minute +
                     "\": want a whole number of requests, e.g. 80");
  }
  out.pacing.writes_per_minute = static_cast<int>(writes);
  out.pacing.writes_per_hour = static_cast<int>(
      std::lround(static_cast<double>(writes) * kGitHubWritesPerHour / kGitHubWritesPerMinute));

  // Benchmarks and tests compress GitHub's minute on both sides: the
  // stand-in's --time-scale and this.
  if (std::string scale = env_or_empty("FLUXKEY_PACING_TIME_SCALE"); !scale.empty()) {
    double f = std::strtod(scale.c_str(), &end);
    if (*end != '\0' || !(f > 0 && f <= 1)) {
      throw UsageError("invalid FLUXKEY_PACING_TIME_SCALE \"" + scale +
                       "\": want a factor in (0, 1]");
    }
    out.pacing.time_scale = f;
  }

  github::Credentials& creds = out.credentials;
  if (!flags.github_app_id.empty()) {
    if (!flags.github_token_file.empty()) {
      throw UsageError("--github-token-file and --github-app-id exclude each other; pass one");
    }
    creds.app_id = flags.github_app_id;
    if (!flags.github_app_key.empty()) {
      creds.app_private_key_pem = read_secret_file("--github-app-key", flags.github_app_key);
    } else {
      creds.app_private_key_pem = env_or_empty("GITHUB_APP_PRIVATE_KEY");
    }
    if (creds.app_private_key_pem.empty()) {
      throw UsageError("--github-app-id " + flags.github_app_id +
                       " needs the App's private key: pass --github-app-key FILE or set "
                       "GITHUB_APP_PRIVATE_KEY");
    }
    if (!flags.github_app_installation_id.empty()) {
      const std::string& id = flags.github_app_installation_id;
      long long n = std::strtoll(id.c_str(), &end, 10);
      if (*end != '\0' || n < 1) {
        throw UsageError("invalid --github-app-installation-id \"" + id +
                         "\": want the installation's number");
      }
      creds.installation_id = n;
    }
    return out;
  }
  if (!flags.github_app_key.empty() || !flags.github_app_installation_id.empty()) {
    throw UsageError("--github-app-key and --github-app-installation-id need --github-app-id");
  }
  creds.token = flags.github_token_file.empty()
                    ? env_or_empty("GITHUB_TOKEN")
                    : read_secret_file("--github-token-file", flags.github_token_file);
  if (creds.token.empty()) {
    throw UsageError(
        "no GitHub credential: set GITHUB_TOKEN, pass --github-token-file FILE, or use a GitHub "
        "App (--github-app-id and --github-app-key)");
  }
  return out;
}

commands::StatusOptions status_options(const RawFlags& flags) {
  commands::StatusOptions out;
  out.k8s_secret = k8s_secret(flags);
  out.service_account = parse_namespaced_name("--service-account", flags.service_account);
  out.warn_before = to_seconds(parse_duration_flag("--warn-before", flags.warn_before));
  out.targets = targets(flags);
  // -o, as kubectl's; --log-format shapes the log on stderr alone.
  out.json = parse_choice("--output", flags.status_output, {"table", "json"}) == "json";
  return out;
}

commands::RevokeOptions revoke_options(const RawFlags& flags) {
  commands::RevokeOptions out;
  out.k8s_secret = k8s_secret(flags);
  out.service_account = parse_namespaced_name("--service-account", flags.service_account);
  out.all = flags.all;
  out.dry_run = flags.dry_run;
  return out;
}

commands::ReconcileCommandOptions reconcile_options(const RawFlags& flags) {
  commands::ReconcileCommandOptions out;
  out.connection = connection_options(flags);
  flux::ReconcileOptions& r = out.reconcile;
  const flux::KindInfo* kind = flux::find_kind(flags.kind);
  if (kind == nullptr) {
    throw UsageError("invalid --kind \"" + flags.kind + "\": want one of " + flux::known_kinds());
  }
  r.kind = kind->singular;
  for (const auto& [flag, value] : {std::pair<std::string, std::string>{"--name", flags.name},
                                    {"--namespace", flags.namespace_}}) {
    if (value.empty() || value.find('/') != std::string::npos) {
      throw UsageError("invalid " + flag + " \"" + value + "\": want a Kubernetes object name");
    }
  }
  NamespacedName object =
      parse_namespaced_name("--namespace/--name", flags.namespace_ + "/" + flags.name);
  r.namespace_ = object.namespace_;
  r.name = object.name;
  r.with_source = flags.with_source;
  r.force = flags.force;
  r.reset = flags.reset;
  if ((r.force || r.reset) && kind->kind != "HelmRelease") {
    throw UsageError(std::string(r.force ? "--force" : "--reset") +
                     " applies to --kind helmrelease only, not " + kind->singular);
  }
  r.timeout = parse_duration_flag("--timeout", flags.timeout, std::chrono::milliseconds(1));
  r.wait = !flags.no_wait;
  out.flux_cli = flags.flux_cli;
  if (out.flux_cli && !r.wait) {
    throw UsageError("--no-wait cannot be combined with --flux-cli: flux reconcile always waits");
  }
  return out;
}

}  // namespace fluxkey::cli
