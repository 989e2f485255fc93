// URL pieces that are safe to show a person. A URL may carry secrets in its
// userinfo or query string (tokens in ?access_token=, signed URLs), so
// messages and logs use only these reductions of it.
#pragma once

#include <string>
#include <string_view>

namespace fluxkey::http {

// scheme://host[:port]/path: userinfo, query and fragment dropped.
std::string loggable_url(std::string_view url);

// host:port, with the scheme's default port when the URL names none
// ("127.0.0.1:6443", "api.github.com:443", "[::1]:8443").
std::string host_port(std::string_view url);

// Percent-encodes everything but RFC 3986 unreserved characters: a name
// users typed ("prod/eu", "a b", a label selector) as one path segment or
// query value.
std::string percent_encode(std::string_view text);

}  // namespace fluxkey::http
