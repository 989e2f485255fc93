#include "cli/values.h"

#include <doctest/doctest.h>

#include "core/error.h"
#include "core/text.h"

namespace cli_values_test {

using namespace fluxkey;
using namespace fluxkey::cli;

namespace {
// The message a usage error carries, or "" when the call succeeded.
template <typename F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("NS/NAME") {
  auto n = parse_namespaced_name("--service-account", "fluxkey/flux-reconcile");
  CHECK(n.namespace_ == "fluxkey");
  CHECK(n.name == "flux-reconcile");
  CHECK(n.str() == "fluxkey/flux-reconcile");
  CHECK(parse_namespaced_name("--k8s-secret", "a/b.c").name == "b.c");

  CHECK(usage_error([] { parse_namespaced_name("--service-account", "flux-reconcile"); }) ==
        "invalid --service-account \"flux-reconcile\": want NAMESPACE/NAME, e.g. "
        "fluxkey/flux-reconcile");
  for (const char* bad : {"a/b/c", "/x", "x/", "Flux/x", "a/B", "a_b/c", "a/-b"}) {
    CAPTURE(bad);
    CHECK(usage_error([&] {
            parse_namespaced_name("--service-account", bad);
          }).find(std::string("\"") + bad + "\"") != std::string::npos);
  }
}

TEST_CASE("OWNER/REPO[:ENVIRONMENT]") {
  auto t = parse_repo_target("--github-repo", "acme/web");
  CHECK(t.owner == "acme");
  CHECK(t.repo == "web");
  CHECK(t.environment.empty());
  auto e = parse_repo_target("--github-repo", "acme/web.site:prod east");
  CHECK(e.repo == "web.site");
  CHECK(e.environment == "prod east");

  CHECK(usage_error([] { parse_repo_target("--github-repo", "acme"); }) ==
        "invalid --github-repo \"acme\": want OWNER/REPO or OWNER/REPO:ENVIRONMENT");
  for (const char* bad : {"acme/web:", "-acme/web", "acme/", "acme/we b", "a/b/c"}) {
    CAPTURE(bad);
    CHECK_FALSE(usage_error([&] { parse_repo_target("--github-repo", bad); }).empty());
  }
}

TEST_CASE("durations with a lower bound") {
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  CHECK(parse_duration_flag("--token-ttl", "1h30m", minutes(10)) == milliseconds(5'400'000));
  CHECK(parse_duration_flag("--token-ttl", "10m", minutes(10)) == minutes(10));
  CHECK(usage_error([] { parse_duration_flag("--token-ttl", "5m", minutes(10)); }) ==
        "invalid --token-ttl \"5m\": must be at least 10m");
  CHECK(usage_error([] { parse_duration_flag("--token-ttl", "1day"); }) ==
        "invalid --token-ttl \"1day\": want a duration such as 90s, 10m, 24h or 1h30m");
}

TEST_CASE("choices and URLs") {
  CHECK(parse_choice("--log-format", "json", {"text", "json"}) == "json");
  CHECK(usage_error([] {
          parse_choice("--log-format", "xml", {"text", "json"});
        }) == "invalid --log-format \"xml\": want one of text|json");
  CHECK(parse_https_url("--server", "https://k8s.example.com:6443/") ==
        "https://k8s.example.com:6443");
  CHECK(parse_https_url("--server", "https://[fd00::1]:6443") == "https://[fd00::1]:6443");
  for (const char* bad :
       {"http://k8s:6443", "k8s.example.com", "https://", "https://a b", "https://k8s:123456",
        "https://k8s:", "https://[]:6443", "https://k_8s"}) {
    CAPTURE(bad);
    CHECK_FALSE(usage_error([&] { parse_https_url("--server", bad); }).empty());
  }
}

TEST_CASE("bad values are quoted on one line, control characters escaped (fuzz)") {
  try {
    parse_namespaced_name("--k8s-secret", "250\nfoo/x\t\x1b");
    FAIL("expected a UsageError");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find_first_of("\n\t\x1b") == std::string::npos);
    CHECK(std::string(e.what()).find("\"250\\nfoo/x\\t\\x1b\"") != std::string::npos);
  }
  CHECK(fluxkey::printable("a\r\n\x7f") == "a\\r\\n\\x7f");
  CHECK(fluxkey::printable("caf\xc3\xa9") == "caf\xc3\xa9");
}

}  // namespace cli_values_test
