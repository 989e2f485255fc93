// Durations in messages, precise where it matters ("400ms", "1.5s") and as
// Go prints them beyond a minute.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "core/time.h"

namespace fluxkey::http {

inline std::string short_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms >= 0 && ms < 1000) return std::to_string(ms) + "ms";
  if (ms >= 1000 && ms < 60'000 && ms % 1000 != 0) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(ms) / 1000.0);
    return text;
  }
  return format_duration(d);
}

}  // namespace fluxkey::http
