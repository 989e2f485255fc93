// `fluxkey action` end to end: the real binary in a simulated runner (INPUT_*
// variables, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY files) against kube-sim's
// Flux kinds, with the kubeconfig `fluxkey kubeconfig` mints as its input.
// Then the files around it: action.yml against GitHub's schema (the real
// @action-validator/cli) and the contract, and the Dockerfile against ./dev
// and the libraries fluxkey links, since Docker cannot run here.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/base64.h"
#include "support/flux_fixtures.h"
#include "support/fluxkey_run.h"
#include "support/image_run.h"
#include "support/sim_process.h"

namespace action_command_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const char* const kCluster = R"(
apiVersion: v1
kind: ServiceAccount
metadata: {name: flux-reconcile, namespace: fluxkey}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: "ssh://git@github.com/example/fleet", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 10m, path: ./clusters/prod, prune: true,
       sourceRef: {kind: GitRepository, name: flux-system}}
)";

const char* const kGitRepository =
    "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/flux-system";
const char* const kKustomization =
    "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/flux-system";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// $GITHUB_OUTPUT read as the runner reads it: `name<<DELIMITER`, the value's
// lines, the delimiter alone.
std::map<std::string, std::string> parse_outputs(const std::string& text) {
  std::map<std::string, std::string> out;
  auto lines = lines_of(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    auto at = lines[i].find("<<");
    REQUIRE_MESSAGE(at != std::string::npos, "not the heredoc syntax: " << lines[i]);
    const std::string name = lines[i].substr(0, at), delimiter = lines[i].substr(at + 2);
    REQUIRE(delimiter.size() >= 20);
    std::string value;
    size_t j = i + 1;
    for (; j < lines.size() && lines[j] != delimiter; ++j) {
      value += (j == i + 1 ? "" : "\n") + lines[j];
    }
    REQUIRE_MESSAGE(j < lines.size(), "no closing delimiter for " << name);
    out[name] = value;
    i = j;
  }
  return out;
}

// kube-sim with a Kustomization and its GitRepository (the simulated
// controllers answer), and a runner's step environment in a TempDir.
struct Runner {
  SimProcess kube{binary_from_env("KUBE_SIM")};
  TempDir dir;
  std::string admin_token;

  Runner() {
    auto reply = kube.request("POST", "/_sim/objects", kCluster, "application/yaml");
    REQUIRE_MESSAGE(reply.status == 201, reply.body);
    admin_token = kube_admin_token(kube);
  }

  // What `fluxkey kubeconfig` prints: the kubeconfig a sync would store.
  std::string mint(const std::string& ttl = "1h") const {
    auto run = run_fluxkey(
        {"kubeconfig", "--kubeconfig", kube.state_dir() + "/admin.kubeconfig", "--token-ttl", ttl},
        {}, std::chrono::seconds(60),
        StdoutIsCredential{"fluxkey kubeconfig prints the kubeconfig by design"});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    return run.out;
  }

  void behave(const json& rule) const { kube.control("POST", "/_sim/flux", rule); }
  void shift_clock(long long seconds) const {
    kube.control("POST", "/_sim/clock", {{"offset_seconds", seconds}});
  }

  json get(const std::string& path) const {
    auto reply = kube.request("GET", path, "", "", {{"Authorization", "Bearer " + admin_token}});
    REQUIRE_MESSAGE(reply.status == 200, path << ": " << reply.body);
    return reply.json();
  }

  // The step, as the runner starts it: every input present, "" when the
  // workflow left it out.
  ProcessResult run(const std::string& kubeconfig, std::map<std::string, std::string> inputs = {},
                    std::chrono::milliseconds timeout = 60s) const {
    Env env = {{"GITHUB_OUTPUT", output_file()},
               {"GITHUB_STEP_SUMMARY", summary_file()},
               {"GITHUB_ACTIONS", "true"},
               {"INPUT_KUBECONFIG", kubeconfig}};
    for (const char* name : {"KIND", "NAME", "NAMESPACE", "WITH-SOURCE", "TIMEOUT", "FORCE"}) {
      env.emplace_back(std::string("INPUT_") + name, inputs[name]);
    }
    return run_fluxkey({"action"}, env, timeout);
  }

