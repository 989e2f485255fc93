#include "core/time.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace fluxkey {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text == "0") return std::chrono::milliseconds(0);
  if (text.empty()) return std::nullopt;
  // Ceiling well above any sensible TTL, so the sum cannot overflow.
  constexpr long double kMaxMs = 100.0L * 365 * 24 * 3600 * 1000;
  long double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    bool seen_dot = false;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !seen_dot))) {
      if (text[i] == '.') seen_dot = true;
      ++i;
    }
    std::string_view number = text.substr(start, i - start);
    if (number.empty() || number == ".") return std::nullopt;
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    long double scale;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 3600 * 1000;
    } else if (unit == "d") {
      scale = 24 * 3600 * 1000;
    } else {
      return std::nullopt;
    }
    if (number.size() > 18) return std::nullopt;
    long double value = std::stold(std::string(number));
    total_ms += value * scale;
    if (total_ms > kMaxMs) return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms + 0.5L));
}

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  if (ms < 1000) return out + std::to_string(ms) + "ms";
  long long s = ms / 1000;
  long long h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (sec || out.empty() || out == "-") out += std::to_string(sec) + "s";
  return out;
}

std::string format_rfc3339(Clock::time_point t, bool fractional) {
  auto since = t.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since);
  std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (fractional) {
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count();
    if (nanos > 0) {
      // RFC3339Nano as Go prints it: trailing zeros trimmed.
      char frac[24];
      std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
      std::string f = frac;
      while (f.back() == '0') f.pop_back();
      out += f;
    }
  }
  return out + "Z";
}

std::optional<Clock::time_point> parse_rfc3339(std::string_view text) {
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  char tsep;
  int consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &mon, &day, &tsep, &hour, &min,
                  &sec, &consumed) != 7 ||
      (tsep != 'T' && tsep != 't' && tsep != ' ') || consumed != 19) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  size_t i = 19;
  long long nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (digits < 9) {
        nanos = nanos * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return std::nullopt;
    while (digits++ < 9) nanos *= 10;
  }
  long offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh, om;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (oh * 3600L + om * 60L) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::time_t tt = timegm(&tm) - offset;
  // Clock counts nanoseconds in 64 bits (1677-09-21 to 2262-04-11): only
  // the years 1678 to 2261, in UTC, so that what format_rfc3339 writes of
  // such a time reads back, and nothing overflows.
  if (tt < -9'214'560'000 || tt >= 9'214'646'400) return std::nullopt;
  return Clock::time_point(std::chrono::seconds(tt)) +
         std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(nanos));
}

}  // namespace fluxkey
