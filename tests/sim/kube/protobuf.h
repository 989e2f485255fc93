// Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf),
// which kubectl's typed clients send for `create token`, `create secret` and
// friends: the "k8s\0" envelope around runtime.Unknown, and the few messages
// kube-sim accepts, mapped to their JSON form. Field numbers follow
// k8s.io/api's generated.proto.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace fluxkey::sim::kube {

struct ProtobufObject {
  std::string api_version;
  std::string kind;
  nlohmann::json object;  // with apiVersion and kind set
};

// nullopt when the kind is not one kube-sim decodes (the caller answers
// 415); throws std::runtime_error when the bytes are malformed.
std::optional<ProtobufObject> decode_protobuf_object(std::string_view body);

// DeleteOptions sent without the apiVersion/kind envelope content
// (kind "DeleteOptions"): decoded like the others.

}  // namespace fluxkey::sim::kube
