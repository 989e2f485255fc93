#include "sim/kube/protobuf.h"

#include <doctest/doctest.h>

#include <string>

#include "core/base64.h"

namespace fluxkey::sim::kube::kube_protobuf_test {
namespace {

// A tiny encoder, the mirror of the decoder under test.
std::string varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string bytes_field(uint32_t field, const std::string& data) {
  return varint(field << 3 | 2) + varint(data.size()) + data;
}
std::string varint_field(uint32_t field, uint64_t v) {
  return varint(field << 3) + varint(v);
}
std::string entry(uint32_t field, const std::string& k, const std::string& v) {
  return bytes_field(field, bytes_field(1, k) + bytes_field(2, v));
}
std::string envelope(const std::string& api_version, const std::string& kind,
                     const std::string& raw) {
  return std::string("k8s\0", 4) +
         bytes_field(1, bytes_field(1, api_version) + bytes_field(2, kind)) + bytes_field(2, raw) +
         bytes_field(4, "application/vnd.kubernetes.protobuf");
}

}  // namespace

TEST_CASE("protobuf Secret: metadata, bytes data as base64, stringData, type") {
  std::string meta = bytes_field(1, "x") + bytes_field(3, "ns") + entry(11, "app", "demo") +
                     entry(12, "note", "hi");
  std::string raw = bytes_field(1, meta) + entry(2, "k", std::string("\0\xff", 2)) +
                    bytes_field(3, "Opaque") + entry(4, "s", "plain") + varint_field(5, 1);
  auto decoded = decode_protobuf_object(envelope("v1", "Secret", raw));
  REQUIRE(decoded.has_value());
  const auto& o = decoded->object;
  CHECK(o["apiVersion"] == "v1");
  CHECK(o["kind"] == "Secret");
  CHECK(o["metadata"]["name"] == "x");
  CHECK(o["metadata"]["namespace"] == "ns");
  CHECK(o["metadata"]["labels"]["app"] == "demo");
  CHECK(o["metadata"]["annotations"]["note"] == "hi");
  CHECK(o["data"]["k"] == base64_encode(std::string("\0\xff", 2)));
  CHECK(o["stringData"]["s"] == "plain");
  CHECK(o["type"] == "Opaque");
  CHECK(o["immutable"] == true);
}

TEST_CASE("protobuf TokenRequest: audiences, expirationSeconds, boundObjectRef") {
  std::string ref =
      bytes_field(1, "Secret") + bytes_field(2, "v1") + bytes_field(3, "s") + bytes_field(4, "u-1");
  std::string spec =
      bytes_field(1, "a1") + bytes_field(1, "a2") + bytes_field(3, ref) + varint_field(4, 600);
  std::string raw = bytes_field(1, bytes_field(1, "robot")) + bytes_field(2, spec);
  auto decoded = decode_protobuf_object(envelope("authentication.k8s.io/v1", "TokenRequest", raw));
  REQUIRE(decoded.has_value());
  const auto& s = decoded->object["spec"];
  CHECK(s["audiences"] == nlohmann::json({"a1", "a2"}));
  CHECK(s["expirationSeconds"] == 600);
  CHECK(s["boundObjectRef"] ==
        nlohmann::json({{"kind", "Secret"}, {"apiVersion", "v1"}, {"name", "s"}, {"uid", "u-1"}}));
}

TEST_CASE("protobuf: no expirationSeconds stays absent; unknown kinds and bad bytes") {
  auto decoded = decode_protobuf_object(
      envelope("authentication.k8s.io/v1", "TokenRequest", bytes_field(2, "")));
  REQUIRE(decoded.has_value());
  CHECK(!decoded->object["spec"].contains("expirationSeconds"));
  CHECK(!decode_protobuf_object(envelope("apps/v1", "Deployment", "")).has_value());
  CHECK_THROWS(decode_protobuf_object("not protobuf"));
  std::string truncated = envelope("v1", "Secret", bytes_field(1, bytes_field(1, "x")));
  truncated.resize(truncated.size() - 40);
  CHECK_THROWS(decode_protobuf_object(truncated));
}

TEST_CASE("protobuf ConfigMap: data as text, binaryData as base64, immutable") {
  std::string raw = bytes_field(1, bytes_field(1, "cm")) + entry(2, "a", "1") + entry(2, "b", "2") +
                    entry(3, "bin", "\x01") + varint_field(4, 0);
  auto decoded = decode_protobuf_object(envelope("v1", "ConfigMap", raw));
  REQUIRE(decoded.has_value());
  CHECK(decoded->object == nlohmann::json::parse(R"({
    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
    "data": {"a": "1", "b": "2"}, "binaryData": {"bin": "AQ=="}, "immutable": false})"));
}

TEST_CASE("protobuf ObjectMeta: owners, finalizers, generation; Go's empty strings are unset") {
  std::string owner = bytes_field(1, "Deployment") + bytes_field(3, "web") + bytes_field(4, "u-9") +
                      bytes_field(5, "apps/v1") + varint_field(6, 1) + varint_field(7, 0);
  // Go writes every string field, set or not, and the JSON form leaves the
  // empty ones out. Field 8 (creationTimestamp) is the server's: skipped.
  std::string meta = bytes_field(1, "x") + bytes_field(2, "") + bytes_field(3, "") +
                     bytes_field(5, "") + bytes_field(6, "") + varint_field(7, 0) +
                     bytes_field(8, bytes_field(1, "ts")) + bytes_field(13, owner) +
                     bytes_field(14, "f1") + bytes_field(14, "f2");
  auto decoded = decode_protobuf_object(envelope("v1", "Secret", bytes_field(1, meta)));
  REQUIRE(decoded.has_value());
  CHECK(decoded->object["metadata"] == nlohmann::json::parse(R"({
    "name": "x", "generation": 0, "finalizers": ["f1", "f2"],
    "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "u-9",
                         "apiVersion": "apps/v1", "controller": true,
                         "blockOwnerDeletion": false}]})"));
}

