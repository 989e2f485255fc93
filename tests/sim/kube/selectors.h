// Label and field selectors as list and watch take them
// (?labelSelector=app=x,tier!=db,!legacy&fieldSelector=metadata.name=y).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fluxkey::sim::kube {

struct Requirement {
  std::string key;
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist } op;
  std::vector<std::string> values;
};

struct LabelSelector {
  std::vector<Requirement> requirements;
  bool matches(const nlohmann::json& object) const;
};

// Throws ApiError (400) with the real parser's wording on bad syntax.
LabelSelector parse_label_selector(const std::string& text);

struct FieldSelector {
  std::vector<Requirement> requirements;  // only =, ==, != are allowed
  bool matches(const nlohmann::json& object) const;
};

// `allowed` lists the fields this resource supports (metadata.name and
// metadata.namespace always); anything else is a 400 as on the real server.
FieldSelector parse_field_selector(const std::string& text,
                                   const std::vector<std::string>& allowed);

}  // namespace fluxkey::sim::kube
