// meta.k8s.io/v1 Table replies, which `kubectl get` asks for (Accept:
// application/json;as=Table;v=v1;g=meta.k8s.io) to print its columns.
#pragma once

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "sim/kube/resources.h"

namespace fluxkey::sim::kube {

bool wants_table(const httplib::Request& req);

// A list (kind ...List) or a single object as a Table with Name, the
// kind's printer columns and Age; row objects are PartialObjectMetadata.
nlohmann::json to_table(const nlohmann::json& list_or_object, const ResourceInfo& info,
                        std::chrono::system_clock::time_point now);

// Age as kubectl prints it: 45s, 3m20s, 5h, 2d3h, 40d.
std::string human_duration(std::chrono::seconds age);

}  // namespace fluxkey::sim::kube
