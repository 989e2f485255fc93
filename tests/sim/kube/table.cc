#include "sim/kube/table.h"

#include "core/time.h"

namespace fluxkey::sim::kube {
namespace {

nlohmann::json column_value(const nlohmann::json& object, const std::string& spec) {
  bool count = !spec.empty() && spec[0] == '#';
  std::string path = count ? spec.substr(1) : spec;
  const nlohmann::json* cur = &object;
  size_t i = 1;  // paths start with '.'
  while (i <= path.size() && cur) {
    size_t j = path.find('.', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (!cur->is_object() || !cur->contains(part)) {
      cur = nullptr;
      break;
    }
    cur = &(*cur)[part];
    i = j + 1;
  }
  if (count) return cur && (cur->is_object() || cur->is_array()) ? cur->size() : 0;
  if (!cur) return "";
  return cur->is_string() ? *cur : nlohmann::json(cur->dump());
}

}  // namespace

bool wants_table(const httplib::Request& req) {
  std::string accept = req.get_header_value("Accept");
  return accept.find("as=Table") != std::string::npos &&
         accept.find("g=meta.k8s.io") != std::string::npos;
}

std::string human_duration(std::chrono::seconds age) {
  long long s = age.count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  long long m = s / 60;
  if (m < 10) return std::to_string(m) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  if (m < 180) return std::to_string(m) + "m";
  long long h = m / 60;
  if (h < 8) return std::to_string(h) + "h" + (m % 60 ? std::to_string(m % 60) + "m" : "");
  if (h < 48) return std::to_string(h) + "h";
  long long d = h / 24;
  if (d < 8) return std::to_string(d) + "d" + (h % 24 ? std::to_string(h % 24) + "h" : "");
  if (d < 365 * 2) return std::to_string(d) + "d";
  return std::to_string(d / 365) + "y";
}

nlohmann::json to_table(const nlohmann::json& list_or_object, const ResourceInfo& info,
                        std::chrono::system_clock::time_point now) {
  nlohmann::json columns = nlohmann::json::array();
  columns.push_back({{"name", "Name"},
                     {"type", "string"},
                     {"format", "name"},
                     {"description", "Name must be unique within a namespace."},
                     {"priority", 0}});
  for (const auto& [header, path] : info.printer_columns) {
    columns.push_back({{"name", header},
                       {"type", path[0] == '#' ? "integer" : "string"},
                       {"format", ""},
                       {"description", header},
                       {"priority", 0}});
  }
  columns.push_back({{"name", "Age"},
                     {"type", "string"},
                     {"format", ""},
                     {"description",
                      "CreationTimestamp is a timestamp representing the server time "
                      "when this object was created."},
                     {"priority", 0}});
  bool is_list = list_or_object.contains("items");
  nlohmann::json items =
      is_list ? list_or_object["items"] : nlohmann::json::array({list_or_object});
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& item : items) {
    const nlohmann::json& meta = item["metadata"];
    nlohmann::json cells = nlohmann::json::array({meta.value("name", "")});
    for (const auto& [header, path] : info.printer_columns)
      cells.push_back(column_value(item, path));
    std::string age = "<unknown>";
    if (auto created = parse_rfc3339(meta.value("creationTimestamp", ""))) {
      age = human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *created));
    }
    cells.push_back(age);
    nlohmann::json partial_meta = meta;
    partial_meta.erase("managedFields");
    rows.push_back({{"cells", cells},
                    {"object",
                     {{"kind", "PartialObjectMetadata"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", partial_meta}}}});
  }
  nlohmann::json meta = nlohmann::json::object();
  if (is_list) meta = list_or_object.value("metadata", nlohmann::json::object());
  if (!is_list) meta["resourceVersion"] = list_or_object["metadata"].value("resourceVersion", "");
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", meta},
          {"columnDefinitions", columns},
          {"rows", rows}};
}

}  // namespace fluxkey::sim::kube