  std::string output_file() const { return dir.path() + "/github_output"; }
  std::string summary_file() const { return dir.path() + "/step_summary.md"; }
  std::map<std::string, std::string> outputs() const {
    return parse_outputs(read_text(output_file()));
  }
  std::string summary() const { return read_text(summary_file()); }
  size_t requests() const { return kube.requests().size(); }
};

// The runner hides a masked value only from the lines after its add-mask
// line, so every add-mask comes first; stderr is merged into stdout so that
// no line on the other pipe can overtake them.
void check_masks_first(const ProcessResult& run, const std::vector<std::string>& masked) {
  CHECK(run.err.empty());
  auto lines = lines_of(run.out);
  REQUIRE(lines.size() >= masked.size());
  for (size_t i = 0; i < masked.size(); ++i) CHECK(lines[i] == "::add-mask::" + masked[i]);
  for (size_t i = masked.size(); i < lines.size(); ++i) {
    CHECK_MESSAGE(!lines[i].starts_with("::add-mask::"), "late mask on line " << i);
  }
}

// No credential anywhere: stdout (but for the add-mask lines), stderr, the
// outputs and the summary.
void check_no_secret(const Runner& runner, const ProcessResult& run,
                     const std::vector<std::string>& secrets) {
  std::string printed;
  for (const auto& line : lines_of(run.out)) {
    if (!line.starts_with("::add-mask::")) printed += line + "\n";
  }
  const std::string outputs = read_text(runner.output_file());
  const std::string summary = read_text(runner.summary_file());
  for (const auto& secret : secrets) {
    REQUIRE(secret.size() >= 16);
    CHECK(printed.find(secret) == std::string::npos);
    CHECK(run.err.find(secret) == std::string::npos);
    CHECK(outputs.find(secret) == std::string::npos);
    CHECK(summary.find(secret) == std::string::npos);
  }
}

std::string annotation(const json& object, const std::string& key) {
  return object["metadata"].value("annotations", json::object()).value(key, "");
}

}  // namespace

TEST_CASE("action: a base64 kubeconfig and default inputs reconcile the source, then the object") {
  Runner runner;
  const std::string kubeconfig = runner.mint();
  const std::string token = token_of(kubeconfig);
  const std::string input = base64_encode(kubeconfig);

  auto run = runner.run(input);
  REQUIRE_MESSAGE(run.exit_code == 0, run.out);
  check_masks_first(run, {input, token});
  check_no_secret(runner, run, {input, token});

  // Progress folded in a group, with workflow commands off inside it.
  auto lines = lines_of(run.out);
  CHECK(lines[2] == "::group::Reconcile kustomization flux-system/flux-system");
  REQUIRE(lines[3].starts_with("::stop-commands::"));
  const std::string resume = "::" + lines[3].substr(17) + "::";
  auto resumed = std::find(lines.begin(), lines.end(), resume);
  REQUIRE(resumed != lines.end());
  REQUIRE(resumed + 1 != lines.end());
  CHECK(*(resumed + 1) == "::endgroup::");
  CHECK(resumed - lines.begin() > 4);  // the reconcile's progress is in there
  CHECK(run.out.find("::error") == std::string::npos);

  // Both objects were asked to reconcile, and the outputs tell where the
  // Kustomization ended.
  json source = runner.get(kGitRepository);
  json object = runner.get(kKustomization);
  CHECK_FALSE(annotation(source, "reconcile.fluxcd.io/requestedAt").empty());
  CHECK_FALSE(annotation(object, "reconcile.fluxcd.io/requestedAt").empty());
  const std::string revision = object["status"].value("lastAppliedRevision", "");
  REQUIRE_FALSE(revision.empty());

  auto outputs = runner.outputs();
  CHECK(outputs.size() == 4);
  CHECK(outputs["ready"] == "true");
  CHECK(outputs["revision"] == revision);
  CHECK(outputs["message"] == "Applied revision: " + revision);
  CHECK(std::stod(outputs["duration-seconds"]) >= 0.0);
  CHECK(std::stod(outputs["duration-seconds"]) < 30.0);

  const std::string summary = runner.summary();
  CHECK(summary.find("### fluxkey reconcile ✅") != std::string::npos);
  CHECK(summary.find("| Object | Kustomization flux-system/flux-system |") != std::string::npos);
  CHECK(summary.find("| Source | GitRepository flux-system/flux-system |") != std::string::npos);
  CHECK(summary.find("| Revision | <code>" + revision + "</code> |") != std::string::npos);
  CHECK(summary.find("| Result | ✅ Applied revision: " + revision + " |") != std::string::npos);
  CHECK(summary.find("| Duration | " + outputs["duration-seconds"] + " s |") != std::string::npos);
}

