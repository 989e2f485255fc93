#include "sim/kube/validation.h"

#include <regex>
#include <vector>

namespace fluxkey::sim::kube {

std::optional<FieldError> validate_object_name(const std::string& name, bool dns_label) {
  static const std::regex kSubdomain(
      "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  static const std::regex kLabel("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  if (name.empty()) {
    return FieldError{"Required value", "metadata.name", nullptr,
                      "name or generateName is required"};
  }
  if (dns_label) {
    if (name.size() > 63) {
      return FieldError{"Invalid value", "metadata.name", name,
                        "must be no more than 63 characters"};
    }
    if (!std::regex_match(name, kLabel)) {
      return FieldError{
          "Invalid value", "metadata.name", name,
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
          "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
          "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"};
    }
    return std::nullopt;
  }
  if (name.size() > 253) {
    return FieldError{"Invalid value", "metadata.name", name,
                      "must be no more than 253 characters"};
  }
  if (!std::regex_match(name, kSubdomain)) {
    return FieldError{
        "Invalid value", "metadata.name", name,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
        "used "
        "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"};
  }
  return std::nullopt;
}

std::optional<FieldError> validate_config_key(const std::string& field, const std::string& key) {
  static const std::regex kKey("[-._a-zA-Z0-9]+");
  std::string path = field + "[" + key + "]";
  if (key.size() > 253) {
    return FieldError{"Invalid value", path, key, "must be no more than 253 characters"};
  }
  if (!std::regex_match(key, kKey)) {
    return FieldError{"Invalid value", path, key,
                      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                      "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
                      "is '[-._a-zA-Z0-9]+')"};
  }
  if (key == ".") return FieldError{"Invalid value", path, key, "must not be '.'"};
  if (key == "..") return FieldError{"Invalid value", path, key, "must not be '..'"};
  if (key.rfind("..", 0) == 0)
    return FieldError{"Invalid value", path, key, "must not start with '..'"};
  return std::nullopt;
}

std::optional<size_t> base64_error_offset(std::string_view text) {
  auto in_alphabet = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  // Significant characters with their offsets in the input (Go skips CR and LF).
  std::vector<size_t> at;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r' && text[i] != '\n') at.push_back(i);
  }
  for (size_t q = 0; q < at.size(); q += 4) {
    bool last = q + 4 >= at.size();
    for (size_t j = 0; j < 4; ++j) {
      if (q + j >= at.size()) return text.size();  // a short final quantum
      char c = text[at[q + j]];
      if (c == '=') {
        if (!last || j < 2) return at[q + j];
        if (j == 2 && (q + 3 >= at.size() || text[at[q + 3]] != '=')) return at[q + j];
        break;
      }
      if (!in_alphabet(c)) return at[q + j];
    }
  }
  return std::nullopt;
}

}  // namespace fluxkey::sim::kube