TEST_CASE("protobuf ServiceAccount and Namespace") {
  std::string ref = bytes_field(1, "Secret") + bytes_field(2, "ns") + bytes_field(3, "tok") +
                    bytes_field(4, "u") + bytes_field(5, "v1") + bytes_field(6, "7") +
                    bytes_field(7, "data");
  std::string sa = bytes_field(1, bytes_field(1, "robot")) + bytes_field(2, ref) +
                   bytes_field(3, bytes_field(1, "pull")) + varint_field(4, 0);
  auto decoded = decode_protobuf_object(envelope("v1", "ServiceAccount", sa));
  REQUIRE(decoded.has_value());
  CHECK(decoded->object == nlohmann::json::parse(R"({
    "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"},
    "secrets": [{"kind": "Secret", "namespace": "ns", "name": "tok", "uid": "u",
                 "apiVersion": "v1", "resourceVersion": "7", "fieldPath": "data"}],
    "imagePullSecrets": [{"name": "pull"}], "automountServiceAccountToken": false})"));

  std::string ns =
      bytes_field(1, bytes_field(1, "team")) + bytes_field(2, bytes_field(1, "kubernetes"));
  decoded = decode_protobuf_object(envelope("v1", "Namespace", ns));
  REQUIRE(decoded.has_value());
  CHECK(decoded->object == nlohmann::json::parse(R"({
    "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"},
    "spec": {"finalizers": ["kubernetes"]}})"));
}

TEST_CASE("protobuf DeleteOptions of any group, and SelfSubjectReview's metadata") {
  std::string pre = bytes_field(1, "u-1") + bytes_field(2, "42");
  std::string raw = varint_field(1, 0) + bytes_field(2, pre) + varint_field(3, 0) +
                    bytes_field(4, "Background") + bytes_field(5, "All");
  auto decoded = decode_protobuf_object(envelope("meta.k8s.io/v1", "DeleteOptions", raw));
  REQUIRE(decoded.has_value());
  CHECK(decoded->object == nlohmann::json::parse(R"({
    "apiVersion": "meta.k8s.io/v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
    "preconditions": {"uid": "u-1", "resourceVersion": "42"}, "orphanDependents": false,
    "propagationPolicy": "Background", "dryRun": ["All"]})"));

  decoded = decode_protobuf_object(envelope("authentication.k8s.io/v1", "SelfSubjectReview",
                                            bytes_field(1, "") + bytes_field(2, "status")));
  REQUIRE(decoded.has_value());
  CHECK(decoded->object == nlohmann::json::parse(R"({
    "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview", "metadata": {}})"));
  CHECK(!decode_protobuf_object(envelope("v2", "Secret", "")).has_value());
}

TEST_CASE("protobuf: wrong wire types, unknown wire types and encodings are refused") {
  // name (field 1) sent as a varint.
  CHECK_THROWS(
      decode_protobuf_object(envelope("v1", "Secret", bytes_field(1, varint_field(1, 3)))));
  // field 1 with wire type 3 (a group, which nothing here sends).
  CHECK_THROWS(decode_protobuf_object(envelope("v1", "Secret", varint(1 << 3 | 3))));
  CHECK_THROWS(decode_protobuf_object(envelope("v1", "Secret", "") + bytes_field(3, "gzip")));
  // Fixed-width fields nobody asked for are stepped over.
  std::string fixed = varint(9 << 3 | 1) + std::string(8, 'x') + varint(10 << 3 | 5) + "abcd";
  auto decoded = decode_protobuf_object(envelope("v1", "ConfigMap", fixed));
  REQUIRE(decoded.has_value());
  CHECK(decoded->object == nlohmann::json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap"})"));
}

}  // namespace fluxkey::sim::kube::kube_protobuf_test
