#include "core/time.h"

#include <doctest/doctest.h>

namespace core_time_test {

using namespace fluxkey;
using std::chrono::milliseconds;

TEST_CASE("parse_duration accepts Go-style durations") {
  CHECK(parse_duration("90s") == milliseconds(90'000));
  CHECK(parse_duration("10m") == milliseconds(600'000));
  CHECK(parse_duration("24h") == milliseconds(86'400'000));
  CHECK(parse_duration("1h30m") == milliseconds(5'400'000));
  CHECK(parse_duration("1.5h") == milliseconds(5'400'000));
  CHECK(parse_duration("250ms") == milliseconds(250));
  CHECK(parse_duration("2d") == milliseconds(172'800'000));
  CHECK(parse_duration("0") == milliseconds(0));
}

TEST_CASE("parse_duration rejects what is not a duration") {
  for (const char* bad :
       {"", "10", "h", "10x", "-5m", "1h30", "1 h", "1e9h", ".h", "99999999999999999999h"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("format_duration prints as Go does, without zero units") {
  CHECK(format_duration(milliseconds(5'400'000)) == "1h30m");
  CHECK(format_duration(milliseconds(600'000)) == "10m");
  CHECK(format_duration(milliseconds(90'000)) == "1m30s");
  CHECK(format_duration(milliseconds(0)) == "0s");
  CHECK(format_duration(milliseconds(250)) == "250ms");
}

TEST_CASE("RFC 3339 round trip, with and without fraction") {
  auto t = parse_rfc3339("2026-11-28T17:43:22Z");
  REQUIRE(t);
  CHECK(format_rfc3339(*t) == "2026-11-28T17:43:22Z");
  auto n = parse_rfc3339("2026-11-28T17:43:22.123456789Z");
  REQUIRE(n);
  CHECK(format_rfc3339(*n, true) == "2026-11-28T17:43:22.123456789Z");
  CHECK(format_rfc3339(*t, true) == "2026-11-28T17:43:22Z");
  auto off = parse_rfc3339("2026-11-28T18:43:22+01:00");
  REQUIRE(off);
  CHECK(*off == *t);
  CHECK_FALSE(parse_rfc3339("2026-11-28 nope"));
  CHECK_FALSE(parse_rfc3339("2026-13-28T17:43:22Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T17:43:22"));
}

TEST_CASE("RFC 3339 times the clock cannot hold are refused, not overflowed (fuzz)") {
  CHECK_FALSE(fluxkey::parse_rfc3339("9999-12-31T23:59:59Z").has_value());
  CHECK_FALSE(fluxkey::parse_rfc3339("0000-01-01T00:00:00Z").has_value());
  CHECK_FALSE(fluxkey::parse_rfc3339("2262-04-12T00:00:00Z").has_value());
  CHECK_FALSE(fluxkey::parse_rfc3339("2261-12-31T23:59:59-00:01").has_value());
  auto last = fluxkey::parse_rfc3339("2262-01-01T01:59:59.999999999+02:00");
  REQUIRE(last.has_value());
  CHECK(fluxkey::parse_rfc3339(fluxkey::format_rfc3339(*last, true)) == last);
  CHECK(fluxkey::parse_rfc3339("1678-01-01T00:00:00Z").has_value());
  CHECK_FALSE(fluxkey::parse_rfc3339("1678-01-01T00:00:00+00:01").has_value());
}

}  // namespace core_time_test
