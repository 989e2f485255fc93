#include "kube/config_loader.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <optional>
#include <vector>

#include "core/base64.h"
#include "core/error.h"
#include "core/file.h"
#include "core/text.h"

namespace fluxkey::kube {
namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// One kubeconfig being read: every message names the file.
class Kubeconfig {
 public:
  Kubeconfig(const std::string& yaml, std::string path) : path_(std::move(path)) {
    try {
      root_ = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
      // yaml-cpp's message may quote the offending character: a line break.
      throw UsageError("kubeconfig " + path_ + " is not valid YAML: " + e.what());
    }
    if (!root_.IsMap() && !root_.IsNull()) {
      throw UsageError("kubeconfig " + path_ +
                       " is not a kubeconfig (expected a mapping with clusters, users and "
                       "contexts)");
    }
    size_t slash = path_.rfind('/');
    folder_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  }

  // Names quoted in `problem` come from the file: escaped, to stay on one line.
  [[noreturn]] void fail(const std::string& problem) const {
    throw UsageError("kubeconfig " + path_ + ": " + problem);
  }

  const std::string& path() const { return path_; }

  std::string current_context() const { return scalar(root_, "current-context", "the file"); }

  // The `what` stanza (cluster, user, context) of the named entry in the
  // list `list`, as kubectl looks it up: first entry with that name wins.
  std::optional<YAML::Node> find(const std::string& list, const std::string& what,
                                 const std::string& name) const {
    for (const auto& entry : entries(list)) {
      if (scalar(entry, "name", list) != name) continue;
      YAML::Node body = entry[what];
      if (!body.IsDefined() || body.IsNull()) return YAML::Node(YAML::NodeType::Map);
      if (!body.IsMap()) fail(what + " " + quote(name) + " is not a mapping");
      return body;
    }
    return std::nullopt;
  }

  std::string names(const std::string& list) const {
    std::string out;
    for (const auto& entry : entries(list)) {
      if (!out.empty()) out += ", ";
      out += scalar(entry, "name", list);
    }
    return out.empty() ? "none defined" : list + ": " + out;
  }

  // A string field; empty when absent or null.
  std::string scalar(const YAML::Node& node, const std::string& key,
                     const std::string& where) const {
    if (!node.IsMap()) return "";
    YAML::Node value = node[key];
    if (!value.IsDefined() || value.IsNull()) return "";
    if (!value.IsScalar()) fail(where + ": " + key + " must be a string");
    return value.Scalar();
  }

  bool flag(const YAML::Node& node, const std::string& key, const std::string& where) const {
    YAML::Node value = node[key];
    if (!value.IsDefined() || value.IsNull()) return false;
    bool result = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, result)) {
      fail(where + ": " + key + " must be true or false");
    }
    return result;
  }

  std::vector<YAML::Node> sequence(const YAML::Node& node, const std::string& key,
                                   const std::string& where) const {
    std::vector<YAML::Node> out;
    YAML::Node value = node[key];
    if (!value.IsDefined() || value.IsNull()) return out;
    if (!value.IsSequence()) fail(where + ": " + key + " must be a list");
    for (const auto& item : value) out.push_back(item);
    return out;
  }

  // As client-go resolves file references: relative to the kubeconfig's folder.
  std::string resolve(const std::string& file) const {
    if (file.empty() || file[0] == '/') return file;
    return folder_ + "/" + file;
  }

  std::string read(const std::string& file, const std::string& what) const {
    std::string resolved = resolve(file);
    try {
      return read_file(resolved, what);
    } catch (const Error& e) {
      fail(e.what());
    }
  }

  std::string decode(const std::string& data, const std::string& what) const {
    auto decoded = base64_decode(data);
    if (!decoded) fail(what + " is not valid base64");
    return *decoded;
  }

 private:
  std::vector<YAML::Node> entries(const std::string& list) const {
    std::vector<YAML::Node> out = sequence(root_, list, "the file");
    for (const auto& entry : out) {
      if (!entry.IsMap()) fail(list + " must be a list of mappings with a name");
    }
    return out;
  }

  std::string path_;
  std::string folder_;
  YAML::Node root_;
};

