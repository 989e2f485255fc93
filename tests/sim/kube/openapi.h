// A minimal OpenAPI v3 (/openapi/v3 and /openapi/v3/{api/v1|apis/g/v}): the
// PATCH operation of every resource, with its group-version-kind and the
// fieldValidation parameter. That is what kubectl looks up to decide that
// the server validates fields itself (kubectl apply, create -f); schemas are
// left out, as kube-sim checks bodies itself.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/kube/resources.h"

namespace fluxkey::sim::kube {

nlohmann::json openapi_v3_root(const ResourceRegistry& registry);

// `gv_path` is "api/v1" or "apis/{group}/{version}"; nullopt when not served.
std::optional<nlohmann::json> openapi_v3_group_version(const ResourceRegistry& registry,
                                                       const std::string& gv_path);

}  // namespace fluxkey::sim::kube
