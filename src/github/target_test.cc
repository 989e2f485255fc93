#include "github/target.h"

#include <doctest/doctest.h>

#include <string>

#include "core/error.h"
#include "github/path.h"

namespace github_target_test {

using namespace fluxkey;
using namespace fluxkey::github;

namespace {

std::string usage_error(const std::string& flag, const std::string& name) {
  try {
    validate_secret_name(flag, name);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("github: target ids, descriptions and secrets paths") {
  Target repo = Target::repository("acme", "app");
  CHECK(repo.id() == "acme/app");
  CHECK(repo.describe() == "repository acme/app");
  CHECK(repo.secrets_path() == "/repos/acme/app/actions/secrets");

  Target env = Target::environment_of("acme", "app", "prod");
  CHECK(env.id() == "acme/app:prod");
  CHECK(env.describe() == "environment prod of acme/app");
  CHECK(env.secrets_path() == "/repos/acme/app/environments/prod/secrets");

  Target org = Target::organization("acme");
  CHECK(org.id() == "org:acme");
  CHECK(org.describe() == "organization acme");
  CHECK(org.secrets_path() == "/orgs/acme/actions/secrets");

  CHECK(repo == Target::repository("acme", "app"));
  CHECK_FALSE(repo == env);
}

TEST_CASE("github: environment names are percent-encoded, unreserved characters kept") {
  Target env = Target::environment_of("acme", "my.app", "prod/eu west~1_a-b");
  CHECK(env.secrets_path() == "/repos/acme/my.app/environments/prod%2Feu%20west~1_a-b/secrets");
  CHECK(path_segment("é?#%") == "%C3%A9%3F%23%25");
  CHECK(normalize_api_url("https://ghe.example.com/api/v3//") == "https://ghe.example.com/api/v3");
  CHECK(normalize_api_url("https://api.github.com") == "https://api.github.com");
}

TEST_CASE("github: secret names follow GitHub's rules") {
  for (const char* good : {"FLUX_KUBECONFIG", "a", "_x1", "kube_config_2", "GITHUBX", "GITHUB"}) {
    CHECK_NOTHROW(validate_secret_name("--github-secret", good));
  }
  std::string msg = usage_error("--github-secret", "1ABC");
  CHECK(msg ==
        "invalid --github-secret \"1ABC\": a GitHub secret name must not start with a digit");
  msg = usage_error("--github-secret", "github_token");
  CHECK(msg.find("invalid --github-secret \"github_token\"") == 0);
  CHECK(msg.find("GITHUB_") != std::string::npos);
  CHECK(usage_error("--github-secret", "GitHub_X").find("reserved") != std::string::npos);
  msg = usage_error("--github-secret", "MY-SECRET");
  CHECK(msg.find("letters, digits and underscores") != std::string::npos);
  CHECK(usage_error("--github-secret", "A B").find("letters, digits") != std::string::npos);
  CHECK(usage_error("--github-secret", "ÄBC").find("letters, digits") != std::string::npos);
  CHECK(usage_error("--github-secret", "").find("empty") != std::string::npos);
  // The flag is the caller's, and a control byte cannot break the line.
  msg = usage_error("github.secret", "A\nB");
  CHECK(msg.find("invalid github.secret \"A\\nB\"") == 0);
  CHECK(msg.find('\n') == std::string::npos);
}

}  // namespace github_target_test
