#include "sim/kube/selectors.h"

#include <doctest/doctest.h>

#include "sim/kube/api_error.h"

namespace fluxkey::sim::kube::kube_selectors_test {

TEST_CASE("label selectors: equality, inequality, sets, existence") {
  nlohmann::json obj = {{"metadata", {{"name", "x"}, {"labels", {{"app", "a"}, {"tier", "web"}}}}}};
  CHECK(parse_label_selector("app=a").matches(obj));
  CHECK(parse_label_selector("app==a,tier!=db").matches(obj));
  CHECK_FALSE(parse_label_selector("app=b").matches(obj));
  CHECK(parse_label_selector("tier in (web, api)").matches(obj));
  CHECK_FALSE(parse_label_selector("tier notin (web)").matches(obj));
  CHECK(parse_label_selector("app").matches(obj));
  CHECK(parse_label_selector("!legacy").matches(obj));
  CHECK_FALSE(parse_label_selector("!app").matches(obj));
  CHECK(parse_label_selector("").matches(obj));
  CHECK_THROWS_AS(parse_label_selector("a b"), ApiError);
}

TEST_CASE("field selectors: known fields only") {
  nlohmann::json obj = {{"metadata", {{"name", "x"}, {"namespace", "ns"}}}, {"type", "Opaque"}};
  CHECK(parse_field_selector("metadata.name=x", {}).matches(obj));
  CHECK(parse_field_selector("metadata.namespace!=other,type=Opaque", {"type"}).matches(obj));
  CHECK_FALSE(parse_field_selector("metadata.name=y", {}).matches(obj));
  try {
    parse_field_selector("spec.foo=1", {});
    FAIL("expected a refusal");
  } catch (const ApiError& e) {
    CHECK(e.code() == 400);
    CHECK(std::string(e.what()) ==
          "\"spec.foo\" is not a known field selector: only \"metadata.name\", "
          "\"metadata.namespace\"");
  }
}

}  // namespace fluxkey::sim::kube::kube_selectors_test
