#include "flux/api_version.h"

#include <doctest/doctest.h>

#include "core/error.h"
#include "support/flux_fake_cluster.h"
#include "support/kube_fakes.h"

namespace flux_api_version_test {

using namespace fluxkey;
using namespace fluxkey::flux;
using namespace fluxkey::flux::testing;

namespace {

Json kustomization(const std::string& apiVersion = "kustomize.toolkit.fluxcd.io/v1") {
  return {{"apiVersion", apiVersion},
          {"kind", "Kustomization"},
          {"metadata", {{"namespace", "flux-system"}, {"name", "apps"}}}};
}

ObjectRef apps() {
  return ObjectRef{find_kind("ks"), "flux-system", "apps"};
}

}  // namespace

TEST_CASE("fallback decision: a served version's 404 is a missing object") {
  const KindInfo& ks = *find_kind("ks");
  FallbackDecision d = decide_fallback(ks, "v1", Served::kYes);
  CHECK(d.object_missing);
  // Discovery unreadable: an older version may hold it; the last one's 404
  // is taken at its word.
  d = decide_fallback(ks, "v1", Served::kUnknown);
  CHECK_FALSE(d.object_missing);
  CHECK(d.next_version == "v1beta2");
  CHECK(decide_fallback(ks, "v1beta2", Served::kUnknown).object_missing);
  // Not served: the next version of the table, then none.
  d = decide_fallback(ks, "v1", Served::kNo);
  CHECK_FALSE(d.object_missing);
  CHECK(d.next_version == "v1beta2");
  d = decide_fallback(ks, "v1beta2", Served::kNo);
  CHECK_FALSE(d.object_missing);
  CHECK(d.next_version.empty());
  CHECK(decide_fallback(*find_kind("hr"), "v2", Served::kNo).next_version == "v2beta2");
}

TEST_CASE("paths of a kind at a version") {
  CHECK(collection_path(*find_kind("hr"), "v2", "team") ==
        "/apis/helm.toolkit.fluxcd.io/v2/namespaces/team/helmreleases");
  CHECK(object_path(*find_kind("gitrepository"), "v1beta2",
                    ObjectRef{find_kind("gitrepository"), "flux-system", "fleet"}) ==
        "/apis/source.toolkit.fluxcd.io/v1beta2/namespaces/flux-system/gitrepositories/fleet");
}

TEST_CASE("the current version answers: no discovery needed") {
  FakeClient fake;
  fake.cluster->add("kustomize.toolkit.fluxcd.io/v1", "kustomizations", kustomization());
  ApiVersions versions(fake.client);
  ApiVersions::Found found = versions.get(apps());
  CHECK(found.version == "v1");
  CHECK(found.object["metadata"]["name"] == "apps");
  CHECK(fake.cluster->log.size() == 1);
}

TEST_CASE("an old Flux: v1 is not served, so v1beta2 is used and remembered") {
  FakeClient fake;
  fake.cluster->add("kustomize.toolkit.fluxcd.io/v1beta2", "kustomizations",
                    kustomization("kustomize.toolkit.fluxcd.io/v1beta2"));
  ApiVersions versions(fake.client);
  CHECK(versions.get(apps()).version == "v1beta2");
  CHECK(fake.cluster->log ==
        std::vector<std::string>{"GET /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/"
                                 "kustomizations/apps",
                                 "GET /apis/kustomize.toolkit.fluxcd.io/v1",
                                 "GET /apis/kustomize.toolkit.fluxcd.io/v1beta2/namespaces/"
                                 "flux-system/kustomizations/apps"});
  fake.cluster->log.clear();
  CHECK(versions.get(apps()).version == "v1beta2");
  CHECK(fake.cluster->log.size() == 1);
}

TEST_CASE(
    "a version served without the kind's resource falls back too (OCIRepository on Flux 2.3)") {
  FakeClient fake;
  fake.cluster->serve("source.toolkit.fluxcd.io/v1", "gitrepositories");
  fake.cluster->add("source.toolkit.fluxcd.io/v1beta2", "ocirepositories",
                    {{"metadata", {{"namespace", "flux-system"}, {"name", "app"}}}});
  ApiVersions versions(fake.client);
  CHECK(versions.get(ObjectRef{find_kind("ocirepository"), "flux-system", "app"}).version ==
        "v1beta2");
}

TEST_CASE("a missing object is named with kind, namespace and name") {
  FakeClient fake;
  fake.cluster->serve("kustomize.toolkit.fluxcd.io/v1", "kustomizations");
  ApiVersions versions(fake.client);
  CHECK_THROWS_WITH_AS(versions.get(apps()),
                       doctest::Contains("Kustomization flux-system/apps not found"), Error);
}

TEST_CASE("no version served at all: is Flux installed?") {
  FakeClient fake;
  ApiVersions versions(fake.client);
  CHECK_THROWS_WITH_AS(versions.get(apps()), doctest::Contains("is Flux installed"), Error);
  // One discovery per version, and no more than the table holds.
  CHECK(fake.cluster->log.size() == 4);
}

TEST_CASE("a discovery reply that is not an object lists no resource (fuzz)") {
  auto fake = std::make_shared<kube::testing::FakeState>();
  kube::RestConfig config;
  config.server = "https://127.0.0.1:6443";
  kube::Client client(std::move(config), std::make_unique<kube::testing::FakeTransport>(fake));
  fake->push(404, R"({"kind": "Status", "reason": "NotFound", "code": 404})");
  fake->push(200, "");  // discovery of v1: an empty body, read as null
  fake->push(200, kustomization("kustomize.toolkit.fluxcd.io/v1beta2").dump());
  ApiVersions versions(client);
  CHECK(versions.get(apps()).version == "v1beta2");
}

}  // namespace flux_api_version_test
