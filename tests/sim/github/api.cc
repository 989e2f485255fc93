#include "sim/github/api.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/base64.h"
#include "crypto/sealed_box.h"
#include "sim/github/api_internal.h"

namespace fluxkey::sim::github {
namespace {

bool is_write_method(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// A stable, non-secret handle on a credential for the concurrency count.
std::string credential_fingerprint(const std::string& credential) {
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(credential.data()),
                     credential.size(), nullptr, 0);
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return std::string("cred:") + hex;
}

std::string weak_etag(const std::string& body) {
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(body.data()),
                     body.size(), nullptr, 0);
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return std::string("W/\"") + hex + "\"";
}

bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  // A list of tags, weak or strong; weak comparison as RFC 9110 wants for GET.
  auto strip = [](std::string t) {
    t.erase(0, t.find_first_not_of(" \t"));
    t.erase(t.find_last_not_of(" \t") + 1);
    if (t.rfind("W/", 0) == 0) t.erase(0, 2);
    return t;
  };
  const std::string want = strip(etag);
  size_t pos = 0;
  while (pos <= if_none_match.size()) {
    size_t comma = if_none_match.find(',', pos);
    if (comma == std::string::npos) comma = if_none_match.size();
    std::string tag = strip(if_none_match.substr(pos, comma - pos));
    if (tag == "*" || tag == want) return true;
    pos = comma + 1;
  }
  return false;
}

// "token X" (what gh sends) or "Bearer X"; the scheme is case-insensitive.
std::optional<std::string> credential_from(const std::string& authorization) {
  size_t space = authorization.find(' ');
  if (space == std::string::npos) return std::nullopt;
  std::string scheme = authorization.substr(0, space);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "token" && scheme != "bearer") return std::nullopt;
  std::string cred = authorization.substr(space + 1);
  cred.erase(0, cred.find_first_not_of(' '));
  while (!cred.empty() && cred.back() == ' ') cred.pop_back();
  if (cred.empty()) return std::nullopt;
  return cred;
}

}  // namespace

ApiResponse github_error(int status, const std::string& message,
                         const std::string& documentation_url) {
  ApiResponse r;
  r.set_json(status, {{"message", message},
                      {"documentation_url", documentation_url},
                      {"status", std::to_string(status)}});
  return r;
}

ApiResponse invalid_request(const std::string& detail, const std::string& docs) {
  return github_error(422, "Invalid request.\n\n" + detail, docs);
}