TEST_CASE("action: a raw YAML kubeconfig, without the source") {
  Runner runner;
  const std::string kubeconfig = runner.mint();
  const std::string token = token_of(kubeconfig);

  auto run = runner.run(kubeconfig, {{"WITH-SOURCE", "false"}, {"TIMEOUT", "30s"}});
  REQUIRE_MESSAGE(run.exit_code == 0, run.out);
  // Several lines: the token is masked, not each line of the YAML.
  check_masks_first(run, {token});
  check_no_secret(runner, run, {token});

  CHECK(annotation(runner.get(kGitRepository), "reconcile.fluxcd.io/requestedAt").empty());
  CHECK_FALSE(annotation(runner.get(kKustomization), "reconcile.fluxcd.io/requestedAt").empty());
  CHECK(runner.outputs()["ready"] == "true");
  CHECK(runner.summary().find("| Source |") == std::string::npos);
}

TEST_CASE("action: a stalled reconcile fails the step with ready=false, exit 1 and ::error") {
  Runner runner;
  runner.behave({{"kind", "kustomization"},
                 {"mode", "fail-stalled"},
                 {"reason", "BuildFailed"},
                 {"message", "kustomize build failed: accumulating resources | bad"}});
  const std::string kubeconfig = runner.mint();
  const std::string input = base64_encode(kubeconfig);

  auto run = runner.run(input);
  CHECK(run.exit_code == 1);
  check_masks_first(run, {input, token_of(kubeconfig)});
  check_no_secret(runner, run, {input, token_of(kubeconfig)});
  CHECK(run.out.find("\n::error title=fluxkey reconcile failed::") != std::string::npos);

  auto outputs = runner.outputs();
  CHECK(outputs["ready"] == "false");
  CHECK(outputs["message"].find("kustomize build failed") != std::string::npos);
  CHECK(outputs.count("revision") == 1);
  CHECK(outputs.count("duration-seconds") == 1);
  const std::string summary = runner.summary();
  CHECK(summary.find("### fluxkey reconcile ❌") != std::string::npos);
  CHECK(summary.find("accumulating resources \\| bad") != std::string::npos);
}

TEST_CASE("action: not ready within the timeout exits 4") {
  Runner runner;
  runner.behave({{"kind", "kustomization"}, {"mode", "never"}});
  auto run =
      runner.run(base64_encode(runner.mint()), {{"TIMEOUT", "2s"}, {"WITH-SOURCE", "false"}});
  CHECK(run.exit_code == 4);
  CHECK(run.out.find("\n::error title=fluxkey reconcile timed out::") != std::string::npos);
  CHECK(runner.outputs()["ready"] == "false");
}

