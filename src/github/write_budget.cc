#include "github/write_budget.h"

#include <algorithm>

namespace fluxkey::github {
namespace {

constexpr Clock::duration kMinute = std::chrono::seconds(60);
constexpr Clock::duration kHour = std::chrono::seconds(3600);

}  // namespace

namespace {
Clock::duration scaled(Clock::duration window, double scale) {
  return std::chrono::duration_cast<Clock::duration>(window * scale);
}
}  // namespace

WriteBudget::WriteBudget(int per_minute, int per_hour, double time_scale)
    : per_minute_(per_minute),
      per_hour_(per_hour),
      minute_(scaled(kMinute, time_scale)),
      hour_(scaled(kHour, time_scale)) {}

bool WriteBudget::is_write(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

std::chrono::milliseconds WriteBudget::wait_for(Clock::time_point now, Clock::duration window,
                                                int limit) const {
  if (limit <= 0) return std::chrono::milliseconds(0);
  // Writes inside (now - window, now]; the window is half-open so that a
  // write exactly `window` ago no longer counts.
  auto first_inside = std::upper_bound(writes_.begin(), writes_.end(), now - window);
  auto inside = static_cast<size_t>(writes_.end() - first_inside);
  if (inside < static_cast<size_t>(limit)) return std::chrono::milliseconds(0);
  // Enough of the oldest must leave that limit - 1 remain: the one at
  // index inside - limit is the last that has to go.
  Clock::time_point leaves = *(first_inside + static_cast<long>(inside - limit)) + window;
  return std::chrono::ceil<std::chrono::milliseconds>(leaves - now);
}

std::chrono::milliseconds WriteBudget::wait_before_write(Clock::time_point now) const {
  return std::max(wait_for(now, minute_, per_minute_), wait_for(now, hour_, per_hour_));
}

void WriteBudget::record(Clock::time_point at) {
  // The wall clock may step back; the tally stays ordered, erring late.
  if (!writes_.empty() && at < writes_.back()) at = writes_.back();
  writes_.push_back(at);
  while (!writes_.empty() && writes_.front() <= at - hour_) writes_.pop_front();
}

}  // namespace fluxkey::github
