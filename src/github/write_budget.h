// GitHub's secondary limits count content-creating requests (POST, PATCH,
// PUT, DELETE): about 80 a minute and 500 an hour. Rather than discover them
// through refusals, fluxkey keeps its own tally and waits before a write
// that would go over either.
#pragma once

#include <chrono>
#include <deque>
#include <string_view>

#include "core/time.h"

namespace fluxkey::github {

class WriteBudget {
 public:
  // A limit of 0 or less means no limit for that window. `time_scale`
  // multiplies both windows (benchmarks against a stand-in whose minute is
  // compressed; 1 everywhere else).
  WriteBudget(int per_minute, int per_hour, double time_scale = 1.0);

  // How long from `now` until one more write fits both sliding windows
  // (60 s and 3600 s): zero when it fits at once.
  std::chrono::milliseconds wait_before_write(Clock::time_point now) const;
  // Notes a write sent (or attempted) at `at`.
  void record(Clock::time_point at);

  static bool is_write(std::string_view method);

 private:
  std::chrono::milliseconds wait_for(Clock::time_point now, Clock::duration window,
                                     int limit) const;

  int per_minute_;
  int per_hour_;
  Clock::duration minute_;
  Clock::duration hour_;
  std::deque<Clock::time_point> writes_;  // oldest first, within the last hour
};

}  // namespace fluxkey::github