void require_pem(const Kubeconfig& kc, const std::string& pem, const std::string& what) {
  if (pem.find("-----BEGIN ") == std::string::npos) kc.fail(what + " is not PEM");
}

void read_cluster(const Kubeconfig& kc, const std::string& name, const YAML::Node& cluster,
                  RestConfig& config) {
  const std::string where = "cluster " + quote(name);
  std::string server = kc.scalar(cluster, "server", where);
  if (server.empty()) kc.fail(where + " has no server");
  if (server.rfind("http://", 0) == 0) {
    kc.fail(where + " has server " + server +
            ", which is plain http; fluxkey only talks to an API server over https://");
  }
  if (server.rfind("https://", 0) != 0) {
    kc.fail(where + " has server " + quote(server) + ", which is not an https:// URL");
  }
  while (server.size() > 8 && server.back() == '/') server.pop_back();
  config.server = server;

  if (kc.flag(cluster, "insecure-skip-tls-verify", where)) {
    kc.fail(where +
            " sets insecure-skip-tls-verify, and fluxkey never switches TLS verification off; "
            "set certificate-authority-data to the cluster's CA instead");
  }
  if (!kc.scalar(cluster, "tls-server-name", where).empty()) {
    kc.fail(where +
            " sets tls-server-name, which fluxkey does not support; use a server URL "
            "whose host name the certificate names");
  }
  // The curl transport has no per-cluster proxy; silently connecting direct
  // would be wrong, and libcurl already honours HTTPS_PROXY.
  if (!kc.scalar(cluster, "proxy-url", where).empty()) {
    kc.fail(where + " sets proxy-url, which fluxkey does not support; set HTTPS_PROXY instead");
  }

  std::string ca_data = kc.scalar(cluster, "certificate-authority-data", where);
  std::string ca_file = kc.scalar(cluster, "certificate-authority", where);
  if (!ca_data.empty()) {
    config.tls.ca_pem = kc.decode(ca_data, where + ": certificate-authority-data");
    require_pem(kc, config.tls.ca_pem, where + ": certificate-authority-data");
    config.tls.ca_source = "kubeconfig " + kc.path();
  } else if (!ca_file.empty()) {
    config.tls.ca_pem = kc.read(ca_file, "certificate-authority");
    require_pem(kc, config.tls.ca_pem, where + ": certificate-authority " + kc.resolve(ca_file));
    config.tls.ca_source = kc.resolve(ca_file);
  }
}

ExecConfig read_exec(const Kubeconfig& kc, const std::string& where, const YAML::Node& exec) {
  if (!exec.IsMap()) kc.fail(where + ": exec must be a mapping");
  ExecConfig out;
  out.api_version = kc.scalar(exec, "apiVersion", where + ": exec");
  if (out.api_version != "client.authentication.k8s.io/v1" &&
      out.api_version != "client.authentication.k8s.io/v1beta1") {
    kc.fail(where + ": exec apiVersion " + quote(out.api_version) +
            " is not supported; use client.authentication.k8s.io/v1 (or v1beta1)");
  }
  out.command = kc.scalar(exec, "command", where + ": exec");
  if (out.command.empty()) kc.fail(where + ": exec has no command");
  // As client-go: a command with a slash is a path relative to the
  // kubeconfig, one without is looked up on PATH.
  if (out.command.find('/') != std::string::npos) out.command = kc.resolve(out.command);
  for (const auto& arg : kc.sequence(exec, "args", where + ": exec")) {
    if (!arg.IsScalar()) kc.fail(where + ": exec args must be strings");
    out.args.push_back(arg.Scalar());
  }
  for (const auto& var : kc.sequence(exec, "env", where + ": exec")) {
    std::string name = kc.scalar(var, "name", where + ": exec env");
    if (!var.IsMap() || name.empty()) kc.fail(where + ": exec env entries need a name and a value");
    out.env.emplace_back(name, kc.scalar(var, "value", where + ": exec env"));
  }
  out.install_hint = trim(kc.scalar(exec, "installHint", where + ": exec"));
  out.provide_cluster_info = kc.flag(exec, "provideClusterInfo", where + ": exec");
  out.interactive_mode = kc.scalar(exec, "interactiveMode", where + ": exec");
  if (out.interactive_mode.empty()) {
    // v1 requires the field; v1beta1 defaults it to IfAvailable.
    if (out.api_version == "client.authentication.k8s.io/v1") {
      kc.fail(where + ": exec has no interactiveMode (required by " + out.api_version +
              "); set interactiveMode: Never");
    }
    out.interactive_mode = "IfAvailable";
  }
  if (out.interactive_mode == "Always") {
    kc.fail(where + ": exec plugin " + out.command +
            " needs a terminal (interactiveMode: Always), and fluxkey never prompts");
  }
  if (out.interactive_mode != "Never" && out.interactive_mode != "IfAvailable") {
    kc.fail(where + ": exec interactiveMode " + quote(out.interactive_mode) +
            " is not one of Never, IfAvailable, Always");
  }
  return out;
}

