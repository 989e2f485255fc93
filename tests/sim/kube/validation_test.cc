#include "sim/kube/validation.h"

#include <doctest/doctest.h>

#include "sim/kube/request_info.h"

namespace fluxkey::sim::kube::kube_validation_test {

TEST_CASE("base64 errors point where Go's decoder stops") {
  CHECK_FALSE(base64_error_offset("dg==").has_value());
  CHECK_FALSE(base64_error_offset("").has_value());
  CHECK_FALSE(base64_error_offset("YWJj\nZGVm").has_value());
  CHECK(base64_error_offset("not base64!") == 3u);
  CHECK(base64_error_offset("abc") == 3u);
  CHECK(base64_error_offset("ab=c") == 2u);
  CHECK(base64_error_offset("dg==dg==") == 2u);
}

TEST_CASE("object names and config keys") {
  CHECK_FALSE(validate_object_name("my-secret.v1", false).has_value());
  auto bad = validate_object_name("My_Secret", false);
  REQUIRE(bad.has_value());
  CHECK(bad->message().rfind("metadata.name: Invalid value: \"My_Secret\": a lowercase RFC 1123 "
                             "subdomain",
                             0) == 0);
  CHECK(validate_object_name("a.b", true).has_value());
  CHECK_FALSE(validate_config_key("data", "KEY_name-1.x").has_value());
  CHECK(validate_config_key("data", "bad key").has_value());
  CHECK(validate_config_key("data", "..x").has_value());
}

TEST_CASE("request paths split as the API server splits them") {
  auto r = parse_request_info("GET", "/api/v1/namespaces/ns/secrets/x", "");
  CHECK(r.is_resource);
  CHECK(r.verb == "get");
  CHECK(r.ns == "ns");
  CHECK(r.resource == "secrets");
  CHECK(r.name == "x");
  r = parse_request_info("POST", "/api/v1/namespaces/ns/serviceaccounts/sa/token", "");
  CHECK(r.verb == "create");
  CHECK(r.subresource == "token");
  r = parse_request_info("GET", "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations", "true");
  CHECK(r.verb == "watch");
  CHECK(r.group == "kustomize.toolkit.fluxcd.io");
  CHECK(r.ns.empty());
  r = parse_request_info("GET", "/api/v1/namespaces/foo", "");
  CHECK(r.resource == "namespaces");
  CHECK(r.name == "foo");
  CHECK(r.ns.empty());
  r = parse_request_info("PUT", "/api/v1/namespaces/foo/status", "");
  CHECK(r.resource == "namespaces");
  CHECK(r.subresource == "status");
  r = parse_request_info("DELETE", "/api/v1/namespaces/ns/configmaps", "");
  CHECK(r.verb == "deletecollection");
  CHECK_FALSE(parse_request_info("GET", "/apis/g", "").is_resource);
  CHECK_FALSE(parse_request_info("GET", "/version", "").is_resource);
}

}  // namespace fluxkey::sim::kube::kube_validation_test
