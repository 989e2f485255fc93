#include "http/url.h"

#include <doctest/doctest.h>

namespace fluxkey::http::http_url_test {

TEST_CASE("loggable_url drops userinfo, query and fragment") {
  CHECK(loggable_url("https://api.github.com/repos/o/r?per_page=100") ==
        "https://api.github.com/repos/o/r");
  CHECK(loggable_url("https://user:s3cr%40t@host:8443/a/b?token=abc#frag") ==
        "https://host:8443/a/b");
  CHECK(loggable_url("https://user:p@ss@host/x") == "https://host/x");
  CHECK(loggable_url("https://host?access_token=abc") == "https://host");
  CHECK(loggable_url("https://[::1]:6443/api") == "https://[::1]:6443/api");
  CHECK(loggable_url("http://host") == "http://host");
}

TEST_CASE("host_port names the port, defaulting by scheme") {
  CHECK(host_port("https://127.0.0.1:6443/api/v1") == "127.0.0.1:6443");
  CHECK(host_port("https://api.github.com/user") == "api.github.com:443");
  CHECK(host_port("http://example.test?x=1") == "example.test:80");
  CHECK(host_port("https://tok@host:9443/") == "host:9443");
  CHECK(host_port("https://[::1]/x") == "[::1]:443");
  CHECK(host_port("https://[::1]:8443/x") == "[::1]:8443");
}

}  // namespace fluxkey::http::http_url_test
