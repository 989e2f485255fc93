#include "sim/github/api.h"

#include <doctest/doctest.h>

#include <thread>

#include "crypto/sealed_box.h"
#include "sim/common/jwt.h"
#include "sim/github/test_keys.h"

namespace fluxkey::sim::github::github_api_test {
namespace {

using Json = nlohmann::json;

struct Sim {
  Clock::time_point now = Clock::now();
  std::vector<std::string> notes;
  GithubApi api{[this] { return now; }, [this](const std::string& m) { notes.push_back(m); }};

  Sim() {
    api.apply_setup({{"repos", {"acme/app:prod,stage one", "acme/web", "other/lib"}},
                     {"orgs", {"acme", "bigco"}},
                     {"tokens", {"tok", "noscope=read:user", "repoonly=repo"}}});
  }

  ApiResponse call(const std::string& method, const std::string& target,
                   const std::string& body = "", const std::string& authorization = "token tok",
                   const std::map<std::string, std::string>& headers = {}) {
    ApiRequest r;
    r.method = method;
    r.target = target;
    r.headers["Host"] = "127.0.0.1:8443";
    if (!authorization.empty()) r.headers["Authorization"] = authorization;
    for (const auto& [k, v] : headers) r.headers[k] = v;
    r.body = body;
    return api.handle(r);
  }
  static Json json(const ApiResponse& r) { return Json::parse(r.body, nullptr, false); }

  // Fetches the scope's key and PUTs `value` sealed with it, as a client does.
  ApiResponse put_secret(const std::string& prefix, const std::string& name,
                         const std::string& value, const Json& extra = Json::object(),
                         const std::string& authorization = "token tok") {
    ApiResponse key = call("GET", prefix + "/secrets/public-key", "", authorization);
    REQUIRE(key.status == 200);
    Json k = json(key);
    Json body = {{"encrypted_value", seal_for_github(k["key"].get<std::string>(), value)},
                 {"key_id", k["key_id"]}};
    body.update(extra);
    return call("PUT", prefix + "/secrets/" + name, body.dump(), authorization);
  }

  Json stored(const std::string& name) {
    const Json all = api.secrets();  // the loop must not run over a temporary
    for (const auto& s : all["secrets"]) {
      if (s["name"] == name) return s;
    }
    return nullptr;
  }
};

TEST_CASE("a repository secret is created (201 {}), updated (204) and read back in plaintext") {
  Sim sim;
  auto created = sim.put_secret("/repos/acme/app/actions", "flux_kubeconfig", "apiVersion: v1");
  CHECK(created.status == 201);
  CHECK(created.body == "{}");
  auto updated = sim.put_secret("/repos/acme/app/actions", "FLUX_KUBECONFIG", "v2");
  CHECK(updated.status == 204);
  CHECK(updated.body.empty());
  Json s = sim.stored("FLUX_KUBECONFIG");
  REQUIRE(s.is_object());
  CHECK(s["value"] == "v2");
  CHECK(s["scope"] == "repo");
  CHECK(s["owner"] == "acme");
  CHECK(s["repository"] == "app");
  CHECK(s["writes"] == 2);

  auto meta = sim.call("GET", "/repos/acme/app/actions/secrets/flux_kubeconfig");
  CHECK(meta.status == 200);
  CHECK(Sim::json(meta)["name"] == "FLUX_KUBECONFIG");
  CHECK(Sim::json(meta).contains("created_at"));
  CHECK_FALSE(Sim::json(meta).contains("value"));
}

TEST_CASE("GitHub Enterprise Server paths (/api/v3) reach the same data") {
  Sim sim;
  CHECK(sim.put_secret("/api/v3/repos/acme/app/actions", "X", "ghes").status == 201);
  CHECK(sim.call("GET", "/repos/acme/app/actions/secrets/X").status == 200);
  auto list = sim.call("GET", "/api/v3/repos/acme/app/actions/secrets");
  CHECK(Sim::json(list)["total_count"] == 1);
}

TEST_CASE("the public key carries an ETag; a matching If-None-Match is a free 304") {
  Sim sim;
  auto first = sim.call("GET", "/repos/acme/app/actions/secrets/public-key");
  REQUIRE(first.status == 200);
  const std::string etag = first.header("ETag");
  CHECK(etag.rfind("W/\"", 0) == 0);
  const std::string remaining = first.header("x-ratelimit-remaining");
  auto second = sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", "token tok",
                         {{"If-None-Match", etag}});
  CHECK(second.status == 304);
  CHECK(second.body.empty());
  CHECK(second.header("x-ratelimit-remaining") == remaining);
  auto other = sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", "token tok",
                        {{"If-None-Match", "W/\"stale\""}});
  CHECK(other.status == 200);
  CHECK(std::stoi(other.header("x-ratelimit-remaining")) == std::stoi(remaining) - 1);
}

