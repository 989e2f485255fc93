#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <deque>
#include <variant>

#include "core/log.h"
#include "http/http.h"
#include "support/captured_log.h"

namespace fluxkey::http::http_client_test {
namespace {

using fluxkey::testing::CapturedLog;

using std::chrono::milliseconds;
using Step = std::variant<Response, NetworkError>;

// Replays scripted outcomes and records what was sent.
struct Script {
  std::deque<Step> steps;
  std::vector<Request> sent;
};

class FakeTransport : public Transport {
 public:
  explicit FakeTransport(Script& script) : script_(script) {}
  Response send(const Request& request) override {
    script_.sent.push_back(request);
    REQUIRE_MESSAGE(!script_.steps.empty(), "the client sent more requests than scripted");
    Step step = script_.steps.front();
    script_.steps.pop_front();
    if (auto* error = std::get_if<NetworkError>(&step)) throw *error;
    return std::get<Response>(step);
  }

 private:
  Script& script_;
};

Response reply(long status, Headers headers = {}) {
  Response r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = "body of " + std::to_string(status);
  return r;
}

NetworkError refused() {
  return NetworkError("cannot connect to 127.0.0.1:1: connection refused",
                      NetworkError::Kind::kConnect, false);
}

NetworkError reset_after_send() {
  return NetworkError("connection to 127.0.0.1:1 broke", NetworkError::Kind::kTransfer, true);
}

// A client over the script whose sleeps are recorded and whose jitter is
// the ceiling itself, so backoff is deterministic.
struct Harness {
  Script script;
  std::vector<milliseconds> sleeps;
  Client client;

  explicit Harness(RetryPolicy policy = {})
      : client(std::make_unique<FakeTransport>(script), policy) {
    client.set_sleeper([this](milliseconds d) { sleeps.push_back(d); });
    client.set_jitter([](milliseconds ceiling) { return ceiling; });
  }
};

Request get() {
  Request r;
  r.url = "https://127.0.0.1:6443/api/v1/namespaces?token=secret";
  return r;
}

Request create() {
  Request r;
  r.method = "POST";
  r.url = "https://api.github.com/repos/o/r/environments";
  r.body = "{}";
  r.idempotent = false;
  return r;
}

std::string http_date(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

}  // namespace

TEST_CASE("client: logs attempts and retries without secrets") {
  Harness h;
  h.script.steps = {reply(503), reply(200)};
  Request request = get();
  request.headers = {{"Authorization", "Bearer tok-123"}};
  request.body = "payload-456";
  std::string text;
  {
    CapturedLog log;
    h.client.send(request);
    text = log.text();
  }
  CHECK(text.find("retrying GET https://127.0.0.1:6443/api/v1/namespaces in 200ms (503)") !=
        std::string::npos);
  CHECK(text.find("http request method=GET url=https://127.0.0.1:6443/api/v1/namespaces "
                  "status=503 attempt=1 duration_ms=") != std::string::npos);
  CHECK(text.find("status=200 attempt=2") != std::string::npos);
  for (const char* secret : {"token=secret", "tok-123", "payload-456", "body of"}) {
    CHECK_MESSAGE(text.find(secret) == std::string::npos, secret);
  }
}

TEST_CASE("client: retries a 503 and returns the success that follows") {
  Harness h;
  h.script.steps = {reply(503), reply(503), reply(200)};
  Response r = h.client.send(get());
  CHECK(r.status == 200);
  CHECK(h.script.sent.size() == 3);
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(200), milliseconds(400)});
}

TEST_CASE("client: honours Retry-After in seconds on a 429") {
  Harness h;
  h.script.steps = {reply(429, {{"retry-after", "3"}}), reply(200)};
  CHECK(h.client.send(get()).status == 200);
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(3000)});
}

TEST_CASE("client: honours Retry-After as an HTTP date") {
  Harness h;
  h.script.steps = {reply(503, {{"retry-after", http_date(std::time(nullptr) + 5)}}), reply(200)};
  CHECK(h.client.send(get()).status == 200);
  REQUIRE(h.sleeps.size() == 1);
  CHECK(h.sleeps[0] > milliseconds(3000));
  CHECK(h.sleeps[0] <= milliseconds(5000));
}

