// Running the real fluxkey binary (and other programs) from integration
// tests with a clean environment, and small file helpers.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "core/process.h"
#include "support/temp_dir.h"

namespace fluxkey::testing {

using Env = std::vector<std::pair<std::string, std::string>>;

// Runs `argv` with only PATH, HOME (a private folder) and `env` set, so the
// developer's kubeconfig, GitHub token and proxies never leak into a test.
// Bounded by `timeout`.
//
// When argv[0] is $FLUXKEY the secret guard (support/secret_guard.h) checks
// the run: a credential of the env, the flags' files or the live stand-ins in
// stdout, stderr, $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY or a request log
// fails the test.
ProcessResult run_program(const std::vector<std::string>& argv, const Env& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// run_program with $FLUXKEY as argv[0].
ProcessResult run_fluxkey(const std::vector<std::string>& args, const Env& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// The one way out of the guard, for stdout only, for a command whose purpose
// is to print a credential (`fluxkey kubeconfig` without --output). The
// reason is required and says why; stderr and the files stay guarded.
struct StdoutIsCredential {
  std::string reason;
};
ProcessResult run_fluxkey(const std::vector<std::string>& args, const Env& env,
                          std::chrono::milliseconds timeout, const StdoutIsCredential& allow);

// fluxkey started in the background (for a test that looks at the running
// process, e.g. /proc/PID), with run_program's clean environment. wait()
// collects its output and applies the secret guard; the destructor kills
// and reaps it if the test did not wait.
class BackgroundFluxkey {
 public:
  // `launcher`, when given, is run with the binary and args appended (e.g.
  // setpriv to run it as another user); it must exec fluxkey in place.
  // `binary` replaces $FLUXKEY (a copy another user can reach).
  BackgroundFluxkey(const std::vector<std::string>& args, const Env& env = {},
                    const std::vector<std::string>& launcher = {}, const std::string& binary = "");
  ~BackgroundFluxkey();
  BackgroundFluxkey(const BackgroundFluxkey&) = delete;
  BackgroundFluxkey& operator=(const BackgroundFluxkey&) = delete;

  pid_t pid() const { return pid_; }
  // Waits up to `timeout` (then kills it: timed_out set).
  ProcessResult wait(std::chrono::milliseconds timeout);

 private:
  std::vector<std::string> argv_;
  Env env_;
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
};

std::string read_text(const std::string& path);
size_t count_lines(const std::string& text);

// The token a kubeconfig fluxkey wrote holds (its `token: ` line).
std::string token_of(const std::string& kubeconfig);

// This source tree: $FLUXKEY_SOURCE_ROOT, which meson and ./dev set.
std::string source_root();

// What `./dev stamp` needs, copied from source_root() into `dir`: ./dev,
// image/ (./dev reads its lists there), action.yml and k8s/. Returns `dir`.
// A test stamps the copy as a release does, leaving the tree alone.
std::string copy_stamp_tree(const std::string& dir);

// `text` with its first line that starts (after indentation) with `prefix`
// replaced by the same line of `source`.
std::string replace_line_with(const std::string& text, const std::string& prefix,
                              const std::string& source);

// `text` with every `from` replaced by `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to);

}  // namespace fluxkey::testing
