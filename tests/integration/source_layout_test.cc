// Conventions of the source tree that the compiler cannot hold on its own.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/fluxkey_run.h"
#include "support/temp_dir.h"

namespace source_layout_test {

using namespace fluxkey::testing;
namespace fs = std::filesystem;

namespace {

// Every *_test.cc below `dir`, relative to the source root.
std::vector<std::string> test_files(const std::string& root, const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root + "/" + dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() > 8 &&
        name.compare(name.size() - 8, 8, "_test.cc") == 0) {
      out.push_back(fs::relative(entry.path(), root).string());
    }
  }
  return out;
}

// The tree's shell scripts: *.sh, and files that start with a shell's #!.
// Build folders, installed node modules and the fuzz corpus hold none of the
// project's own.
std::vector<std::string> shell_scripts(const std::string& root) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory()) {
      if (name == ".git" || name == "node_modules" || name == "corpus" ||
          name.rfind("build", 0) == 0) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!it->is_regular_file()) continue;
    std::ifstream file(it->path());
    std::string first;
    std::getline(file, first);
    const bool sh_name = name.size() > 3 && name.compare(name.size() - 3, 3, ".sh") == 0;
    const bool sh_line = first.rfind("#!", 0) == 0 && (first.find("bash") != std::string::npos ||
                                                       first.find("/sh") != std::string::npos);
    if (sh_name || sh_line) out.push_back(fs::relative(it->path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// ./dev and .ci/run are what CI runs, and the demo and the benchmarks are
// what a reader runs: shellcheck holds them as -Werror holds the C++.
TEST_CASE("every shell script passes shellcheck, and a broken one does not") {
  const std::string root = source_root();
  std::vector<std::string> scripts = shell_scripts(root);
  for (const char* script : {"dev", ".ci/run", "tests/sim/sims.sh", "bench/common.sh"}) {
    CHECK_MESSAGE(std::find(scripts.begin(), scripts.end(), script) != scripts.end(), script);
  }
  // From the top of the tree, where the scripts' `source=` directives point.
  std::vector<std::string> argv = {"env", "-C", root, "shellcheck", "-x"};
  argv.insert(argv.end(), scripts.begin(), scripts.end());
  auto checked = run_program(argv);
  CHECK_MESSAGE(checked.exit_code == 0, checked.out << checked.err);

  TempDir dir;
  auto broken = run_program(
      {"shellcheck", dir.write("broken.sh", "#!/usr/bin/env bash\nrm -rf $1/cache\n", 0700)});
  CHECK(broken.exit_code != 0);
  CHECK(broken.out.find("SC2086") != std::string::npos);
}

// Tests compile as unity files (tests/meson.build): a file whose helpers sat
// in a bare anonymous namespace would share it with the files compiled
// beside it, and a helper of another file could then be called in its place.
TEST_CASE("each test file keeps its body in the namespace named after it") {
  const std::string root = source_root();
  std::vector<std::string> files = test_files(root, "src");
  for (const char* dir : {"tests/integration", "tests/sim"}) {
    for (const auto& f : test_files(root, dir)) files.push_back(f);
  }
  REQUIRE(files.size() > 50);
  for (const std::string& file : files) {
    const fs::path path(file);
    const std::string stem = path.stem().string();
    const std::string dir = path.parent_path().filename().string();
    const std::string name = dir == "integration" ? stem : dir + "_" + stem;
    const std::regex opening("namespace (fluxkey(::\\w+)*::)?" + name + " \\{");
    std::istringstream lines(read_text(root + "/" + file));
    bool found = false;
    for (std::string line; !found && std::getline(lines, line);) {
      found = std::regex_match(line, opening);
    }
    CHECK_MESSAGE(found, file << ": put everything after the includes in `namespace " << name
                              << " {` (see tests/README.md)");
  }
}

// src/ is the product: its unit tests sit beside the code, but what tests
// share (fakes, fixtures, keys) lives in tests/support/, and nothing the
// product compiles reaches into tests/.
TEST_CASE("src/ holds product code only: nothing but a _test.cc includes tests/support/") {
  const std::string root = source_root();
  size_t product_files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root + "/src")) {
    if (!entry.is_regular_file()) continue;
    const std::string file = fs::relative(entry.path(), root).string();
    const bool unit_test = file.ends_with("_test.cc");
    CHECK_MESSAGE(file.find("test_support") == std::string::npos,
                  file << ": test helpers belong in tests/support/");
    if (unit_test || !(file.ends_with(".cc") || file.ends_with(".h"))) continue;
    ++product_files;
    std::istringstream lines(read_text(entry.path().string()));
    for (std::string line; std::getline(lines, line);) {
      CHECK_MESSAGE(!line.starts_with("#include \"support/"),
                    file << " includes test code: " << line);
    }
  }
  CHECK(product_files > 50);
}

}  // namespace source_layout_test
