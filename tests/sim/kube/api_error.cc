#include "sim/kube/api_error.h"

namespace fluxkey::sim::kube {
namespace {

std::string qualified(const std::string& group, const std::string& resource) {
  return group.empty() ? resource : resource + "." + group;
}

nlohmann::json details_of(const std::string& group, const std::string& kind,
                          const std::string& name) {
  nlohmann::json d = nlohmann::json::object();
  if (!name.empty()) d["name"] = name;
  if (!group.empty()) d["group"] = group;
  if (!kind.empty()) d["kind"] = kind;
  return d;
}

// Go's %v of a field value: strings quoted, numbers bare.
std::string show_value(const nlohmann::json& v) {
  if (v.is_string()) return nlohmann::json(v.get<std::string>()).dump();
  return v.dump();
}

}  // namespace

nlohmann::json ApiError::to_status() const {
  nlohmann::json s = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", what()},  {"reason", reason_},
      {"code", code_}};
  if (!details_.is_null()) s["details"] = details_;
  if (reason_.empty()) s.erase("reason");
  return s;
}

std::string FieldError::cause_type() const {
  if (type == "Invalid value") return "FieldValueInvalid";
  if (type == "Required value") return "FieldValueRequired";
  if (type == "Forbidden") return "FieldValueForbidden";
  if (type == "Not supported") return "FieldValueNotSupported";
  if (type == "Duplicate value") return "FieldValueDuplicate";
  if (type == "Too long") return "FieldValueTooLong";
  return "FieldValueInvalid";
}

std::string FieldError::message() const {
  std::string body = type;
  if (type == "Invalid value" || type == "Not supported" || type == "Duplicate value") {
    body += ": " + show_value(value);
  }
  if (!detail.empty()) body += ": " + detail;
  return field.empty() ? body : field + ": " + body;
}

ApiError not_found(const std::string& group, const std::string& resource, const std::string& name) {
  return ApiError(404, "NotFound", qualified(group, resource) + " \"" + name + "\" not found",
                  details_of(group, resource, name));
}

ApiError already_exists(const std::string& group, const std::string& resource,
                        const std::string& name) {
  return ApiError(409, "AlreadyExists",
                  qualified(group, resource) + " \"" + name + "\" already exists",
                  details_of(group, resource, name));
}

ApiError conflict(const std::string& group, const std::string& resource, const std::string& name,
                  const std::string& why) {
  return ApiError(409, "Conflict",
                  "Operation cannot be fulfilled on " + qualified(group, resource) + " \"" + name +
                      "\": " + why,
                  details_of(group, resource, name));
}

ApiError stale_resource_version(const std::string& group, const std::string& resource,
                                const std::string& name) {
  return conflict(group, resource, name,
                  "the object has been modified; please apply your changes to the latest version "
                  "and try again");
}

ApiError invalid(const std::string& group, const std::string& kind, const std::string& name,
                 const std::vector<FieldError>& errors) {
  std::string gk = group.empty() ? kind : kind + "." + group;
  std::string message = gk + " \"" + name + "\" is invalid";
  nlohmann::json causes = nlohmann::json::array();
  std::string aggregated;
  for (const auto& e : errors) {
    causes.push_back({{"reason", e.cause_type()},
                      {"message", e.message().substr(e.field.empty() ? 0 : e.field.size() + 2)},
                      {"field", e.field}});
  }
  // errors.ToAggregate(): one error bare, several in brackets.
  if (errors.size() == 1) {
    aggregated = errors[0].message();
  } else if (!errors.empty()) {
    aggregated = "[";
    for (size_t i = 0; i < errors.size(); ++i) {
      if (i) aggregated += ", ";
      aggregated += errors[i].message();
    }
    aggregated += "]";
  }
  if (!aggregated.empty()) message += ": " + aggregated;
  nlohmann::json details = details_of(group, kind, name);
  details["name"] = name;
  details["causes"] = causes;
  return ApiError(422, "Invalid", message, details);
}

ApiError bad_request(const std::string& message) {
  return ApiError(400, "BadRequest", message);
}

ApiError unauthorized() {
  return ApiError(401, "Unauthorized", "Unauthorized");
}

ApiError forbidden(const std::string& group, const std::string& resource, const std::string& name,
                   const std::string& message) {
  std::string subject = qualified(group, resource);
  if (!name.empty()) subject += " \"" + name + "\"";
  return ApiError(403, "Forbidden", subject + " is forbidden: " + message,
                  details_of(group, resource, name));
}

ApiError method_not_supported(const std::string& group, const std::string& resource,
                              const std::string& action) {
  return ApiError(
      405, "MethodNotAllowed",
      action + " is not supported on resources of kind \"" + qualified(group, resource) + "\"",
      details_of(group, resource, ""));
}

ApiError unsupported_media_type(const std::string& message) {
  return ApiError(415, "UnsupportedMediaType", message);
}

ApiError not_acceptable(const std::string& message) {
  return ApiError(406, "NotAcceptable", message);
}

ApiError path_not_found() {
  return ApiError(404, "NotFound", "the server could not find the requested resource",
                  nlohmann::json::object());
}

ApiError internal_error(const std::string& message) {
  return ApiError(500, "InternalError", "Internal error occurred: " + message,
                  {{"causes", {{{"message", message}}}}});
}

}  // namespace fluxkey::sim::kube
