// Running the real fluxkey binary (and other programs) from integration
// tests with a clean environment, and small file helpers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/process.h"

namespace fluxkey::testing {

using Env = std::vector<std::pair<std::string, std::string>>;

// Runs `argv` with only PATH, HOME (a private folder) and `env` set, so the
// developer's kubeconfig, GitHub token and proxies never leak into a test.
// Bounded by `timeout`.
ProcessResult run_program(const std::vector<std::string>& argv, const Env& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// run_program with $FLUXKEY as argv[0].
ProcessResult run_fluxkey(const std::vector<std::string>& args, const Env& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A private temporary folder, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;
  size_t entries() const;

 private:
  std::string path_;
};

std::string read_text(const std::string& path);
size_t count_lines(const std::string& text);

// `text` with its first line that starts (after indentation) with `prefix`
// replaced by the same line of `source`.
std::string replace_line_with(const std::string& text, const std::string& prefix,
                              const std::string& source);

}  // namespace fluxkey::testing
