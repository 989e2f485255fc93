// YAML <-> JSON for manifests (seeds, /_sim/objects, server-side apply
// bodies) and for the kubeconfigs kube-sim writes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fluxkey::sim::kube {

// Every non-empty document of a (multi-document) YAML or JSON text. Plain
// scalars are typed as YAML 1.2 core does (null, bool, int, float); quoted
// ones stay strings. Throws std::runtime_error with the parser's message.
std::vector<nlohmann::json> parse_yaml_documents(const std::string& text);

std::string to_yaml(const nlohmann::json& value);

}  // namespace fluxkey::sim::kube
