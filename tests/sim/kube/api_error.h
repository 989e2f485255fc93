// Kubernetes API errors as the real API server shapes them: every failure
// is a v1 Status with reason, message, details and code (see
// k8s.io/apimachinery/pkg/api/errors). Handlers throw ApiError; the router
// turns it into the reply.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace fluxkey::sim::kube {

class ApiError : public std::runtime_error {
 public:
  ApiError(int code, std::string reason, const std::string& message,
           nlohmann::json details = nullptr)
      : std::runtime_error(message),
        code_(code),
        reason_(std::move(reason)),
        details_(std::move(details)) {}

  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const nlohmann::json& details() const { return details_; }
  nlohmann::json to_status() const;

 private:
  int code_;
  std::string reason_;
  nlohmann::json details_;
};

// One entry of a field.ErrorList, printed as "<field>: <type>: <detail>".
struct FieldError {
  std::string type;  // "Invalid value", "Required value", "Forbidden", "Not supported"
  std::string field;
  nlohmann::json value;  // shown for Invalid value; null when not shown
  std::string detail;
  std::string cause_type() const;  // FieldValueInvalid, ...
  std::string message() const;     // the aggregated form
};

// `resource` is the plural ("secrets"), `group` empty for the core group.
ApiError not_found(const std::string& group, const std::string& resource, const std::string& name);
ApiError already_exists(const std::string& group, const std::string& resource,
                        const std::string& name);
// "Operation cannot be fulfilled on <resource.group> \"name\": <why>"
ApiError conflict(const std::string& group, const std::string& resource, const std::string& name,
                  const std::string& why);
ApiError stale_resource_version(const std::string& group, const std::string& resource,
                                const std::string& name);
ApiError invalid(const std::string& group, const std::string& kind, const std::string& name,
                 const std::vector<FieldError>& errors);
ApiError bad_request(const std::string& message);
ApiError unauthorized();
ApiError forbidden(const std::string& group, const std::string& resource, const std::string& name,
                   const std::string& message);
ApiError method_not_supported(const std::string& group, const std::string& resource,
                              const std::string& action);
ApiError unsupported_media_type(const std::string& message);
ApiError not_acceptable(const std::string& message);
// 404 for paths the server does not serve at all.
ApiError path_not_found();
ApiError internal_error(const std::string& message);

}  // namespace fluxkey::sim::kube
