#include "github/client.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "support/github_app_key.h"
#include "support/github_fakes.h"

namespace github_client_test {

using namespace fluxkey;
using namespace fluxkey::github;
using fluxkey::github::testing::CapturedStderr;
using fluxkey::github::testing::FakeGitHub;
using fluxkey::github::testing::FakeTransport;
using fluxkey::github::testing::github_error;
using fluxkey::github::testing::Json;
using fluxkey::github::testing::json_reply;
using fluxkey::github::testing::TestRsaKey;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const std::string kApi = "https://api.github.test";
const std::string kToken = "ghp_personal_token_0123456789";

ClientOptions token_options() {
  ClientOptions options;
  options.api_url = kApi;
  options.credentials.token = kToken;
  return options;
}

ClientOptions app_options(std::optional<int64_t> installation = std::nullopt) {
  ClientOptions options;
  options.api_url = kApi;
  options.credentials.app_id = "77";
  options.credentials.app_private_key_pem = TestRsaKey::shared().pkcs1_pem;
  options.credentials.installation_id = installation;
  return options;
}

// A Client over the in-memory GitHub, on a fake clock that its sleeper moves.
struct Harness {
  std::shared_ptr<FakeGitHub> github;
  Clock::time_point now{seconds(1'800'000'000)};
  std::vector<milliseconds> sleeps;
  std::unique_ptr<Client> client;

  explicit Harness(ClientOptions options = token_options(), const std::string& root = kApi)
      : github(std::make_shared<FakeGitHub>(root)) {
    github->clock = [this] { return now; };
    client = std::make_unique<Client>(std::move(options), std::make_unique<FakeTransport>(github));
    client->set_clock([this] { return now; });
    client->set_sleeper([this](milliseconds d) {
      sleeps.push_back(d);
      now += d;
    });
  }

  Target repo(const std::string& owner, const std::string& name) {
    Target t = Target::repository(owner, name);
    github->rotate_key(t.secrets_path());
    return t;
  }
  Target env(const std::string& owner, const std::string& name, const std::string& environment) {
    Target t = Target::environment_of(owner, name, environment);
    github->rotate_key(t.secrets_path());
    return t;
  }
  Target org(const std::string& login) {
    Target t = Target::organization(login);
    github->rotate_key(t.secrets_path());
    return t;
  }
  milliseconds slept() const {
    return std::accumulate(sleeps.begin(), sleeps.end(), milliseconds(0));
  }
};

template <typename F>
GitHubError github_error_of(F&& f) {
  try {
    f();
  } catch (const GitHubError& e) {
    return e;
  }
  FAIL("expected a GitHubError");
  return GitHubError(-1, "");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("github: token requests carry GitHub's headers and the token as Bearer") {
  Harness h;
  Target t = h.repo("acme", "app");
  CHECK(h.client->put_secret(t, "FLUX_KUBECONFIG", "kubeconfig: yes") == PutOutcome::kCreated);
  REQUIRE(h.github->seen.size() == 2);
  for (const auto& seen : h.github->seen) {
    CHECK(FakeGitHub::header(seen.request, "Accept") == "application/vnd.github+json");
    CHECK(FakeGitHub::header(seen.request, "X-GitHub-Api-Version") == "2022-11-28");
    CHECK(FakeGitHub::header(seen.request, "Authorization") == "Bearer " + kToken);
  }
  CHECK(h.github->seen[0].request.method == "GET");
  CHECK(h.github->seen[0].path == "/repos/acme/app/actions/secrets/public-key");
  CHECK(h.github->seen[1].request.method == "PUT");
  CHECK(h.github->seen[1].path == "/repos/acme/app/actions/secrets/FLUX_KUBECONFIG");
  CHECK(FakeGitHub::header(h.github->seen[1].request, "Content-Type") == "application/json");
  CHECK(h.github->seen[1].request.idempotent);
  CHECK(h.client->requests_sent() == 2);
  CHECK(h.sleeps.empty());
}

TEST_CASE("github: an Enterprise Server root with a trailing slash") {
  ClientOptions options = token_options();
  options.api_url = "https://ghe.example.test/api/v3/";
  Harness h(options, "https://ghe.example.test/api/v3");
  Target t = h.env("acme", "app", "prod eu");
  CHECK(h.client->put_secret(t, "KC", "x") == PutOutcome::kCreated);
  REQUIRE(h.github->seen.size() == 2);
  CHECK(h.github->seen[0].request.url ==
        "https://ghe.example.test/api/v3/repos/acme/app/environments/prod%20eu/secrets/public-key");
}

TEST_CASE("github: put_secret seals with the target's key: 201 created, then 204 updated") {
  Harness h;
  Target t = h.repo("acme", "app");
  CHECK(h.client->put_secret(t, "KC", "first") == PutOutcome::kCreated);
  CHECK(h.client->put_secret(t, "KC", "second") == PutOutcome::kUpdated);
  const auto& stored = h.github->secrets.at("/repos/acme/app/actions/secrets/KC");
  CHECK(stored.plaintext == "second");
  CHECK(stored.body.size() == 2);  // encrypted_value and key_id only
  CHECK(stored.body.contains("encrypted_value"));
  CHECK(stored.body.contains("key_id"));
  CHECK(!contains(stored.body.dump(), "second"));
}

TEST_CASE("github: public keys are fetched once per target") {
  Harness h;
  Target a = h.repo("acme", "app");
  Target b = h.env("acme", "app", "prod");
  Target c = h.org("acme");
  PublicKey first = h.client->public_key(a);
  CHECK(!first.key_id.empty());
  CHECK(h.client->public_key(a).key == first.key);
  h.client->put_secret(a, "KC", "1");
  h.client->put_secret(a, "KC", "2");
  h.client->put_secret(b, "KC", "1");
  h.client->put_secret(b, "KC", "2");
  h.client->put_secret(c, "KC", "1");
  CHECK(h.github->count("GET", a.secrets_path() + "/public-key") == 1);
  CHECK(h.github->count("GET", b.secrets_path() + "/public-key") == 1);
  CHECK(h.github->count("GET", c.secrets_path() + "/public-key") == 1);
  CHECK(h.client->public_key(b).key_id != first.key_id);
}

TEST_CASE("github: a stale key 422 refetches with If-None-Match and seals again once") {
  Harness h;
  Target t = h.repo("acme", "app");
  PublicKey old = h.client->public_key(t);
  const std::string old_etag = "W/\"etag-" + old.key_id + "\"";
  h.github->rotate_key(t.secrets_path());  // GitHub rotated the key since

  CHECK(h.client->put_secret(t, "KC", "value") == PutOutcome::kCreated);
  auto& seen = h.github->seen;
  REQUIRE(seen.size() == 4);  // GET key, PUT 422, GET key (If-None-Match), PUT 201
  CHECK(seen[1].request.method == "PUT");
  CHECK(seen[2].request.method == "GET");
  CHECK(FakeGitHub::header(seen[2].request, "If-None-Match") == old_etag);
  CHECK(seen[3].request.method == "PUT");
  CHECK(h.github->secrets.at("/repos/acme/app/actions/secrets/KC").plaintext == "value");
  // The new key is cached.
  CHECK(h.client->public_key(t).key_id != old.key_id);
  CHECK(h.client->put_secret(t, "KC", "again") == PutOutcome::kUpdated);
  CHECK(h.github->count("GET", t.secrets_path() + "/public-key") == 2);
}

TEST_CASE("github: a 422 with an unchanged key (304) is reported, not retried") {
  Harness h;
  Target t = h.repo("acme", "app");
  h.github->hook = [](const http::Request& request,
                      const std::string&) -> std::optional<http::Response> {
    if (request.method != "PUT") return std::nullopt;
    return github_error(422,
                        "Bad request - validation failed due to an improperly encrypted secret");
  };
  GitHubError e = github_error_of([&] { h.client->put_secret(t, "KC", "v"); });
  CHECK(e.status() == 422);
  std::string msg = e.what();
  CHECK(contains(msg, "repository acme/app"));
  CHECK(contains(msg, "KC"));
  CHECK(contains(msg, "improperly encrypted"));
  CHECK(contains(msg, "has not changed"));
  CHECK(h.github->count("PUT", "/repos/acme/app/actions/secrets/KC") == 1);
  REQUIRE(h.github->seen.size() == 3);
  CHECK(h.github->seen[2].request.method == "GET");
  CHECK(!FakeGitHub::header(h.github->seen[2].request, "If-None-Match").empty());
}

TEST_CASE("github: other 422s are reported on one line with GitHub's message") {
  Harness h;
  Target t = h.repo("acme", "app");
  h.github->hook = [](const http::Request& request,
                      const std::string&) -> std::optional<http::Response> {
    if (request.method != "PUT") return std::nullopt;
    return github_error(422, "Invalid request.\n\nFor 'visibility', \"x\" is not a member.");
  };
  GitHubError e = github_error_of([&] { h.client->put_secret(t, "KC", "v"); });
  std::string msg = e.what();
  CHECK(msg ==
        "repository acme/app: GitHub refused secret KC (Invalid request. For 'visibility', \"x\" "
        "is not a member.)");
  CHECK(h.github->count("PUT", "/repos/acme/app/actions/secrets/KC") == 1);
}

TEST_CASE("github: organization secrets carry visibility and the selected repository ids") {
  Harness h;
  Target t = h.org("acme");
  h.github->repo_ids = {{"acme/app", 101}, {"acme/web", 202}};
  OrgAccess selected{"selected", {"app", "web"}};
  CHECK(h.client->put_secret(t, "KC", "v", selected) == PutOutcome::kCreated);
  CHECK(h.client->put_secret(t, "KC", "w", selected) == PutOutcome::kUpdated);
  const auto& stored = h.github->secrets.at("/orgs/acme/actions/secrets/KC");
  CHECK(stored.plaintext == "w");
  CHECK(stored.body["visibility"] == "selected");
  CHECK(stored.body["selected_repository_ids"] == Json::array({101, 202}));
  // Repository ids: one GraphQL query for both, then cached.
  CHECK(h.github->count("POST", "/graphql") == 1);
  CHECK(h.client->repository_ids("acme", {"web", "app"}) == std::vector<int64_t>{202, 101});
  CHECK(h.github->count("POST", "/graphql") == 1);

  h.client->put_secret(t, "OTHER", "v");  // default: private, no ids
  const auto& other = h.github->secrets.at("/orgs/acme/actions/secrets/OTHER");
  CHECK(other.body["visibility"] == "private");
  CHECK(!other.body.contains("selected_repository_ids"));

  GitHubError e = github_error_of([&] { h.client->repository_ids("acme", {"nope"}); });
  CHECK(e.status() == 404);
  CHECK(contains(e.what(), "repository acme/nope"));
  CHECK(contains(e.what(), "--github-org-repos"));
}

TEST_CASE("github: 401, 403 and 404 name the target and the fix, never the token") {
  SUBCASE("401 bad credentials") {
    ClientOptions options = token_options();
    options.credentials.token = "ghp_wrong_token_secret";
    Harness h(options);
    Target t = h.repo("acme", "app");
    GitHubError e = github_error_of([&] { h.client->put_secret(t, "KC", "v"); });
    CHECK(e.status() == 401);
    std::string msg = e.what();
    CHECK(msg ==
          "repository acme/app: GitHub rejected the credential (Bad credentials); check "
          "GITHUB_TOKEN / --github-token-file");
    CHECK(!contains(msg, "ghp_wrong_token_secret"));
  }
  SUBCASE("404 on a repository") {
    Harness h;
    GitHubError e =
        github_error_of([&] { h.client->public_key(Target::repository("acme", "private")); });
    CHECK(e.status() == 404);
    std::string msg = e.what();
    CHECK(contains(msg, "repository acme/private not found, or the credential cannot see it"));
    CHECK(contains(msg, "Not Found"));
    CHECK(contains(msg, "repo scope / the App installed"));
    CHECK(!contains(msg, kToken));
  }
  SUBCASE("404 on an environment") {
    Harness h;
    GitHubError e = github_error_of(
        [&] { h.client->public_key(Target::environment_of("acme", "app", "staging")); });
    CHECK(contains(e.what(), "environment staging of acme/app not found"));
    CHECK(contains(e.what(), "environment exists"));
  }
  SUBCASE("403 with x-accepted-github-permissions") {
    Harness h;
    Target t = h.repo("acme", "app");
    h.github->hook = [](const http::Request& request,
                        const std::string&) -> std::optional<http::Response> {
      if (request.method != "PUT") return std::nullopt;
      return github_error(403, "Resource not accessible by personal access token",
                          {{"x-accepted-github-permissions", "secrets=write"}});
    };
    GitHubError e = github_error_of([&] { h.client->put_secret(t, "KC", "v"); });
    CHECK(e.status() == 403);
    CHECK(std::string(e.what()) ==
          "repository acme/app: GitHub refused access (Resource not accessible by personal "
          "access token); the token needs the Secrets write permission");
    CHECK(h.sleeps.empty());  // a permission refusal is not waited out
  }
  SUBCASE("403 with x-accepted-oauth-scopes on an organization") {
    Harness h;
    Target t = h.org("acme");
    h.github->hook = [](const http::Request&, const std::string&) -> std::optional<http::Response> {
      return github_error(403, "Must have admin rights to Repository.",
                          {{"x-accepted-oauth-scopes", "admin:org"}, {"x-oauth-scopes", "repo"}});
    };
    GitHubError e = github_error_of([&] { h.client->put_secret(t, "KC", "v"); });
    std::string msg = e.what();
    CHECK(contains(msg, "organization acme: GitHub refused access (Must have admin rights"));
    CHECK(contains(msg, "the token needs the admin:org scope"));
    CHECK(h.github->seen.size() == 1);
  }
  SUBCASE("403 without a header gets the scope's default hint") {
    Harness h;
    Target t = h.env("acme", "app", "prod");
    h.github->hook = [](const http::Request&, const std::string&) -> std::optional<http::Response> {
      return github_error(403, "Forbidden");
    };
    GitHubError e = github_error_of([&] { h.client->public_key(t); });
    CHECK(contains(e.what(), "environment prod of acme/app: GitHub refused access (Forbidden)"));
    CHECK(contains(e.what(), "Environments write permission"));
  }
}

TEST_CASE("github: network failures become GitHubError(0) after the http retries") {
  Harness h;
  Target t = h.repo("acme", "app");
  int failures = 0;
  h.github->hook = [&](const http::Request&, const std::string&) -> std::optional<http::Response> {
    ++failures;
    throw http::NetworkError("cannot connect to api.github.test:443: connection refused",
                             http::NetworkError::Kind::kConnect, false);
  };
  GitHubError e = github_error_of([&] { h.client->public_key(t); });
  CHECK(e.status() == 0);
  CHECK(contains(e.what(), "repository acme/app: cannot reach GitHub at " + kApi));
  CHECK(contains(e.what(), "connection refused"));
  CHECK(failures == 4);
  CHECK(h.client->requests_sent() == 4);
  CHECK(h.sleeps.size() == 3);  // the http::Client's backoff, through our sleeper
}

TEST_CASE("github: 5xx is retried by the http layer, and every attempt is counted") {
  Harness h;
  Target t = h.repo("acme", "app");
  int puts = 0;
  h.github->hook = [&](const http::Request& request,
                       const std::string&) -> std::optional<http::Response> {
    if (request.method == "PUT" && ++puts == 1) return github_error(502, "Server Error");
    return std::nullopt;
  };
  CHECK(h.client->put_secret(t, "KC", "v") == PutOutcome::kCreated);
  CHECK(h.client->requests_sent() == 3);
  CHECK(h.sleeps.size() == 1);
}

TEST_CASE("github: App auth discovers one installation and mints one token per account") {
  Harness h(app_options());
  h.github->installations = {{"acme", 1001}, {"bigco", 2002}};
  Target a = h.repo("acme", "app");
  Target b = h.repo("acme", "web");
  Target c = h.env("acme", "app", "prod");
  Target d = h.org("acme");
  Target e = h.repo("bigco", "site");
  Target f = h.org("bigco");
  for (const Target& t : {a, b, c, d, e, f}) {
    CHECK(h.client->put_secret(t, "KC", "v") == PutOutcome::kCreated);
  }
  CHECK(h.github->count("GET", "/repos/acme/app/installation") == 1);
  CHECK(h.github->count_suffix("GET", "/installation") == 2);
  CHECK(h.github->count_suffix("GET", "/repos/bigco/site/installation") == 1);
  CHECK(h.github->count("POST", "/app/installations/1001/access_tokens") == 1);
  CHECK(h.github->count("POST", "/app/installations/2002/access_tokens") == 1);

  // JWTs for the App endpoints, installation tokens for the rest.
  for (const auto& seen : h.github->seen) {
    std::string auth = FakeGitHub::header(seen.request, "Authorization");
    bool app_endpoint = contains(seen.path, "installation");
    CHECK(app_endpoint == (std::count(auth.begin(), auth.end(), '.') == 2));
    if (seen.request.method == "POST") CHECK_FALSE(seen.request.idempotent);
    if (!app_endpoint) CHECK(auth.rfind("Bearer ghs_installation_", 0) == 0);
  }

  // Near expiry (less than five minutes left) the token is renewed.
  h.now += std::chrono::minutes(50);
  h.client->put_secret(a, "KC", "w");
  CHECK(h.github->count("POST", "/app/installations/1001/access_tokens") == 1);
  h.now += std::chrono::minutes(6);
  h.client->put_secret(a, "KC", "x");
  CHECK(h.github->count("POST", "/app/installations/1001/access_tokens") == 2);
  CHECK(h.github->count_suffix("GET", "/installation") == 2);
}

TEST_CASE("github: a given installation id skips discovery") {
  Harness h(app_options(4242));
  Target a = h.repo("acme", "app");
  Target b = h.org("other");
  h.client->put_secret(a, "KC", "v");
  h.client->put_secret(b, "KC", "v");
  CHECK(h.github->count_suffix("GET", "/installation") == 0);
  CHECK(h.github->count("POST", "/app/installations/4242/access_tokens") == 1);
}

TEST_CASE("github: an App not installed on the owner says so") {
  Harness h(app_options());
  Target t = h.repo("acme", "app");
  GitHubError e = github_error_of([&] { h.client->put_secret(t, "KC", "v"); });
  CHECK(e.status() == 404);
  std::string msg = e.what();
  CHECK(contains(msg, "the GitHub App 77 is not installed on acme; install it"));
  CHECK(contains(msg, "--github-app-installation-id"));
  CHECK(h.github->count("GET", "/repos/acme/app/installation") == 1);
}

TEST_CASE("github: a rejected App JWT names the App flags") {
  Harness h(app_options());
  h.github->hook = [](const http::Request&,
                      const std::string& path) -> std::optional<http::Response> {
    if (!contains(path, "installation")) return std::nullopt;
    return github_error(401, "'Expiration time' claim ('exp') is too far in the future");
  };
  Target t = h.repo("acme", "app");
  GitHubError e = github_error_of([&] { h.client->public_key(t); });
  CHECK(e.status() == 401);
  std::string msg = e.what();
  CHECK(contains(msg, "the GitHub App 77: GitHub rejected the credential"));
  CHECK(contains(msg, "--github-app-key"));
  CHECK(contains(msg, "system clock"));
  CHECK(!contains(msg, "eyJ"));  // no JWT
}

TEST_CASE("github: a bad App key is a UsageError at construction") {
  ClientOptions options = app_options();
  options.credentials.app_private_key_pem = "-----BEGIN RSA PRIVATE KEY-----\nxx\n-----END";
  try {
    Client client(options, std::make_unique<FakeTransport>(std::make_shared<FakeGitHub>()));
    FAIL("expected a UsageError");
  } catch (const UsageError& e) {
    CHECK(contains(e.what(), "--github-app-key"));
  }
}

TEST_CASE("github: the write budget never lets a minute hold more than writes_per_minute") {
  ClientOptions options = token_options();
  options.pacing.writes_per_minute = 80;
  options.pacing.writes_per_hour = 1000;
  Harness h(options);
  Target t = h.repo("acme", "app");
  for (int i = 0; i < 100; ++i) h.client->put_secret(t, "KC", "v" + std::to_string(i));

  std::vector<Clock::time_point> writes;
  for (const auto& seen : h.github->seen) {
    if (seen.request.method == "PUT") writes.push_back(seen.at);
  }
  REQUIRE(writes.size() == 100);
  // Any 60 s window starting at a write holds at most 80 writes.
  for (size_t i = 0; i < writes.size(); ++i) {
    auto in_window = std::count_if(writes.begin(), writes.end(), [&](Clock::time_point w) {
      return w >= writes[i] && w < writes[i] + seconds(60);
    });
    CHECK(in_window <= 80);
  }
  // It waited, once, and no longer than needed: write 81 went out a minute
  // after write 1.
  REQUIRE(h.sleeps.size() == 1);
  CHECK(h.sleeps[0] == seconds(60));
  CHECK(writes[80] - writes[0] == seconds(60));
  CHECK(h.github->secrets.at("/repos/acme/app/actions/secrets/KC").plaintext == "v99");
}

TEST_CASE("github: the write budget holds the hour window and counts token POSTs") {
  ClientOptions options = app_options();
  options.pacing.writes_per_minute = 10;
  options.pacing.writes_per_hour = 25;
  Harness h(options);
  h.github->installations = {{"acme", 1}};
  Target t = h.repo("acme", "app");
  for (int i = 0; i < 40; ++i) h.client->put_secret(t, "KC", "v");

  std::vector<Clock::time_point> writes;
  for (const auto& seen : h.github->seen) {
    if (seen.request.method == "PUT" || seen.request.method == "POST") writes.push_back(seen.at);
  }
  for (size_t i = 0; i < writes.size(); ++i) {
    auto count_within = [&](Clock::duration window) {
      return std::count_if(writes.begin(), writes.end(), [&](Clock::time_point w) {
        return w >= writes[i] && w < writes[i] + window;
      });
    };
    CHECK(count_within(seconds(60)) <= 10);
    CHECK(count_within(seconds(3600)) <= 25);
  }
  CHECK(h.slept() >= seconds(3600));
}

TEST_CASE("github: a secondary rate limit with retry-after is waited out, then resent") {
  Harness h;
  Target t = h.repo("acme", "app");
  int puts = 0;
  h.github->hook = [&](const http::Request& request,
                       const std::string&) -> std::optional<http::Response> {
    if (request.method != "PUT" || ++puts > 1) return std::nullopt;
    return github_error(403,
                        "You have exceeded a secondary rate limit. Please wait a few minutes "
                        "before you try again.",
                        {{"retry-after", "42"}});
  };
  CHECK(h.client->put_secret(t, "KC", "v") == PutOutcome::kCreated);
  CHECK(h.sleeps == std::vector<milliseconds>{seconds(42)});
  CHECK(puts == 2);
  CHECK(h.client->requests_sent() == 3);
}

TEST_CASE("github: a 429 with retry-after is waited out in one place") {
  Harness h;
  Target t = h.repo("acme", "app");
  int gets = 0;
  h.github->hook = [&](const http::Request&, const std::string&) -> std::optional<http::Response> {
    if (++gets > 1) return std::nullopt;
    return github_error(429, "You have exceeded a secondary rate limit.", {{"retry-after", "7"}});
  };
  h.client->public_key(t);
  CHECK(h.sleeps == std::vector<milliseconds>{seconds(7)});
  CHECK(h.client->requests_sent() == 2);
}

TEST_CASE("github: the primary limit waits until x-ratelimit-reset") {
  Harness h;
  Target t = h.repo("acme", "app");
  long long reset = std::chrono::duration_cast<seconds>(h.now.time_since_epoch()).count() + 120;
  int gets = 0;
  h.github->hook = [&](const http::Request&, const std::string&) -> std::optional<http::Response> {
    if (++gets > 1) return std::nullopt;
    return github_error(403, "API rate limit exceeded for user ID 1.",
                        {{"x-ratelimit-limit", "5000"},
                         {"x-ratelimit-remaining", "0"},
                         {"x-ratelimit-reset", std::to_string(reset)}});
  };
  h.client->public_key(t);
  CHECK(h.sleeps == std::vector<milliseconds>{seconds(120)});
}

TEST_CASE("github: without a hint, rate limits wait a minute, doubling") {
  Harness h;
  Target t = h.repo("acme", "app");
  int gets = 0;
  h.github->hook = [&](const http::Request&, const std::string&) -> std::optional<http::Response> {
    if (++gets > 3) return std::nullopt;
    return github_error(403, "You have exceeded a secondary rate limit.");
  };
  h.client->public_key(t);
  CHECK(h.sleeps == std::vector<milliseconds>{seconds(60), seconds(120), seconds(240)});
}

TEST_CASE("github: a rate limit beyond max_wait is reported with its reset time") {
  ClientOptions options = token_options();
  options.pacing.max_wait = std::chrono::minutes(15);
  Harness h(options);
  Target t = h.repo("acme", "app");
  long long reset = std::chrono::duration_cast<seconds>(h.now.time_since_epoch()).count() + 1800;
  h.github->hook = [&](const http::Request&, const std::string&) -> std::optional<http::Response> {
    return github_error(
        403, "API rate limit exceeded for installation ID 9.",
        {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", std::to_string(reset)}});
  };
  GitHubError e = github_error_of([&] { h.client->public_key(t); });
  CHECK(e.status() == 403);
  std::string msg = e.what();
  CHECK(contains(msg, "repository acme/app"));
  CHECK(contains(msg, "API rate limit"));
  CHECK(contains(msg, "resets at " + format_rfc3339(h.now + seconds(1800))));
  CHECK(contains(msg, "15m"));
  CHECK(h.sleeps.empty());
  CHECK(h.github->seen.size() == 1);
}

TEST_CASE("github: repeated rate limits stop once the total wait would pass max_wait") {
  ClientOptions options = token_options();
  options.pacing.max_wait = std::chrono::minutes(5);
  Harness h(options);
  Target t = h.repo("acme", "app");
  h.github->hook = [&](const http::Request&, const std::string&) -> std::optional<http::Response> {
    return github_error(403, "You have exceeded a secondary rate limit.", {{"retry-after", "100"}});
  };
  GitHubError e = github_error_of([&] { h.client->public_key(t); });
  CHECK(contains(e.what(), "secondary rate limit"));
  CHECK(h.sleeps == std::vector<milliseconds>{seconds(100), seconds(100), seconds(100)});
  CHECK(h.slept() <= std::chrono::minutes(5));
}

TEST_CASE("github: an installation token refused with 401 is renewed once") {
  Harness h(app_options());
  h.github->installations = {{"acme", 1001}};
  Target t = h.repo("acme", "app");
  int refusals = 0;
  h.github->hook = [&](const http::Request&,
                       const std::string& path) -> std::optional<http::Response> {
    if (contains(path, "installation") || ++refusals > 1) return std::nullopt;
    return github_error(401, "Bad credentials");
  };
  CHECK(h.client->put_secret(t, "KC", "v") == PutOutcome::kCreated);
  CHECK(h.github->count("POST", "/app/installations/1001/access_tokens") == 2);
  CHECK(h.github->count_suffix("GET", "/installation") == 1);
}

TEST_CASE("github: logs tell the waits and never carry a credential or a value") {
  Harness h(app_options());
  h.github->installations = {{"acme", 1001}};
  Target t = h.repo("acme", "app");
  int puts = 0;
  h.github->hook = [&](const http::Request& request,
                       const std::string&) -> std::optional<http::Response> {
    if (request.method != "PUT" || ++puts > 1) return std::nullopt;
    return github_error(403, "You have exceeded a secondary rate limit.", {{"retry-after", "42"}});
  };
  std::string log;
  {
    CapturedStderr captured;
    h.client->put_secret(t, "KC", "the-kubeconfig-value");
    log = captured.text();
  }
  CHECK(contains(log, "GitHub rate limit: waiting 42s (secondary rate limit)"));
  CHECK(!contains(log, "ghs_"));
  CHECK(!contains(log, "eyJ"));
  CHECK(!contains(log, "the-kubeconfig-value"));
  CHECK(!contains(log, "PRIVATE KEY"));
}

TEST_CASE("github: a GraphQL reply that is not an object resolves no repository (fuzz)") {
  Harness h;
  for (const std::string body : {"[1]", "not json", R"({"data": 5})", R"({"data": {"r0": 7}})"}) {
    h.github->hook = [body](const http::Request&,
                            const std::string& path) -> std::optional<http::Response> {
      if (path != "/graphql") return std::nullopt;
      http::Response response;
      response.status = 200;
      response.body = body;
      return response;
    };
    GitHubError e = github_error_of([&] { h.client->repository_ids("acme", {"app"}); });
    CHECK(e.status() == 404);
    CHECK(contains(e.what(), "repository acme/app"));
  }
}

}  // namespace github_client_test
