#include "rotation/state.h"

#include <doctest/doctest.h>

#include "support/kube_fakes.h"

namespace rotation_state_test {

using namespace fluxkey;
using namespace fluxkey::rotation;

TEST_CASE("rotation state: target records survive the annotation round trip") {
  std::map<std::string, TargetRecord> records;
  auto t = parse_rfc3339("2026-11-28T20:00:00Z");
  records["acme/app"] = {7, t, "", std::nullopt};
  records["acme/app:prod"] = {6, t, "environment prod of acme/app: Not Found", t};
  records["org:acme"] = {};
  auto back = decode_targets(encode_targets(records));
  REQUIRE(back.size() == 3);
  CHECK(back["acme/app"].generation == 7);
  CHECK(back["acme/app"].pushed_at == t);
  CHECK(back["acme/app"].error.empty());
  CHECK(back["acme/app:prod"].error == "environment prod of acme/app: Not Found");
  CHECK(back["acme/app:prod"].failed_at == t);
  CHECK(back["org:acme"].generation == 0);
  CHECK_FALSE(back["org:acme"].pushed_at);
}

TEST_CASE("rotation state: an annotation that does not parse means no record at all") {
  CHECK(decode_targets("").empty());
  CHECK(decode_targets("{not json").empty());
  CHECK(decode_targets("[1,2]").empty());
  auto partial = decode_targets(R"({"a/b": {"generation": "x"}, "c/d": 3})");
  REQUIRE(partial.size() == 1);
  CHECK(partial["a/b"].generation == 0);
}

TEST_CASE("rotation state: fields of another type in a reply read as empty, not thrown (fuzz)") {
  auto fake = std::make_shared<kube::testing::FakeState>();
  kube::RestConfig config;
  config.server = "https://127.0.0.1:6443";
  kube::Client client(config, std::make_unique<kube::testing::FakeTransport>(fake));
  Store store(client, {"fluxkey", "flux-kubeconfig"}, {"fluxkey", "flux-reconcile"});
  fake->push(200, R"({"metadata": {"labels": {"app.kubernetes.io/managed-by": "fluxkey"},
                                   "resourceVersion": 7, "annotations": 3}, "data": []})");
  StoredKubeconfig stored = store.read();
  CHECK(stored.exists);
  CHECK(stored.resource_version.empty());
  CHECK(stored.generation == 0);

  fake->push(200, R"({"metadata": {"labels": {"app.kubernetes.io/managed-by": 1}}})");
  CHECK_THROWS_AS(store.read(), UsageError);
  fake->push(200, "[1]");
  CHECK_THROWS_AS(store.read(), UsageError);

  fake->push(200, R"({"items": [null, {"metadata": {"name": 5}}]})");
  CHECK(store.generations().empty());
  fake->push(200, R"({"items": {"a": 1}})");
  CHECK(store.generations().empty());

  fake->push(201, R"({"metadata": null})");
  CHECK_THROWS_AS(store.create_generation(2), Error);
}

}  // namespace rotation_state_test
