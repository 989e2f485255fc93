// The sliver of GitHub's GraphQL API that clients of Actions secrets use:
// `gh secret set --org O --repos a,b` maps repository names to database ids
// with one aliased `repository(owner:, name:)` field per repository. Anything
// else is answered with a GraphQL error rather than a guess.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace fluxkey::sim::github {

struct GraphqlField {
  std::string alias;  // the response key: the alias, or the name when there is none
  std::string name;
  std::vector<std::pair<std::string, nlohmann::json>> arguments;  // values resolved
  std::vector<GraphqlField> selection;
  int line = 0;
  int column = 0;
};

struct GraphqlDocument {
  std::vector<GraphqlField> fields;  // the top-level selection of the query
  std::optional<std::string> error;  // a syntax error, worded as GitHub does
};

// Parses one query operation (anonymous or named, with optional variable
// definitions); argument values may be strings, integers, booleans, null or
// $variables looked up in `variables`.
GraphqlDocument parse_graphql(std::string_view query, const nlohmann::json& variables);

}  // namespace fluxkey::sim::github
