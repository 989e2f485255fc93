#include "sim/github/secret_store.h"

#include <doctest/doctest.h>

namespace fluxkey::sim::github::github_secret_store_test {
namespace {

TEST_CASE("secret names follow GitHub's rules") {
  CHECK_FALSE(secret_name_error("FLUX_KUBECONFIG").has_value());
  CHECK_FALSE(secret_name_error("_private").has_value());
  CHECK_FALSE(secret_name_error("a1").has_value());
  for (const char* bad : {"", "1ABC", "WITH SPACE", "DASH-ED", "DOT.TED", "UMLAUT_\xc3\xa4"}) {
    CAPTURE(bad);
    auto e = secret_name_error(bad);
    REQUIRE(e.has_value());
    CHECK(e->find("Secret names can only contain alphanumeric characters") == 0);
  }
  auto reserved = secret_name_error("github_token");
  REQUIRE(reserved.has_value());
  CHECK(reserved->find("GITHUB_") != std::string::npos);
  CHECK_FALSE(secret_name_error("MY_GITHUB_TOKEN").has_value());
}

TEST_CASE("put creates, then updates, and counts writes") {
  SecretStore store;
  const auto scope = repository_scope(7, "acme", "app");
  const auto t0 = Clock::now();
  CHECK(store.put(scope, "flux_kubeconfig", "one", t0) == SecretStore::PutResult::kCreated);
  CHECK(store.put(scope, "FLUX_KUBECONFIG", "two", t0 + std::chrono::seconds(5)) ==
        SecretStore::PutResult::kUpdated);
  Secret* s = store.find(scope, "Flux_KubeConfig");
  REQUIRE(s != nullptr);
  CHECK(s->name == "FLUX_KUBECONFIG");  // GitHub stores names upper case
  CHECK(s->value == "two");
  CHECK(s->writes == 2);
  CHECK(s->created_at == t0);
  CHECK(s->updated_at == t0 + std::chrono::seconds(5));
}

TEST_CASE("scopes keep their secrets apart; list is sorted; remove works") {
  SecretStore store;
  const auto repo = repository_scope(7, "acme", "app");
  const auto env = environment_scope(7, "acme", "app", 3, "prod");
  const auto org = organization_scope(9, "acme");
  const auto now = Clock::now();
  store.put(repo, "B", "repo-b", now);
  store.put(repo, "A", "repo-a", now);
  store.put(env, "A", "env-a", now);
  store.put(org, "A", "org-a", now, "selected", {5, 6});
  auto listed = store.list(repo);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]->name == "A");
  CHECK(listed[1]->name == "B");
  CHECK(store.find(env, "a")->value == "env-a");
  CHECK(store.find(org, "a")->selected_repository_ids == std::vector<int64_t>{5, 6});
  CHECK(store.find(org, "a")->visibility == "selected");
  CHECK(store.remove(repo, "a"));
  CHECK_FALSE(store.remove(repo, "a"));
  CHECK(store.find(repo, "A") == nullptr);
  CHECK(store.find(env, "A") != nullptr);
  CHECK(store.all().size() == 3);
}

}  // namespace
}  // namespace fluxkey::sim::github::github_secret_store_test