void read_user(const Kubeconfig& kc, const std::string& name, const YAML::Node& user,
               RestConfig& config) {
  const std::string where = "user " + quote(name);
  if (user["auth-provider"].IsDefined() && !user["auth-provider"].IsNull()) {
    kc.fail(where +
            " uses an auth-provider, which kubectl and fluxkey no longer support; "
            "use an exec credential plugin");
  }
  if (!kc.scalar(user, "username", where).empty() || !kc.scalar(user, "password", where).empty()) {
    kc.fail(where +
            " uses basic authentication (username/password), which fluxkey does not "
            "support; use a token or a client certificate");
  }

  config.token = trim(kc.scalar(user, "token", where));
  std::string token_file = kc.scalar(user, "tokenFile", where);
  if (!token_file.empty()) {
    config.token_file = kc.resolve(token_file);
    // Read once now so a missing file is a configuration error before any
    // request; the client re-reads it before each use.
    kc.read(token_file, "tokenFile");
  }

  std::string cert_data = kc.scalar(user, "client-certificate-data", where);
  std::string cert_file = kc.scalar(user, "client-certificate", where);
  std::string key_data = kc.scalar(user, "client-key-data", where);
  std::string key_file = kc.scalar(user, "client-key", where);
  if (!cert_data.empty()) {
    config.tls.client_cert_pem = kc.decode(cert_data, where + ": client-certificate-data");
  } else if (!cert_file.empty()) {
    config.tls.client_cert_pem = kc.read(cert_file, "client-certificate");
  }
  if (!key_data.empty()) {
    // The decoded key is never echoed: only its field is named.
    config.tls.client_key_pem = kc.decode(key_data, where + ": client-key-data");
  } else if (!key_file.empty()) {
    config.tls.client_key_pem = kc.read(key_file, "client-key");
  }
  if (!config.tls.client_cert_pem.empty() || !config.tls.client_key_pem.empty()) {
    if (config.tls.client_cert_pem.empty()) kc.fail(where + " has a client key but no certificate");
    if (config.tls.client_key_pem.empty()) kc.fail(where + " has a client certificate but no key");
    require_pem(kc, config.tls.client_cert_pem, where + ": client certificate");
    require_pem(kc, config.tls.client_key_pem, where + ": client key");
  }

  YAML::Node exec = user["exec"];
  if (exec.IsDefined() && !exec.IsNull()) config.exec = read_exec(kc, where, exec);

  if (config.token.empty() && config.token_file.empty() && config.tls.client_cert_pem.empty() &&
      !config.exec) {
    kc.fail(where + " has no credentials (token, tokenFile, client certificate or exec)");
  }
}

std::string join_host_port(const std::string& host, const std::string& port) {
  // As Go's net.JoinHostPort: an IPv6 literal is bracketed.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

RestConfig load_file(const std::string& path, const std::string& context) {
  return parse_kubeconfig(read_file(path, "kubeconfig"), path, context);
}

}  // namespace