TEST_CASE("action: empty and garbage inputs exit 2 before any request") {
  Runner runner;
  const size_t before = runner.requests();

  auto empty = runner.run("");
  CHECK(empty.exit_code == 2);
  auto lines = lines_of(empty.out);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0].starts_with("::error title=fluxkey::the kubeconfig input is empty;"));
  CHECK(runner.outputs()["ready"] == "false");

  const std::string garbage = "this-is-not-a-kubeconfig-at-all!";
  auto bad = runner.run(garbage);
  CHECK(bad.exit_code == 2);
  check_masks_first(bad, {garbage});
  check_no_secret(runner, bad, {garbage});
  CHECK(bad.out.find("::error title=fluxkey::the kubeconfig input is neither a kubeconfig (YAML) "
                     "nor base64") != std::string::npos);

  auto bad_input = runner.run(base64_encode(runner.mint()), {{"WITH-SOURCE", "sometimes"}});
  CHECK(bad_input.exit_code == 2);
  CHECK(bad_input.out.find("::error title=fluxkey::input with-source is \"sometimes\"") !=
        std::string::npos);

  // Only the mint reached the cluster.
  size_t action_requests = 0;
  for (const auto& r : runner.kube.requests(before)) {
    action_requests += r["path"].get<std::string>().find("toolkit.fluxcd.io") != std::string::npos;
  }
  CHECK(action_requests == 0);
}

TEST_CASE("action: an expired token is named as such, with what renews it") {
  Runner runner;

  SUBCASE("expired by its own exp: refused before any request") {
    // Minted two hours in the past with an hour of life.
    runner.shift_clock(-7200);
    const std::string kubeconfig = runner.mint("1h");
    runner.shift_clock(0);
    const size_t before = runner.requests();
    auto run = runner.run(base64_encode(kubeconfig));
    CHECK(run.exit_code == 2);
    check_no_secret(runner, run, {token_of(kubeconfig)});
    const std::string message = runner.outputs()["message"];
    CHECK(message.starts_with("the token in the kubeconfig input expired at "));
    CHECK(message.find("fluxkey status") != std::string::npos);
    CHECK(message.find("fluxkey rotate") != std::string::npos);
    CHECK(run.out.find("::error title=fluxkey::the token in the kubeconfig input expired at ") !=
          std::string::npos);
    CHECK(runner.requests() == before);
  }
  SUBCASE("refused by the API server once its clock passed exp") {
    const std::string kubeconfig = runner.mint("1h");
    runner.shift_clock(7200);
    auto run = runner.run(base64_encode(kubeconfig));
    CHECK(run.exit_code == 1);
    check_no_secret(runner, run, {token_of(kubeconfig)});
    const std::string message = runner.outputs()["message"];
    CHECK(message.find("refused the credentials from kubeconfig input") != std::string::npos);
    CHECK(message.find("401 Unauthorized") != std::string::npos);
    CHECK(message.find("fluxkey rotate") != std::string::npos);
  }
}

// ---- The files around the binary -------------------------------------------

namespace {

// Dockerfile instructions, continuation lines joined, comments dropped; each
// with the index of its stage (FROM starts one).
struct Instruction {
  int stage;
  std::string keyword;
  std::string arguments;
};

std::vector<Instruction> dockerfile(const std::string& text) {
  std::vector<Instruction> out;
  std::string pending;
  int stage = -1;
  for (const auto& raw : lines_of(text)) {
    std::string line = raw;
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    bool continued = !line.empty() && line.back() == '\\';
    if (continued) line.pop_back();
    pending += line + " ";
    if (continued) continue;
    std::istringstream in(pending);
    Instruction instruction;
    in >> instruction.keyword;
    std::getline(in, instruction.arguments);
    if (instruction.keyword == "FROM") ++stage;
    instruction.stage = stage;
    out.push_back(instruction);
    pending.clear();
  }
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string word;
  while (in >> word) out.push_back(word);
  return out;
}

}  // namespace