TEST_CASE("a rotated key makes the old key_id stale (422) until the key is fetched again") {
  Sim sim;
  auto key = Sim::json(sim.call("GET", "/repos/acme/app/actions/secrets/public-key"));
  auto rotated = sim.api.rotate_key({{"scope", "repo"}, {"repo", "acme/app"}});
  CHECK(rotated["previous_key_id"] == key["key_id"]);
  Json body = {{"encrypted_value", seal_for_github(key["key"].get<std::string>(), "v")},
               {"key_id", key["key_id"]}};
  auto stale = sim.call("PUT", "/repos/acme/app/actions/secrets/S", body.dump());
  CHECK(stale.status == 422);
  CHECK(Sim::json(stale)["message"] ==
        "Bad request - validation failed due to an improperly encrypted secret");
  CHECK(sim.put_secret("/repos/acme/app/actions", "S", "v").status == 201);

  CHECK_THROWS_AS(
      sim.api.rotate_key({{"scope", "env"}, {"repo", "acme/app"}, {"environment", "nope"}}),
      std::invalid_argument);
  CHECK(sim.api.rotate_key({{"scope", "org"}, {"org", "acme"}}).contains("key_id"));
}

TEST_CASE("rotate-key after_reads: the key changes right after each of the next N reads") {
  Sim sim;
  const std::string prefix = "/repos/acme/app/environments/prod";
  auto armed = sim.api.rotate_key(
      {{"scope", "env"}, {"repo", "acme/app"}, {"environment", "prod"}, {"after_reads", 1}});
  CHECK(armed["after_reads"] == 1);
  auto key = Sim::json(sim.call("GET", prefix + "/secrets/public-key"));
  CHECK(key["key_id"] == armed["key_id"]);  // served with the key of the moment
  Json body = {{"encrypted_value", seal_for_github(key["key"].get<std::string>(), "v")},
               {"key_id", key["key_id"]}};
  CHECK(sim.call("PUT", prefix + "/secrets/S", body.dump()).status == 422);  // stale already
  // One read only: the next key stays.
  CHECK(sim.put_secret(prefix, "S", "v").status == 201);
  CHECK(sim.put_secret(prefix, "S", "w").status == 204);
  // Other scopes are untouched.
  CHECK(sim.put_secret("/repos/acme/app/actions", "S", "v").status == 201);

  CHECK_THROWS_AS(sim.api.rotate_key({{"scope", "repo"}, {"repo", "acme/app"}, {"after_reads", 0}}),
                  std::invalid_argument);
  sim.api.rotate_key({{"scope", "org"}, {"org", "acme"}, {"after_reads", 2}});
  CHECK(sim.put_secret("/orgs/acme/actions", "S", "v", {{"visibility", "all"}}).status == 422);
  CHECK(sim.put_secret("/orgs/acme/actions", "S", "v", {{"visibility", "all"}}).status == 422);
  CHECK(sim.put_secret("/orgs/acme/actions", "S", "v", {{"visibility", "all"}}).status == 201);
}

