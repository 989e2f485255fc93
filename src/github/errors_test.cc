#include "github/errors.h"

#include <doctest/doctest.h>

namespace github_errors_test {

using namespace fluxkey;
using namespace fluxkey::github;
using std::chrono::seconds;

namespace {

http::Response reply(long status, const std::string& body, http::Headers headers = {}) {
  http::Response r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  return r;
}

}  // namespace

TEST_CASE("github: needed permissions are read from GitHub's headers") {
  auto need = [](const std::string& permissions, bool app) {
    return needed_permission(reply(403, "{}", {{"x-accepted-github-permissions", permissions}}),
                             app);
  };
  CHECK(need("secrets=write", false) == "the token needs the Secrets write permission");
  CHECK(need("secrets=write", true) == "the App needs the Secrets write permission");
  CHECK(need("organization_secrets=write", true) ==
        "the App needs the Organization secrets write permission");
  CHECK(need("secrets=write; environments=write", true) ==
        "the App needs the Secrets write or Environments write permission");
  CHECK(need("environments=write,secrets=read", true) ==
        "the App needs the Environments write and Secrets read permissions");
  CHECK(need(" ", true).empty());

  auto scopes = [](const std::string& value, bool app) {
    return needed_permission(reply(403, "{}", {{"x-accepted-oauth-scopes", value}}), app);
  };
  CHECK(scopes("admin:org", false) == "the token needs the admin:org scope");
  CHECK(scopes("repo, admin:org", false) == "the token needs one of the scopes repo or admin:org");
  CHECK(scopes("", false).empty());
  CHECK(scopes("admin:org", true).empty());  // classic scopes say nothing about an App
}

TEST_CASE("github: GitHub's message is kept on one line") {
  CHECK(github_message(
            reply(422, R"({"message":"Invalid request.\n\n\"key_id\" wasn't supplied."})")) ==
        "Invalid request. \"key_id\" wasn't supplied.");
  CHECK(github_message(reply(502, "<html>bad gateway</html>")).empty());
  GitHubError e = refusal(ErrorContext{"repository a/b", Scope::kRepository, false},
                          reply(502, "<html>bad gateway</html>"));
  CHECK(e.status() == 502);
  CHECK(std::string(e.what()) ==
        "repository a/b: GitHub answered 502 (HTTP 502); GitHub is failing, try again later");
}

TEST_CASE("github: rate-limit refusals are told from permission refusals") {
  const Clock::time_point now = Clock::time_point(seconds(1'800'000'000));
  CHECK(
      !rate_limit_hit(reply(403, R"({"message":"Resource not accessible by integration"})"), now));
  CHECK(!rate_limit_hit(reply(404, R"({"message":"API rate limit exceeded"})"), now));

  auto secondary =
      rate_limit_hit(reply(403, R"({"message":"You have exceeded a secondary rate limit."})",
                           {{"retry-after", "30"}}),
                     now);
  REQUIRE(secondary);
  CHECK(secondary->kind == "secondary rate limit");
  CHECK(secondary->wait == seconds(30));
  CHECK(!secondary->reset);

  auto primary =
      rate_limit_hit(reply(403, R"({"message":"API rate limit exceeded for user ID 1."})",
                           {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1800000090"}}),
                     now);
  REQUIRE(primary);
  CHECK(primary->kind == "API rate limit");
  CHECK(primary->wait == seconds(90));
  CHECK(primary->reset == now + seconds(90));

  // Remaining not yet 0: GitHub gives no time, the caller backs off.
  auto unknown =
      rate_limit_hit(reply(403, R"({"message":"API rate limit exceeded"})",
                           {{"x-ratelimit-remaining", "3"}, {"x-ratelimit-reset", "1800000090"}}),
                     now);
  REQUIRE(unknown);
  CHECK(!unknown->wait);

  // A 429 is a rate refusal whatever its body.
  auto bare = rate_limit_hit(reply(429, ""), now);
  REQUIRE(bare);
  CHECK(!bare->wait);
}

TEST_CASE("github: a reset time the clock cannot hold is ignored, not overflowed (fuzz)") {
  const Clock::time_point now = Clock::time_point(seconds(1'800'000'000));
  for (const char* reset : {"65730272400", "-61318019798", "9223372036854775807"}) {
    auto hit = rate_limit_hit(
        reply(429, "", {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", reset}}), now);
    REQUIRE(hit);
    CHECK(!hit->reset);
    CHECK(!hit->wait);
  }
}

TEST_CASE("github: permissions and scopes from headers stay on one line (fuzz)") {
  auto need = needed_permission(
      reply(403, "{}", {{"x-accepted-github-permissions", "secrets=write\r,environments=\rread"}}),
      false);
  CHECK(need == "the token needs the Secrets write and Environments read permissions");
  auto scope = needed_permission(reply(403, "{}", {{"x-accepted-oauth-scopes", "repo\r"}}), false);
  CHECK(scope == "the token needs the repo scope");
}

}  // namespace github_errors_test