TEST_CASE("action.yml passes @action-validator/cli (GitHub's schema), and a broken copy does not") {
  const std::string root = source_root();
  const std::string validator =
      root + "/tests/integration/action_validator/node_modules/.bin/action-validator";
  REQUIRE_MESSAGE(std::filesystem::exists(validator),
                  "run ./dev test (or npm ci --prefix tests/integration/action_validator)");
  auto good = run_program({validator, root + "/action.yml"});
  CHECK_MESSAGE(good.exit_code == 0, good.out << good.err);

  TempDir dir;
  std::string broken = read_text(root + "/action.yml");
  broken.replace(broken.find("using: docker"), 13, "using: dockerfile");
  auto bad = run_program({validator, dir.write("action.yml", broken)});
  CHECK(bad.exit_code != 0);
}

TEST_CASE("action.yml declares the contract's inputs, defaults and outputs, and runs the image") {
  const std::string root = source_root();
  YAML::Node action = YAML::LoadFile(root + "/action.yml");
  CHECK_FALSE(action["name"].as<std::string>().empty());
  CHECK_FALSE(action["description"].as<std::string>().empty());
  CHECK(action["branding"]["icon"].IsScalar());

  const std::map<std::string, std::string> defaults = {
      {"kind", "kustomization"}, {"name", "flux-system"}, {"namespace", "flux-system"},
      {"with-source", "true"},   {"timeout", "5m"},       {"force", "false"}};
  YAML::Node inputs = action["inputs"];
  CHECK(inputs.size() == defaults.size() + 1);
  CHECK(inputs["kubeconfig"]["required"].as<bool>());
  CHECK_FALSE(inputs["kubeconfig"]["default"].IsDefined());
  for (const auto& entry : defaults) {
    const auto& [name, value] = entry;
    CAPTURE(entry.first);  // clang 14 cannot capture a structured binding
    REQUIRE(inputs[name].IsMap());
    CHECK(inputs[name]["default"].as<std::string>() == value);
    CHECK_FALSE(inputs[name]["description"].as<std::string>().empty());
  }
  std::set<std::string> outputs;
  for (const auto& entry : action["outputs"]) outputs.insert(entry.first.as<std::string>());
  CHECK(outputs == std::set<std::string>{"ready", "revision", "message", "duration-seconds"});

  CHECK(action["runs"]["using"].as<std::string>() == "docker");
  CHECK(action["runs"]["args"].size() == 1);
  CHECK(action["runs"]["args"][0].as<std::string>() == "action");
  // The runner takes image relative to action.yml and must find a file
  // named Dockerfile there.
  const std::string image = action["runs"]["image"].as<std::string>();
  CHECK(image.ends_with("Dockerfile"));
  CHECK(std::filesystem::is_regular_file(root + "/" + image));
}

