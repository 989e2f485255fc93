#include "flux/flux_cli.h"

#include <signal.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>

#include "core/base64.h"
#include "core/error.h"
#include "core/file.h"
#include "core/log.h"
#include "core/process.h"
#include "core/secret.h"
#include "core/text.h"
#include "flux/credentials.h"
#include "flux/kinds.h"
#include "flux/wait.h"

namespace fluxkey::flux {
namespace {

using std::chrono::milliseconds;

// flux gets this long past its own --timeout to report before it is killed.
constexpr milliseconds kGrace{30'000};

// A folder only this user can enter (mkdtemp makes it 0700), removed with
// everything in it however the run ends.
class PrivateDir {
 public:
  PrivateDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    std::string tmpl = base + "/fluxkey-flux-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw Error("cannot create a private folder under " + base +
                  " for flux's kubeconfig: " + std::strerror(errno));
    }
    path_ = tmpl;
  }
  ~PrivateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

// A SIGTERM, SIGINT or SIGHUP (a cancelled workflow run, Ctrl-C) ends
// fluxkey without running destructors, which would leave the private
// kubeconfig behind, and does not reach flux, which runs in a process group
// of its own. While flux runs, a handler passes the signal on to flux and
// removes the file, then lets the signal do what it does. The paths sit in
// fixed buffers, filled before the handler is installed: a handler may only
// make async-signal-safe calls (kill, unlink, rmdir, signal, raise).
char g_signal_file[4096];
char g_signal_dir[4096];
constexpr int kCleanupSignals[] = {SIGTERM, SIGINT, SIGHUP};

extern "C" void end_flux_and_remove_kubeconfig(int sig) {
  signal_running_children(sig);
  ::unlink(g_signal_file);
  ::rmdir(g_signal_dir);
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered once this handler returns: fluxkey dies of it
}

class CleanupOnSignal {
 public:
  CleanupOnSignal(const std::string& file, const std::string& dir) {
    if (file.size() >= sizeof g_signal_file || dir.size() >= sizeof g_signal_dir) return;
    std::memcpy(g_signal_file, file.c_str(), file.size() + 1);
    std::memcpy(g_signal_dir, dir.c_str(), dir.size() + 1);
    struct sigaction action {};
    action.sa_handler = end_flux_and_remove_kubeconfig;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kCleanupSignals); ++i) {
      ::sigaction(kCleanupSignals[i], &action, &previous_[i]);
    }
    installed_ = true;
  }
  ~CleanupOnSignal() {
    if (!installed_) return;
    for (size_t i = 0; i < std::size(kCleanupSignals); ++i) {
      ::sigaction(kCleanupSignals[i], &previous_[i], nullptr);
    }
  }
  CleanupOnSignal(const CleanupOnSignal&) = delete;
  CleanupOnSignal& operator=(const CleanupOnSignal&) = delete;

 private:
  struct sigaction previous_[std::size(kCleanupSignals)]{};
  bool installed_ = false;
};

}  // namespace

std::vector<std::string> flux_cli_args(const ReconcileOptions& options,
                                       const std::string& kubeconfig_path) {
  const KindInfo* kind = find_kind(options.kind);
  if (kind == nullptr) {
    throw UsageError("unknown kind \"" + options.kind + "\"; known kinds: " + known_kinds());
  }
  if (!options.wait) {
    throw UsageError("--no-wait cannot be combined with --flux-cli: flux reconcile always waits");
  }
  if ((options.force || options.reset) && kind->kind != "HelmRelease") {
    throw UsageError(std::string(options.force ? "--force" : "--reset") +
                     " applies to helmrelease only, not " + kind->singular);
  }
  std::vector<std::string> args = {"reconcile"};
  args.insert(args.end(), kind->flux_cli.begin(), kind->flux_cli.end());
  args.insert(args.end(), {options.name, "-n", options.namespace_});
  // flux has --with-source only where there is a source.
  if (options.with_source && kind->has_source()) args.push_back("--with-source");
  if (options.force) args.push_back("--force");
  if (options.reset) args.push_back("--reset");
  args.insert(args.end(),
              {"--timeout", format_timeout(options.timeout), "--kubeconfig", kubeconfig_path});
  return args;
}

