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
#include "core/time.h"
#include "http/http.h"
#include "kube/rest_config.h"

namespace fluxkey::kube {

using Json = nlohmann::json;

// A refusal from the API server, from its Status object (or the bare HTTP
// status when the body is not one). what() is one line: the server's message
// and reason, e.g. `serviceaccounts "x" is forbidden: ... (Forbidden, 403)`.
class ApiError : public Error {
 public:
  ApiError(int status, std::string reason, std::string message);
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
  // passes. Returns false when the timeout ended it.
  bool watch(const std::string& path_and_query, std::chrono::milliseconds timeout,
             const std::function<bool(const Json& event)>& on_event);

 private:
  Json call(http::Request request);
  std::string bearer_token();

  RestConfig config_;
  std::unique_ptr<http::Client> http_;
  // Cached exec plugin credential and when it expires.
  std::string exec_token_;
  std::optional<Clock::time_point> exec_expiry_;
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
  std::string token;  // secret
  Clock::time_point expires_at;
};

IssuedToken request_token(Client& client, const std::string& ns, const std::string& name,
                          const TokenRequestSpec& spec);

}  // namespace fluxkey::kube
