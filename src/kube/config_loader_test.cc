#include "kube/config_loader.h"

#include <doctest/doctest.h>

#include <string>

#include "core/base64.h"
#include "core/error.h"
#include "support/kube_fakes.h"

namespace kube_config_loader_test {

using namespace fluxkey;
using namespace fluxkey::kube;
using fluxkey::kube::testing::EnvGuard;
using fluxkey::kube::testing::kCa;
using fluxkey::testing::TempDir;

namespace {

const std::string kCert = "-----BEGIN CERTIFICATE-----\nMIIBY2VydA==\n-----END CERTIFICATE-----\n";
const std::string kKey = "-----BEGIN PRIVATE KEY-----\nMIIBa2V5\n-----END PRIVATE KEY-----\n";
const std::string kToken = "s3cr3t-token-value";

// A kubeconfig with one context "dev" (cluster "c", user "u") whose cluster
// and user stanzas are given as indented YAML.
std::string kubeconfig(const std::string& cluster, const std::string& user,
                       const std::string& extra = "current-context: dev\n") {
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n" + cluster +
         "users:\n- name: u\n  user:\n" + user +
         "contexts:\n- name: dev\n  context:\n    cluster: c\n    user: u\n    namespace: apps\n" +
         "- name: other\n  context:\n    cluster: c\n    user: u\n" + extra;
}

std::string server_with_ca() {
  return "    server: https://127.0.0.1:6443/\n    certificate-authority-data: " +
         base64_encode(kCa) + "\n";
}

std::string usage_error(const std::string& yaml, const std::string& context = "",
                        const std::string& path = "/x/config") {
  try {
    parse_kubeconfig(yaml, path, context);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("parse_kubeconfig reads a token user, the CA data and the context namespace") {
  RestConfig c = parse_kubeconfig(kubeconfig(server_with_ca(), "    token: " + kToken + "\n"),
                                  "/x/config", "");
  CHECK(c.server == "https://127.0.0.1:6443");
  CHECK(c.tls.ca_pem == kCa);
  CHECK(c.tls.ca_source == "kubeconfig /x/config");
  CHECK(c.token == kToken);
  CHECK(c.token_file.empty());
  CHECK_FALSE(c.exec);
  CHECK(c.default_namespace == "apps");
  CHECK(c.origin == "kubeconfig /x/config, context dev");
  CHECK_FALSE(c.in_cluster);
}

TEST_CASE("parse_kubeconfig: --context overrides current-context") {
  RestConfig c =
      parse_kubeconfig(kubeconfig(server_with_ca(), "    token: t\n"), "/x/config", "other");
  CHECK(c.default_namespace.empty());
  CHECK(c.origin == "kubeconfig /x/config, context other");
}

TEST_CASE("parse_kubeconfig resolves file references against the kubeconfig's folder") {
  TempDir dir;
  dir.write("certs/ca.crt", kCa);
  dir.write("certs/client.crt", kCert);
  dir.write("certs/client.key", kKey);
  dir.write("token", kToken + "\n");
  std::string yaml = kubeconfig(
      "    server: https://k8s.example:443\n"
      "    certificate-authority: certs/ca.crt\n",
      "    client-certificate: certs/client.crt\n"
      "    client-key: certs/client.key\n"
      "    tokenFile: token\n");
  dir.write("config", yaml);
  RestConfig c = parse_kubeconfig(yaml, dir.path() + "/config", "");
  CHECK(c.server == "https://k8s.example:443");
  CHECK(c.tls.ca_pem == kCa);
  CHECK(c.tls.ca_source == dir.path() + "/certs/ca.crt");
  CHECK(c.tls.client_cert_pem == kCert);
  CHECK(c.tls.client_key_pem == kKey);
  CHECK(c.token_file == dir.path() + "/token");
  CHECK(c.token.empty());

  // Absolute references stay as they are.
  std::string absolute =
      kubeconfig("    server: https://k8s.example\n    certificate-authority: " + dir.path() +
                     "/certs/ca.crt\n",
                 "    tokenFile: " + dir.path() + "/token\n");
  RestConfig a = parse_kubeconfig(absolute, "/elsewhere/config", "");
  CHECK(a.tls.ca_pem == kCa);
  CHECK(a.token_file == dir.path() + "/token");
}

TEST_CASE("parse_kubeconfig reads client certificate data") {
  RestConfig c = parse_kubeconfig(
      kubeconfig(server_with_ca(), "    client-certificate-data: " + base64_encode(kCert) +
                                       "\n    client-key-data: " + base64_encode(kKey) + "\n"),
      "/x/config", "");
  CHECK(c.tls.client_cert_pem == kCert);
  CHECK(c.tls.client_key_pem == kKey);
  CHECK(c.token.empty());
}

TEST_CASE("parse_kubeconfig reads an exec plugin") {
  std::string user =
      "    exec:\n"
      "      apiVersion: client.authentication.k8s.io/v1\n"
      "      command: ./bin/plugin\n"
      "      args: [get-token, --cluster, dev]\n"
      "      env:\n"
      "      - name: AWS_PROFILE\n"
      "        value: prod\n"
      "      installHint: |\n"
      "        install plugin from example.com\n"
      "      provideClusterInfo: true\n"
      "      interactiveMode: Never\n";
  RestConfig c = parse_kubeconfig(kubeconfig(server_with_ca(), user), "/x/config", "");
  REQUIRE(c.exec);
  CHECK(c.exec->api_version == "client.authentication.k8s.io/v1");
  CHECK(c.exec->command == "/x/./bin/plugin");
  CHECK(c.exec->args == std::vector<std::string>{"get-token", "--cluster", "dev"});
  REQUIRE(c.exec->env.size() == 1);
  CHECK(c.exec->env[0] == std::pair<std::string, std::string>("AWS_PROFILE", "prod"));
  CHECK(c.exec->install_hint == "install plugin from example.com");
  CHECK(c.exec->provide_cluster_info);
  CHECK(c.exec->interactive_mode == "Never");

  // A bare command is looked up on PATH later; v1beta1 defaults the mode.
  std::string beta =
      "    exec:\n"
      "      apiVersion: client.authentication.k8s.io/v1beta1\n"
      "      command: gke-gcloud-auth-plugin\n";
  RestConfig b = parse_kubeconfig(kubeconfig(server_with_ca(), beta), "/x/config", "");
  REQUIRE(b.exec);
  CHECK(b.exec->command == "gke-gcloud-auth-plugin");
  CHECK(b.exec->interactive_mode == "IfAvailable");
  CHECK_FALSE(b.exec->provide_cluster_info);
}

TEST_CASE("parse_kubeconfig errors name the file and the problem") {
  const std::string ok_user = "    token: " + kToken + "\n";
  CHECK(usage_error(kubeconfig(server_with_ca(), ok_user), "foo") ==
        "kubeconfig /x/config: context \"foo\" not found (contexts: dev, other)");
  CHECK(usage_error(kubeconfig(server_with_ca(), ok_user, "current-context: gone\n")) ==
        "kubeconfig /x/config: context \"gone\" not found (contexts: dev, other)");
  CHECK(usage_error(kubeconfig(server_with_ca(), ok_user, "")) ==
        "kubeconfig /x/config: no current-context; pass --context");
  CHECK(usage_error("") == "kubeconfig /x/config: no current-context; pass --context");
  CHECK(usage_error(kubeconfig(server_with_ca(), "    namespace: x\n")) ==
        "kubeconfig /x/config: user \"u\" has no credentials (token, tokenFile, client "
        "certificate or exec)");
  std::string bad_yaml = usage_error("clusters: [\n");
  CHECK(bad_yaml.rfind("kubeconfig /x/config is not valid YAML: ", 0) == 0);
  CHECK(usage_error("- a\n- b\n") ==
        "kubeconfig /x/config is not a kubeconfig (expected a mapping with clusters, users and "
        "contexts)");

  std::string insecure = usage_error(
      kubeconfig("    server: https://h\n    insecure-skip-tls-verify: true\n", ok_user));
  CHECK(insecure.find("insecure-skip-tls-verify") != std::string::npos);
  CHECK(insecure.find("never switches TLS verification off") != std::string::npos);
  CHECK(insecure.find("certificate-authority-data") != std::string::npos);
  CHECK(insecure.find(kToken) == std::string::npos);
  // Explicitly false is harmless.
  CHECK_NOTHROW(parse_kubeconfig(
      kubeconfig("    server: https://h\n    insecure-skip-tls-verify: false\n", ok_user), "/x",
      ""));

  CHECK(usage_error(kubeconfig("    server: http://127.0.0.1:8080\n", ok_user)) ==
        "kubeconfig /x/config: cluster \"c\" has server http://127.0.0.1:8080, which is plain "
        "http; fluxkey only talks to an API server over https://");
  CHECK(usage_error(kubeconfig("    server: 127.0.0.1:6443\n", ok_user)) ==
        "kubeconfig /x/config: cluster \"c\" has server \"127.0.0.1:6443\", which is not an "
        "https:// URL");
  CHECK(usage_error(kubeconfig("    certificate-authority-data: eA==\n", ok_user)) ==
        "kubeconfig /x/config: cluster \"c\" has no server");
  CHECK(usage_error(kubeconfig("    server: https://h\n    tls-server-name: k\n", ok_user))
            .find("tls-server-name, which fluxkey does not support") != std::string::npos);
  CHECK(usage_error(kubeconfig("    server: https://h\n    proxy-url: http://p:3128\n", ok_user))
            .find("proxy-url, which fluxkey does not support; set HTTPS_PROXY") !=
        std::string::npos);
  CHECK(usage_error(
            kubeconfig("    server: https://h\n    certificate-authority-data: '%%'\n", ok_user)) ==
        "kubeconfig /x/config: cluster \"c\": certificate-authority-data is not valid base64");
  CHECK(usage_error(
            kubeconfig("    server: https://h\n    certificate-authority: nope.crt\n", ok_user)) ==
        "kubeconfig /x/config: cannot read certificate-authority /x/nope.crt: No such file or "
        "directory");
  CHECK(usage_error(kubeconfig(server_with_ca(), "    tokenFile: missing-token\n")) ==
        "kubeconfig /x/config: cannot read tokenFile /x/missing-token: No such file or "
        "directory");

  std::string key_only = usage_error(
      kubeconfig(server_with_ca(), "    client-key-data: " + base64_encode(kKey) + "\n"));
  CHECK(key_only == "kubeconfig /x/config: user \"u\" has a client key but no certificate");
  CHECK(key_only.find("PRIVATE KEY") == std::string::npos);

  std::string no_cluster =
      "contexts:\n- name: a\n  context: {cluster: k, user: u}\ncurrent-context: a\n"
      "clusters:\n- name: z\n  cluster: {server: 'https://h'}\n";
  CHECK(usage_error(no_cluster) ==
        "kubeconfig /x/config: context \"a\" refers to cluster \"k\", which is not defined "
        "(clusters: z)");
  std::string no_user =
      "contexts:\n- name: a\n  context: {cluster: z, user: u}\ncurrent-context: a\n"
      "clusters:\n- name: z\n  cluster: {server: 'https://h'}\n";
  CHECK(usage_error(no_user) ==
        "kubeconfig /x/config: context \"a\" refers to user \"u\", which is not defined (none "
        "defined)");

  CHECK(usage_error(kubeconfig(server_with_ca(),
                               "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                               "      command: p\n")) ==
        "kubeconfig /x/config: user \"u\": exec has no interactiveMode (required by "
        "client.authentication.k8s.io/v1); set interactiveMode: Never");
  CHECK(usage_error(kubeconfig(server_with_ca(),
                               "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                               "      command: p\n      interactiveMode: Always\n")) ==
        "kubeconfig /x/config: user \"u\": exec plugin p needs a terminal (interactiveMode: "
        "Always), and fluxkey never prompts");
  CHECK(usage_error(kubeconfig(server_with_ca(),
                               "    exec:\n      apiVersion: client.authentication.k8s.io/"
                               "v1alpha1\n      command: p\n"))
            .find("is not supported") != std::string::npos);
  CHECK(usage_error(kubeconfig(server_with_ca(), "    auth-provider:\n      name: gcp\n"))
            .find("auth-provider") != std::string::npos);
  CHECK(usage_error(kubeconfig(server_with_ca(), "    username: a\n    password: b\n"))
            .find("basic authentication") != std::string::npos);
  CHECK(usage_error("clusters: {a: b}\ncurrent-context: x\ncontexts: []\n") ==
        "kubeconfig /x/config: context \"x\" not found (none defined)");
  CHECK(usage_error("contexts: 5\ncurrent-context: x\n") ==
        "kubeconfig /x/config: the file: contexts must be a list");
}

TEST_CASE("load_in_cluster reads the service environment and the mounted files") {
  TempDir dir;
  InClusterPaths paths;
  paths.token_file = dir.write("token", kToken + "\n");
  paths.ca_file = dir.write("ca.crt", kCa);
  paths.namespace_file = dir.write("namespace", "fluxkey\n");
  EnvGuard env;
  env.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "443");
  env.set("POD_NAMESPACE", std::nullopt);

  RestConfig c = load_in_cluster(paths);
  CHECK(c.server == "https://10.96.0.1:443");
  CHECK(c.token.empty());  // re-read from the file before each request
  CHECK(c.token_file == paths.token_file);
  CHECK(c.tls.ca_pem == kCa);
  CHECK(c.tls.ca_source == paths.ca_file);
  CHECK(c.default_namespace == "fluxkey");
  CHECK(c.in_cluster);
  CHECK(c.origin == "in-cluster config");

  env.set("KUBERNETES_SERVICE_HOST", "fd00:10:96::1");
  env.set("KUBERNETES_SERVICE_PORT", "6443");
  CHECK(load_in_cluster(paths).server == "https://[fd00:10:96::1]:6443");

  env.set("POD_NAMESPACE", "from-env");
  CHECK(load_in_cluster(paths).default_namespace == "from-env");
  env.set("POD_NAMESPACE", std::nullopt);
  paths.namespace_file = dir.path() + "/no-namespace";
  CHECK(load_in_cluster(paths).default_namespace == "default");
}

TEST_CASE("load_in_cluster names what is missing") {
  TempDir dir;
  InClusterPaths paths;
  paths.token_file = dir.path() + "/token";
  paths.ca_file = dir.path() + "/ca.crt";
  paths.namespace_file = dir.path() + "/namespace";
  EnvGuard env;
  env.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "443");
  CHECK_THROWS_WITH_AS(
      load_in_cluster(paths),
      ("cannot read in-cluster token " + paths.token_file + ": No such file or directory").c_str(),
      Error);
  dir.write("token", kToken);
  CHECK_THROWS_WITH_AS(
      load_in_cluster(paths),
      ("cannot read in-cluster CA " + paths.ca_file + ": No such file or directory").c_str(),
      Error);
  dir.write("token", "\n");
  CHECK_THROWS_WITH_AS(load_in_cluster(paths),
                       ("in-cluster token " + paths.token_file + " is empty").c_str(), Error);
  env.set("KUBERNETES_SERVICE_PORT", std::nullopt);
  CHECK_THROWS_AS(load_in_cluster(paths), UsageError);
}

TEST_CASE("load_rest_config looks in kubectl's order") {
  TempDir dir;
  const std::string user = "    token: t\n";
  std::string flag_file = dir.write("flag-config", kubeconfig("    server: https://flag\n", user));
  std::string env_file = dir.write("env-config", kubeconfig("    server: https://env\n", user));
  std::string home_file =
      dir.write("home/.kube/config", kubeconfig("    server: https://home\n", user));
  EnvGuard env;
  env.set("HOME", dir.path() + "/home");
  env.set("KUBECONFIG", std::nullopt);
  env.set("KUBERNETES_SERVICE_HOST", std::nullopt);
  env.set("KUBERNETES_SERVICE_PORT", std::nullopt);

  CHECK(load_rest_config({}).server == "https://home");
  CHECK(load_rest_config({"", "other"}).origin == "kubeconfig " + home_file + ", context other");

  // In a pod (the default paths do not exist here, so the token read fails
  // naming the mounted file: proof the in-cluster branch was taken).
  env.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "443");
  CHECK_THROWS_WITH_AS(load_rest_config({}),
                       "cannot read in-cluster token "
                       "/var/run/secrets/kubernetes.io/serviceaccount/token: No such file or "
                       "directory",
                       UsageError);
  CHECK_THROWS_WITH_AS(load_rest_config({"", "dev"}),
                       "--context dev needs a kubeconfig, but fluxkey is using the in-cluster "
                       "config; pass --kubeconfig",
                       UsageError);

  env.set("KUBECONFIG", dir.path() + "/missing:" + env_file + ":" + flag_file);
  CHECK(load_rest_config({}).server == "https://env");
  CHECK(load_rest_config({flag_file, ""}).server == "https://flag");

  env.set("KUBECONFIG", dir.path() + "/missing");
  CHECK_THROWS_WITH_AS(load_rest_config({}),
                       ("KUBECONFIG names no existing file (" + dir.path() +
                        "/missing); fix it or pass --kubeconfig")
                           .c_str(),
                       UsageError);
  CHECK_THROWS_WITH_AS(
      load_rest_config({dir.path() + "/nope", ""}),
      ("cannot read kubeconfig " + dir.path() + "/nope: No such file or directory").c_str(),
      UsageError);

  env.set("KUBECONFIG", std::nullopt);
  env.set("KUBERNETES_SERVICE_HOST", std::nullopt);
  env.set("HOME", dir.path() + "/empty-home");
  CHECK_THROWS_WITH_AS(load_rest_config({}),
                       "no kubeconfig: pass --kubeconfig, set KUBECONFIG, or run in a cluster",
                       UsageError);
}

TEST_CASE("parse_kubeconfig: names and YAML errors are quoted on one line (fuzz)") {
  // yaml-cpp's message quotes the character after the backslash, as is.
  std::string bad_escape = usage_error("current-context: \"a\\\x01\"\n");
  CHECK(bad_escape.find("is not valid YAML") != std::string::npos);
  CHECK(bad_escape.find("\\x01") != std::string::npos);
  CHECK(bad_escape.find('\x01') == std::string::npos);
  std::string name = usage_error("current-context: \"gone\\nnext\"\n");
  CHECK(name.find("context \"gone\\nnext\" not found") != std::string::npos);
}

}  // namespace kube_config_loader_test