TEST_CASE("the Dockerfile builds from the context the runner gives it") {
  // ./dev image builds the image itself; this is the quick part of it that
  // needs no build: what the Dockerfile copies is in the context the
  // runner sends (`docker build -f DOCKERFILE DIR-OF-DOCKERFILE`, with
  // .dockerignore), and that is all meson needs to configure fluxkey.
  const std::string root = source_root();
  YAML::Node action = YAML::LoadFile(root + "/action.yml");
  const std::filesystem::path dockerfile_path =
      root + "/" + action["runs"]["image"].as<std::string>();
  const std::filesystem::path context = dockerfile_path.parent_path();
  auto instructions = dockerfile(read_text(dockerfile_path.string()));
  const std::string dockerignore = read_text((context / ".dockerignore").string());
  const auto ignore_lines = lines_of(dockerignore);
  REQUIRE(std::find(ignore_lines.begin(), ignore_lines.end(), "*") != ignore_lines.end());

  TempDir copied_context;
  int stages = 0;
  for (const auto& i : instructions) {
    if (i.keyword == "FROM") ++stages;
    if (i.keyword != "COPY" || i.arguments.find("--from=") != std::string::npos) continue;
    auto w = words(i.arguments);
    for (size_t k = 0; k + 1 < w.size(); ++k) {
      std::string source = w[k];
      while (source.size() > 1 && source.back() == '/') source.pop_back();
      CAPTURE(source);
      REQUIRE(std::filesystem::exists(context / source));
      std::filesystem::create_directories(
          std::filesystem::path(copied_context.path() + "/" + source).parent_path());
      std::filesystem::copy(context / source, copied_context.path() + "/" + source,
                            std::filesystem::copy_options::recursive);
      // With `*` ignored, each source must be let back in by a `!` line.
      CHECK(std::find(ignore_lines.begin(), ignore_lines.end(), "!" + source) !=
            ignore_lines.end());
    }
  }
  CHECK(stages == 2);
  // The runtime stage starts from nothing; the build stage runs where the
  // builder does (an arm64 image is cross-compiled, never emulated).
  CHECK(instructions.back().keyword == "ENTRYPOINT");
  CHECK(words(instructions.back().arguments)[0] == "[\"/usr/local/bin/fluxkey\"]");
  for (const auto& i : instructions) {
    if (i.keyword == "FROM" && i.stage == 0) {
      CHECK(words(i.arguments)[0] == "--platform=$BUILDPLATFORM");
    }
    if (i.keyword == "FROM" && i.stage == 1) {
      CHECK(words(i.arguments) == std::vector<std::string>{"scratch"});
    }
    // GitHub runs a Docker action as the image's user; only root can write
    // $GITHUB_OUTPUT. The CronJob sets its non-root user itself.
    CHECK(i.keyword != "USER");
  }

  // meson finds every file the shipped build names in what was copied.
  auto options = run_program({root + "/image/build.sh", "options"});
  REQUIRE(options.exit_code == 0);
  std::vector<std::string> configure = {"meson", "setup", copied_context.path() + "/build-release",
                                        copied_context.path()};
  for (const auto& option : lines_of(options.out)) configure.push_back(option);
  auto configured = run_program(configure);
  CHECK_MESSAGE(configured.exit_code == 0, (configured.out + configured.err));
}

TEST_CASE("./dev stamp points a release's action.yml and k8s/ at the published image") {
  namespace fs = std::filesystem;
  const std::string root = source_root();
  TempDir tree;
  copy_stamp_tree(tree.path());
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto stamp = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {tree.path() + "/dev", "stamp"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv);
  };
  auto snapshot = [&] {
    return read_text(tree.path() + "/action.yml") +
           read_text(tree.path() + "/k8s/kustomization.yaml");
  };

  // Refused, naming the argument and its form, and nothing is written.
  const std::string before = snapshot();
  for (const auto& bad :
       std::vector<std::vector<std::string>>{{"ghcr.io/Acme/fluxkey", "v1.2.3", digest},
                                             {"ghcr.io/acme/fluxkey", "latest", digest},
                                             {"ghcr.io/acme/fluxkey", "v1.2.3", "sha256:abc"},
                                             {"ghcr.io/acme/fluxkey", "v1.2.3"}}) {
    auto refused = stamp(bad);
    CHECK(refused.exit_code == 2);
    CHECK(count_lines(refused.err) == 1);
    CHECK(snapshot() == before);
  }

  auto stamped = stamp({"ghcr.io/acme/fluxkey", "v1.2.3", digest});
  REQUIRE_MESSAGE(stamped.exit_code == 0, stamped.err);
  YAML::Node action = YAML::LoadFile(tree.path() + "/action.yml");
  CHECK(action["runs"]["image"].as<std::string>() ==
        "docker://ghcr.io/acme/fluxkey:v1.2.3@" + digest);
  const std::string validator =
      root + "/tests/integration/action_validator/node_modules/.bin/action-validator";
  auto valid = run_program({validator, tree.path() + "/action.yml"});
  CHECK_MESSAGE(valid.exit_code == 0, valid.out << valid.err);
  // What the CronJob's pod pulls: the digest, whatever the tag says later.
  auto built = run_program({"kubectl", "kustomize", tree.path() + "/k8s"});
  REQUIRE_MESSAGE(built.exit_code == 0, built.err);
  bool found = false;
  for (const auto& doc : YAML::LoadAll(built.out)) {
    if (doc["kind"].as<std::string>() != "CronJob") continue;
    const auto image =
        doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"];
    CHECK(image.as<std::string>() == "ghcr.io/acme/fluxkey:v1.2.3@" + digest);
    found = true;
  }
  CHECK(found);

  // A stamped tree is not stamped twice.
  const std::string once = snapshot();
  auto again = stamp({"ghcr.io/acme/fluxkey", "v1.2.4", digest});
  CHECK(again.exit_code == 2);
  CHECK(count_lines(again.err) == 1);
  CHECK(snapshot() == once);
}

