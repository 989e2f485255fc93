#include "sim/github/rate_limiter.h"

#include <cmath>

namespace fluxkey::sim::github {
namespace {

constexpr std::chrono::milliseconds kHour{3'600'000};
constexpr std::chrono::milliseconds kMinute{60'000};

int64_t epoch_seconds_ceil(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return (ms + 999) / 1000;
}

int seconds_ceil(std::chrono::milliseconds d) {
  return std::max(1, static_cast<int>((d.count() + 999) / 1000));
}

}  // namespace

void RateLimiter::configure(const LimitConfig& config) {
  std::lock_guard lock(mutex_);
  config_ = config;
}

LimitConfig RateLimiter::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

std::chrono::milliseconds RateLimiter::scaled(std::chrono::milliseconds window) const {
  // Never below a second: reset times are whole epoch seconds.
  auto ms =
      static_cast<int64_t>(std::llround(static_cast<double>(window.count()) * config_.time_scale));
  return std::chrono::milliseconds(std::max<int64_t>(ms, 1000));
}

RateLimiter::Window& RateLimiter::window_for(const std::string& identity,
                                             const std::string& resource) {
  const auto now = clock_();
  Window& w = windows_[{identity, resource}];
  // GitHub's window starts with the first request after the previous one ended.
  if (w.used == 0 || now >= w.start + scaled(kHour)) {
    w.start = now;
    w.used = 0;
  }
  return w;
}

PrimaryState RateLimiter::state_of(const Window& w, const std::string& resource, int limit) const {
  PrimaryState s;
  s.limit = limit;
  s.used = std::min(w.used, limit);
  s.remaining = std::max(0, limit - w.used);
  s.reset_epoch = epoch_seconds_ceil(w.start + scaled(kHour));
  s.resource = resource;
  return s;
}

RateLimiter::Decision RateLimiter::take(const std::string& identity, const std::string& resource,
                                        int limit) {
  std::lock_guard lock(mutex_);
  Window& w = window_for(identity, resource);
  Decision d;
  if (w.used >= limit) {
    d.exceeded = true;
  } else {
    ++w.used;
  }
  d.state = state_of(w, resource, limit);
  return d;
}

PrimaryState RateLimiter::peek(const std::string& identity, const std::string& resource,
                               int limit) {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  auto it = windows_.find({identity, resource});
  if (it == windows_.end() || now >= it->second.start + scaled(kHour)) {
    Window fresh{now, 0};
    return state_of(fresh, resource, limit);
  }
  return state_of(it->second, resource, limit);
}

std::optional<int> RateLimiter::take_write(const std::string& identity) {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  const auto window = scaled(kMinute);
  auto& times = writes_[identity];
  while (!times.empty() && times.front() + window <= now) times.pop_front();
  if (static_cast<int>(times.size()) >= config_.writes_per_minute) {
    return seconds_ceil(
        std::chrono::duration_cast<std::chrono::milliseconds>(times.front() + window - now));
  }
  times.push_back(now);
  return std::nullopt;
}

std::optional<int> RateLimiter::enter(const std::string& identity) {
  std::lock_guard lock(mutex_);
  int& n = in_flight_[identity];
  if (n >= config_.max_concurrent) return seconds_ceil(scaled(kMinute));
  ++n;
  return std::nullopt;
}

void RateLimiter::leave(const std::string& identity) {
  std::lock_guard lock(mutex_);
  auto it = in_flight_.find(identity);
  if (it != in_flight_.end() && it->second > 0) --it->second;
}

void RateLimiter::reset() {
  std::lock_guard lock(mutex_);
  windows_.clear();
  writes_.clear();
  in_flight_.clear();
}

}  // namespace fluxkey::sim::github