TEST_CASE("client: a Retry-After beyond the limit returns the response as is") {
  RetryPolicy policy;
  policy.max_retry_after = milliseconds(60'000);
  Harness h(policy);
  h.script.steps = {reply(429, {{"retry-after", "3600"}}), reply(200)};
  Response r = h.client.send(get());
  CHECK(r.status == 429);
  CHECK(r.body == "body of 429");
  CHECK(h.script.sent.size() == 1);
  CHECK(h.sleeps.empty());
}

TEST_CASE("client: a POST is not resent once it may have reached the server") {
  Harness h;
  h.script.steps = {reset_after_send(), reply(201)};
  CHECK_THROWS_AS(h.client.send(create()), NetworkError);
  CHECK(h.script.sent.size() == 1);
  CHECK(h.sleeps.empty());
}

TEST_CASE("client: a POST is resent when the connection failed before sending") {
  Harness h;
  h.script.steps = {refused(), refused(), reply(201)};
  CHECK(h.client.send(create()).status == 201);
  CHECK(h.script.sent.size() == 3);
}

TEST_CASE("client: a POST is resent on statuses that prove nothing was done") {
  Harness h;
  h.script.steps = {reply(429), reply(503, {{"retry-after", "1"}}), reply(201)};
  CHECK(h.client.send(create()).status == 201);
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(200), milliseconds(1000)});

  Harness bare;
  bare.script.steps = {reply(503), reply(201)};
  CHECK(bare.client.send(create()).status == 503);
  CHECK(bare.script.sent.size() == 1);

  Harness gateway;
  gateway.script.steps = {reply(502), reply(201)};
  CHECK(gateway.client.send(create()).status == 502);
}

TEST_CASE("client: an idempotent request is resent after a broken transfer") {
  Harness h;
  h.script.steps = {reset_after_send(), reply(200)};
  CHECK(h.client.send(get()).status == 200);
  CHECK(h.script.sent.size() == 2);
}

TEST_CASE("client: a streaming request is not resent once the body may have started") {
  Harness h;
  h.script.steps = {reset_after_send(), reply(200)};
  Request watch = get();
  watch.on_body = [](std::string_view) { return true; };
  CHECK_THROWS_AS(h.client.send(watch), NetworkError);
  CHECK(h.script.sent.size() == 1);
}

TEST_CASE("client: 4xx answers are returned at once") {
  for (long status : {400L, 401L, 403L, 404L, 409L, 422L}) {
    Harness h;
    h.script.steps = {reply(status), reply(200)};
    CHECK(h.client.send(get()).status == status);
    CHECK(h.script.sent.size() == 1);
    CHECK(h.sleeps.empty());
  }
}

TEST_CASE("client: a 403 with Retry-After is a rate limit and is waited out") {
  Harness h;
  h.script.steps = {reply(403, {{"retry-after", "2"}}), reply(204)};
  CHECK(h.client.send(create()).status == 204);
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(2000)});
}

TEST_CASE("client: permanent network errors are not retried") {
  Harness h;
  h.script.steps = {NetworkError("TLS verification failed", NetworkError::Kind::kTls, false, true),
                    reply(200)};
  CHECK_THROWS_AS(h.client.send(get()), NetworkError);
  CHECK(h.script.sent.size() == 1);
}

TEST_CASE("client: max_attempts bounds the tries, then the last outcome stands") {
  RetryPolicy policy;
  policy.max_attempts = 3;
  Harness statuses(policy);
  statuses.script.steps = {reply(500), reply(502), reply(504), reply(200)};
  Response r = statuses.client.send(get());
  CHECK(r.status == 504);
  CHECK(r.body == "body of 504");
  CHECK(statuses.script.sent.size() == 3);
  CHECK(statuses.sleeps.size() == 2);

  Harness errors(policy);
  errors.script.steps = {refused(), refused(), refused(), reply(200)};
  try {
    errors.client.send(get());
    FAIL("expected the last NetworkError");
  } catch (const NetworkError& e) {
    CHECK(e.kind() == NetworkError::Kind::kConnect);
    CHECK(std::string(e.what()).find("connection refused") != std::string::npos);
  }
  CHECK(errors.script.sent.size() == 3);
}

TEST_CASE("client: retry_rate_limited=false hands rate-limit refusals back at once") {
  RetryPolicy policy;
  policy.retry_rate_limited = false;
  Harness h(policy);
  h.script.steps = {reply(429, {{"retry-after", "1"}}), reply(403, {{"retry-after", "1"}}),
                    reply(503), reply(200)};
  CHECK(h.client.send(get()).status == 429);
  CHECK(h.client.send(get()).status == 403);
  CHECK(h.client.send(get()).status == 200);  // a 503 is still retried
  CHECK(h.script.sent.size() == 4);
  CHECK(h.sleeps.size() == 1);
}

TEST_CASE("client: backoff doubles and is capped") {
  RetryPolicy policy;
  policy.max_attempts = 7;
  policy.initial_backoff = milliseconds(100);
  policy.max_backoff = milliseconds(1000);
  Harness h(policy);
  for (int i = 0; i < 7; ++i) h.script.steps.push_back(reply(503));
  CHECK(h.client.send(get()).status == 503);
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(100), milliseconds(200),
                                              milliseconds(400), milliseconds(800),
                                              milliseconds(1000), milliseconds(1000)});
}