// Test suite "image" runs under ./dev image only, once per platform, with
// $FLUXKEY_IMAGE naming the image it built (tests/README.md, "The image").
TEST_CASE("image: the runner runs the action's image as a Docker action" *
          doctest::test_suite("image")) {
  const Image image = Image::from_env();
  Runner runner;
  const std::string kubeconfig = runner.mint();
  const std::string token = token_of(kubeconfig);
  const std::string input = base64_encode(kubeconfig);

  // As the runner starts a Docker action: every input of action.yml as
  // INPUT_<NAME> (upper case, dashes kept), the workflow's value or the
  // default; its file commands in a folder mounted at /github/file_commands;
  // the image's entry point with action.yml's args; as the image's user.
  YAML::Node action = YAML::LoadFile(source_root() + "/action.yml");
  Env env = {{"GITHUB_ACTIONS", "true"},
             {"CI", "true"},
             {"HOME", "/github/home"},
             {"GITHUB_WORKSPACE", "/github/workspace"},
             {"GITHUB_OUTPUT", "/github/file_commands/set_output_0c2b5e1f"},
             {"GITHUB_STEP_SUMMARY", "/github/file_commands/step_summary_0c2b5e1f"},
             {"RUNNER_OS", "Linux"},
             {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}};
  for (const auto& entry : action["inputs"]) {
    std::string name = entry.first.as<std::string>();
    std::string value = name == "kubeconfig" ? input : entry.second["default"].as<std::string>();
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    env.emplace_back("INPUT_" + name, value);
  }
  ContainerSpec spec;
  for (const auto& arg : action["runs"]["args"]) spec.args.push_back(arg.as<std::string>());
  spec.env = env;
  TempDir temp;
  for (const char* folder : {"file_commands", "home", "workspace", "workflow"}) {
    std::filesystem::create_directory(temp.path() + "/" + folder);
    spec.mounts.push_back({temp.path() + "/" + folder, std::string("/github/") + folder, true});
  }
  // The runner creates both files before the step starts.
  const std::string outputs_file = temp.write("file_commands/set_output_0c2b5e1f", "", 0644);
  const std::string summary_file = temp.write("file_commands/step_summary_0c2b5e1f", "", 0644);
  spec.workdir = "/github/workspace";

  auto run = image.run(spec);
  REQUIRE_MESSAGE(run.exit_code == 0, run.out << run.err);
  check_masks_first(run, {input, token});

  json object = runner.get(kKustomization);
  const std::string revision = object["status"].value("lastAppliedRevision", "");
  REQUIRE_FALSE(revision.empty());
  auto outputs = parse_outputs(read_text(outputs_file));
  CHECK(outputs["ready"] == "true");
  CHECK(outputs["revision"] == revision);
  const std::string summary = read_text(summary_file);
  CHECK(summary.find("| Revision | <code>" + revision + "</code> |") != std::string::npos);
  for (const auto& secret : {input, token}) {
    CHECK(summary.find(secret) == std::string::npos);
    CHECK(read_text(outputs_file).find(secret) == std::string::npos);
  }
}

namespace {

// A blob of the OCI layout ./dev image writes, by its digest.
json oci_blob(const std::string& layout, const std::string& digest) {
  return json::parse(read_text(layout + "/blobs/sha256/" + digest.substr(7)));
}

}  // namespace

