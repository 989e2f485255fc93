#include "core/build_info.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace fluxkey {
namespace {

// Insertion order kept: the fields read in the order of the text output.
nlohmann::ordered_json to_json(const BuildInfo& info) {
  return {{"version", info.version},
          {"commit", info.commit},
          {"buildDate", info.build_date},
          {"platform", info.platform},
          {"compiler", info.compiler},
          {"libraries",
           {{"libcurl", info.libcurl}, {"openssl", info.openssl}, {"libsodium", info.libsodium}}}};
}

// A JSON string is a YAML double-quoted scalar: quoting every value keeps
// "2026-12-01T00:00:00Z" a string and not a YAML timestamp, "3.0" not a float.
void yaml_lines(const nlohmann::ordered_json& object, const std::string& indent, std::string& out) {
  for (const auto& [key, value] : object.items()) {
    if (value.is_object()) {
      out += indent + key + ":\n";
      yaml_lines(value, indent + "  ", out);
    } else {
      out += indent + key + ": " +
             value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  }
}

}  // namespace

std::string build_info_text(const BuildInfo& info) {
  const std::vector<std::pair<std::string, std::string>> lines = {
      {"Commit", info.commit},      {"Build date", info.build_date}, {"Platform", info.platform},
      {"Compiler", info.compiler},  {"libcurl", info.libcurl},       {"OpenSSL", info.openssl},
      {"libsodium", info.libsodium}};
  size_t width = 0;
  for (const auto& [label, value] : lines) width = std::max(width, label.size());
  std::string out = "fluxkey " + info.version + "\n";
  for (const auto& [label, value] : lines) {
    out += "  " + label + ":" + std::string(width - label.size() + 1, ' ') + value + "\n";
  }
  return out;
}

std::string build_info_json(const BuildInfo& info) {
  return to_json(info).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string build_info_yaml(const BuildInfo& info) {
  std::string out;
  yaml_lines(to_json(info), "", out);
  return out;
}

}  // namespace fluxkey