RestConfig parse_kubeconfig(const std::string& yaml, const std::string& path,
                            const std::string& context) {
  Kubeconfig kc(yaml, path);
  try {
    std::string context_name = context.empty() ? kc.current_context() : context;
    if (context_name.empty()) kc.fail("no current-context; pass --context");
    auto ctx = kc.find("contexts", "context", context_name);
    if (!ctx) {
      kc.fail("context " + quote(context_name) + " not found (" + kc.names("contexts") + ")");
    }
    const std::string where = "context " + quote(context_name);
    std::string cluster_name = kc.scalar(*ctx, "cluster", where);
    std::string user_name = kc.scalar(*ctx, "user", where);
    if (cluster_name.empty()) kc.fail(where + " names no cluster");
    if (user_name.empty()) kc.fail(where + " names no user");
    auto cluster = kc.find("clusters", "cluster", cluster_name);
    if (!cluster) {
      kc.fail(where + " refers to cluster " + quote(cluster_name) + ", which is not defined (" +
              kc.names("clusters") + ")");
    }
    auto user = kc.find("users", "user", user_name);
    if (!user) {
      kc.fail(where + " refers to user " + quote(user_name) + ", which is not defined (" +
              kc.names("users") + ")");
    }

    RestConfig config;
    read_cluster(kc, cluster_name, *cluster, config);
    read_user(kc, user_name, *user, config);
    config.default_namespace = kc.scalar(*ctx, "namespace", where);
    config.origin = "kubeconfig " + path + ", context " + context_name;
    return config;
  } catch (const YAML::Exception& e) {
    // Structure surprises yaml-cpp reports itself (a map where a list was
    // expected deep inside); still one line naming the file.
    kc.fail(std::string("unexpected structure: ") + e.what());
  }
}

RestConfig load_in_cluster(const InClusterPaths& paths) {
  std::string host = env("KUBERNETES_SERVICE_HOST");
  std::string port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    throw UsageError(
        "in-cluster config needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT; outside a "
        "cluster pass --kubeconfig");
  }
  RestConfig config;
  config.server = "https://" + join_host_port(host, port);
  if (trim(read_file(paths.token_file, "in-cluster token")).empty()) {
    throw UsageError("in-cluster token " + paths.token_file + " is empty");
  }
  // Not kept: the kubelet rotates the projected token, so the client
  // re-reads the file before each request.
  config.token_file = paths.token_file;
  config.tls.ca_pem = read_file(paths.ca_file, "in-cluster CA");
  config.tls.ca_source = paths.ca_file;
  if (config.tls.ca_pem.find("-----BEGIN ") == std::string::npos) {
    throw UsageError("in-cluster CA " + paths.ca_file + " is not PEM");
  }
  // As client-go: POD_NAMESPACE, then the mounted namespace, then "default".
  config.default_namespace = env("POD_NAMESPACE");
  if (config.default_namespace.empty() && file_exists(paths.namespace_file)) {
    config.default_namespace = trim(read_file(paths.namespace_file, "in-cluster namespace"));
  }
  if (config.default_namespace.empty()) config.default_namespace = "default";
  config.origin = "in-cluster config";
  config.in_cluster = true;
  return config;
}

RestConfig load_rest_config(const ConnectionOptions& options) {
  if (!options.kubeconfig_path.empty()) {
    return load_file(expand_home(options.kubeconfig_path), options.context);
  }
  std::string list = env("KUBECONFIG");
  if (!list.empty()) {
    // kubectl merges every file of the list; fluxkey uses the first that
    // exists, which covers the common single-file case without merge rules.
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      std::string path = expand_home(list.substr(start, end - start));
      if (!path.empty() && file_exists(path)) return load_file(path, options.context);
      start = end + 1;
    }
    throw UsageError("KUBECONFIG names no existing file (" + list +
                     "); fix it or pass --kubeconfig");
  }
  if (!env("KUBERNETES_SERVICE_HOST").empty()) {
    if (!options.context.empty()) {
      throw UsageError("--context " + options.context +
                       " needs a kubeconfig, but fluxkey is using the in-cluster config; pass "
                       "--kubeconfig");
    }
    return load_in_cluster();
  }
  std::string home_config = expand_home("~/.kube/config");
  if (home_config[0] == '/' && file_exists(home_config)) {
    return load_file(home_config, options.context);
  }
  throw UsageError("no kubeconfig: pass --kubeconfig, set KUBECONFIG, or run in a cluster");
}

}  // namespace fluxkey::kube
