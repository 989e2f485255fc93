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

}  // namespace fluxkey::sim::kube::kube_protobuf_test
