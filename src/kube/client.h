// The one place fluxkey makes Kubernetes API calls. Paths are API paths
// ("/api/v1/namespaces/x/secrets/y"); bodies and results are JSON. Every
// non-2xx reply becomes an ApiError carrying the Status object's fields.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "core/time.h"
#include "http/http.h"
#include "kube/rest_config.h"

namespace fluxkey::kube {

using Json = nlohmann::json;

// A refusal from the API server, from its Status object (or the bare HTTP
// status when the body is not one). what() is one line: the server's message
// and reason, e.g. `serviceaccounts "x" is forbidden: ... (Forbidden)`,
// followed by "; <hint>" when fluxkey knows one (401: expired credentials).
class ApiError : public Error {
 public:
  ApiError(int status, std::string reason, std::string message);
  ApiError(int status, std::string reason, std::string message, const std::string& hint);
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }  // NotFound, Forbidden, Conflict, ...
  const std::string& server_message() const { return message_; }

 private:
  int status_;
  std::string reason_;
  std::string message_;
};

enum class PatchType { kMerge, kStrategicMerge, kJsonPatch };

class Client {
 public:
  // Production: a curl transport built from the config's TLS settings.
  explicit Client(RestConfig config);
  // Tests: any transport (a fake, or curl toward a stand-in).
  Client(RestConfig config, std::unique_ptr<http::Transport> transport);
  ~Client();

  const RestConfig& config() const { return config_; }
  // Retry behaviour and sleeping are the http::Client's; tests reach it here.
  http::Client& http() { return *http_; }
  // A deadline for every request from now on (a command's --timeout): no
  // attempt and no retry runs past it. nullopt lifts it.
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
    deadline_ = deadline;
  }
  std::optional<std::chrono::steady_clock::time_point> deadline() const { return deadline_; }

  Json get(const std::string& path);
  // Returns nullopt on 404 instead of throwing.
  std::optional<Json> get_optional(const std::string& path);
  // POST: not retried once it may have reached the server.
  Json create(const std::string& path, const Json& body);
  Json replace(const std::string& path, const Json& body);
  Json patch(const std::string& path, const Json& body, PatchType type);
  // Server-side apply (application/apply-patch+yaml, sent as JSON).
  Json apply(const std::string& path, const Json& body, const std::string& field_manager,
             bool force);
  void remove(const std::string& path);

  // GET path?watch=true&... and calls on_event for each event object
  // ({"type": ..., "object": ...}) until it returns false or the timeout
  // passes. Returns false when the timeout ended it. watch=true and
  // timeoutSeconds are added unless the query has them. When the server ends
  // the stream early it is watched again (replaying the current state as
  // ADDED events). An ERROR event is thrown as ApiError (410 Expired: the
  // resourceVersion is too old). on_event may use this Client: in production
  // a watch has its own connection.
  bool watch(const std::string& path_and_query, std::chrono::milliseconds timeout,
             const std::function<bool(const Json& event)>& on_event);

  // The retry policy kube requests use.
  static http::RetryPolicy retry_policy();

 private:
  class SwappableTransport;
  using TransportFactory = std::function<std::unique_ptr<http::Transport>(const http::TlsConfig&)>;

  Client(RestConfig config, std::unique_ptr<http::Transport> transport, TransportFactory factory);
  Json call(http::Request request);
  http::Response send(http::Client& http, http::Request& request);
  SecretString bearer_token();
  void refresh_exec_credential();
  [[noreturn]] void rethrow_network(const http::NetworkError& e) const;

  RestConfig config_;
  // Empty with an injected transport; in production it makes the transports
  // for watches and rebuilds the shared one when an exec plugin hands out a
  // new client certificate.
  TransportFactory make_transport_;
  SwappableTransport* transport_ = nullptr;  // owned by http_
  std::unique_ptr<http::Client> http_;
  // Cached exec plugin credential and when it expires.
  std::mutex credential_mutex_;
  bool exec_cached_ = false;
  SecretString exec_token_;
  std::optional<Clock::time_point> exec_expiry_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

// TokenRequest (authentication.k8s.io/v1) for a ServiceAccount.
struct BoundObjectRef {
  std::string kind = "Secret";
  std::string api_version = "v1";
  std::string name;
  std::string uid;
};

struct TokenRequestSpec {
  std::chrono::seconds expiration{24 * 3600};
  std::vector<std::string> audiences;  // empty = the API server's default
  std::optional<BoundObjectRef> bound_object;
};

struct IssuedToken {
  SecretString token;
  Clock::time_point expires_at;
};

IssuedToken request_token(Client& client, const std::string& ns, const std::string& name,
                          const TokenRequestSpec& spec);

}  // namespace fluxkey::kube
