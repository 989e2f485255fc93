#include "github/client.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/log.h"
#include "core/text.h"
#include "crypto/sealed_box.h"
#include "github/app_jwt.h"
#include "github/errors.h"
#include "github/path.h"
#include "github/write_budget.h"
#include "http/short_duration.h"

namespace fluxkey::github {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

// Installation tokens live an hour; one with less than this left is renewed
// so it cannot lapse between being handed out and reaching GitHub.
constexpr milliseconds kTokenRenewBefore{5 * 60 * 1000};
// Without retry-after or a reset time, GitHub asks for at least a minute,
// longer for each refusal in a row.
constexpr milliseconds kRateLimitBackoff{60'000};
// The shortest wait after a rate-limit refusal, so that a reset time already
// past (clock skew) cannot turn into a busy loop.
constexpr milliseconds kMinRateLimitWait{1'000};
// A bound on refusals in a row, whatever max_wait allows.
constexpr int kMaxRateLimitHits = 30;
// Reading many public keys one after another dominates a large fan-out;
// reads may run concurrently (GitHub allows 100 at once), writes may not.
constexpr size_t kPrefetchMinTargets = 8;
constexpr size_t kPrefetchConnections = 8;

bool is_success(long status) {
  return status >= 200 && status < 300;
}

// The request's copy of the credential ("Bearer TOKEN") is fluxkey's to
// wipe once it is sent; the http layer's and libcurl's copies are not.
struct WipeAuthorization {
  http::Request& request;
  ~WipeAuthorization() {
    for (auto& [name, value] : request.headers) {
      if (name == "Authorization") wipe(value);
    }
  }
};

http::RetryPolicy retry_policy() {
  http::RetryPolicy policy;
  // 5xx and dropped connections are retried here; rate limits are not,
  // because the Client waits those out itself, against its own max_wait.
  policy.max_attempts = 4;
  policy.initial_backoff = milliseconds(500);
  policy.max_backoff = milliseconds(8'000);
  policy.max_retry_after = milliseconds(60'000);
  policy.retry_rate_limited = false;
  return policy;
}

std::string string_field(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

std::optional<int64_t> integer_field(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// A 422 that says the sealed value does not open with GitHub's current key:
// the key was rotated since fluxkey fetched it.
bool stale_key_refusal(const http::Response& response) {
  if (response.status != 422) return false;
  std::string message = lower_ascii(github_message(response));
  return message.find("improperly encrypted") != std::string::npos ||
         message.find("stale") != std::string::npos ||
         (message.find("key_id") != std::string::npos &&
          message.find("wasn't supplied") == std::string::npos);
}

}  // namespace

struct Client::State {
  explicit State(ClientOptions opts)
      : options(std::move(opts)),
        api(normalize_api_url(options.api_url)),
        graphql(graphql_url(api)),
        budget(options.pacing.writes_per_minute, options.pacing.writes_per_hour,
               options.pacing.time_scale) {}

  struct CachedKey {
    PublicKey key;
    std::string etag;
  };
  static std::optional<CachedKey> parse_public_key(const http::Response& response) {
    Json body = Json::parse(response.body, nullptr, false);
    CachedKey entry{{string_field(body, "key_id"), string_field(body, "key")},
                    response.header("etag").value_or("")};
    if (entry.key.key_id.empty() || entry.key.key.empty()) return std::nullopt;
    return entry;
  }
  struct CachedToken {
    SecretString token;
    Clock::time_point issued;
    Clock::time_point expires;
  };
  enum class Auth { kAppJwt, kAccount };

  // Counts every attempt and holds each write back until the budget allows
  // it. It sits under the http::Client, so retried attempts are paced too.
  class PacedTransport : public http::Transport {
   public:
    PacedTransport(State& state, std::unique_ptr<http::Transport> inner)
        : state_(state), inner_(std::move(inner)) {}
    http::Response send(const http::Request& request) override {
      // GraphQL queries are POSTs that create nothing.
      const bool write = WriteBudget::is_write(request.method) && request.url != state_.graphql;
      if (write) state_.wait_for_budget();
      ++state_.sent;
      struct Record {
        State& state;
        bool write;
        // Noted when the attempt ends (reply or failure): by then GitHub has
        // counted it, so the tally never runs ahead of GitHub's.
        ~Record() {
          if (write) state.budget.record(state.now());
        }
      } record{state_, write};
      return inner_->send(request);
    }

   private:
    State& state_;
    std::unique_ptr<http::Transport> inner_;
  };

  void wait_for_budget() {
    milliseconds wait = budget.wait_before_write(now());
    if (wait <= milliseconds(0)) return;
    std::string text = "GitHub write budget: waiting " + http::short_duration(wait) + " (" +
                       std::to_string(options.pacing.writes_per_minute) + " writes a minute, " +
                       std::to_string(options.pacing.writes_per_hour) + " an hour)";
    if (wait >= milliseconds(1'000)) {
      logger().info(text);
    } else {
      logger().debug(text);
    }
    sleep(wait);
  }

  bool app() const { return options.credentials.token.empty() && app_key.has_value(); }

  std::string app_name() const { return "the GitHub App " + options.credentials.app_id; }

  ErrorContext app_context() const { return ErrorContext{app_name(), std::nullopt, true}; }

  ErrorContext context_for(const Target& target) const {
    return ErrorContext{target.describe(), target.scope, app()};
  }

  std::string jwt() const { return make_app_jwt(*app_key, options.credentials.app_id, now()); }

  // The installation of the App on `account`, found through `via` (a
  // repository of it, or the organization itself) the first time.
  int64_t installation_for(const Target& via) {
    if (options.credentials.installation_id) return *options.credentials.installation_id;
    const std::string account = lower_ascii(via.owner);
    auto found = installations.find(account);
    if (found != installations.end()) return found->second;
    const std::string path =
        via.scope == Scope::kOrganization
            ? "/orgs/" + path_segment(via.owner) + "/installation"
            : "/repos/" + path_segment(via.owner) + "/" + path_segment(via.repo) + "/installation";
    http::Response response = call("GET", path, "", Auth::kAppJwt, nullptr, app_context());
    if (response.status == 404) {
      throw GitHubError(404, app_name() + " is not installed on " + via.owner + "; install it on " +
                                 via.owner + " (with the Secrets write permission) or give " +
                                 "--github-app-installation-id");
    }
    if (!is_success(response.status)) throw refusal(app_context(), response);
    auto id = integer_field(Json::parse(response.body, nullptr, false), "id");
    if (!id) {
      throw GitHubError(static_cast<int>(response.status),
                        app_name() + ": GitHub answered the installation lookup for " + via.owner +
                            " without an installation id");
    }
    logger().debug("GitHub App installation found",
                   {{"account", via.owner}, {"installation", std::to_string(*id)}});
    installations[account] = *id;
    return *id;
  }

  SecretString installation_token(int64_t installation) {
    const Clock::time_point t = now();
    auto cached = tokens.find(installation);
    if (cached != tokens.end()) {
      // Renew with five minutes left, or a quarter of the lifetime when
      // GitHub hands out shorter ones (a scaled stand-in).
      auto lifetime = cached->second.expires - cached->second.issued;
      auto margin = std::min<Clock::duration>(kTokenRenewBefore, lifetime / 4);
      if (cached->second.expires - t > margin) return cached->second.token.clone();
      tokens.erase(cached);
    }
    const std::string what = app_name() + " (installation " + std::to_string(installation) + ")";
    http::Response response =
        call("POST", "/app/installations/" + std::to_string(installation) + "/access_tokens", "",
             Auth::kAppJwt, nullptr, ErrorContext{what, std::nullopt, true}, {}, false);
    if (response.status == 404) {
      throw GitHubError(404, what +
                                 " not found: the App is not installed there (any more); "
                                 "check --github-app-installation-id or install the App");
    }
    if (!is_success(response.status)) {
      throw refusal(ErrorContext{what, std::nullopt, true}, response);
    }
    // The reply's body and its parsed copy hold the token too: wiped once
    // the token is in the cache (nlohmann's own temporaries cannot be).
    Json body = Json::parse(response.body, nullptr, false);
    wipe(response.body);
    SecretString token(string_field(body, "token"));
    if (body.is_object() && body.contains("token") && body["token"].is_string()) {
      wipe(body["token"].get_ref<std::string&>());
    }
    auto expires = parse_rfc3339(string_field(body, "expires_at"));
    if (token.empty() || !expires) {
      throw GitHubError(static_cast<int>(response.status),
                        what +
                            ": GitHub answered the token request without a token and "
                            "expires_at");
    }
    SecretString copy = token.clone();
    tokens[installation] = CachedToken{std::move(token), t, *expires};
    return copy;
  }

  // The bearer credential for requests about `target`'s account.
  SecretString credential_for(const Target& target) {
    if (!options.credentials.token.empty()) return options.credentials.token.clone();
    if (!app_key) {
      throw GitHubError(0, target.describe() +
                               ": no GitHub credential; set GITHUB_TOKEN / --github-token-file "
                               "or --github-app-id with --github-app-key");
    }
    return installation_token(installation_for(target));
  }

  http::Request make_request(const std::string& method, const std::string& path,
                             const std::string& body, const SecretString& bearer,
                             const http::Headers& extra = {}) const {
    http::Request request;
    request.method = method;
    request.url = path.rfind("https://", 0) == 0 ? path : api + path;
    std::string authorization = "Bearer ";
    authorization.reserve(authorization.size() + bearer.size());
    authorization.append(bearer.view());
    request.headers = {{"Accept", "application/vnd.github+json"},
                       {"X-GitHub-Api-Version", "2022-11-28"},
                       {"Authorization", std::move(authorization)}};
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.headers.insert(request.headers.end(), extra.begin(), extra.end());
    request.body = body;
    return request;
  }

  http::Response send_once(const std::string& method, const std::string& path,
                           const std::string& body, const SecretString& bearer,
                           const http::Headers& extra, bool idempotent,
                           const ErrorContext& context) {
    http::Request request = make_request(method, path, body, bearer, extra);
    WipeAuthorization wiper{request};
    request.idempotent = idempotent;
    try {
      return http->send(request);
    } catch (const http::NetworkError& e) {
      // The transport's message names host and port, never the request's
      // headers or body.
      throw GitHubError(0, context.what + ": cannot reach GitHub at " + api + ": " + e.what());
    }
  }

  // One API call: credentials attached per attempt (a long wait may outlive
  // an installation token), rate-limit refusals waited out and the request
  // sent again. Other statuses are the caller's to read.
  // `target` names the account whose credential is used (Auth::kAccount).
  http::Response call(const std::string& method, const std::string& path, const std::string& body,
                      Auth auth, const Target* target, const ErrorContext& context,
                      const http::Headers& extra = {}, bool idempotent = true) {
    milliseconds waited{0};
    bool renewed_token = false;
    for (int hits = 0;;) {
      SecretString bearer = auth == Auth::kAppJwt ? SecretString(jwt()) : credential_for(*target);
      http::Response response = send_once(method, path, body, bearer, extra, idempotent, context);
      if (response.status == 401 && auth == Auth::kAccount && app() && !renewed_token) {
        // An installation token revoked or expired early: mint a new one
        // and try once more. Nothing was done with a 401.
        renewed_token = true;
        tokens.clear();
        continue;
      }
      auto hit = rate_limit_hit(response, now());
      if (!hit) return response;
      ++hits;
      milliseconds wait = hit->wait ? std::max(*hit->wait, kMinRateLimitWait)
                                    : rate_limit_backoff() * (1L << std::min(hits - 1, 10));
      if (waited + wait > options.pacing.max_wait || hits > kMaxRateLimitHits) {
        throw GitHubError(static_cast<int>(response.status),
                          exhausted_message(context, *hit, wait, waited));
      }
      std::string text = "GitHub rate limit: waiting " + http::short_duration(wait) + " (" +
                         hit->kind + ") before " + method + " " + path + " again";
      logger().info(text, {{"target", context.what}});
      sleep(wait);
      waited += wait;
    }
  }

  std::string exhausted_message(const ErrorContext& context, const RateLimitHit& hit,
                                milliseconds wait, milliseconds waited) const {
    std::string text = context.what + ": GitHub's " + hit.kind + " was hit (" +
                       (hit.message.empty() ? "no message" : hit.message) + "); ";
    if (hit.reset) {
      text += "it resets at " + format_rfc3339(*hit.reset) + ", in " + format_duration(wait);
    } else if (hit.wait) {
      text += "GitHub asks to wait " + format_duration(wait);
    } else {
      text += "the next try would be in " + format_duration(wait);
    }
    if (waited > milliseconds(0)) text += " more after " + format_duration(waited);
    return text + ", beyond the " + format_duration(options.pacing.max_wait) +
           " fluxkey waits; run fluxkey again after that";
  }

  Clock::time_point now() const { return clock(); }

  // GitHub's "wait at least a minute" is a minute of its clock: a stand-in
  // with a compressed minute is matched by the pacing time scale.
  milliseconds rate_limit_backoff() const {
    auto scaled =
        std::chrono::duration_cast<milliseconds>(kRateLimitBackoff * options.pacing.time_scale);
    return std::max(scaled, kMinRateLimitWait);
  }

  ClientOptions options;
  std::string api;
  std::string graphql;  // absolute: GHES serves it beside /api/v3, not under it
  std::function<Clock::time_point()> clock = [] { return Clock::now(); };
  std::function<void(milliseconds)> sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  std::atomic<int> sent = 0;
  WriteBudget budget;
  // Production only: more connections, for reading many keys at once.
  std::function<std::unique_ptr<http::Transport>()> make_transport;
  std::optional<AppKey> app_key;
  std::unique_ptr<http::Client> http;
  std::map<std::string, int64_t> installations;  // by lower-case account
  std::map<int64_t, CachedToken> tokens;         // by installation id
  std::map<std::string, CachedKey> keys;         // by Target::id()
  std::map<std::string, int64_t> repo_ids;       // by lower-case "owner/name"
};

namespace {

std::unique_ptr<http::Transport> make_github_transport() {
  http::TransportOptions options;
  // Toward GitHub: the system roots, or SSL_CERT_FILE as gh and Go honour it.
  options.tls.honor_ssl_cert_file = true;
  return http::make_curl_transport(options);
}

}  // namespace

Client::Client(ClientOptions options) : Client(std::move(options), make_github_transport()) {
  state_->make_transport = make_github_transport;
}

Client::Client(ClientOptions options, std::unique_ptr<http::Transport> transport)
    : state_(std::make_unique<State>(std::move(options))) {
  Credentials& credentials = state_->options.credentials;
  if (credentials.token.empty() && !credentials.app_private_key_pem.empty()) {
    // A bad key is a usage error, found before anything is sent.
    state_->app_key.emplace(credentials.app_private_key_pem.str());
    // From here on the key lives only inside OpenSSL's EVP_PKEY (whose
    // private parts OpenSSL clears when it frees them): the PEM is wiped now.
    credentials.app_private_key_pem.clear();
  }
  auto paced = std::make_unique<State::PacedTransport>(*state_, std::move(transport));
  state_->http = std::make_unique<http::Client>(std::move(paced), retry_policy());
  state_->http->set_request_timeout(state_->options.request_timeout);
  State* state = state_.get();
  state_->http->set_sleeper([state](milliseconds d) { state->sleep(d); });
}

Client::~Client() = default;

void Client::set_clock(std::function<Clock::time_point()> now) {
  state_->clock = std::move(now);
}

void Client::set_sleeper(std::function<void(std::chrono::milliseconds)> sleep) {
  state_->sleep = std::move(sleep);
}

void Client::prefetch_public_keys(const std::vector<Target>& targets) {
  if (!state_->make_transport) return;
  struct Work {
    Target target;
    SecretString bearer;
  };
  std::vector<Work> work;
  for (const auto& target : targets) {
    if (state_->keys.count(target.id()) != 0) continue;
    try {
      // Serially: installation tokens are shared state, minted once each.
      work.push_back({target, state_->credential_for(target)});
    } catch (const Error&) {
      // public_key() meets the same failure again and reports it.
    }
  }
  if (work.size() < kPrefetchMinTargets) return;

  std::atomic<size_t> next = 0;
  std::mutex found_mutex;
  std::map<std::string, State::CachedKey> found;
  {
    std::vector<std::jthread> workers;
    const size_t n = std::min(kPrefetchConnections, work.size());
    for (size_t i = 0; i < n; ++i) {
      workers.emplace_back([&] {
        http::Client client(state_->make_transport(), retry_policy());
        client.set_request_timeout(state_->options.request_timeout);
        for (size_t k = next++; k < work.size(); k = next++) {
          const Work& item = work[k];
          try {
            ++state_->sent;
            http::Request request = state_->make_request(
                "GET", item.target.secrets_path() + "/public-key", "", item.bearer);
            WipeAuthorization wiper{request};
            http::Response response = client.send(request);
            if (response.status != 200) continue;
            auto entry = State::parse_public_key(response);
            if (!entry) continue;
            std::lock_guard lock(found_mutex);
            found[item.target.id()] = *entry;
          } catch (const std::exception&) {
            // Left for the serial path, which reports it properly.
          }
        }
      });
    }
  }  // the workers join here
  for (auto& [id, entry] : found) state_->keys[id] = std::move(entry);
}

int Client::requests_sent() const {
  return state_->sent;
}

PublicKey Client::public_key(const Target& target) {
  auto cached = state_->keys.find(target.id());
  if (cached != state_->keys.end()) return cached->second.key;
  const ErrorContext context = state_->context_for(target);
  http::Response response = state_->call("GET", target.secrets_path() + "/public-key", "",
                                         State::Auth::kAccount, &target, context);
  if (!is_success(response.status)) throw refusal(context, response);
  auto entry = State::parse_public_key(response);
  if (!entry) {
    throw GitHubError(static_cast<int>(response.status),
                      target.describe() +
                          ": GitHub answered the public key request without "
                          "key_id and key");
  }
  state_->keys[target.id()] = *entry;
  return entry->key;
}

std::vector<int64_t> Client::repository_ids(const std::string& org,
                                            const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  for (const auto& name : names) {
    const std::string key = lower_ascii(org + "/" + name);
    if (state_->repo_ids.count(key) == 0 &&
        std::find(missing.begin(), missing.end(), name) == missing.end()) {
      missing.push_back(name);
    }
  }
  if (!missing.empty()) {
    // One GraphQL query resolves every name (as gh does), where REST needs a
    // request per repository. Names were validated (letters, digits, '-',
    // '_', '.'); dump() quotes them as GraphQL string literals anyway.
    std::string query = "query {";
    for (size_t i = 0; i < missing.size(); ++i) {
      query += " r" + std::to_string(i) + ": repository(owner: " + Json(org).dump() +
               ", name: " + Json(missing[i]).dump() + ") { databaseId }";
    }
    query += " }";
    // The organization's credential: an App finds its installation through
    // the organization, shared with the organization's own secrets.
    const Target owner = Target::organization(org);
    ErrorContext context = state_->context_for(owner);
    context.what += " (resolving --github-org-repos)";
    http::Response response = state_->call("POST", state_->graphql, Json{{"query", query}}.dump(),
                                           State::Auth::kAccount, &owner, context);
    if (!is_success(response.status)) throw refusal(context, response);
    // value() throws unless called on an object: a reply that is not one
    // (or whose data is not) resolves nothing.
    const Json reply = Json::parse(response.body, nullptr, false);
    const Json data = reply.is_object() && reply.contains("data") && reply["data"].is_object()
                          ? reply["data"]
                          : Json::object();
    for (size_t i = 0; i < missing.size(); ++i) {
      auto id = integer_field(data.value("r" + std::to_string(i), Json::object()), "databaseId");
      if (!id) {
        throw GitHubError(404, "repository " + org + "/" + missing[i] +
                                   " (from --github-org-repos): not found, or the credential "
                                   "cannot see it; check the name");
      }
      state_->repo_ids[lower_ascii(org + "/" + missing[i])] = *id;
    }
  }
  std::vector<int64_t> ids;
  for (const auto& name : names) ids.push_back(state_->repo_ids.at(lower_ascii(org + "/" + name)));
  return ids;
}

PutOutcome Client::put_secret(const Target& target, const std::string& name, std::string_view value,
                              const OrgAccess& access) {
  const ErrorContext context = state_->context_for(target);
  Json extra = Json::object();
  if (target.scope == Scope::kOrganization) {
    extra["visibility"] = access.visibility;
    if (access.visibility == "selected") {
      extra["selected_repository_ids"] = repository_ids(target.owner, access.selected_repos);
    }
  }
  auto body_for = [&](const PublicKey& key) {
    Json body = extra;
    try {
      body["encrypted_value"] = seal_for_github(key.key, value);
    } catch (const Error& e) {
      throw GitHubError(200, target.describe() + ": the public key GitHub gave (key_id " +
                                 key.key_id + ") is unusable: " + e.what());
    }
    body["key_id"] = key.key_id;
    return body.dump();
  };
  const std::string path = target.secrets_path() + "/" + path_segment(name);
  auto put = [&](const PublicKey& key) {
    return state_->call("PUT", path, body_for(key), State::Auth::kAccount, &target, context);
  };
  auto refused = [&](const http::Response& response, const std::string& note = "") {
    if (response.status == 422) {
      std::string message = github_message(response);
      return GitHubError(422, target.describe() + ": GitHub refused secret " + name + " (" +
                                  (message.empty() ? "HTTP 422" : message) + ")" + note);
    }
    return refusal(context, response);
  };

  http::Response response = put(public_key(target));
  if (stale_key_refusal(response)) {
    // GitHub may have rotated the key since it was fetched: ask whether it
    // changed, and if so seal again with the new one, once.
    const State::CachedKey old = state_->keys.at(target.id());
    http::Headers conditional;
    if (!old.etag.empty()) conditional.emplace_back("If-None-Match", old.etag);
    http::Response fresh = state_->call("GET", target.secrets_path() + "/public-key", "",
                                        State::Auth::kAccount, &target, context, conditional);
    if (fresh.status == 304) {
      throw refused(response, "; the public key has not changed, so sealing again cannot help");
    }
    if (!is_success(fresh.status)) throw refusal(context, fresh);
    auto entry = State::parse_public_key(fresh);
    if (!entry || (entry->key.key_id == old.key.key_id && entry->key.key == old.key.key)) {
      throw refused(response, "; the public key has not changed, so sealing again cannot help");
    }
    logger().info("GitHub public key changed; sealing again", {{"target", target.id()}});
    state_->keys[target.id()] = *entry;
    response = put(entry->key);
  }
  if (response.status == 201) return PutOutcome::kCreated;
  if (response.status == 204 || response.status == 200) return PutOutcome::kUpdated;
  throw refused(response);
}

}  // namespace fluxkey::github