std::optional<nlohmann::json> GithubApi::Call::json_body() const {
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

Page paginate(size_t total, const std::map<std::string, std::string>& query,
              const std::string& url_without_query) {
  auto number = [&](const char* name, long fallback) {
    auto it = query.find(name);
    if (it == query.end()) return fallback;
    try {
      return std::stol(it->second);
    } catch (const std::exception&) {
      return fallback;
    }
  };
  const long per_page = std::clamp(number("per_page", 30), 1L, 100L);
  const long page = std::max(number("page", 1), 1L);
  const long last = std::max<long>(1, (static_cast<long>(total) + per_page - 1) / per_page);
  Page p;
  p.begin = std::min(total, static_cast<size_t>((page - 1) * per_page));
  p.end = std::min(total, p.begin + static_cast<size_t>(per_page));
  auto link = [&](long n, const char* rel) {
    return "<" + url_without_query + "?per_page=" + std::to_string(per_page) +
           "&page=" + std::to_string(n) + ">; rel=\"" + rel + "\"";
  };
  std::vector<std::string> parts;
  if (page > 1) parts.push_back(link(std::min(page - 1, last), "prev"));
  if (page < last) parts.push_back(link(page + 1, "next"));
  if (page < last) parts.push_back(link(last, "last"));
  if (page > 1) parts.push_back(link(1, "first"));
  for (const auto& part : parts) p.link += (p.link.empty() ? "" : ", ") + part;
  return p;
}

int permission_level(const std::string& level) {
  if (level == "read") return 1;
  if (level == "write") return 2;
  if (level == "admin") return 3;
  return 0;
}

std::string node_id(const char* prefix, int64_t id) {
  return std::string(prefix) + "_kgDO" + base64_encode(std::to_string(id));
}

std::string rfc3339(Clock::time_point t) {
  return format_rfc3339(t);
}

GithubApi::GithubApi(ClockFn clock, NoteFn note)
    : clock_(std::move(clock)), note_(std::move(note)), limiter_(clock_) {
  ensure_sodium();
  if (!note_)
    note_ = [](const std::string& m) { std::fprintf(stderr, "github-sim: %s\n", m.c_str()); };
  register_secret_routes();
  register_repo_routes();
  register_app_routes();
  register_graphql_route();
}

void GithubApi::add_route(std::string method, std::vector<std::string> pattern, Need need,
                          std::string docs, std::function<ApiResponse(Call&)> handler,
                          std::string oauth_scopes) {
  Route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.need = need;
  r.docs = std::move(docs);
  r.oauth_scopes = std::move(oauth_scopes);
  r.handler = std::move(handler);
  if (r.pattern.size() == 1 && r.pattern[0] == "graphql") r.resource = "graphql";
  routes_.push_back(std::move(r));
}

std::variant<Identity, AuthFailure> GithubApi::authenticate(const ApiRequest& request,
                                                            Clock::time_point now) {
  Identity id;
  const std::string authorization = request.header("Authorization");
  if (authorization.empty()) {
    id.kind = Identity::Kind::kAnonymous;
    id.rate_key = "ip:" + request.remote_addr;
    id.rate_subject = request.remote_addr;
    id.log_name = "anonymous";
    return id;
  }
  auto cred = credential_from(authorization);
  if (!cred) return AuthFailure{401, "Bad credentials"};
  if (looks_like_jwt(*cred)) {
    auto verified = credentials_.verify_app_jwt(*cred, now);
    if (auto* failure = std::get_if<AuthFailure>(&verified)) return *failure;
    App* app = std::get<App*>(verified);
    id.kind = Identity::Kind::kApp;
    id.app_id = app->id;
    id.rate_key = "app:" + std::to_string(app->id);
    id.rate_subject = "app ID " + std::to_string(app->id);
    id.log_name = "app:" + std::to_string(app->id);
    return id;
  }
  if (PersonalToken* token = credentials_.find_token(*cred)) {
    id.kind = Identity::Kind::kToken;
    id.token = *token;
    id.rate_key = "user:" + std::to_string(token->user_id);
    id.rate_subject = "user ID " + std::to_string(token->user_id);
    id.log_name = "user:" + token->login;
    return id;
  }
  if (InstallationToken* inst = credentials_.find_installation_token(*cred, now)) {
    id.kind = Identity::Kind::kInstallation;
    id.installation = *inst;
    id.app_id = inst->app_id;
    id.rate_key = "installation:" + std::to_string(inst->installation_id);
    id.rate_subject = "installation ID " + std::to_string(inst->installation_id);
    id.log_name = "installation:" + std::to_string(inst->installation_id);
    return id;
  }
  return AuthFailure{401, "Bad credentials"};
}

int GithubApi::limit_for(const Identity& id, const std::string& resource) const {
  LimitConfig c = limiter_.config();
  if (id.kind == Identity::Kind::kAnonymous) return c.unauthenticated;
  return resource == "graphql" ? c.graphql : c.primary;
}

PrimaryState GithubApi::count_primary(const Identity& id, const std::string& resource,
                                      bool* exceeded) {
  auto d = limiter_.take(id.rate_key, resource, limit_for(id, resource));
  *exceeded = d.exceeded;
  return d.state;
}

PrimaryState GithubApi::peek_primary(const Identity& id, const std::string& resource) {
  return limiter_.peek(id.rate_key, resource, limit_for(id, resource));
}

void GithubApi::add_rate_headers(ApiResponse& response, const PrimaryState& s) const {
  response.set_header("x-ratelimit-limit", std::to_string(s.limit));
  response.set_header("x-ratelimit-remaining", std::to_string(s.remaining));
  response.set_header("x-ratelimit-reset", std::to_string(s.reset_epoch));
  response.set_header("x-ratelimit-used", std::to_string(s.used));
  response.set_header("x-ratelimit-resource", s.resource);
}

ApiResponse GithubApi::primary_limit_error(const Identity& id, const PrimaryState& state) const {
  std::string message = "API rate limit exceeded for " + id.rate_subject + ".";
  if (id.kind == Identity::Kind::kAnonymous) {
    message +=
        " (But here's the good news: Authenticated requests get a higher rate limit. Check out "
        "the documentation for more details.)";
  }
  ApiResponse r = github_error(limiter_.config().primary_status, message,
                               std::string(kDocsRateLimits) + "#about-primary-rate-limits");
  add_rate_headers(r, state);
  return r;
}

ApiResponse GithubApi::secondary_limit_error(int retry_after) const {
  ApiResponse r = github_error(
      limiter_.config().secondary_status,
      "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
      "If you reach out to GitHub Support for help, please include the request ID.",
      std::string(kDocsRateLimits) + "#about-secondary-rate-limits");
  r.set_header("retry-after", std::to_string(retry_after));
  return r;
}

ApiResponse GithubApi::handle(const ApiRequest& request, std::string* log_user) {
  ParsedTarget target = parse_target(request.target);
  const Clock::time_point now = clock_();
  std::string request_id;
  {
    std::lock_guard lock(mutex_);
    char buf[40];
    std::snprintf(buf, sizeof buf, "5A1D:%04X:%06llX:%06llX",
                  static_cast<unsigned>(getpid() & 0xFFFF),
                  static_cast<unsigned long long>(++request_counter_),
                  static_cast<unsigned long long>(randombytes_uniform(0xFFFFFF)));
    request_id = buf;
  }
  auto finish = [&](ApiResponse r) {
    r.set_header("x-github-request-id", request_id);
    r.set_header("x-github-api-version-selected", "2022-11-28");
    r.set_header("x-github-media-type", "github.v3; format=json");
    if (r.status != 204 && r.status != 304 && r.header("Content-Type").empty()) {
      r.set_header("Content-Type", "application/json; charset=utf-8");
    }
    return r;
  };
  if (!target.valid) return finish(github_error(400, "Bad request"));

  Call call{request, now, std::move(target.segments), std::move(target.query), false, "", {},
            nullptr, {}};
  // Enterprise Server roots: /api/v3/... for REST and /api/graphql.
  if (call.segments.size() >= 2 && call.segments[0] == "api" && call.segments[1] == "v3") {
    call.enterprise = true;
    call.segments.erase(call.segments.begin(), call.segments.begin() + 2);
  } else if (call.segments.size() == 2 && call.segments[0] == "api" &&
             call.segments[1] == "graphql") {
    call.enterprise = true;
    call.segments.erase(call.segments.begin());
  }
  const std::string host =
      request.header("Host").empty() ? "api.github.com" : request.header("Host");
  call.base_url = "https://" + host + (call.enterprise ? "/api/v3" : "");

  // Authenticate under the lock, then count the request as in flight outside
  // it, so that a test can pile up concurrent requests (hold_ms).
  std::chrono::milliseconds hold{0};
  {
    std::lock_guard lock(mutex_);
    auto auth = authenticate(request, now);
    if (auto* failure = std::get_if<AuthFailure>(&auth)) {
      Identity anon;
      anon.kind = Identity::Kind::kAnonymous;
      anon.rate_key = "ip:" + request.remote_addr;
      bool exceeded = false;
      PrimaryState s = count_primary(anon, "core", &exceeded);
      ApiResponse r = github_error(failure->status, failure->message);
      add_rate_headers(r, s);
      if (log_user != nullptr) *log_user = "rejected";
      return finish(r);
    }
    call.id = std::get<Identity>(auth);
    hold = hold_;
  }
  if (log_user != nullptr) *log_user = call.id.log_name;
  const std::string flight_key = call.id.kind == Identity::Kind::kAnonymous
                                     ? call.id.rate_key
                                     : credential_fingerprint(request.header("Authorization"));
  if (auto retry = limiter_.enter(flight_key)) {
    std::lock_guard lock(mutex_);
    ApiResponse r = secondary_limit_error(*retry);
    add_rate_headers(r, peek_primary(call.id, "core"));
    return finish(r);
  }
  if (hold.count() > 0) std::this_thread::sleep_for(hold);
  ApiResponse response;
  {
    std::lock_guard lock(mutex_);
    response = dispatch(call);
  }
  limiter_.leave(flight_key);
  return finish(std::move(response));
}

ApiResponse GithubApi::dispatch(Call& call) {
  const std::string& method = call.request.method;
  for (const auto& route : routes_) {
    if (route.method != method || route.pattern.size() != call.segments.size()) continue;
    std::vector<std::string> params;
    bool ok = true;
    for (size_t i = 0; i < route.pattern.size() && ok; ++i) {
      if (route.pattern[i] == "*") {
        params.push_back(call.segments[i]);
      } else {
        ok = route.pattern[i] == call.segments[i];
      }
    }
    if (!ok) continue;
    call.route = &route;
    call.params = std::move(params);
    break;
  }
  const Identity& id = call.id;
  const std::string resource = call.route != nullptr ? call.route->resource : "core";

  auto with_headers = [&](ApiResponse r, const PrimaryState& s) {
    add_rate_headers(r, s);
    if (id.kind == Identity::Kind::kToken) {
      r.set_header("X-OAuth-Scopes", id.token.scopes_header());
      r.set_header("X-Accepted-OAuth-Scopes",
                   call.route != nullptr ? call.route->oauth_scopes : "");
    }
    return r;
  };

  // Who may call what: JWTs only the app endpoints, tokens everything else.
  std::optional<ApiResponse> refusal;
  if (call.route == nullptr) {
    note_("unknown endpoint " + method + " /" + [&] {
      std::string p;
      for (const auto& s : call.segments) p += (p.empty() ? "" : "/") + s;
      return p;
    }() + (call.enterprise ? " (under /api/v3)" : ""));
    refusal = not_found("https://docs.github.com/rest");
  } else if (call.route->need == Need::kJwt && id.kind != Identity::Kind::kApp) {
    refusal = github_error(401, "A JSON web token could not be decoded", call.route->docs);
  } else if (call.route->need != Need::kJwt && call.route->need != Need::kAny &&
             id.kind == Identity::Kind::kAnonymous) {
    refusal = call.route->resource == "graphql"
                  ? github_error(401, "This endpoint requires you to be authenticated.",
                                 "https://docs.github.com/graphql/guides/"
                                 "forming-calls-with-graphql#authenticating-with-graphql")
                  : github_error(401, "Requires authentication", call.route->docs);
  } else if (call.route->need == Need::kToken && id.kind == Identity::Kind::kApp) {
    refusal = github_error(403, "Resource not accessible by integration", call.route->docs);
  }

  bool exceeded = false;
  PrimaryState state;
  if (refusal) {
    state = count_primary(id, resource, &exceeded);
    if (exceeded) return with_headers(primary_limit_error(id, state), state);
    return with_headers(*refusal, state);
  }

  // A conditional GET that ends in 304 is free (GitHub does not count it),
  // so such a request is answered before it is counted; GETs change nothing.
  const std::string if_none_match = call.request.header("If-None-Match");
  if (method == "GET" && !if_none_match.empty()) {
    ApiResponse r = call.route->handler(call);
    if (r.status == 200) {
      const std::string etag = weak_etag(r.body);
      r.set_header("ETag", etag);
      if (etag_matches(if_none_match, etag)) {
        ApiResponse not_modified;
        not_modified.status = 304;
        not_modified.set_header("ETag", etag);
        return with_headers(not_modified, peek_primary(id, resource));
      }
    }
    state = count_primary(id, resource, &exceeded);
    if (exceeded) return with_headers(primary_limit_error(id, state), state);
    return with_headers(r, state);
  }

  state = count_primary(id, resource, &exceeded);
  if (exceeded) return with_headers(primary_limit_error(id, state), state);
  if (is_write_method(method) && id.kind != Identity::Kind::kAnonymous &&
      call.route->resource != "graphql") {
    if (auto retry = limiter_.take_write(id.rate_key)) {
      return with_headers(secondary_limit_error(*retry), state);
    }
  }
  ApiResponse r = call.route->handler(call);
  if (method == "GET" && r.status == 200) r.set_header("ETag", weak_etag(r.body));
  return with_headers(r, state);
}

bool GithubApi::installation_reaches(const Identity& id, const Repository& repo) {
  App* app = credentials_.find_app(id.app_id);
  if (app == nullptr) return false;
  Installation* inst = app->find_installation(id.installation.installation_id);
  if (inst == nullptr || !iequals(inst->account, repo.owner)) return false;
  if (inst->repos) {
    bool listed = std::any_of(inst->repos->begin(), inst->repos->end(),
                              [&](const std::string& n) { return iequals(n, repo.name); });
    if (!listed) return false;
  }
  if (id.installation.repository_ids) {
    const auto& ids = *id.installation.repository_ids;
    if (std::find(ids.begin(), ids.end(), repo.id) == ids.end()) return false;
  }
  return true;
}

Repository* GithubApi::repo_for(Call& call, const std::string& owner, const std::string& name,
                                std::initializer_list<const char*> permissions, const char* level,
                                ApiResponse& error) {
  const std::string& docs = call.route->docs;
  Repository* repo = directory_.find_repository(owner, name);
  if (repo == nullptr) {
    error = not_found(docs);
    return nullptr;
  }
  const Identity& id = call.id;
  if (id.kind == Identity::Kind::kToken && repo->is_private && !id.token.has_scope("repo")) {
    // A classic token without "repo" cannot see private repositories at all.
    error = not_found(docs);
    return nullptr;
  }
  if (id.kind == Identity::Kind::kInstallation) {
    if (!installation_reaches(id, *repo)) {
      error = not_found(docs);
      return nullptr;
    }
    const auto& granted = id.installation.permissions;
    bool allowed = false;
    std::string wanted;
    for (const char* p : permissions) {
      wanted += (wanted.empty() ? "" : "; ") + std::string(p) + "=" + level;
      if (granted.contains(p) && granted[p].is_string() &&
          permission_level(granted[p].get<std::string>()) >= permission_level(level)) {
        allowed = true;
      }
    }
    if (!allowed && permissions.size() > 0) {
      error = github_error(403, "Resource not accessible by integration", docs);
      error.set_header("x-accepted-github-permissions", wanted);
      return nullptr;
    }
  }
  return repo;
}

Organization* GithubApi::org_for(Call& call, const std::string& login, const char* permission,
                                 const char* level, ApiResponse& error) {
  const std::string& docs = call.route->docs;
  Organization* org = directory_.find_organization(login);
  if (org == nullptr) {
    error = not_found(docs);
    return nullptr;
  }
  const Identity& id = call.id;
  if (id.kind == Identity::Kind::kToken && permission != nullptr &&
      !id.token.has_scope("admin:org")) {
    error = github_error(403, "Resource not accessible by personal access token", docs);
    return nullptr;
  }
  if (id.kind == Identity::Kind::kInstallation) {
    App* app = credentials_.find_app(id.app_id);
    Installation* inst =
        app != nullptr ? app->find_installation(id.installation.installation_id) : nullptr;
    const auto& granted = id.installation.permissions;
    bool allowed =
        permission == nullptr ||
        (granted.contains(permission) && granted[permission].is_string() &&
         permission_level(granted[permission].get<std::string>()) >= permission_level(level));
    if (inst == nullptr || !iequals(inst->account, org->login) || !allowed) {
      error = github_error(403, "Resource not accessible by integration", docs);
      if (permission != nullptr) {
        error.set_header("x-accepted-github-permissions", std::string(permission) + "=" + level);
      }
      return nullptr;
    }
  }
  return org;
}

nlohmann::json GithubApi::owner_json(const std::string& login) {
  const bool org = directory_.is_organization(login);
  const int64_t id = directory_.account_id(login);
  return {{"login", login},
          {"id", id},
          {"node_id", node_id(org ? "O" : "U", id)},
          {"type", org ? "Organization" : "User"},
          {"site_admin", false}};
}

nlohmann::json GithubApi::repo_json(const Call& call, const Repository& repo) {
  const std::string url = call.base_url + "/repos/" + repo.full_name();
  return {{"id", repo.id},
          {"node_id", node_id("R", repo.id)},
          {"name", repo.name},
          {"full_name", repo.full_name()},
          {"private", repo.is_private},
          {"visibility", repo.is_private ? "private" : "public"},
          {"owner", owner_json(repo.owner)},
          {"html_url", "https://" + call.request.header("Host") + "/" + repo.full_name()},
          {"description", nullptr},
          {"fork", false},
          {"url", url}};
}

nlohmann::json GithubApi::installation_json(const Call& call, const App& app,
                                            const Installation& inst) {
  const bool org = directory_.is_organization(inst.account);
  return {{"id", inst.id},
          {"account", owner_json(inst.account)},
          {"repository_selection", inst.repos ? "selected" : "all"},
          {"access_tokens_url",
           call.base_url + "/app/installations/" + std::to_string(inst.id) + "/access_tokens"},
          {"repositories_url", call.base_url + "/installation/repositories"},
          {"app_id", app.id},
          {"app_slug", app.slug},
          {"client_id", app.client_id},
          {"target_id", directory_.account_id(inst.account)},
          {"target_type", org ? "Organization" : "User"},
          {"permissions", inst.permissions},
          {"events", nlohmann::json::array()},
          {"single_file_name", nullptr},
          {"suspended_at", nullptr}};
}

nlohmann::json GithubApi::secret_json(const Call& call, const Secret& secret) {
  nlohmann::json j = {{"name", secret.name},
                      {"created_at", rfc3339(secret.created_at)},
                      {"updated_at", rfc3339(secret.updated_at)}};
  if (secret.scope.kind == ScopeKind::kOrganization) {
    j["visibility"] = secret.visibility;
    if (secret.visibility == "selected") {
      j["selected_repositories_url"] = call.base_url + "/orgs/" + secret.scope.owner +
                                       "/actions/secrets/" + secret.name + "/repositories";
    }
  }
  return j;
}

}  // namespace fluxkey::sim::github
