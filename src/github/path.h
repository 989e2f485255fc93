// Building GitHub API URLs from names users type.
#pragma once

#include <string>
#include <string_view>

namespace fluxkey::github {

// Percent-encodes everything but RFC 3986 unreserved characters, so that an
// environment called "prod/eu" or "a b" stays one path segment.
std::string path_segment(std::string_view text);

// The API root without trailing slashes: "https://api.github.com",
// "https://ghe.example.com/api/v3".
std::string normalize_api_url(std::string_view url);

// The GraphQL endpoint for an API root: https://api.github.com/graphql, or
// https://HOST/api/graphql for GitHub Enterprise Server's https://HOST/api/v3.
std::string graphql_url(std::string_view api_root);

}  // namespace fluxkey::github
