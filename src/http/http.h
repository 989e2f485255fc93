// The one place fluxkey talks to the network. Everything above this layer
// (kube/, github/) builds Requests and reads Responses; nothing else links
// libcurl.
//
//   Transport   one attempt, no retries (CurlTransport in production, a fake
//               in unit tests: HTTP is injected, as gh does it)
//   Client      retries with backoff over any Transport, and the request log
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/build_stamp.h"
#include "core/error.h"

namespace fluxkey::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;  // may carry Authorization; never logged
  std::string body;
  // Safe to send again after it may have reached the server (GET, PUT of a
  // whole object, DELETE). POSTs that create are not; they are retried only
  // when the connection failed before anything was sent.
  bool idempotent = true;
  // 0 means the Client's default total timeout. Watches set their own.
  std::chrono::milliseconds timeout{0};
  // When set (not the epoch), the Client neither starts an attempt nor waits
  // to retry past it: each attempt's timeout is cut to what is left, and a
  // retry that could not start in time is not made (the last response is
  // returned, or the last error thrown). A command's --timeout, end to end.
  std::chrono::steady_clock::time_point deadline{};
  // Called with each chunk of the body as it arrives (for watches). When set,
  // Response::body stays empty for 2xx responses; any other status keeps its
  // body in Response::body instead (it is the API's error, not the stream).
  // Returning false aborts the transfer, which is not an error: send()
  // returns the response with its status. A Client does not resend such a
  // request once it may have reached the server, since the callback has
  // already seen part of a body.
  std::function<bool(std::string_view chunk)> on_body;
};

struct Response {
  long status = 0;
  Headers headers;  // names lower-cased
  std::string body;

  // First value of a header, by lower-case name.
  std::optional<std::string> header(std::string_view name) const;
};

// Trust and identity for TLS. Verification is always on; there is no field
// to switch it off, on purpose.
struct TlsConfig {
  // PEM bundle to trust instead of the system roots (kubeconfig
  // certificate-authority-data, or a file's content).
  std::string ca_pem;
  // When ca_pem is empty: trust the system roots, or the bundle named by
  // SSL_CERT_FILE when honor_ssl_cert_file is set and the variable is (as Go
  // programs and gh do; used toward GitHub only).
  bool honor_ssl_cert_file = false;
  // Client certificate and key, PEM (secret).
  std::string client_cert_pem;
  std::string client_key_pem;
  // Where ca_pem came from, for error messages only: "check the CA in
  // <ca_source>" (e.g. "your kubeconfig", a file path). Empty: "the
  // configured CA".
  std::string ca_source;
};

// A failure to get any HTTP response: DNS, refused, reset, TLS, timeout.
class NetworkError : public Error {
 public:
  enum class Kind { kConnect, kTls, kTimeout, kTransfer };
  NetworkError(const std::string& message, Kind kind, bool request_sent, bool permanent = false)
      : Error(message), kind_(kind), request_sent_(request_sent), permanent_(permanent) {}
  Kind kind() const { return kind_; }
  // False when the failure happened before the request could reach the
  // server (refused, DNS, TLS handshake): retrying is then always safe.
  bool request_sent() const { return request_sent_; }
  // True when trying again cannot help (certificate verification failed, the
  // client certificate or a CA bundle is unusable): the Client does not retry.
  bool permanent() const { return permanent_; }

 private:
  Kind kind_;
  bool request_sent_;
  bool permanent_;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // One attempt. Returns any HTTP response (including 4xx/5xx); throws
  // NetworkError when there is none.
  virtual Response send(const Request& request) = 0;
};

struct TransportOptions {
  TlsConfig tls;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{30'000};
  std::string user_agent = std::string("fluxkey/") + build_version();
};

// libcurl, one easy handle reused so connections to a host are kept alive.
// One request at a time: a transport is not for concurrent use (use one per
// thread), and on_body must not send on the transport that calls it.
std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options);

struct RetryPolicy {
  int max_attempts = 5;  // first try included
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
  // Longest Retry-After fluxkey agrees to sleep; beyond it the response is
  // returned as is and the caller reports it.
  std::chrono::milliseconds max_retry_after{60'000};
  // When false, rate-limit refusals (429, and 403 with Retry-After) are
  // returned at once, so a caller that waits them out itself (github/) does
  // so in one place.
  bool retry_rate_limited = true;
};

// Retries connection errors, 5xx and 429 with exponential backoff and
// jitter, honouring Retry-After (seconds or HTTP date). Logs every attempt
// at debug level as method, URL, status and duration: never headers or body.
class Client {
 public:
  using Sleeper = std::function<void(std::chrono::milliseconds)>;
  // Picks the backoff delay in [0, ceiling]; the default picks in
  // [ceiling/2, ceiling] ("equal jitter"). Tests inject a deterministic one.
  using Jitter = std::function<std::chrono::milliseconds(std::chrono::milliseconds ceiling)>;

  Client(std::unique_ptr<Transport> transport, RetryPolicy policy = {});
  // Tests inject a sleeper that records instead of sleeping.
  void set_sleeper(Sleeper sleeper) { sleep_ = std::move(sleeper); }
  void set_jitter(Jitter jitter) { jitter_ = std::move(jitter); }
  // The total time one attempt of a request may take when the request sets
  // no timeout of its own (--request-timeout); 0 leaves the transport's.
  void set_request_timeout(std::chrono::milliseconds timeout) { request_timeout_ = timeout; }

  Response send(const Request& request);

 private:
  std::unique_ptr<Transport> transport_;
  RetryPolicy policy_;
  Sleeper sleep_;
  Jitter jitter_;
  std::chrono::milliseconds request_timeout_{0};
};

// Parses a Retry-After value: delta seconds or an HTTP date (relative to now).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

}  // namespace fluxkey::http
