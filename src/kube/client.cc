#include "kube/client.h"

#include <cctype>
#include <cmath>
#include <exception>
#include <thread>

#include "core/base64.h"
#include "core/file.h"
#include "core/log.h"
#include "core/process.h"
#include "core/text.h"
#include "http/url.h"

namespace fluxkey::kube {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// An exec credential is renewed this long before it expires, so it does not
// lapse between being read and reaching the server.
constexpr std::chrono::seconds kExecExpirySkew{10};
constexpr milliseconds kExecTimeout{60'000};
// A watch line longer than this is not an event a sane server sends.
constexpr size_t kMaxWatchLine = 64 * 1024 * 1024;
// Pause before watching again after the server ended a stream early.
constexpr milliseconds kRewatchPause{1'000};

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

std::string reason_for_status(long status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      // As client-go: any other 5xx (a proxy's 502) is an internal error.
      return status >= 500 ? "InternalError" : "Unknown";
  }
}

std::string with_query(const std::string& path, const std::string& param) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + param;
}

bool has_query_param(const std::string& path, const std::string& name) {
  size_t q = path.find('?');
  if (q == std::string::npos) return false;
  std::string query = "&" + path.substr(q + 1);
  return query.find("&" + name + "=") != std::string::npos;
}

// A string member, or "" when it is absent or of another type.
std::string string_field(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The client-go rule: a 2xx answer is success, the rest an ApiError built
// from the Status object when the body is one.
ApiError api_error(long status, const std::string& body, const std::string& hint = "") {
  std::string reason, message;
  try {
    Json json = Json::parse(body);
    if (string_field(json, "kind") == "Status") {
      reason = string_field(json, "reason");
      message = string_field(json, "message");
    }
  } catch (const Json::exception&) {
    // Not JSON (a proxy's HTML page): fall back to the HTTP status.
  }
  if (reason.empty()) reason = reason_for_status(status);
  if (message.empty()) message = "the server responded with status " + std::to_string(status);
  return ApiError(static_cast<int>(status), reason, one_line(message), hint);
}

std::string last_line(const std::string& text) {
  std::string trimmed = trim(text);
  size_t nl = trimmed.find_last_of('\n');
  return trim(nl == std::string::npos ? trimmed : trimmed.substr(nl + 1));
}

}  // namespace

ApiError::ApiError(int status, std::string reason, std::string message)
    : ApiError(status, std::move(reason), std::move(message), "") {}

ApiError::ApiError(int status, std::string reason, std::string message, const std::string& hint)
    : Error(message + " (" + reason + ")" + (hint.empty() ? "" : "; " + hint)),
      status_(status),
      reason_(std::move(reason)),
      message_(std::move(message)) {}

// Lets the Client swap the TLS identity (an exec plugin's new client
// certificate) under the http::Client, whose retry settings and sleeper
// tests may have changed.
class Client::SwappableTransport : public http::Transport {
 public:
  explicit SwappableTransport(std::unique_ptr<http::Transport> inner) : inner_(std::move(inner)) {}
  http::Response send(const http::Request& request) override { return inner_->send(request); }
  void replace(std::unique_ptr<http::Transport> inner) { inner_ = std::move(inner); }

