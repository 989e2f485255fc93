// Conventions of the source tree that the compiler cannot hold on its own.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/fluxkey_run.h"

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

}  // namespace

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

}  // namespace source_layout_test