TEST_CASE("bodies GitHub refuses are refused with its messages") {
  Sim sim;
  auto k = Sim::json(sim.call("GET", "/repos/acme/app/actions/secrets/public-key"));
  const std::string path = "/repos/acme/app/actions/secrets/S";
  auto put = [&](const Json& body) { return sim.call("PUT", path, body.dump()); };

  auto no_key_id = put({{"encrypted_value", "c2VjcmV0"}});
  CHECK(no_key_id.status == 422);
  CHECK(Sim::json(no_key_id)["message"] == "Invalid request.\n\n\"key_id\" wasn't supplied.");
  CHECK(Sim::json(no_key_id)["documentation_url"].get<std::string>().find(
            "#create-or-update-a-repository-secret") != std::string::npos);

  auto not_base64 = put({{"encrypted_value", "not-base64!"}, {"key_id", k["key_id"]}});
  CHECK(not_base64.status == 422);
  CHECK(Sim::json(not_base64)["message"].get<std::string>().find("does not match /^(?:") !=
        std::string::npos);

  // Valid base64, but not a box sealed for this key.
  auto garbage = put({{"encrypted_value", "c2VjcmV0"}, {"key_id", k["key_id"]}});
  CHECK(garbage.status == 422);
  CHECK(Sim::json(garbage)["message"].get<std::string>().find("improperly encrypted") !=
        std::string::npos);
  auto other_key = SealingKey();
  auto wrong_box = put({{"encrypted_value", seal_for_github(other_key.public_key_base64(), "v")},
                        {"key_id", k["key_id"]}});
  CHECK(wrong_box.status == 422);

  auto bad_json = sim.call("PUT", path, "{not json");
  CHECK(bad_json.status == 400);
  CHECK(Sim::json(bad_json)["message"] == "Problems parsing JSON");

  auto bad_name = sim.put_secret("/repos/acme/app/actions", "1BAD", "v");
  CHECK(bad_name.status == 422);
  CHECK(sim.put_secret("/repos/acme/app/actions", "GITHUB_TOKEN", "v").status == 422);
  CHECK(sim.api.secrets()["secrets"].empty());
}

TEST_CASE("unknown repositories, environments and organizations are 404 Not Found") {
  Sim sim;
  for (const char* target :
       {"/repos/acme/nope/actions/secrets/public-key",
        "/repos/acme/app/environments/nope/secrets/public-key",
        "/orgs/nope/actions/secrets/public-key", "/repos/acme/app/actions/secrets/MISSING"}) {
    CAPTURE(target);
    auto r = sim.call("GET", target);
    CHECK(r.status == 404);
    CHECK(Sim::json(r)["message"] == "Not Found");
    CHECK(Sim::json(r)["documentation_url"].get<std::string>().rfind("https://docs.github.com/",
                                                                     0) == 0);
  }
  CHECK(sim.call("DELETE", "/repos/acme/app/actions/secrets/MISSING").status == 404);
}

TEST_CASE("environment secrets: URL-encoded names, case-insensitive matching") {
  Sim sim;
  CHECK(sim.put_secret("/repos/acme/app/environments/stage%20one", "K", "staged").status == 201);
  CHECK(sim.put_secret("/repos/ACME/App/environments/PROD", "K", "prod").status == 201);
  Json all = sim.api.secrets()["secrets"];
  REQUIRE(all.size() == 2);
  CHECK(all[0]["scope"] == "env");
  CHECK(all[0]["environment"] == "stage one");
  CHECK(all[0]["value"] == "staged");
  CHECK(all[1]["environment"] == "prod");
  CHECK(all[1]["value"] == "prod");
  auto list = sim.call("GET", "/repos/acme/app/environments/prod/secrets");
  CHECK(Sim::json(list)["secrets"][0]["name"] == "K");
  CHECK(sim.call("DELETE", "/repos/acme/app/environments/prod/secrets/K").status == 204);
  CHECK(sim.api.secrets()["secrets"].size() == 1);
}