std::string render_cli_kubeconfig(const kube::RestConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";

  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "fluxkey";
  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "server" << YAML::Value << config.server;
  if (!config.tls.ca_pem.empty()) {
    out << YAML::Key << "certificate-authority-data" << YAML::Value
        << base64_encode(config.tls.ca_pem);
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "fluxkey";
  out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
  SecretString token = config.token.clone();
  if (!config.token_file.empty()) {
    try {
      std::string text = read_file(config.token_file, "token file");
      token = trim(text);
      wipe(text);
    } catch (const Error& e) {
      throw Error(e.what());  // a runtime failure here, not a usage error
    }
  }
  if (!token.empty()) out << YAML::Key << "token" << YAML::Value << token.str();
  if (!config.tls.client_cert_pem.empty()) {
    out << YAML::Key << "client-certificate-data" << YAML::Value
        << base64_encode(config.tls.client_cert_pem);
    out << YAML::Key << "client-key-data" << YAML::Value
        << base64_encode(config.tls.client_key_pem);
  }
  if (config.exec) {
    const kube::ExecConfig& exec = *config.exec;
    out << YAML::Key << "exec" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "apiVersion" << YAML::Value << exec.api_version;
    out << YAML::Key << "command" << YAML::Value << exec.command;
    out << YAML::Key << "args" << YAML::Value << YAML::BeginSeq;
    for (const auto& arg : exec.args) out << arg;
    out << YAML::EndSeq;
    out << YAML::Key << "env" << YAML::Value << YAML::BeginSeq;
    for (const auto& [name, value] : exec.env) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name << YAML::Key << "value"
          << YAML::Value << value << YAML::EndMap;
    }
    out << YAML::EndSeq;
    out << YAML::Key << "provideClusterInfo" << YAML::Value << exec.provide_cluster_info;
    out << YAML::Key << "interactiveMode" << YAML::Value << "Never";
    out << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "fluxkey";
  out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cluster" << YAML::Value << "fluxkey";
  out << YAML::Key << "user" << YAML::Value << "fluxkey";
  if (!config.default_namespace.empty()) {
    out << YAML::Key << "namespace" << YAML::Value << config.default_namespace;
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "current-context" << YAML::Value << "fluxkey";
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

FluxOutput parse_flux_output(const std::string& text) {
  FluxOutput out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = trim(text.substr(start, nl == std::string::npos ? nl : nl - start));
    start = nl == std::string::npos ? text.size() : nl + 1;
    if (starts_with(line, "✔ ")) {
      out.success = line.substr(std::string("✔ ").size());
      for (const char* prefix : {"applied revision ", "fetched revision "}) {
        if (starts_with(out.success, prefix)) {
          out.revision = trim(out.success.substr(std::string(prefix).size()));
        }
      }
    } else if (starts_with(line, "✗ ")) {
      out.failure = line.substr(std::string("✗ ").size());
    }
  }
  return out;
}

ExitCode flux_exit_code(const ProcessResult& run) {
  if (run.timed_out) return ExitCode::kTimeout;
  if (run.exit_code == 0) return ExitCode::kOk;
  // flux reports its --timeout running out as the context's error.
  for (const char* sign : {"context deadline exceeded", "timed out waiting", "timeout waiting"}) {
    if (run.err.find(sign) != std::string::npos) return ExitCode::kTimeout;
  }
  return ExitCode::kFailed;
}

ReconcileResult reconcile_with_flux_cli(const ReconcileOptions& options,
                                        const kube::RestConfig& config) {
  PrivateDir dir;
  const std::string kubeconfig = dir.path() + "/kubeconfig";
  CleanupOnSignal cleanup_on_signal(kubeconfig, dir.path());
  ProcessSpec spec;
  spec.argv = {"flux"};
  std::vector<std::string> args = flux_cli_args(options, kubeconfig);
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  write_private_file(kubeconfig, SecretString(render_cli_kubeconfig(config)).str());
  spec.env_remove = secret_env_names();
  // flux reads only the file it is given.
  spec.env_remove.push_back("KUBECONFIG");
  spec.timeout = options.timeout + kGrace;

  logger().debug("running flux", {{"args", [&] {
                                     std::string joined;
                                     for (const auto& a : args) joined += " " + a;
                                     return joined;
                                   }()}});
  const auto start = std::chrono::steady_clock::now();
  ProcessResult run;
  try {
    run = run_process(spec);
  } catch (const Error& e) {
    throw UsageError(std::string(e.what()) +
                     "; install the flux CLI on PATH, or leave out --flux-cli");
  }
  // flux's progress, as ours: stderr only, stdout keeps the revision.
  for (const std::string* stream : {&run.out, &run.err}) {
    size_t start_at = 0;
    while (start_at < stream->size()) {
      size_t nl = stream->find('\n', start_at);
      std::string line = stream->substr(start_at, nl == std::string::npos ? nl : nl - start_at);
      start_at = nl == std::string::npos ? stream->size() : nl + 1;
      if (trim(line).empty()) continue;
      if (logger().format() == LogFormat::kJson) {
        logger().info(line, {{"source", "flux"}});
      } else {
        logger().info(line);
      }
    }
  }

  const KindInfo* kind = find_kind(options.kind);
  FluxOutput output = parse_flux_output(run.err + "\n" + run.out);
  ReconcileResult result;
  result.duration =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start);
  result.revision = output.revision;
  ObjectResult object{kind->kind, options.namespace_, options.name, false, output.revision, ""};
  ExitCode code = flux_exit_code(run);
  if (code == ExitCode::kOk) {
    object.ready = result.ready = true;
    object.message = result.message = output.success;
    result.objects.push_back(object);
    return result;
  }
  std::string why = output.failure;
  if (run.timed_out) {
    why = "flux did not finish within " + format_duration(spec.timeout) + " and was stopped";
  } else if (why.empty()) {
    why = run.signal != 0 ? "flux was killed by signal " + std::to_string(run.signal)
                          : "flux failed with exit code " + std::to_string(run.exit_code);
  }
  if (why.find("Unauthorized") != std::string::npos) {
    why += "; " + unauthorized_message(config, Clock::now());
  }
  object.message = result.message = why;
  result.objects.push_back(object);
  throw ReconcileError("flux reconcile " + kind->singular + " " + options.namespace_ + "/" +
                           options.name + " failed: " + why,
                       code, result);
}

}  // namespace fluxkey::flux
