// The values users type into flags and config files (cli/values.h,
// github::validate_secret_name) and the small text formats under them:
// durations, RFC 3339 times, Retry-After, URLs, base64. Every parser sees
// the whole input; what parses must read back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/values.h"
#include "core/base64.h"
#include "core/time.h"
#include "fuzz_support.h"
#include "github/path.h"
#include "github/target.h"
#include "http/http.h"
#include "http/url.h"

namespace {

using fluxkey::fuzz::expect_errors_only;
using fluxkey::fuzz::require;
using std::chrono::milliseconds;

bool unreserved_or_escape(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '%';
}

std::string percent_decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void names(const std::string& v) {
  expect_errors_only("parse_namespaced_name", [&] {
    auto n = fluxkey::cli::parse_namespaced_name("--k8s-secret", v);
    require(n.str() == v, "NS/NAME does not read back: " + v);
  });
  expect_errors_only("parse_repo_target", [&] {
    auto t = fluxkey::cli::parse_repo_target("--github-repo", v);
    const auto target = t.environment.empty() ? fluxkey::github::Target::repository(t.owner, t.repo)
                                              : fluxkey::github::Target::environment_of(
                                                    t.owner, t.repo, t.environment);
    require(target.id() == v, "OWNER/REPO[:ENV] does not read back: " + v);
    const std::string path = target.secrets_path();
    for (char c : path) {
      require(c == '/' || unreserved_or_escape(c), "unescaped character in path " + path);
    }
    fluxkey::fuzz::check_message(target.describe(), "describe");
  });
  expect_errors_only("parse_github_org", [&] {
    auto org = fluxkey::cli::parse_github_org("--github-org", v);
    require(fluxkey::github::Target::organization(org).id() == "org:" + v, "org id");
  });
  expect_errors_only("parse_github_repo_name",
                     [&] { fluxkey::cli::parse_github_repo_name("--github-org-repos", v); });
  expect_errors_only("validate_secret_name",
                     [&] { fluxkey::github::validate_secret_name("--github-secret", v); });
  expect_errors_only("parse_choice", [&] {
    require(fluxkey::cli::parse_choice("--github-format", v, {"base64", "raw"}) == v, "choice");
  });
}

void durations_and_times(const std::string& v) {
  expect_errors_only("parse_duration_flag", [&] {
    milliseconds d = fluxkey::cli::parse_duration_flag("--token-ttl", v, std::chrono::minutes(10));
    require(d >= std::chrono::minutes(10), "a duration below the minimum was accepted");
    // Messages print whole seconds (below one second, milliseconds).
    auto back = fluxkey::parse_duration(fluxkey::format_duration(d));
    require(back && *back == std::chrono::floor<std::chrono::seconds>(d),
            "duration " + v + " does not read back from " + fluxkey::format_duration(d));
  });
  if (auto d = fluxkey::parse_duration(v)) {
    require(*d >= milliseconds(0), "negative duration from " + v);
    if (*d < std::chrono::seconds(1)) {
      require(fluxkey::parse_duration(fluxkey::format_duration(*d)) == *d, "ms read back");
    }
  }
  if (auto t = fluxkey::parse_rfc3339(v)) {
    const std::string text = fluxkey::format_rfc3339(*t, true);
    require(fluxkey::parse_rfc3339(text) == t, "time " + v + " does not read back from " + text);
  }
  if (auto wait = fluxkey::http::parse_retry_after(v)) {
    require(*wait >= milliseconds(0), "negative Retry-After from " + v);
  }
}

void urls(const std::string& v) {
  expect_errors_only("parse_https_url", [&] {
    std::string url = fluxkey::cli::parse_https_url("--server", v);
    require(fluxkey::cli::parse_https_url("--server", url) == url, "URL is not stable: " + v);
    require(!fluxkey::http::host_port(url).empty(), "no host:port in " + url);
    const std::string api = fluxkey::github::normalize_api_url(url);
    require(fluxkey::github::graphql_url(api).rfind("https://", 0) == 0, "graphql URL");
  });
  // Messages show URLs reduced to what is safe: no userinfo, no query.
  const std::string loggable = fluxkey::http::loggable_url(v);
  if (v.rfind("https://", 0) == 0) {
    const std::string authority = loggable.substr(8, loggable.find('/', 8) - 8);
    require(loggable.find_first_of("?#") == std::string::npos &&
                authority.find('@') == std::string::npos,
            "secret kept in " + loggable);
  }
  fluxkey::http::host_port(v);
  const std::string encoded = fluxkey::http::percent_encode(v);
  for (char c : encoded) require(unreserved_or_escape(c), "percent_encode left a character");
  require(percent_decode(encoded) == v, "percent_encode does not read back");
  require(fluxkey::github::path_segment(v) == encoded, "path_segment differs");
}

void base64(const std::string& v) {
  require(fluxkey::base64_decode(fluxkey::base64_encode(v)) == v, "base64 round trip");
  require(fluxkey::base64url_decode(fluxkey::base64url_encode(v)) == v, "base64url round trip");
  if (auto decoded = fluxkey::base64_decode(v)) {
    require(fluxkey::base64_decode(fluxkey::base64_encode(*decoded)) == decoded, "base64 again");
  }
  fluxkey::base64url_decode(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string value(reinterpret_cast<const char*>(data), size);
  names(value);
  durations_and_times(value);
  urls(value);
  base64(value);
  return 0;
}
