#include <algorithm>
#include <random>
#include <thread>

#include "core/log.h"
#include "http/http.h"
#include "http/short_duration.h"
#include "http/url.h"

namespace fluxkey::http {
namespace {

using std::chrono::milliseconds;

// Statuses that say "not now" rather than "no": overload, rate limits and
// gateways that lost their upstream.
bool transient_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Whether a status proves the server did not act on the request, so that
// even a request that is not idempotent (a POST that creates) may be sent
// again without risking doing the work twice:
//  - 429 is a refusal on rate grounds, decided before the request is handled
//    (RFC 6585); so is a 403 that carries Retry-After, which is how GitHub
//    answers its secondary rate limits (a plain 403 is a real refusal).
//  - 503 with Retry-After is the server itself saying it is unavailable and
//    when to come back (RFC 9110 15.6.4), not a failure halfway through.
//  A 500, 502, 504 or bare 503 proves nothing: the server (or the upstream
//  behind a gateway) may have done the work and failed or timed out while
//  answering, so only idempotent requests are retried on those.
bool nothing_processed(long status, bool has_retry_after) {
  return status == 429 || ((status == 503 || status == 403) && has_retry_after);
}

bool retry_worthy(const Request& request, const Response& response, const RetryPolicy& policy) {
  bool has_retry_after = response.header("retry-after").has_value();
  bool rate_limited = response.status == 403 && has_retry_after;
  if (!policy.retry_rate_limited && (rate_limited || response.status == 429)) return false;
  if (!transient_status(response.status) && !rate_limited) return false;
  return request.idempotent || nothing_processed(response.status, has_retry_after);
}

bool retry_worthy(const Request& request, const NetworkError& error) {
  if (error.permanent()) return false;
  if (!error.request_sent()) return true;
  // A streaming caller has already been handed part of the body; sending
  // again would hand it the start twice. It resumes on its own terms.
  return request.idempotent && !request.on_body;
}

const char* kind_text(NetworkError::Kind kind) {
  switch (kind) {
    case NetworkError::Kind::kConnect:
      return "connection failed";
    case NetworkError::Kind::kTls:
      return "TLS failed";
    case NetworkError::Kind::kTimeout:
      return "timed out";
    case NetworkError::Kind::kTransfer:
      return "transfer failed";
  }
  return "failed";
}

// "Equal jitter": at least half the ceiling, so a retry always backs off
// (full jitter may pick ~0 and hit a struggling server again at once), and
// the random half still spreads clients that failed together.
milliseconds random_jitter(milliseconds ceiling) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  const long long top = std::max<long long>(0, ceiling.count());
  std::uniform_int_distribution<long long> pick(top / 2, top);
  return milliseconds(pick(generator));
}

// What is left before the request's deadline; nullopt when it has none.
std::optional<milliseconds> time_left(const Request& request) {
  if (request.deadline == std::chrono::steady_clock::time_point{}) return std::nullopt;
  return std::chrono::duration_cast<milliseconds>(request.deadline -
                                                  std::chrono::steady_clock::now());
}

// Whether waiting `delay` to retry would start the retry past the deadline.
bool retry_too_late(const Request& request, const std::string& url, milliseconds delay) {
  std::optional<milliseconds> left = time_left(request);
  if (!left || delay < *left) return false;
  logger().debug("not retrying " + request.method + " " + url + ": the deadline comes in " +
                 short_duration(std::max(*left, milliseconds(0))) + ", before the retry");
  return true;
}

// Exponential: initial, 2x, 4x ... capped at max_backoff (no overflow).
milliseconds backoff_ceiling(const RetryPolicy& policy, int failed_attempts) {
  milliseconds ceiling = policy.initial_backoff;
  for (int i = 1; i < failed_attempts && ceiling < policy.max_backoff; ++i) ceiling *= 2;
  return std::min(ceiling, policy.max_backoff);
}

}  // namespace

Client::Client(std::unique_ptr<Transport> transport, RetryPolicy policy)
    : transport_(std::move(transport)),
      policy_(policy),
      sleep_([](milliseconds d) { std::this_thread::sleep_for(d); }),
      jitter_(random_jitter) {}

Response Client::send(const Request& caller_request) {
  // A request without its own timeout gets the client's (--request-timeout).
  const bool default_timeout = caller_request.timeout.count() <= 0 && request_timeout_.count() > 0;
  Request timed;
  if (default_timeout) {
    timed = caller_request;
    timed.timeout = request_timeout_;
  }
  const Request& request = default_timeout ? timed : caller_request;
  const std::string url = loggable_url(request.url);
  const int max_attempts = std::max(1, policy_.max_attempts);
  for (int attempt = 1;; ++attempt) {
    auto start = std::chrono::steady_clock::now();
    auto elapsed_ms = [&] {
      return std::to_string(
          std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start)
              .count());
    };
    // Cut to the deadline: each attempt gets at most what is left.
    Request bounded;
    const Request* attempt_request = &request;
    if (std::optional<milliseconds> left = time_left(request)) {
      if (*left <= milliseconds(0)) {
        throw NetworkError(request.method + " " + url + " was not sent: its deadline had passed",
                           NetworkError::Kind::kTimeout, false);
      }
      milliseconds limit =
          request.timeout.count() > 0 ? request.timeout : TransportOptions{}.total_timeout;
      if (*left < limit) {
        bounded = request;
        bounded.timeout = *left;
        attempt_request = &bounded;
      }
    }
    milliseconds delay{0};
    std::string reason;
    try {
      Response response = transport_->send(*attempt_request);
      logger().debug("http request", {{"method", request.method},
                                      {"url", url},
                                      {"status", std::to_string(response.status)},
                                      {"attempt", std::to_string(attempt)},
                                      {"duration_ms", elapsed_ms()}});
      if (attempt >= max_attempts || !retry_worthy(request, response, policy_)) return response;
      reason = std::to_string(response.status);
      std::optional<milliseconds> retry_after;
      if (auto value = response.header("retry-after")) retry_after = parse_retry_after(*value);
      if (retry_after && *retry_after > policy_.max_retry_after) {
        logger().warn("not retrying " + request.method + " " + url + " (" + reason +
                      "): the server asks to wait " + short_duration(*retry_after) +
                      ", longer than " + short_duration(policy_.max_retry_after));
        return response;
      }
      delay = retry_after ? *retry_after : jitter_(backoff_ceiling(policy_, attempt));
      if (retry_too_late(request, url, delay)) return response;
    } catch (const NetworkError& error) {
      logger().debug("http request failed", {{"method", request.method},
                                             {"url", url},
                                             {"error", kind_text(error.kind())},
                                             {"attempt", std::to_string(attempt)},
                                             {"duration_ms", elapsed_ms()}});
      if (!retry_worthy(request, error)) throw;
      if (attempt >= max_attempts) {
        // Retries are logged at debug level only, so the one line a person
        // sees says that the failure outlasted them.
        throw NetworkError(
            std::string(error.what()) + " (tried " + std::to_string(attempt) + " times)",
            error.kind(), error.request_sent(), error.permanent());
      }
      reason = kind_text(error.kind());
      delay = jitter_(backoff_ceiling(policy_, attempt));
      if (retry_too_late(request, url, delay)) {
        std::string tried =
            attempt > 1 ? " (tried " + std::to_string(attempt) + " times)" : std::string();
        throw NetworkError(error.what() + tried, error.kind(), error.request_sent(),
                           error.permanent());
      }
    }
    logger().debug("retrying " + request.method + " " + url + " in " + short_duration(delay) +
                   " (" + reason + ")");
    sleep_(delay);
  }
}

}  // namespace fluxkey::http