TEST_CASE("organization secrets: visibility and selected repositories") {
  Sim sim;
  Json state = sim.api.state();
  int64_t app_id = 0, web_id = 0, lib_id = 0;
  for (const auto& r : state["repos"]) {
    if (r["full_name"] == "acme/app") app_id = r["id"];
    if (r["full_name"] == "acme/web") web_id = r["id"];
    if (r["full_name"] == "other/lib") lib_id = r["id"];
  }
  auto created =
      sim.put_secret("/orgs/acme/actions", "ORG_S", "o",
                     {{"visibility", "selected"}, {"selected_repository_ids", {web_id, app_id}}});
  CHECK(created.status == 201);
  Json s = sim.stored("ORG_S");
  CHECK(s["scope"] == "org");
  CHECK(s["visibility"] == "selected");
  CHECK(s["selected_repository_ids"] == Json({app_id, web_id}));

  auto meta = Sim::json(sim.call("GET", "/orgs/acme/actions/secrets/ORG_S"));
  CHECK(meta["visibility"] == "selected");
  CHECK(meta["selected_repositories_url"] ==
        "https://127.0.0.1:8443/orgs/acme/actions/secrets/ORG_S/repositories");
  auto repos = Sim::json(sim.call("GET", "/orgs/acme/actions/secrets/ORG_S/repositories"));
  CHECK(repos["total_count"] == 2);
  CHECK(repos["repositories"][0]["full_name"] == "acme/app");

  CHECK(
      sim.call("DELETE", "/orgs/acme/actions/secrets/ORG_S/repositories/" + std::to_string(web_id))
          .status == 204);
  CHECK(sim.stored("ORG_S")["selected_repository_ids"] == Json({app_id}));

  auto missing_ids =
      sim.put_secret("/orgs/acme/actions", "ORG_S", "o", {{"visibility", "selected"}});
  CHECK(missing_ids.status == 422);
  auto foreign =
      sim.put_secret("/orgs/acme/actions", "ORG_S", "o",
                     {{"visibility", "selected"}, {"selected_repository_ids", {lib_id}}});
  CHECK(foreign.status == 422);
  auto bad_visibility =
      sim.put_secret("/orgs/acme/actions", "ORG_S", "o", {{"visibility", "public"}});
  CHECK(bad_visibility.status == 422);
  auto no_visibility = sim.put_secret("/orgs/acme/actions", "ORG_S", "o");
  CHECK(Sim::json(no_visibility)["message"] ==
        "Invalid request.\n\n\"visibility\" wasn't supplied.");

  auto to_private =
      sim.put_secret("/orgs/acme/actions", "ORG_S", "o2", {{"visibility", "private"}});
  CHECK(to_private.status == 204);
  CHECK(sim.stored("ORG_S")["selected_repository_ids"].empty());
  CHECK(sim.call("GET", "/orgs/acme/actions/secrets/ORG_S/repositories").status == 409);
}

TEST_CASE("lists are paginated with GitHub's Link header") {
  Sim sim;
  for (const char* name : {"C", "A", "B"}) {
    REQUIRE(sim.put_secret("/api/v3/repos/acme/app/actions", name, "v").status == 201);
  }
  auto page1 = sim.call("GET", "/api/v3/repos/acme/app/actions/secrets?per_page=2");
  Json j = Sim::json(page1);
  CHECK(j["total_count"] == 3);
  REQUIRE(j["secrets"].size() == 2);
  CHECK(j["secrets"][0]["name"] == "A");
  CHECK(page1.header("Link") ==
        "<https://127.0.0.1:8443/api/v3/repos/acme/app/actions/secrets?per_page=2&page=2>; "
        "rel=\"next\", "
        "<https://127.0.0.1:8443/api/v3/repos/acme/app/actions/secrets?per_page=2&page=2>; "
        "rel=\"last\"");
  auto page2 =
      Sim::json(sim.call("GET", "/api/v3/repos/acme/app/actions/secrets?per_page=2&page=2"));
  REQUIRE(page2["secrets"].size() == 1);
  CHECK(page2["secrets"][0]["name"] == "C");
}

