#include "support/fluxkey_run.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/sim_process.h"

namespace fluxkey::testing {

ProcessResult run_program(const std::vector<std::string>& argv, const Env& env,
                          std::chrono::milliseconds timeout) {
  static const TempDir home;
  ProcessSpec spec;
  spec.argv = argv;
  spec.inherit_env = false;
  const char* path = std::getenv("PATH");
  spec.env_set = {{"PATH", path != nullptr ? path : "/usr/bin:/bin"}, {"HOME", home.path()}};
  // Sanitizer settings reach the binary under test when the suite runs under them.
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) spec.env_set.emplace_back(name, value);
  }
  spec.env_set.insert(spec.env_set.end(), env.begin(), env.end());
  spec.timeout = timeout;
  return run_process(spec);
}

ProcessResult run_fluxkey(const std::vector<std::string>& args, const Env& env,
                          std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {binary_from_env("FLUXKEY")};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, env, timeout);
}

TempDir::TempDir() {
  std::string tmpl = "/tmp/fluxkey-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string full = path_ + "/" + name;
  std::ofstream(full) << content;
  return full;
}

size_t TempDir::entries() const {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(path_)) ++n;
  return n;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
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

}  // namespace fluxkey::testing
