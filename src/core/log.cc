#include "core/log.h"

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "core/time.h"

namespace fluxkey {
namespace {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

std::string Logger::render(LogLevel level, std::string_view message,
                           const LogFields& fields) const {
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json record;
    record["ts"] = format_rfc3339(Clock::now(), /*fractional=*/true);
    record["level"] = level_name(level);
    record["msg"] = message;
    for (const auto& [key, value] : fields) record[key] = value;
    // Replace invalid UTF-8 rather than throw: a log line must never abort a run.
    return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  // One record, one line: what a message quotes (a Lease holder, a Flux
  // condition) cannot start a line that looks like fluxkey's own.
  std::string line;
  if (level == LogLevel::kDebug) line += "debug: ";
  if (level == LogLevel::kWarn) line += "warning: ";
  if (level == LogLevel::kError) line += "error: ";
  line += printable(std::string(message));
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += printable(key);
    line += '=';
    line += printable(value);
  }
  return line;
}

void Logger::log(LogLevel level, std::string_view message, const LogFields& fields) {
  if (level == LogLevel::kDebug && !verbose_) return;
  std::string line = render(level, message, fields);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

Logger& logger() {
  static Logger instance;
  return instance;
}

}  // namespace fluxkey