 private:
  std::unique_ptr<http::Transport> inner_;
};

http::RetryPolicy Client::retry_policy() {
  http::RetryPolicy policy;
  // The API server sheds load with 429 + Retry-After (priority and
  // fairness, usually a second or so) and restarts in well under a minute;
  // a run of fluxkey is short, so wait for that and no longer.
  policy.max_attempts = 5;
  policy.initial_backoff = milliseconds(250);
  policy.max_backoff = milliseconds(5'000);
  policy.max_retry_after = milliseconds(30'000);
  return policy;
}

namespace {

std::unique_ptr<http::Transport> make_kube_transport(const http::TlsConfig& tls) {
  http::TransportOptions options;
  options.tls = tls;
  // Toward Kubernetes only the kubeconfig's CA (or the system roots when it
  // names none) is trusted, never SSL_CERT_FILE.
  options.tls.honor_ssl_cert_file = false;
  return http::make_curl_transport(options);
}

}  // namespace

// The transport is made from the config before the config is moved in (the
// config is move-only: it holds the token).
Client::Client(RestConfig config) : Client(std::move(config), nullptr, &make_kube_transport) {}

Client::Client(RestConfig config, std::unique_ptr<http::Transport> transport)
    : Client(std::move(config), std::move(transport), TransportFactory()) {}

Client::Client(RestConfig config, std::unique_ptr<http::Transport> transport,
               TransportFactory factory)
    : config_(std::move(config)), make_transport_(std::move(factory)) {
  if (!transport && make_transport_) transport = make_transport_(config_.tls);
  auto swappable = std::make_unique<SwappableTransport>(std::move(transport));
  transport_ = swappable.get();
  http_ = std::make_unique<http::Client>(std::move(swappable), retry_policy());
}

Client::~Client() = default;

void Client::refresh_exec_credential() {
  const ExecConfig& exec = *config_.exec;
  std::string context = "the exec credential plugin " + exec.command + " of " + config_.origin;
  auto fail = [&](const std::string& problem) {
    std::string hint = one_line(exec.install_hint);
    throw Error(context + " " + problem + (hint.empty() ? "" : "; " + hint));
  };

  Json info = {{"apiVersion", exec.api_version},
               {"kind", "ExecCredential"},
               {"spec", {{"interactive", false}}}};
  if (exec.provide_cluster_info) {
    Json cluster = {{"server", config_.server}};
    if (!config_.tls.ca_pem.empty()) {
      cluster["certificate-authority-data"] = base64_encode(config_.tls.ca_pem);
    }
    info["spec"]["cluster"] = cluster;
  }

  ProcessSpec spec;
  spec.argv.push_back(exec.command);
  spec.argv.insert(spec.argv.end(), exec.args.begin(), exec.args.end());
  spec.env_remove = secret_env_names();
  spec.env_set = exec.env;
  spec.env_set.emplace_back("KUBERNETES_EXEC_INFO", info.dump());
  spec.timeout = kExecTimeout;
  logger().debug("running exec credential plugin", {{"command", exec.command}});
  ProcessResult result;
  try {
    result = run_process(spec);
  } catch (const Error& e) {
    fail(std::string("cannot be started: ") + e.what());
  }
  if (result.timed_out) {
    fail("did not finish within " + format_duration(kExecTimeout));
  }
  if (result.exit_code != 0) {
    std::string how = result.signal != 0
                          ? "was killed by signal " + std::to_string(result.signal)
                          : "failed with exit code " + std::to_string(result.exit_code);
    std::string why = last_line(result.err);
    fail(how + (why.empty() ? "" : ": " + why));
  }

  // Its stdout holds the credential: it never goes into a message.
  Json credential;
  try {
    credential = Json::parse(result.out);
  } catch (const Json::exception&) {
    fail("printed something that is not an ExecCredential JSON object");
  }
  if (string_field(credential, "kind") != "ExecCredential") {
    fail("printed something that is not an ExecCredential");
  }
  if (string_field(credential, "apiVersion") != exec.api_version) {
    fail("answered with apiVersion \"" + one_line(string_field(credential, "apiVersion")) +
         "\", but the kubeconfig asks for " + exec.api_version);
  }
  auto status_it = credential.find("status");
  if (status_it == credential.end() || !status_it->is_object()) {
    fail("printed an ExecCredential without status");
  }
  const Json& status = *status_it;
  SecretString token(string_field(status, "token"));
  std::string cert = string_field(status, "clientCertificateData");
  std::string key = string_field(status, "clientKeyData");
  if (token.empty() && (cert.empty() || key.empty())) {
    fail(
        "printed an ExecCredential with neither status.token nor "
        "status.clientCertificateData and clientKeyData");
  }
  std::optional<Clock::time_point> expiry;
  std::string expiry_text = string_field(status, "expirationTimestamp");
  if (!expiry_text.empty()) {
    expiry = parse_rfc3339(expiry_text);
    if (!expiry) fail("printed an invalid expirationTimestamp \"" + one_line(expiry_text) + "\"");
  }

  exec_token_ = std::move(token);
  exec_expiry_ = expiry;
  exec_cached_ = true;
  if (!cert.empty() && (cert != config_.tls.client_cert_pem || key != config_.tls.client_key_pem)) {
    config_.tls.client_cert_pem = cert;
    wipe(config_.tls.client_key_pem);
    config_.tls.client_key_pem = key;
    if (make_transport_) transport_->replace(make_transport_(config_.tls));
  }
  // fluxkey's own copies of what the plugin printed; the parsed JSON's
  // strings are nlohmann's and go with it.
  wipe(key);
  wipe(result.out);
}

SecretString Client::bearer_token() {
  std::lock_guard<std::mutex> lock(credential_mutex_);
  if (config_.exec) {
    bool fresh = exec_cached_ && (!exec_expiry_ || Clock::now() + kExecExpirySkew < *exec_expiry_);
    if (!fresh) refresh_exec_credential();
    if (!exec_token_.empty()) return exec_token_.clone();
  }
  if (!config_.token_file.empty()) {
    // Re-read every time: projected ServiceAccount tokens rotate under us.
    SecretString token;
    try {
      std::string text = read_file(config_.token_file, "token file");
      token = trim(text);
      wipe(text);
    } catch (const Error& e) {
      throw Error(e.what());  // a runtime failure now, not a usage error
    }
    if (token.empty()) throw Error("token file " + config_.token_file + " is empty");
    return token;
  }
  return config_.token.clone();
}

void Client::rethrow_network(const http::NetworkError& e) const {
  std::string message = e.what();
  std::string where = "the API server " + config_.server + " (from " + config_.origin + ")";
  if (e.kind() == http::NetworkError::Kind::kConnect) {
    // "cannot connect to HOST:PORT: why" -> "cannot reach SERVER (...): why"
    const std::string prefix = "cannot connect to ";
    if (message.rfind(prefix, 0) == 0) {
      size_t sep = message.find(": ", prefix.size());
      if (sep != std::string::npos) message = message.substr(sep + 2);
    }
    throw http::NetworkError("cannot reach " + where + ": " + message, e.kind(), e.request_sent(),
                             e.permanent());
  }
  throw http::NetworkError(where + ": " + message, e.kind(), e.request_sent(), e.permanent());
}

http::Response Client::send(http::Client& http, http::Request& request) {
  request.headers.emplace_back("Accept", "application/json");
  if (deadline_ && request.deadline == SteadyClock::time_point{}) request.deadline = *deadline_;
  SecretString token = bearer_token();
  if (!token.empty()) {
    std::string authorization = "Bearer ";
    authorization.reserve(authorization.size() + token.size());
    authorization.append(token.view());
    request.headers.emplace_back("Authorization", std::move(authorization));
  }
  // The request's copy of the credential is fluxkey's to wipe once sent (the
  // http layer's and libcurl's copies are theirs); a request sent again
  // gets a fresh header from here.
  struct WipeAuthorization {
    http::Request& request;
    ~WipeAuthorization() {
      for (auto& [name, value] : request.headers) {
        if (name == "Authorization") wipe(value);
      }
      std::erase_if(request.headers, [](const auto& h) { return h.first == "Authorization"; });
    }
  } wiper{request};
  try {
    return http.send(request);
  } catch (const http::NetworkError& e) {
    rethrow_network(e);
  }
}

Json Client::call(http::Request request) {
  const http::Request original = request;
  http::Response response = send(*http_, request);
  if (response.status == 401 && config_.exec) {
    // The plugin's credential was revoked or expired early: get a new one
    // and try once more, as client-go does. Nothing was done with a 401.
    {
      std::lock_guard<std::mutex> lock(credential_mutex_);
      exec_cached_ = false;
    }
    request = original;
    response = send(*http_, request);
  }
  if (response.status < 200 || response.status >= 300) {
    std::string hint;
    if (response.status == 401) {
      hint = "the credentials from " + config_.origin + " are expired or wrong";
    }
    throw api_error(response.status, response.body, hint);
  }
  if (trim(response.body).empty()) return Json();
  try {
    return Json::parse(response.body);
  } catch (const Json::exception&) {
    throw Error("the API server " + config_.server + " answered " + request.method + " " +
                original.url.substr(config_.server.size()) + " with something that is not JSON");
  }
}

namespace {

http::Request make_request(const std::string& method, const std::string& url, bool idempotent) {
  http::Request request;
  request.method = method;
  request.url = url;
  request.idempotent = idempotent;
  return request;
}

}  // namespace

Json Client::get(const std::string& path) {
  return call(make_request("GET", config_.server + path, true));
}

std::optional<Json> Client::get_optional(const std::string& path) {
  try {
    return get(path);
  } catch (const ApiError& e) {
    if (e.status() == 404) return std::nullopt;
    throw;
  }
}

Json Client::create(const std::string& path, const Json& body) {
  auto request = make_request("POST", config_.server + path, false);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = body.dump();
  return call(std::move(request));
}

Json Client::replace(const std::string& path, const Json& body) {
  // A PUT carries resourceVersion when the caller wants optimistic
  // concurrency; sending it twice gives a Conflict, never a double write.
  auto request = make_request("PUT", config_.server + path, true);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = body.dump();
  return call(std::move(request));
}

Json Client::patch(const std::string& path, const Json& body, PatchType type) {
  const char* content_type = "application/merge-patch+json";
  bool idempotent = true;
  switch (type) {
    case PatchType::kMerge:
      break;
    case PatchType::kStrategicMerge:
      content_type = "application/strategic-merge-patch+json";
      break;
    case PatchType::kJsonPatch:
      // "add" to the end of a list twice adds twice.
      content_type = "application/json-patch+json";
      idempotent = false;
      break;
  }
  auto request = make_request("PATCH", config_.server + path, idempotent);
  request.headers.emplace_back("Content-Type", content_type);
  request.body = body.dump();
  return call(std::move(request));
}

Json Client::apply(const std::string& path, const Json& body, const std::string& field_manager,
                   bool force) {
  std::string url =
      with_query(config_.server + path, "fieldManager=" + http::percent_encode(field_manager) +
                                            "&force=" + (force ? "true" : "false"));
  auto request = make_request("PATCH", url, true);
  // JSON is YAML, so the apply body needs no YAML emitter.
  request.headers.emplace_back("Content-Type", "application/apply-patch+yaml");
  request.body = body.dump();
  return call(std::move(request));
}

void Client::remove(const std::string& path) {
  call(make_request("DELETE", config_.server + path, true));
}

bool Client::watch(const std::string& path_and_query, milliseconds timeout,
                   const std::function<bool(const Json& event)>& on_event) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string path = path_and_query;
  if (!has_query_param(path, "watch")) path = with_query(path, "watch=true");

  // In production a watch gets its own connection, so that on_event may
  // make requests of its own on this Client while the stream is open.
  std::unique_ptr<http::Client> own;
  for (;;) {
    auto remaining = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (remaining <= milliseconds(0)) return false;
    std::string url = config_.server + path;
    if (!has_query_param(path, "timeoutSeconds")) {
      // The server ends the stream cleanly at about our deadline; the
      // transfer timeout below is the backstop.
      long long seconds = std::max<long long>(1, remaining.count() / 1000);
      url = with_query(url, "timeoutSeconds=" + std::to_string(seconds));
    }

    std::string buffer;
    std::exception_ptr failure;
    bool stopped = false;
    bool timed_out = false;
    auto handle_line = [&](std::string line) -> bool {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (trim(line).empty()) return true;
      Json event;
      try {
        event = Json::parse(line);
      } catch (const Json::exception&) {
        failure = std::make_exception_ptr(
            Error("the API server " + config_.server + " sent a watch event that is not JSON"));
        return false;
      }
      if (!event.is_object() || !event.contains("type") || !event["type"].is_string()) {
        failure = std::make_exception_ptr(
            Error("the API server " + config_.server + " sent a watch event without a type"));
        return false;
      }
      if (event["type"] == "ERROR") {
        const Json object = event.value("object", Json::object());
        long code = 500;
        if (object.is_object() && object.contains("code") && object["code"].is_number_integer()) {
          code = object["code"].get<long>();
        }
        failure = std::make_exception_ptr(api_error(code, object.dump()));
        return false;
      }
      if (event["type"] == "BOOKMARK") return true;
      if (!on_event(event)) {
        stopped = true;
        return false;
      }
      return true;
    };

    http::Request request = make_request("GET", url, true);
    request.timeout = remaining;
    // Never throws: an exception must not unwind through libcurl.
    request.on_body = [&](std::string_view chunk) -> bool {
      try {
        buffer.append(chunk);
        size_t start = 0;
        for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
          if (!handle_line(buffer.substr(start, nl - start))) return false;
        }
        buffer.erase(0, start);
        if (buffer.size() > kMaxWatchLine) {
          failure = std::make_exception_ptr(
              Error("the API server " + config_.server + " sent a watch event larger than 64 MiB"));
          return false;
        }
        if (SteadyClock::now() >= deadline) {
          timed_out = true;
          return false;
        }
        return true;
      } catch (...) {
        failure = std::current_exception();
        return false;
      }
    };

    http::Client* http = http_.get();
    if (make_transport_) {
      bearer_token();  // an exec plugin may renew the client certificate first
      if (!own) own = std::make_unique<http::Client>(make_transport_(config_.tls), retry_policy());
      http = own.get();
    }
    http::Response response;
    try {
      response = send(*http, request);
    } catch (const http::NetworkError& e) {
      if (failure) std::rethrow_exception(failure);
      if (e.kind() == http::NetworkError::Kind::kTimeout && e.request_sent()) return false;
      throw;
    }
    if (failure) std::rethrow_exception(failure);
    if (response.status < 200 || response.status >= 300) {
      throw api_error(response.status, response.body,
                      response.status == 401
                          ? "the credentials from " + config_.origin + " are expired or wrong"
                          : "");
    }
    if (stopped) return true;
    if (timed_out) return false;
    // The stream ended: a last line without its newline is still an event.
    if (!buffer.empty()) {
      bool go_on = handle_line(buffer);
      if (failure) std::rethrow_exception(failure);
      if (!go_on) return true;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (left <= milliseconds(0)) return false;
    std::this_thread::sleep_for(std::min(left, kRewatchPause));
  }
}

IssuedToken request_token(Client& client, const std::string& ns, const std::string& name,
                          const TokenRequestSpec& spec) {
  Json request_spec = {{"expirationSeconds", spec.expiration.count()}};
  if (!spec.audiences.empty()) request_spec["audiences"] = spec.audiences;
  if (spec.bound_object) {
    Json ref = {{"kind", spec.bound_object->kind},
                {"apiVersion", spec.bound_object->api_version},
                {"name", spec.bound_object->name}};
    if (!spec.bound_object->uid.empty()) ref["uid"] = spec.bound_object->uid;
    request_spec["boundObjectRef"] = ref;
  }
  Json body = {
      {"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", request_spec}};
  const std::string sa = "ServiceAccount " + ns + "/" + name;
  Json result;
  try {
    result =
        client.create("/api/v1/namespaces/" + ns + "/serviceaccounts/" + name + "/token", body);
  } catch (const ApiError& e) {
    // The server says `serviceaccounts "x" not found`, without the
    // namespace; a missing bound Secret keeps the server's own words.
    bool about_sa = e.server_message().find("serviceaccount") != std::string::npos ||
                    e.server_message().rfind("the server responded", 0) == 0;
    if (e.status() == 404 && about_sa) {
      throw ApiError(e.status(), e.reason(), sa + " not found");
    }
    throw;
  }
  const Json status = result.is_object() ? result.value("status", Json::object()) : Json::object();
  SecretString token(string_field(status, "token"));
  std::string expiry_text = string_field(status, "expirationTimestamp");
  if (token.empty()) throw Error("the TokenRequest for " + sa + " returned no token");
  auto expiry = parse_rfc3339(expiry_text);
  if (!expiry) {
    throw Error("the TokenRequest for " + sa + " returned no valid expirationTimestamp");
  }
  return IssuedToken{std::move(token), *expiry};
}

}  // namespace fluxkey::kube