TEST_CASE("image: FROM scratch, no shell, at most 10 MiB compressed" *
          doctest::test_suite("image")) {
  const Image image = Image::from_env();
  const std::string layout = image.dir() + "/../oci";
  // The layout's index names the multi-arch index a release pushes; in it,
  // this platform's manifest and its layers, as a registry stores them.
  json top = json::parse(read_text(layout + "/index.json"));
  REQUIRE(top["manifests"].size() == 1);
  json index = oci_blob(layout, top["manifests"][0]["digest"]);
  std::set<std::string> platforms;
  json manifest;
  for (const auto& m : index["manifests"]) {
    platforms.insert(m["platform"]["os"].get<std::string>() + "/" +
                     m["platform"]["architecture"].get<std::string>());
    if (m["platform"]["architecture"] == image.architecture())
      manifest = oci_blob(layout, m["digest"]);
  }
  CHECK(platforms == std::set<std::string>{"linux/amd64", "linux/arm64"});
  REQUIRE(manifest.is_object());
  long long compressed = manifest["config"]["size"].get<long long>();
  for (const auto& layer : manifest["layers"]) compressed += layer["size"].get<long long>();
  MESSAGE("linux/" << image.architecture() << ": " << manifest["layers"].size() << " layer(s), "
                   << compressed << " bytes compressed");
  CHECK(compressed <= 10 * 1024 * 1024);

  // Nothing to run but fluxkey: no shell, no package manager, no other program.
  namespace fs = std::filesystem;
  std::vector<std::string> programs;
  for (const auto& entry : fs::recursive_directory_iterator(image.rootfs())) {
    if (entry.is_regular_file() &&
        (entry.status().permissions() & fs::perms::owner_exec) != fs::perms::none) {
      const std::string path = entry.path().string().substr(image.rootfs().size());
      if (path.find(".so") == std::string::npos) programs.push_back(path);
    }
  }
  CHECK(programs == std::vector<std::string>{"/usr/local/bin/fluxkey"});
  for (const char* absent :
       {"/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/apt", "/usr/bin/dpkg"}) {
    CHECK_FALSE(fs::exists(fs::symlink_status(image.rootfs() + absent)));
  }
  // What a scanner reads to list the image's packages, and the CA roots.
  CHECK(fs::exists(image.rootfs() + "/var/lib/dpkg/status.d/libcurl4"));
  CHECK(fs::file_size(image.rootfs() + "/etc/ssl/certs/ca-certificates.crt") > 100000);
  CHECK(read_text(image.rootfs() + "/etc/passwd").find(":65532:65532:") != std::string::npos);
}

TEST_CASE("image: fluxkey version names the image's platform, version and commit" *
          doctest::test_suite("image")) {
  const Image image = Image::from_env();
  ContainerSpec spec;
  spec.args = {"version", "-o", "json"};
  spec.uid = spec.gid = 65532;
  spec.read_only_root = true;
  auto run = image.run(spec);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  json version = json::parse(run.out);
  CHECK(version["platform"] == "linux/" + image.architecture());
  // What the image's labels say, from the same build arguments.
  json labels = json::parse(read_text(image.dir() + "/config.json"))["config"]["Labels"];
  CHECK(version["version"] == labels["org.opencontainers.image.version"]);
  CHECK(version["commit"] == labels["org.opencontainers.image.revision"]);
  // The image's own libcurl, linked in, is the one its package record names
  // (Debian's source version, upstream part).
  const std::string record = read_text(image.rootfs() + "/var/lib/dpkg/status.d/libcurl4");
  const auto at = record.find("\nVersion: ");
  REQUIRE(at != std::string::npos);
  const std::string debian_version = record.substr(at + 10, record.find('\n', at + 1) - at - 10);
  CHECK(version["libraries"]["libcurl"] == debian_version.substr(0, debian_version.find('-')));
}

}  // namespace action_command_test
