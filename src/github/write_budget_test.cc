#include "github/write_budget.h"

#include <doctest/doctest.h>

namespace github_write_budget_test {

using namespace fluxkey;
using namespace fluxkey::github;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("github: write budget, minute window") {
  WriteBudget budget(3, 100);
  Clock::time_point t0 = Clock::time_point(seconds(1'700'000'000));
  budget.record(t0);
  budget.record(t0 + seconds(10));
  CHECK(budget.wait_before_write(t0 + seconds(20)) == milliseconds(0));
  budget.record(t0 + seconds(20));
  // Three in the window: the oldest leaves at t0 + 60s.
  CHECK(budget.wait_before_write(t0 + seconds(20)) == seconds(40));
  CHECK(budget.wait_before_write(t0 + seconds(59)) == seconds(1));
  CHECK(budget.wait_before_write(t0 + seconds(60)) == milliseconds(0));
  budget.record(t0 + seconds(60));
  CHECK(budget.wait_before_write(t0 + seconds(60)) == seconds(10));
}

TEST_CASE("github: write budget, hour window and no limit") {
  WriteBudget budget(100, 2);
  Clock::time_point t0 = Clock::time_point(seconds(1'700'000'000));
  budget.record(t0);
  budget.record(t0 + seconds(100));
  CHECK(budget.wait_before_write(t0 + seconds(200)) == seconds(3400));
  CHECK(budget.wait_before_write(t0 + seconds(3600)) == milliseconds(0));

  WriteBudget unlimited(0, 0);
  for (int i = 0; i < 1000; ++i) unlimited.record(t0);
  CHECK(unlimited.wait_before_write(t0) == milliseconds(0));

  CHECK(WriteBudget::is_write("PUT"));
  CHECK(WriteBudget::is_write("POST"));
  CHECK(WriteBudget::is_write("PATCH"));
  CHECK(WriteBudget::is_write("DELETE"));
  CHECK_FALSE(WriteBudget::is_write("GET"));
  CHECK_FALSE(WriteBudget::is_write("HEAD"));
}

TEST_CASE("github: write budget keeps order when the clock steps back") {
  WriteBudget budget(2, 100);
  Clock::time_point t0 = Clock::time_point(seconds(1'700'000'000));
  budget.record(t0 + seconds(30));
  budget.record(t0);  // counted as at t0 + 30s
  CHECK(budget.wait_before_write(t0 + seconds(30)) == seconds(60));
}

}  // namespace github_write_budget_test
