#include "action/run.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base64.h"
#include "core/log.h"
#include "support/kube_fakes.h"

namespace action_run_test {

using namespace fluxkey;
using namespace fluxkey::action;

namespace {

const Clock::time_point kNow = Clock::time_point(std::chrono::seconds(1'800'000'000));

std::string jwt(long long exp) {
  return base64url_encode(R"({"alg":"ES256"})") + "." +
         base64url_encode(
             nlohmann::json{{"exp", exp}, {"sub", "system:serviceaccount:x:y"}}.dump()) +
         "." + base64url_encode("signature-bytes");
}

std::string kubeconfig(const std::string& token) {
  return "apiVersion: v1\nkind: Config\n"
         "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
         "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n"
         "current-context: ctx\n"
         "users:\n- name: u\n  user:\n    token: " +
         token + "\n";
}

// A transport that no test here may reach: the reconcile is faked.
class NoTransport : public http::Transport {
 public:
  http::Response send(const http::Request&) override {
    throw std::logic_error("the fake reconcile sent a request");
  }
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Reads $GITHUB_OUTPUT as the runner does: name<<DELIM ... DELIM.
std::map<std::string, std::string> parse_outputs(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find("<<");
    REQUIRE_MESSAGE(at != std::string::npos, line);
    std::string name = line.substr(0, at), delimiter = line.substr(at + 2);
    std::string value, next;
    bool first = true;
    while (std::getline(in, next) && next != delimiter) {
      value += (first ? "" : "\n") + next;
      first = false;
    }
    REQUIRE(next == delimiter);
    out[name] = value;
  }
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

struct Rig {
  fluxkey::testing::TempDir dir;
  std::map<std::string, std::string> vars;
  std::FILE* out = std::tmpfile();
  int calls = 0;
  flux::ReconcileOptions seen;
  std::function<flux::ReconcileResult(const flux::ReconcileOptions&)> behaviour;

  Rig() {
    vars["GITHUB_OUTPUT"] = dir.write("output", "");
    vars["GITHUB_STEP_SUMMARY"] = dir.write("summary", "");
  }
  ~Rig() { std::fclose(out); }

  ExitCode run() {
    ActionContext context{
        .env = [this](const std::string& name) -> std::optional<std::string> {
          auto it = vars.find(name);
          if (it == vars.end()) return std::nullopt;
          return it->second;
        },
        .out = out,
        .reconcile =
            [this](const flux::ReconcileOptions& options, kube::Client&) {
              ++calls;
              seen = options;
              return behaviour(options);
            },
        .make_client =
            [](kube::RestConfig config) {
              return std::make_unique<kube::Client>(std::move(config),
                                                    std::make_unique<NoTransport>());
            },
        .now = [] { return kNow; },
    };
    return run_action(context);
  }
  std::string stdout_text() const {
    std::string text;
    std::rewind(out);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, out)) > 0) text.append(buffer, n);
    return text;
  }
  std::map<std::string, std::string> outputs() const {
    return parse_outputs(read(vars.at("GITHUB_OUTPUT")));
  }
  std::string summary() const { return read(vars.at("GITHUB_STEP_SUMMARY")); }
};

flux::ReconcileResult ready_result() {
  flux::ReconcileResult result;
  result.ready = true;
  result.revision = "main@sha1:0123456789abcdef";
  result.message = "Applied revision: main@sha1:0123456789abcdef";
  result.duration = std::chrono::milliseconds(2345);
  result.objects = {
      {"GitRepository", "flux-system", "flux-system", true, result.revision, "stored artifact"},
      {"Kustomization", "flux-system", "apps", true, result.revision, result.message},
  };
  return result;
}

}  // namespace

TEST_CASE("a ready reconcile: masks first, progress grouped, outputs and summary written") {
  Rig rig;
  const std::string token = jwt(1'800'086'400);
  const std::string input = base64_encode(kubeconfig(token));
  rig.vars["INPUT_KUBECONFIG"] = input;
  rig.vars["INPUT_NAME"] = "apps";
  rig.vars["INPUT_WITH-SOURCE"] = "";
  rig.behaviour = [](const flux::ReconcileOptions&) { return ready_result(); };

  CHECK(rig.run() == ExitCode::kOk);
  CHECK(rig.calls == 1);
  CHECK(rig.seen.name == "apps");
  CHECK(rig.seen.with_source);

  auto out = lines(rig.stdout_text());
  REQUIRE(out.size() >= 6);
  CHECK(out[0] == "::add-mask::" + input);
  CHECK(out[1] == "::add-mask::" + token);
  CHECK(out[2] == "::group::Reconcile kustomization flux-system/apps");
  CHECK(out[3].starts_with("::stop-commands::fluxkey-"));
  std::string resume = "::" + out[3].substr(std::string("::stop-commands::").size()) + "::";
  CHECK(out[4] == resume);
  CHECK(out[5] == "::endgroup::");
  CHECK(out.back() ==
        "Kustomization flux-system/apps is ready at revision main@sha1:0123456789abcdef (2.3 s)");
  for (size_t i = 2; i < out.size(); ++i) {
    CHECK(out[i].find(token) == std::string::npos);
    CHECK(out[i].find("::error") == std::string::npos);
  }

  auto outputs = rig.outputs();
  CHECK(outputs["ready"] == "true");
  CHECK(outputs["revision"] == "main@sha1:0123456789abcdef");
  CHECK(outputs["message"] == "Applied revision: main@sha1:0123456789abcdef");
  CHECK(outputs["duration-seconds"] == "2.3");
  CHECK(outputs.size() == 4);

  std::string summary = rig.summary();
  CHECK(summary.find("### fluxkey reconcile ✅") != std::string::npos);
  CHECK(summary.find("| Object | Kustomization flux-system/apps |") != std::string::npos);
  CHECK(summary.find("| Source | GitRepository flux-system/flux-system |") != std::string::npos);
  CHECK(summary.find("| Revision | <code>main@sha1:0123456789abcdef</code> |") !=
        std::string::npos);
  CHECK(summary.find("| Result | ✅ Applied revision: main@sha1:0123456789abcdef |") !=
        std::string::npos);
  CHECK(summary.find("| Duration | 2.3 s |") != std::string::npos);
  CHECK(summary.find(token) == std::string::npos);
}

TEST_CASE("without with-source the summary has no source row") {
  Rig rig;
  rig.vars["INPUT_KUBECONFIG"] = kubeconfig("static-token-0123456789");
  rig.vars["INPUT_WITH-SOURCE"] = "false";
  rig.behaviour = [](const flux::ReconcileOptions&) {
    auto result = ready_result();
    result.objects.erase(result.objects.begin());
    return result;
  };
  CHECK(rig.run() == ExitCode::kOk);
  CHECK_FALSE(rig.seen.with_source);
  // Raw YAML is several lines: the token is masked, not the lines.
  auto out = lines(rig.stdout_text());
  CHECK(out[0] == "::add-mask::static-token-0123456789");
  CHECK(out[1].starts_with("::group::"));
  CHECK(rig.summary().find("| Source |") == std::string::npos);
}

TEST_CASE(
    "a failed reconcile: exit 1, ::error, ready=false with the message and what was reached") {
  Rig rig;
  rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(jwt(1'800'086'400)));
  rig.behaviour = [](const flux::ReconcileOptions&) -> flux::ReconcileResult {
    auto partial = ready_result();
    partial.ready = false;
    partial.objects.back().ready = false;
    partial.revision = "main@sha1:old";
    partial.duration = std::chrono::milliseconds(950);
    throw flux::ReconcileError(
        "Kustomization flux-system/apps failed: kustomize build failed: | bad\nline 2",
        ExitCode::kFailed, partial);
  };
  CHECK(rig.run() == ExitCode::kFailed);
  std::string text = rig.stdout_text();
  CHECK(text.find("::error title=fluxkey reconcile failed::Kustomization flux-system/apps failed: "
                  "kustomize build failed: | bad%0Aline 2\n") != std::string::npos);
  auto outputs = rig.outputs();
  CHECK(outputs["ready"] == "false");
  CHECK(outputs["revision"] == "main@sha1:old");
  CHECK(outputs["message"] ==
        "Kustomization flux-system/apps failed: kustomize build failed: | bad\nline 2");
  CHECK(outputs["duration-seconds"] == "1.0");
  std::string summary = rig.summary();
  CHECK(summary.find("### fluxkey reconcile ❌") != std::string::npos);
  CHECK(summary.find("| Result | ❌ Kustomization flux-system/apps failed: kustomize build "
                     "failed: \\| bad<br>line 2 |") != std::string::npos);
  CHECK(summary.find("| Object | Kustomization flux-system/apps |") != std::string::npos);
}

TEST_CASE("a timeout exits 4 with its own title") {
  Rig rig;
  rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(jwt(1'800'086'400)));
  rig.behaviour = [](const flux::ReconcileOptions&) -> flux::ReconcileResult {
    throw flux::ReconcileError("timed out waiting for Kustomization flux-system/flux-system",
                               ExitCode::kTimeout, {});
  };
  CHECK(rig.run() == ExitCode::kTimeout);
  CHECK(rig.stdout_text().find("::error title=fluxkey reconcile timed out::timed out waiting") !=
        std::string::npos);
  CHECK(rig.outputs()["ready"] == "false");
  // No objects reached: the summary names the object as the inputs did.
  CHECK(rig.summary().find("| Object | kustomization flux-system/flux-system |") !=
        std::string::npos);
  CHECK(rig.summary().find("| Source | — |") != std::string::npos);
}

TEST_CASE("a 401 from the API server says how the token gets renewed") {
  Rig rig;
  rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(jwt(1'800'086'400)));
  rig.behaviour = [](const flux::ReconcileOptions&) -> flux::ReconcileResult {
    throw kube::ApiError(401, "Unauthorized", "Unauthorized");
  };
  CHECK(rig.run() == ExitCode::kFailed);
  std::string message = rig.outputs()["message"];
  CHECK(
      message.starts_with("the API server https://127.0.0.1:6443 refused the credentials from "
                          "kubeconfig input, context ctx (401 Unauthorized)"));
  CHECK(message.find("fluxkey rotate") != std::string::npos);
}

TEST_CASE("bad inputs exit 2 before any reconcile, still with outputs and an annotation") {
  Rig rig;
  rig.behaviour = [](const flux::ReconcileOptions&) { return ready_result(); };
  SUBCASE("empty kubeconfig") {
    rig.vars["INPUT_KUBECONFIG"] = "";
    CHECK(rig.run() == ExitCode::kUsage);
    auto out = lines(rig.stdout_text());
    REQUIRE(!out.empty());
    CHECK(out[0].starts_with("::error title=fluxkey::the kubeconfig input is empty;"));
  }
  SUBCASE("garbage") {
    rig.vars["INPUT_KUBECONFIG"] = "garbage!";
    CHECK(rig.run() == ExitCode::kUsage);
    auto out = lines(rig.stdout_text());
    CHECK(out[0] == "::add-mask::garbage!");
    CHECK(out[1].starts_with("::error title=fluxkey::the kubeconfig input is neither"));
    CHECK(rig.outputs()["message"].find("garbage!") == std::string::npos);
  }
  SUBCASE("expired token") {
    std::string token = jwt(1'800'000'000 - 7200);
    rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(token));
    CHECK(rig.run() == ExitCode::kUsage);
    CHECK(rig.outputs()["message"].starts_with(
        "the token in the kubeconfig input expired at 2027-01-15T06:00:00Z (2h ago)"));
    CHECK(rig.summary().find(token) == std::string::npos);
  }
  SUBCASE("bad with-source") {
    rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(jwt(1'800'086'400)));
    rig.vars["INPUT_WITH-SOURCE"] = "yes";
    CHECK(rig.run() == ExitCode::kUsage);
    CHECK(rig.outputs()["message"] == "input with-source is \"yes\"; set it to true or false");
    CHECK(rig.summary().find("| Object | — |") != std::string::npos);
  }
  CHECK(rig.calls == 0);
  CHECK(rig.outputs()["ready"] == "false");
  CHECK(rig.stdout_text().find("::group::") == std::string::npos);
}

TEST_CASE("a token expiring within the timeout is warned about") {
  Rig rig;
  rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(jwt(1'800'000'000 + 120)));
  rig.behaviour = [](const flux::ReconcileOptions&) { return ready_result(); };
  CHECK(rig.run() == ExitCode::kOk);
  CHECK(rig.stdout_text().find("::warning title=fluxkey::the token in the kubeconfig input "
                               "expires at 2027-01-15T08:02:00Z, before the timeout of 5m") !=
        std::string::npos);
}

TEST_CASE("an unwritable $GITHUB_OUTPUT fails an otherwise good step") {
  Rig rig;
  rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(jwt(1'800'086'400)));
  rig.vars["GITHUB_OUTPUT"] = rig.dir.path() + "/no/such/dir/output";
  rig.behaviour = [](const flux::ReconcileOptions&) { return ready_result(); };
  CHECK(rig.run() == ExitCode::kFailed);
  CHECK(rig.stdout_text().find("::error title=fluxkey::cannot append to $GITHUB_OUTPUT") !=
        std::string::npos);
  // The summary is still written.
  CHECK(rig.summary().find("✅") != std::string::npos);
}

TEST_CASE("outside a runner, without GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, nothing is written") {
  Rig rig;
  rig.vars.erase("GITHUB_OUTPUT");
  rig.vars.erase("GITHUB_STEP_SUMMARY");
  rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(jwt(1'800'086'400)));
  rig.behaviour = [](const flux::ReconcileOptions&) { return ready_result(); };
  CHECK(rig.run() == ExitCode::kOk);
}

TEST_CASE("the runner's debug logging (RUNNER_DEBUG=1) makes the run verbose") {
  Rig rig;
  rig.vars["INPUT_KUBECONFIG"] = base64_encode(kubeconfig(jwt(1'800'086'400)));
  rig.behaviour = [](const flux::ReconcileOptions&) { return ready_result(); };
  struct Quiet {  // the logger is the process's: leave it as the other tests expect
    ~Quiet() { logger().set_verbose(false); }
  } quiet;
  REQUIRE(rig.run() == ExitCode::kOk);
  CHECK_FALSE(logger().verbose());
  rig.vars["RUNNER_DEBUG"] = "1";
  REQUIRE(rig.run() == ExitCode::kOk);
  CHECK(logger().verbose());
}

TEST_CASE("format_seconds rounds to tenths") {
  CHECK(format_seconds(std::chrono::milliseconds(0)) == "0.0");
  CHECK(format_seconds(std::chrono::milliseconds(49)) == "0.0");
  CHECK(format_seconds(std::chrono::milliseconds(50)) == "0.1");
  CHECK(format_seconds(std::chrono::milliseconds(61'949)) == "61.9");
  CHECK(format_seconds(std::chrono::milliseconds(61'950)) == "62.0");
}

}  // namespace action_run_test
