#include "sim/kube/managed_fields.h"

#include <doctest/doctest.h>

#include "sim/kube/api_error.h"

namespace fluxkey::sim::kube::kube_managed_fields_test {
namespace {

using nlohmann::json;

ResourceInfo secret_info() {
  return {.version = "v1", .plural = "secrets", .kind = "Secret", .map_fields = {{"data"}}};
}

json created_by(const std::string& manager, json object) {
  ResourceInfo info = secret_info();
  record_update(object, nullptr, {manager, "Update", "v1", ""}, info, "t0");
  return object;
}

}  // namespace

TEST_CASE("an Update owns the fields it set, in FieldsV1 form") {
  json s = created_by("kubectl-create", {{"metadata", {{"name", "s"}, {"labels", {{"a", "1"}}}}},
                                         {"data", {{"k", "dg=="}}},
                                         {"type", "Opaque"}});
  REQUIRE(s["metadata"]["managedFields"].size() == 1);
  const json& e = s["metadata"]["managedFields"][0];
  CHECK(e["manager"] == "kubectl-create");
  CHECK(e["operation"] == "Update");
  CHECK(e["fieldsV1"] ==
        json({{"f:data", {{".", json::object()}, {"f:k", json::object()}}},
              {"f:metadata", {{"f:labels", {{".", json::object()}, {"f:a", json::object()}}}}},
              {"f:type", json::object()}}));
}

TEST_CASE("apply conflicts with another manager's field, unless the value is the same or forced") {
  ResourceInfo info = secret_info();
  json live = created_by("kubectl-create",
                         {{"metadata", {{"name", "s"}}}, {"data", {{"a", "MQ=="}, {"b", "Mg=="}}}});
  json same = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"data", {{"a", "MQ=="}}}};
  json shared = server_side_apply(&live, same, {"mine", "Apply", "v1", ""}, false, info, "t1");
  CHECK(shared["metadata"]["managedFields"].size() == 2);

  json other = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"data", {{"a", "eA=="}, {"b", "eQ=="}}}};
  try {
    server_side_apply(&live, other, {"mine", "Apply", "v1", ""}, false, info, "t1");
    FAIL("expected a conflict");
  } catch (const ApiError& e) {
    CHECK(e.code() == 409);
    CHECK(e.reason() == "Conflict");
    CHECK(std::string(e.what()) ==
          "Apply failed with 2 conflicts: conflicts with \"kubectl-create\" using v1:\n- .data.a\n"
          "- .data.b");
    CHECK(e.details()["causes"].size() == 2);
    CHECK(e.details()["causes"][0]["reason"] == "FieldManagerConflict");
  }
  json forced = server_side_apply(&live, other, {"mine", "Apply", "v1", ""}, true, info, "t1");
  CHECK(forced["data"]["a"] == "eA==");
  REQUIRE(forced["metadata"]["managedFields"].size() == 1);
  CHECK(forced["metadata"]["managedFields"][0]["manager"] == "mine");
}

TEST_CASE("apply removes fields its manager dropped, unless someone else owns them") {
  ResourceInfo info = secret_info();
  json first = {{"apiVersion", "v1"},
                {"kind", "Secret"},
                {"metadata", {{"name", "s"}, {"labels", {{"a", "1"}, {"b", "2"}}}}}};
  json live = server_side_apply(nullptr, first, {"m", "Apply", "v1", ""}, false, info, "t0");
  // Another applier co-owns label b with the same value.
  json co = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"labels", {{"b", "2"}}}}}};
  live = server_side_apply(&live, co, {"n", "Apply", "v1", ""}, false, info, "t1");
  json second = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s"}}}};
  live = server_side_apply(&live, second, {"m", "Apply", "v1", ""}, false, info, "t2");
  CHECK(live["metadata"]["labels"] == json({{"b", "2"}}));
}

TEST_CASE("an Update takes changed fields from other managers") {
  ResourceInfo info = secret_info();
  json applied = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"data", {{"a", "MQ=="}}}};
  json live = server_side_apply(nullptr, applied, {"m", "Apply", "v1", ""}, false, info, "t0");
  json updated = live;
  updated["data"]["a"] = "Mg==";
  record_update(updated, &live, {"editor", "Update", "v1", ""}, info, "t1");
  REQUIRE(updated["metadata"]["managedFields"].size() == 1);
  CHECK(updated["metadata"]["managedFields"][0]["manager"] == "editor");
}

TEST_CASE("FieldsV1 round trip") {
  FieldSet fields = {{"data", "k"}, {"metadata", "labels", "a"}, {"type"}};
  CHECK(from_fields_v1(to_fields_v1(fields, secret_info())) == fields);
  CHECK(path_string({"metadata", "labels", "app.kubernetes.io/name"}) ==
        ".metadata.labels.app.kubernetes.io/name");
}

}  // namespace fluxkey::sim::kube::kube_managed_fields_test
