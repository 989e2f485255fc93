// Wall-clock helpers: durations as users write them ("1h30m") and RFC 3339
// timestamps as Kubernetes and GitHub write them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fluxkey {

using Clock = std::chrono::system_clock;
using Seconds = std::chrono::seconds;

// Parses a Go-style duration: a sequence of <number><unit> with units
// ms, s, m, h (and d for days, which Go lacks but operators write).
// "0" alone is accepted. Returns nullopt on anything else.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Formats a duration the way Go prints it, for messages: "1h30m0s" -> "1h30m".
std::string format_duration(std::chrono::milliseconds d);

// "2026-11-28T17:43:22Z", or with nanoseconds when fractional is set
// (RFC3339Nano, what flux writes into reconcile.fluxcd.io/requestedAt).
std::string format_rfc3339(Clock::time_point t, bool fractional = false);

// Parses RFC 3339 with optional fraction and either Z or a numeric offset.
std::optional<Clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace fluxkey
