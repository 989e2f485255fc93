#include "sim/github/graphql.h"

#include <doctest/doctest.h>

namespace fluxkey::sim::github::github_graphql_test {
namespace {

TEST_CASE("parses the query gh sends to map repository names to ids") {
  // What gh 2.23 builds in pkg/cmd/secret/set (one aliased field per repo).
  const char* query = R"(query MapRepositoryNames { 
			repo_000: repository(owner: "acme", name: "app") {
				databaseId
			}
		
			repo_001: repository(owner: "acme", name: "we \"quote\"") {
				databaseId
			}
		 })";
  auto doc = parse_graphql(query, nullptr);
  REQUIRE_FALSE(doc.error.has_value());
  REQUIRE(doc.fields.size() == 2);
  CHECK(doc.fields[0].alias == "repo_000");
  CHECK(doc.fields[0].name == "repository");
  REQUIRE(doc.fields[0].arguments.size() == 2);
  CHECK(doc.fields[0].arguments[0].first == "owner");
  CHECK(doc.fields[0].arguments[0].second == "acme");
  CHECK(doc.fields[0].arguments[1].second == "app");
  CHECK(doc.fields[1].arguments[1].second == "we \"quote\"");
  REQUIRE(doc.fields[0].selection.size() == 1);
  CHECK(doc.fields[0].selection[0].name == "databaseId");
  CHECK(doc.fields[0].line == 2);
}

TEST_CASE("variables, anonymous queries, commas and comments") {
  auto doc = parse_graphql(
      "query($o: String!, $n: String!) { # lookup\n repository(owner: $o, name: $n) { id, "
      "owner { login } } }",
      {{"o", "acme"}, {"n", "app"}});
  REQUIRE_FALSE(doc.error.has_value());
  REQUIRE(doc.fields.size() == 1);
  CHECK(doc.fields[0].alias == "repository");
  CHECK(doc.fields[0].arguments[0].second == "acme");
  CHECK(doc.fields[0].selection[1].selection[0].name == "login");
  auto bare = parse_graphql("{ viewer { login } }", nullptr);
  REQUIRE_FALSE(bare.error.has_value());
  CHECK(bare.fields[0].name == "viewer");
}

TEST_CASE("syntax errors and unsupported operations are reported") {
  CHECK(parse_graphql("query { repository(owner: \"a\" { id } }", nullptr).error.has_value());
  CHECK(parse_graphql("query { repository(owner: \"a", nullptr).error.has_value());
  CHECK(parse_graphql("mutation { x }", nullptr).error.has_value());
  CHECK(parse_graphql("query { repository(owner: $missing) { id } }", nlohmann::json::object())
            .error.has_value());
  CHECK(parse_graphql("{ a } }", nullptr).error.has_value());
  CHECK(parse_graphql("", nullptr).error.has_value());
}

}  // namespace
}  // namespace fluxkey::sim::github::github_graphql_test
