#include "sim/github/rate_limiter.h"

#include <doctest/doctest.h>

namespace fluxkey::sim::github::github_rate_limiter_test {
namespace {

struct FakeClock {
  Clock::time_point now = Clock::time_point(std::chrono::seconds(1'700'000'000));
  RateLimiter::ClockFn fn() {
    return [this] { return now; };
  }
};

TEST_CASE("the primary limit counts per identity and resets after the (scaled) hour") {
  FakeClock clock;
  RateLimiter limiter(clock.fn());
  LimitConfig config;
  config.time_scale = 0.01;  // an hour is 36 s
  limiter.configure(config);

  auto first = limiter.take("user:1", "core", 3);
  CHECK_FALSE(first.exceeded);
  CHECK(first.state.limit == 3);
  CHECK(first.state.remaining == 2);
  CHECK(first.state.used == 1);
  CHECK(first.state.resource == "core");
  CHECK(first.state.reset_epoch == 1'700'000'036);
  CHECK_FALSE(limiter.take("user:1", "core", 3).exceeded);
  auto third = limiter.take("user:1", "core", 3);
  CHECK_FALSE(third.exceeded);
  CHECK(third.state.remaining == 0);
  auto fourth = limiter.take("user:1", "core", 3);
  CHECK(fourth.exceeded);
  CHECK(fourth.state.remaining == 0);
  CHECK(fourth.state.used == 3);

  // Another identity and another resource have their own windows.
  CHECK_FALSE(limiter.take("user:2", "core", 3).exceeded);
  CHECK_FALSE(limiter.take("user:1", "graphql", 3).exceeded);
  CHECK(limiter.peek("user:1", "core", 3).remaining == 0);

  clock.now += std::chrono::seconds(36);
  auto after = limiter.take("user:1", "core", 3);
  CHECK_FALSE(after.exceeded);
  CHECK(after.state.remaining == 2);
  CHECK(after.state.reset_epoch == 1'700'000'072);
}

TEST_CASE("content-creating requests hit the secondary limit with a retry-after") {
  FakeClock clock;
  RateLimiter limiter(clock.fn());
  LimitConfig config;
  config.writes_per_minute = 2;
  config.time_scale = 0.5;  // a minute is 30 s
  limiter.configure(config);
  CHECK_FALSE(limiter.take_write("user:1").has_value());
  clock.now += std::chrono::seconds(10);
  CHECK_FALSE(limiter.take_write("user:1").has_value());
  auto retry = limiter.take_write("user:1");
  REQUIRE(retry.has_value());
  CHECK(*retry == 20);  // the first write leaves the window 30 s after it was made
  CHECK_FALSE(limiter.take_write("user:2").has_value());
  clock.now += std::chrono::seconds(20);
  CHECK_FALSE(limiter.take_write("user:1").has_value());
}

TEST_CASE("concurrent requests beyond the limit are refused until one leaves") {
  FakeClock clock;
  RateLimiter limiter(clock.fn());
  LimitConfig config;
  config.max_concurrent = 2;
  limiter.configure(config);
  CHECK_FALSE(limiter.enter("k").has_value());
  CHECK_FALSE(limiter.enter("k").has_value());
  auto refused = limiter.enter("k");
  REQUIRE(refused.has_value());
  CHECK(*refused == 60);
  CHECK_FALSE(limiter.enter("other").has_value());
  limiter.leave("k");
  CHECK_FALSE(limiter.enter("k").has_value());
}

TEST_CASE("reset forgets every count") {
  FakeClock clock;
  RateLimiter limiter(clock.fn());
  CHECK_FALSE(limiter.take("u", "core", 1).exceeded);
  CHECK(limiter.take("u", "core", 1).exceeded);
  limiter.reset();
  CHECK_FALSE(limiter.take("u", "core", 1).exceeded);
}

}  // namespace
}  // namespace fluxkey::sim::github::github_rate_limiter_test