TEST_CASE("authentication: token and Bearer schemes, missing and bad credentials") {
  Sim sim;
  auto ok = sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", "Bearer tok");
  CHECK(ok.status == 200);
  CHECK(ok.header("X-OAuth-Scopes") == "repo, admin:org");
  CHECK(ok.header("X-Accepted-OAuth-Scopes") == "repo");
  CHECK(ok.header("x-ratelimit-limit") == "5000");
  CHECK(ok.header("x-ratelimit-resource") == "core");
  CHECK_FALSE(ok.header("x-github-request-id").empty());

  auto anonymous = sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", "");
  CHECK(anonymous.status == 401);
  CHECK(Sim::json(anonymous)["message"] == "Requires authentication");
  CHECK(anonymous.header("x-ratelimit-limit") == "60");

  auto bad = sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", "token wrong");
  CHECK(bad.status == 401);
  CHECK(Sim::json(bad)["message"] == "Bad credentials");
  CHECK(Sim::json(bad)["documentation_url"] == "https://docs.github.com/rest");
  CHECK(sim.call("GET", "/", "", "Basic dXNlcjpwYXNz").status == 401);
}

TEST_CASE("classic token scopes: repo for repositories, admin:org for organizations") {
  Sim sim;
  auto no_repo = sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", "token noscope");
  CHECK(no_repo.status == 404);
  CHECK(no_repo.header("X-Accepted-OAuth-Scopes") == "repo");
  CHECK(no_repo.header("X-OAuth-Scopes") == "read:user");
  auto no_admin = sim.call("GET", "/orgs/acme/actions/secrets/public-key", "", "token repoonly");
  CHECK(no_admin.status == 403);
  CHECK(no_admin.header("X-Accepted-OAuth-Scopes") == "admin:org");
  CHECK(
      sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", "token repoonly").status ==
      200);
}

struct AppSim : Sim {
  PkeyPtr key = generate_rsa_key();
  AppSim() {
    api.apply_setup({{"apps",
                      {{{"id", 77},
                        {"client_id", "Iv1.sim"},
                        {"public_key_pem", public_key_to_pem(key.get())},
                        {"installations",
                         {{{"id", 1001}, {"account", "acme"}, {"repos", {"app"}}},
                          {{"id", 1002}, {"account", "other"}}}}}}}});
  }
  std::string bearer_jwt() {
    const int64_t t =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    return "Bearer " + jwt_sign({{"iat", t - 60}, {"exp", t + 540}, {"iss", "Iv1.sim"}}, key.get());
  }
};

