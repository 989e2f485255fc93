#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "core/time.h"
#include "http/http.h"

namespace fluxkey::http {

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  // A value too large to hold is simply "very long": the caller compares it
  // with its limit and gives up.
  constexpr long long kCap = 10LL * 365 * 24 * 3600;

  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delay-seconds.
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range || seconds > kCap) seconds = kCap;
    return std::chrono::seconds(seconds);
  }

  // HTTP-date: IMF-fixdate, or the obsolete RFC 850 and asctime forms that
  // RFC 9110 says recipients must still accept; libcurl parses all three.
  if (std::none_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  if (when == -1) return std::nullopt;
  // Outside what the clock holds (1677 to 2262) converting would overflow:
  // before 1970 is simply past, and ten years ahead is as long as it gets.
  if (when < 0) return std::chrono::milliseconds(0);
  if (when > Clock::to_time_t(Clock::now()) + kCap) return std::chrono::seconds(kCap);
  auto delay = Clock::from_time_t(when) - Clock::now();
  if (delay < Clock::duration::zero()) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(delay);
}

}  // namespace fluxkey::http
