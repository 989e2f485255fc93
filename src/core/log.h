// Progress and diagnostics go to stderr, as text or one JSON object a line.
// Nothing that reaches the logger may hold a secret: callers pass names,
// URLs and status codes, never headers or bodies that carry credentials.
#pragma once

#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fluxkey {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogField = std::pair<std::string, std::string>;
using LogFields = std::vector<LogField>;

class Logger {
 public:
  explicit Logger(std::FILE* out = stderr) : out_(out) {}

  void set_format(LogFormat format) { format_ = format; }
  LogFormat format() const { return format_; }
  void set_verbose(bool verbose) { verbose_ = verbose; }
  bool verbose() const { return verbose_; }

  void log(LogLevel level, std::string_view message, const LogFields& fields = {});
  void debug(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kDebug, message, fields);
  }
  void info(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kInfo, message, fields);
  }
  void warn(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kWarn, message, fields);
  }
  void error(std::string_view message, const LogFields& fields = {}) {
    log(LogLevel::kError, message, fields);
  }

  // Renders one record without writing it; used by log() and by tests.
  std::string render(LogLevel level, std::string_view message, const LogFields& fields) const;

 private:
  std::FILE* out_;
  LogFormat format_ = LogFormat::kText;
  bool verbose_ = false;
};

// The process-wide logger that commands and clients write to.
Logger& logger();

}  // namespace fluxkey