TEST_CASE("client: the default jitter stays between half the backoff ceiling and all of it") {
  RetryPolicy policy;
  policy.max_attempts = 6;
  policy.initial_backoff = milliseconds(100);
  policy.max_backoff = milliseconds(300);
  Script script;
  for (int i = 0; i < 6; ++i) script.steps.push_back(reply(503));
  std::vector<milliseconds> sleeps;
  Client client(std::make_unique<FakeTransport>(script), policy);
  client.set_sleeper([&](milliseconds d) { sleeps.push_back(d); });
  client.send(get());
  REQUIRE(sleeps.size() == 5);
  const milliseconds ceilings[] = {milliseconds(100), milliseconds(200), milliseconds(300),
                                   milliseconds(300), milliseconds(300)};
  for (size_t i = 0; i < sleeps.size(); ++i) {
    // Never less than half the ceiling: every retry backs off.
    CHECK(sleeps[i] >= ceilings[i] / 2);
    CHECK(sleeps[i] <= ceilings[i]);
  }
}

TEST_CASE("client: --request-timeout applies to requests that set no timeout of their own") {
  Harness h;
  h.script.steps = {reply(200), reply(200), reply(200)};
  h.client.send(get());
  CHECK(h.script.sent.back().timeout == milliseconds(0));  // the transport's default
  h.client.set_request_timeout(milliseconds(750));
  h.client.send(get());
  CHECK(h.script.sent.back().timeout == milliseconds(750));
  Request watch = get();
  watch.timeout = milliseconds(60'000);  // a watch sets its own, and keeps it
  h.client.send(watch);
  CHECK(h.script.sent.back().timeout == milliseconds(60'000));
}

TEST_CASE("parse_retry_after: delay seconds") {
  CHECK(parse_retry_after("120") == milliseconds(120'000));
  CHECK(parse_retry_after(" 0 ") == milliseconds(0));
  CHECK(parse_retry_after("99999999999999999999999") >= milliseconds(3600'000));
  CHECK_FALSE(parse_retry_after("").has_value());
  CHECK_FALSE(parse_retry_after("-5").has_value());
  CHECK_FALSE(parse_retry_after("soon").has_value());
  CHECK_FALSE(parse_retry_after("1.5").has_value());
}

TEST_CASE("parse_retry_after: HTTP dates, relative to now") {
  std::time_t now = std::time(nullptr);
  auto in_two_minutes = parse_retry_after(http_date(now + 120));
  REQUIRE(in_two_minutes.has_value());
  CHECK(*in_two_minutes > milliseconds(118'000));
  CHECK(*in_two_minutes <= milliseconds(120'000));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == milliseconds(0));
  // The obsolete forms RFC 9110 still asks recipients to accept.
  CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT") == milliseconds(0));
  CHECK(parse_retry_after("Sun Nov  6 08:49:37 1994") == milliseconds(0));
  CHECK_FALSE(parse_retry_after("Blursday, 99 Foo 2024 99:99:99 GMT").has_value());
}

TEST_CASE("parse_retry_after: dates the clock cannot hold are capped, not overflowed (fuzz)") {
  auto far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT");
  REQUIRE(far.has_value());
  CHECK(*far >= milliseconds(3600'000));
  auto old = parse_retry_after("Mon, 01 Jan 1601 00:00:00 GMT");
  CHECK((!old.has_value() || *old == milliseconds(0)));
}

TEST_CASE("Response::header finds the first value whatever the case") {
  Response r;
  r.headers = {{"retry-after", "5"}, {"link", "<a>"}, {"link", "<b>"}};
  CHECK(r.header("Retry-After") == "5");
  CHECK(r.header("link") == "<a>");
  CHECK_FALSE(r.header("etag").has_value());
}

TEST_CASE("client: a deadline cuts each attempt's timeout and stops retries that would pass it") {
  Harness h;  // backoff 200 ms, then 400 ms (the jitter is the ceiling)
  h.script.steps = {reply(503), reply(503), reply(503)};
  Request request = get();
  request.deadline = std::chrono::steady_clock::now() + milliseconds(500);
  // 503, wait 200 ms (the recorded sleeper does not sleep), 503, and the
  // next wait (400 ms) still fits: the third answer is returned.
  CHECK(h.client.send(request).status == 503);
  REQUIRE(h.script.sent.size() == 3);
  // Every attempt got at most what was left, not the transport's 30 s.
  for (const auto& sent : h.script.sent) {
    CHECK(sent.timeout > milliseconds(0));
    CHECK(sent.timeout <= milliseconds(500));
  }

  Harness late;
  late.script.steps = {reply(429, {{"retry-after", "2"}})};
  request.deadline = std::chrono::steady_clock::now() + milliseconds(1'000);
  // Retry-After past the deadline: not waited for, the 429 is the answer.
  CHECK(late.client.send(request).status == 429);
  CHECK(late.sleeps.empty());

  Harness gone;
  gone.script.steps = {reset_after_send()};
  request.deadline = std::chrono::steady_clock::now() + milliseconds(100);
  // The first backoff (200 ms) would pass it: the error, without "tried".
  CHECK_THROWS_WITH_AS(gone.client.send(request), "connection to 127.0.0.1:1 broke", NetworkError);

  request.deadline = std::chrono::steady_clock::now() - milliseconds(1);
  Harness over;
  CHECK_THROWS_AS(over.client.send(request), NetworkError);
  CHECK(over.script.sent.empty());
}

}  // namespace fluxkey::http::http_client_test
