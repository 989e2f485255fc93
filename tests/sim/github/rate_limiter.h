// GitHub's rate limits on a test-chosen time scale: the primary limit per
// identity and resource (a fixed window, reported in x-ratelimit-* headers),
// and the secondary limits (content-creating requests per minute, concurrent
// requests) that answer with retry-after.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/time.h"

namespace fluxkey::sim::github {

struct LimitConfig {
  int primary = 5000;          // requests per hour per token, resource "core"
  int graphql = 5000;          // points per hour, resource "graphql" (1 per query here)
  int unauthenticated = 60;    // per hour per client address
  int writes_per_minute = 80;  // content-creating requests (PUT, POST, PATCH, DELETE)
  int max_concurrent = 100;    // in-flight requests per identity
  int primary_status = 403;    // GitHub answers 403 or 429
  int secondary_status = 403;
  double time_scale = 1.0;  // multiplies every window: 0.01 makes an hour 36 s
};

struct PrimaryState {
  int limit = 0;
  int remaining = 0;
  int used = 0;
  int64_t reset_epoch = 0;  // UTC epoch seconds
  std::string resource;
};

class RateLimiter {
 public:
  using ClockFn = std::function<Clock::time_point()>;
  explicit RateLimiter(ClockFn clock) : clock_(std::move(clock)) {}

  void configure(const LimitConfig& config);
  LimitConfig config() const;

  // Counts one request of `identity` against `resource`. `exceeded` is set
  // when the window had no request left (nothing is counted then).
  struct Decision {
    PrimaryState state;
    bool exceeded = false;
  };
  Decision take(const std::string& identity, const std::string& resource, int limit);
  // The state without counting (conditional requests answered 304 are free).
  PrimaryState peek(const std::string& identity, const std::string& resource, int limit);

  // A content-creating request; returns retry-after seconds when the
  // identity has made writes_per_minute of them in the last (scaled) minute.
  std::optional<int> take_write(const std::string& identity);

  // In-flight accounting; enter() returns retry-after seconds when the
  // identity already has max_concurrent requests running (and then does not
  // count it, so no leave() follows).
  std::optional<int> enter(const std::string& identity);
  void leave(const std::string& identity);

  // Forgets all counts (a test starting over).
  void reset();

  std::chrono::milliseconds scaled(std::chrono::milliseconds window) const;

 private:
  struct Window {
    Clock::time_point start;
    int used = 0;
  };
  PrimaryState state_of(const Window& w, const std::string& resource, int limit) const;
  Window& window_for(const std::string& identity, const std::string& resource);

  ClockFn clock_;
  mutable std::mutex mutex_;
  LimitConfig config_;
  std::map<std::pair<std::string, std::string>, Window> windows_;
  std::map<std::string, std::deque<Clock::time_point>> writes_;
  std::map<std::string, int> in_flight_;
};

}  // namespace fluxkey::sim::github
