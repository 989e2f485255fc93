// Validation rules kube-sim shares between kinds, worded as the real API
// server words them (k8s.io/apimachinery/pkg/util/validation).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sim/kube/api_error.h"

namespace fluxkey::sim::kube {

// metadata.name: an RFC 1123 subdomain (or label, for namespaces).
std::optional<FieldError> validate_object_name(const std::string& name, bool dns_label);

// Keys of Secret and ConfigMap data: [-._a-zA-Z0-9]+, not "." or "..".
std::optional<FieldError> validate_config_key(const std::string& field, const std::string& key);

// Where Go's base64.StdEncoding would stop on this input; nullopt when valid.
std::optional<size_t> base64_error_offset(std::string_view text);

}  // namespace fluxkey::sim::kube
