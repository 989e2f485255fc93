#include "flux/source.h"

#include <doctest/doctest.h>

#include "core/error.h"

namespace flux_source_test {

using namespace fluxkey;
using namespace fluxkey::flux;
using nlohmann::json;

namespace {

json meta(const std::string& ns, const std::string& name) {
  return {{"namespace", ns}, {"name", name}};
}

ObjectRef source(const std::string& kind, const json& object) {
  auto ref = source_of(*find_kind(kind), object);
  REQUIRE(ref.has_value());
  return *ref;
}

}  // namespace

TEST_CASE("a Kustomization's source is spec.sourceRef, in its own namespace by default") {
  json ks = {{"metadata", meta("apps", "web")},
             {"spec", {{"sourceRef", {{"kind", "GitRepository"}, {"name", "fleet"}}}}}};
  ObjectRef ref = source("ks", ks);
  CHECK(ref.kind->kind == "GitRepository");
  CHECK(ref.namespace_ == "apps");
  CHECK(ref.name == "fleet");
  CHECK(ref.str() == "GitRepository apps/fleet");

  ks["spec"]["sourceRef"] = {
      {"kind", "OCIRepository"}, {"name", "app"}, {"namespace", "flux-system"}};
  ref = source("ks", ks);
  CHECK(ref.kind->kind == "OCIRepository");
  CHECK(ref.namespace_ == "flux-system");

  ks["spec"]["sourceRef"] = {{"kind", "Bucket"}, {"name", "b"}};
  CHECK(source("ks", ks).kind->kind == "Bucket");
}

TEST_CASE("a source fluxkey cannot reconcile is an error naming the object and the field") {
  json ks = {{"metadata", meta("apps", "web")},
             {"spec", {{"sourceRef", {{"kind", "HelmRepository"}, {"name", "charts"}}}}}};
  try {
    source_of(*find_kind("ks"), ks);
    FAIL("no error");
  } catch (const Error& e) {
    std::string what = e.what();
    CHECK(what.find("Kustomization apps/web") != std::string::npos);
    CHECK(what.find("spec.sourceRef.kind \"HelmRepository\"") != std::string::npos);
  }
  ks["spec"]["sourceRef"] = {{"kind", "GitRepository"}};
  CHECK_THROWS_WITH_AS(source_of(*find_kind("ks"), ks),
                       doctest::Contains("spec.sourceRef.name is empty"), Error);
}

TEST_CASE("a HelmRelease's source: chartRef, else the HelmChart made from spec.chart") {
  json hr = {{"metadata", meta("team", "podinfo")},
             {"spec", {{"chartRef", {{"kind", "OCIRepository"}, {"name", "podinfo"}}}}}};
  ObjectRef ref = source("hr", hr);
  CHECK(ref.kind->kind == "OCIRepository");
  CHECK(ref.namespace_ == "team");
  CHECK(ref.name == "podinfo");

  hr["spec"]["chartRef"] = {{"kind", "HelmChart"}, {"name", "c"}, {"namespace", "charts"}};
  ref = source("hr", hr);
  CHECK(ref.kind->kind == "HelmChart");
  CHECK(ref.namespace_ == "charts");

  // spec.chart: the HelmChart "<namespace>-<name>" in the source's namespace.
  hr["spec"] = {
      {"chart",
       {{"spec",
         {{"chart", "podinfo"},
          {"sourceRef",
           {{"kind", "HelmRepository"}, {"name", "repo"}, {"namespace", "flux-system"}}}}}}}};
  ref = source("hr", hr);
  CHECK(ref.kind->kind == "HelmChart");
  CHECK(ref.namespace_ == "flux-system");
  CHECK(ref.name == "team-podinfo");
  hr["spec"]["chart"]["spec"]["sourceRef"].erase("namespace");
  CHECK(source("hr", hr).namespace_ == "team");
}

TEST_CASE("a HelmChart's source is in the chart's own namespace") {
  json chart = {{"metadata", meta("flux-system", "team-podinfo")},
                {"spec", {{"sourceRef", {{"kind", "HelmRepository"}, {"name", "repo"}}}}}};
  ObjectRef ref = source("helmchart", chart);
  CHECK(ref.kind->kind == "HelmRepository");
  CHECK(ref.namespace_ == "flux-system");
  CHECK(ref.name == "repo");
}

TEST_CASE("kinds without a source have none") {
  for (const char* kind : {"gitrepository", "ocirepository", "helmrepository", "bucket",
                           "imagerepository", "imageupdateautomation", "receiver"}) {
    CAPTURE(kind);
    CHECK_FALSE(source_of(*find_kind(kind), json{{"metadata", meta("a", "b")}}).has_value());
  }
}

}  // namespace flux_source_test