TEST_CASE("GitHub App: JWT endpoints, installation tokens and their reach") {
  AppSim sim;
  const std::string jwt = sim.bearer_jwt();
  auto app = sim.call("GET", "/app", "", jwt);
  CHECK(app.status == 200);
  CHECK(Sim::json(app)["id"] == 77);
  auto inst = sim.call("GET", "/repos/acme/app/installation", "", jwt);
  CHECK(inst.status == 200);
  CHECK(Sim::json(inst)["id"] == 1001);
  CHECK(sim.call("GET", "/repos/acme/web/installation", "", jwt).status == 404);
  CHECK(Sim::json(sim.call("GET", "/orgs/acme/installation", "", jwt))["id"] == 1001);
  CHECK(sim.call("GET", "/orgs/bigco/installation", "", jwt).status == 404);

  // JWTs do not open the secrets endpoints; tokens do not open the app endpoints.
  CHECK(sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", jwt).status == 403);
  auto pat_on_app = sim.call("GET", "/app");
  CHECK(pat_on_app.status == 401);
  CHECK(Sim::json(pat_on_app)["message"] == "A JSON web token could not be decoded");

  auto minted = sim.call("POST", "/app/installations/1001/access_tokens", "", jwt);
  REQUIRE(minted.status == 201);
  Json t = Sim::json(minted);
  CHECK(t["token"].get<std::string>().rfind("ghs_", 0) == 0);
  CHECK(t["repository_selection"] == "selected");
  CHECK(t["permissions"]["secrets"] == "write");
  auto expires = parse_rfc3339(t["expires_at"].get<std::string>());
  REQUIRE(expires.has_value());
  CHECK(*expires > sim.now + std::chrono::minutes(59));

  const std::string ghs = "token " + t["token"].get<std::string>();
  CHECK(sim.put_secret("/repos/acme/app/actions", "FROM_APP", "v", Json::object(), ghs).status ==
        201);
  CHECK(sim.stored("FROM_APP")["value"] == "v");
  CHECK(sim.call("GET", "/repos/acme/web/actions/secrets/public-key", "", ghs).status == 404);
  CHECK(sim.call("GET", "/repos/other/lib/actions/secrets/public-key", "", ghs).status == 404);
  CHECK(sim.call("GET", "/orgs/acme/actions/secrets/public-key", "", ghs).status == 200);
  CHECK(sim.call("GET", "/orgs/bigco/actions/secrets/public-key", "", ghs).status == 403);

  sim.now += std::chrono::minutes(61);
  auto expired = sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", ghs);
  CHECK(expired.status == 401);
  CHECK(Sim::json(expired)["message"] == "Bad credentials");
}

TEST_CASE("GitHub App: narrowed tokens and permissions") {
  AppSim sim;
  const std::string jwt = sim.bearer_jwt();
  CHECK(sim.call("POST", "/app/installations/1001/access_tokens",
                 Json({{"repositories", {"web"}}}).dump(), jwt)
            .status == 422);
  CHECK(sim.call("POST", "/app/installations/1001/access_tokens",
                 Json({{"permissions", {{"administration", "write"}}}}).dump(), jwt)
            .status == 422);
  CHECK(sim.call("POST", "/app/installations/9/access_tokens", "", jwt).status == 404);
  auto read_only = sim.call("POST", "/app/installations/1001/access_tokens",
                            Json({{"permissions", {{"secrets", "read"}}}}).dump(), jwt);
  REQUIRE(read_only.status == 201);
  const std::string ghs = "token " + Sim::json(read_only)["token"].get<std::string>();
  CHECK(sim.call("GET", "/repos/acme/app/actions/secrets/public-key", "", ghs).status == 200);
  auto refused = sim.put_secret("/repos/acme/app/actions", "X", "v", Json::object(), ghs);
  CHECK(refused.status == 403);
  CHECK(Sim::json(refused)["message"] == "Resource not accessible by integration");
  CHECK(refused.header("x-accepted-github-permissions") == "secrets=write");
}

TEST_CASE("the primary rate limit: 403 with GitHub's message once exhausted, then a reset") {
  Sim sim;
  sim.api.apply_limits({{"primary", 2}, {"time_scale", 0.01}});
  CHECK(sim.call("GET", "/repos/acme/app").status == 200);
  auto last = sim.call("GET", "/repos/acme/app");
  CHECK(last.status == 200);
  CHECK(last.header("x-ratelimit-remaining") == "0");
  auto limited = sim.call("GET", "/repos/acme/app");
  CHECK(limited.status == 403);
  CHECK(limited.header("x-ratelimit-remaining") == "0");
  CHECK(limited.header("x-ratelimit-used") == "2");
  CHECK(Sim::json(limited)["message"].get<std::string>().rfind(
            "API rate limit exceeded for user ID ", 0) == 0);
  const auto reset = std::stoll(limited.header("x-ratelimit-reset"));
  CHECK(reset >
        std::chrono::duration_cast<std::chrono::seconds>(sim.now.time_since_epoch()).count());
  sim.api.apply_limits({{"primary_status", 429}});
  CHECK(sim.call("GET", "/repos/acme/app").status == 429);
  sim.now += std::chrono::seconds(37);
  CHECK(sim.call("GET", "/repos/acme/app").status == 200);
}

TEST_CASE("the secondary limit on content-creating requests answers retry-after") {
  Sim sim;
  sim.api.apply_limits({{"writes_per_minute", 1}});
  CHECK(sim.put_secret("/repos/acme/app/actions", "A", "v").status == 201);
  auto limited = sim.put_secret("/repos/acme/app/actions", "B", "v");
  CHECK(limited.status == 403);
  CHECK(Sim::json(limited)["message"].get<std::string>().rfind(
            "You have exceeded a secondary rate limit", 0) == 0);
  CHECK(limited.header("retry-after") == "60");
  CHECK(sim.stored("B").is_null());
  sim.now += std::chrono::seconds(60);
  CHECK(sim.put_secret("/repos/acme/app/actions", "B", "v").status == 201);
}

TEST_CASE("the secondary limit on concurrent requests") {
  Sim sim;
  sim.api.apply_limits({{"max_concurrent", 1}, {"hold_ms", 300}});
  ApiResponse a, b;
  std::thread t1([&] { a = sim.call("GET", "/repos/acme/app"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread t2([&] { b = sim.call("GET", "/repos/acme/app"); });
  t1.join();
  t2.join();
  CHECK(a.status == 200);
  CHECK(b.status == 403);
  CHECK_FALSE(b.header("retry-after").empty());
}

TEST_CASE("GraphQL: the repository id lookup gh sends") {
  Sim sim;
  const std::string query =
      "query MapRepositoryNames { repo_000: repository(owner: \"acme\", name: \"web\") { "
      "databaseId } repo_001: repository(owner: \"acme\", name: \"ghost\") { databaseId } }";
  auto r = sim.call("POST", "/api/graphql", Json({{"query", query}}).dump());
  CHECK(r.status == 200);
  CHECK(r.header("x-ratelimit-resource") == "graphql");
  Json j = Sim::json(r);
  int64_t web_id = 0;
  const Json state = sim.api.state();
  for (const auto& repo : state["repos"]) {
    if (repo["full_name"] == "acme/web") web_id = repo["id"];
  }
  CHECK(j["data"]["repo_000"]["databaseId"] == web_id);
  CHECK(j["data"]["repo_001"].is_null());
  CHECK(j["errors"][0]["type"] == "NOT_FOUND");
  CHECK(j["errors"][0]["message"] ==
        "Could not resolve to a Repository with the name 'acme/ghost'.");

  auto unknown =
      Sim::json(sim.call("POST", "/graphql", Json({{"query", "{ viewer { login } }"}}).dump()));
  CHECK(unknown["errors"][0]["message"] == "Field 'viewer' doesn't exist on type 'Query'");
  CHECK_FALSE(unknown.contains("data"));
  CHECK(sim.call("POST", "/api/graphql", Json({{"query", query}}).dump(), "").status == 401);
}

TEST_CASE("unknown endpoints are 404 and noted, so missing behaviour is visible") {
  Sim sim;
  auto r = sim.call("GET", "/api/v3/repos/acme/app/actions/variables");
  CHECK(r.status == 404);
  REQUIRE(sim.notes.size() == 1);
  CHECK(sim.notes[0].find("GET /repos/acme/app/actions/variables") != std::string::npos);
}

TEST_CASE("setup validates everything before changing anything") {
  Sim sim;
  CHECK_THROWS_AS(sim.api.apply_setup({{"repos", {"acme/new"}}, {"orgs", {42}}}),
                  std::invalid_argument);
  CHECK_THROWS_AS(sim.api.apply_setup({{"repos", {"no-slash"}}}), std::invalid_argument);
  CHECK_THROWS_AS(sim.api.apply_setup({{"apps", {{{"id", 1}, {"public_key_pem", "x"}}}}}),
                  std::invalid_argument);
  const Json state = sim.api.state();
  for (const auto& r : state["repos"]) CHECK(r["full_name"] != "acme/new");
  CHECK_THROWS_AS(sim.api.apply_limits({{"primary_status", 404}}), std::invalid_argument);
  Json reset = sim.api.apply_setup({{"reset", true}, {"repos", {"x/y"}}});
  CHECK(reset["repos"].size() == 1);
  CHECK(reset["orgs"].empty());
  CHECK(sim.call("GET", "/repos/x/y").status == 401);  // the tokens went too
}

}  // namespace
}  // namespace fluxkey::sim::github::github_api_test
