#include "support/fluxkey_run.h"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/secret_guard.h"
#include "support/sim_process.h"

namespace fluxkey::testing {

namespace {

// PATH, a private HOME, the sanitizers' settings, then `env`.
Env clean_env(const Env& env) {
  static const TempDir home;
  const char* path = std::getenv("PATH");
  Env out = {{"PATH", path != nullptr ? path : "/usr/bin:/bin"}, {"HOME", home.path()}};
  // Sanitizer settings reach the binary under test when the suite runs under them.
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) out.emplace_back(name, value);
  }
  out.insert(out.end(), env.begin(), env.end());
  return out;
}

bool is_fluxkey(const std::string& program) {
  const char* fluxkey = std::getenv("FLUXKEY");
  return fluxkey != nullptr && *fluxkey != '\0' && program == fluxkey;
}

ProcessResult run_guarded(const std::vector<std::string>& argv, const Env& env,
                          std::chrono::milliseconds timeout, const std::string& stdout_reason) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.inherit_env = false;
  spec.env_set = clean_env(env);
  spec.timeout = timeout;
  ProcessResult result = run_process(spec);
  if (!argv.empty() && is_fluxkey(argv[0])) {
    check_no_leaks(GuardedRun{argv, env, &result, stdout_reason});
  }
  return result;
}

}  // namespace

ProcessResult run_program(const std::vector<std::string>& argv, const Env& env,
                          std::chrono::milliseconds timeout) {
  return run_guarded(argv, env, timeout, "");
}

ProcessResult run_fluxkey(const std::vector<std::string>& args, const Env& env,
                          std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {binary_from_env("FLUXKEY")};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, env, timeout);
}

ProcessResult run_fluxkey(const std::vector<std::string>& args, const Env& env,
                          std::chrono::milliseconds timeout, const StdoutIsCredential& allow) {
  // An opt-out without a reason is no opt-out.
  REQUIRE_MESSAGE(!allow.reason.empty(), "StdoutIsCredential needs a reason");
  std::vector<std::string> argv = {binary_from_env("FLUXKEY")};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_guarded(argv, env, timeout, allow.reason);
}

BackgroundFluxkey::BackgroundFluxkey(const std::vector<std::string>& args, const Env& env,
                                     const std::vector<std::string>& launcher,
                                     const std::string& binary)
    : env_(env) {
  static const TempDir outputs;
  static int serial = 0;
  ++serial;
  out_path_ = outputs.path() + "/bg-" + std::to_string(serial) + ".out";
  err_path_ = outputs.path() + "/bg-" + std::to_string(serial) + ".err";
  argv_ = {binary.empty() ? binary_from_env("FLUXKEY") : binary};
  argv_.insert(argv_.end(), args.begin(), args.end());

  std::vector<std::string> env_entries;
  for (const auto& [name, value] : clean_env(env)) env_entries.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_entries) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = launcher;
  argv_copy.insert(argv_copy.end(), argv_.begin(), argv_.end());
  std::vector<char*> argvp;
  for (auto& a : argv_copy) argvp.push_back(a.data());
  argvp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  int rc = ::posix_spawn(&pid_, argv_copy[0].c_str(), &actions, nullptr, argvp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + argv_copy[0] + ": " + std::strerror(rc));
  }
}

BackgroundFluxkey::~BackgroundFluxkey() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  ::unlink(out_path_.c_str());
  ::unlink(err_path_.c_str());
}

ProcessResult BackgroundFluxkey::wait(std::chrono::milliseconds timeout) {
  ProcessResult result;
  if (pid_ <= 0) throw std::runtime_error("BackgroundFluxkey::wait called twice");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.out = read_text(out_path_);
  result.err = read_text(err_path_);
  check_no_leaks(GuardedRun{argv_, env_, &result, ""});
  return result;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string token_of(const std::string& kubeconfig) {
  auto at = kubeconfig.find("token: ");
  REQUIRE(at != std::string::npos);
  return kubeconfig.substr(at + 7, kubeconfig.find('\n', at) - at - 7);
}

std::string source_root() {
  return binary_from_env("FLUXKEY_SOURCE_ROOT");
}

std::string copy_stamp_tree(const std::string& dir) {
  for (const char* path : {"dev", "image", "action.yml", "k8s"}) {
    std::filesystem::copy(source_root() + "/" + path, dir + "/" + path,
                          std::filesystem::copy_options::recursive);
  }
  return dir;
}

size_t count_lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

namespace {
// [begin, end) of the first line whose trimmed text starts with prefix.
std::pair<size_t, size_t> find_line(const std::string& text, const std::string& prefix) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    size_t first = text.find_first_not_of(" \t", start);
    if (first < end && text.compare(first, prefix.size(), prefix) == 0) return {start, end};
    start = end + 1;
  }
  throw std::runtime_error("no line starts with " + prefix);
}
}  // namespace

std::string replace_line_with(const std::string& text, const std::string& prefix,
                              const std::string& source) {
  auto [s, e] = find_line(text, prefix);
  auto [ss, se] = find_line(source, prefix);
  return text.substr(0, s) + source.substr(ss, se - ss) + text.substr(e);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace fluxkey::testing
