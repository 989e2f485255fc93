#include "flux/flux_cli.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/base64.h"
#include "core/error.h"
#include "core/file.h"
#include "kube/config_loader.h"
#include "support/flux_stand_in.h"
#include "support/kube_fakes.h"

namespace flux_flux_cli_test {

using namespace fluxkey;
using namespace fluxkey::flux;
using fluxkey::kube::testing::EnvGuard;
using fluxkey::kube::testing::kCa;
using fluxkey::testing::recorded_kubeconfig_path;
using fluxkey::testing::recording_flux_script;
using fluxkey::testing::TempDir;
using std::chrono::milliseconds;

namespace {

const std::string kToken = "flux-cli-unit-test-token";

ReconcileOptions options(const std::string& kind, const std::string& name = "apps") {
  ReconcileOptions o;
  o.kind = kind;
  o.name = name;
  o.namespace_ = "team";
  o.timeout = milliseconds(90'000);
  return o;
}

kube::RestConfig token_config() {
  kube::RestConfig c;
  c.server = "https://127.0.0.1:6443";
  c.tls.ca_pem = kCa;
  c.token = kToken;
  c.default_namespace = "apps";
  c.origin = "test";
  return c;
}

}  // namespace

TEST_CASE("flux arguments: the subcommand of the kind, name, namespace, timeout, kubeconfig") {
  using V = std::vector<std::string>;
  CHECK(flux_cli_args(options("ks"), "/tmp/k") == V{"reconcile", "kustomization", "apps", "-n",
                                                    "team", "--timeout", "1m30s", "--kubeconfig",
                                                    "/tmp/k"});
  ReconcileOptions hr = options("hr", "podinfo");
  hr.with_source = hr.force = hr.reset = true;
  hr.timeout = milliseconds(2'500);
  CHECK(flux_cli_args(hr, "/k") == V{"reconcile", "helmrelease", "podinfo", "-n", "team",
                                     "--with-source", "--force", "--reset", "--timeout", "2500ms",
                                     "--kubeconfig", "/k"});
  ReconcileOptions git = options("gitrepository", "fleet");
  git.with_source = true;  // flux has no --with-source there: left out
  CHECK(flux_cli_args(git, "/k") == V{"reconcile", "source", "git", "fleet", "-n", "team",
                                      "--timeout", "1m30s", "--kubeconfig", "/k"});
  CHECK(flux_cli_args(options("imageupdateautomation"), "/k")[2] == "update");
}

TEST_CASE("flux arguments: what flux cannot do is a usage error") {
  ReconcileOptions no_wait = options("ks");
  no_wait.wait = false;
  CHECK_THROWS_AS(flux_cli_args(no_wait, "/k"), UsageError);
  CHECK_THROWS_AS(flux_cli_args(options("alert"), "/k"), UsageError);
  ReconcileOptions force = options("ks");
  force.force = true;
  CHECK_THROWS_AS(flux_cli_args(force, "/k"), UsageError);
}

TEST_CASE("the kubeconfig given to flux holds the same server, CA, token and namespace") {
  std::string yaml = render_cli_kubeconfig(token_config());
  kube::RestConfig back = kube::parse_kubeconfig(yaml, "/private/kubeconfig", "");
  CHECK(back.server == "https://127.0.0.1:6443");
  CHECK(back.tls.ca_pem == kCa);
  CHECK(back.token == kToken);
  CHECK(back.default_namespace == "apps");

  // A token file is read now; client certificates and exec plugins carry over.
  TempDir dir;
  kube::RestConfig c = token_config();
  c.token.clear();
  c.token_file = dir.write("token", "from-file\n");
  c.tls.client_cert_pem = "CERT";
  c.tls.client_key_pem = "KEY";
  c.exec = kube::ExecConfig{"client.authentication.k8s.io/v1",
                            "aws",
                            {"eks", "get-token"},
                            {{"AWS_PROFILE", "ci"}},
                            "",
                            false,
                            "Never"};
  yaml = render_cli_kubeconfig(c);
  CHECK(yaml.find("token: from-file") != std::string::npos);
  CHECK(yaml.find("client-certificate-data: " + base64_encode("CERT")) != std::string::npos);
  CHECK(yaml.find("command: aws") != std::string::npos);
  CHECK(yaml.find("AWS_PROFILE") != std::string::npos);
}

TEST_CASE("flux's output: the revision of the last success line, the failure line") {
  FluxOutput out = parse_flux_output(
      "► annotating GitRepository fleet in flux-system namespace\n"
      "✔ fetched revision main@sha1:aaa\n"
      "◎ waiting for Kustomization reconciliation\n"
      "✔ applied revision main@sha1:bbb\n");
  CHECK(out.revision == "main@sha1:bbb");
  CHECK(out.success == "applied revision main@sha1:bbb");
  CHECK(out.failure.empty());
  out = parse_flux_output("✗ Kustomization reconciliation failed: 'boom'\n");
  CHECK(out.failure == "Kustomization reconciliation failed: 'boom'");
  CHECK(out.revision.empty());
}

TEST_CASE("flux's exit as ours") {
  ProcessResult run;
  run.exit_code = 0;
  CHECK(flux_exit_code(run) == ExitCode::kOk);
  run.exit_code = 1;
  CHECK(flux_exit_code(run) == ExitCode::kFailed);
  run.err = "✗ context deadline exceeded\n";
  CHECK(flux_exit_code(run) == ExitCode::kTimeout);
  run.err.clear();
  run.exit_code = -1;
  run.timed_out = true;
  CHECK(flux_exit_code(run) == ExitCode::kTimeout);
}

TEST_CASE("--flux-cli runs flux from PATH with a private kubeconfig, removed afterwards") {
  TempDir dir;
  std::string record = dir.path() + "/record";
  dir.write("bin/flux",
            recording_flux_script(record, "echo '✔ applied revision main@sha1:ccc' >&2\n"), 0755);
  EnvGuard env;
  env.set("PATH", dir.path() + "/bin:/usr/bin:/bin");
  env.set("FLUXKEY_KUBECONFIG_DATA", base64_encode("token: " + kToken));
  ReconcileResult result = reconcile_with_flux_cli(options("ks"), token_config());
  CHECK(result.ready);
  CHECK(result.revision == "main@sha1:ccc");

  std::string seen = fluxkey::read_file(record, "record");
  CHECK(seen.find("arg:kustomization") != std::string::npos);
  CHECK(seen.find("mode:600\n") != std::string::npos);
  CHECK(seen.find("dirmode:700\n") != std::string::npos);
  CHECK(seen.find(kToken) == std::string::npos);
  CHECK(seen.find("FLUXKEY_KUBECONFIG_DATA") == std::string::npos);
  std::string path = recorded_kubeconfig_path(seen);
  REQUIRE_FALSE(path.empty());
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path()));
}

TEST_CASE("--flux-cli: flux's failure is ours, flux missing is a configuration error") {
  TempDir dir;
  dir.write("bin/flux",
            "#!/bin/sh\necho '✗ Kustomization reconciliation failed: boom' >&2\nexit 1\n", 0755);
  EnvGuard env;
  env.set("PATH", dir.path() + "/bin");
  try {
    reconcile_with_flux_cli(options("ks"), token_config());
    FAIL("no error");
  } catch (const ReconcileError& e) {
    CHECK(e.code() == ExitCode::kFailed);
    CHECK(std::string(e.what()).find("boom") != std::string::npos);
  }
  env.set("PATH", dir.path() + "/nothing-here");
  CHECK_THROWS_AS(reconcile_with_flux_cli(options("ks"), token_config()), UsageError);
}

}  // namespace flux_flux_cli_test
