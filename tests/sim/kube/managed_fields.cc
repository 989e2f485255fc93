#include "sim/kube/managed_fields.h"

#include <algorithm>
#include <map>

#include "sim/kube/api_error.h"

namespace fluxkey::sim::kube {
namespace {

const nlohmann::json* value_at(const nlohmann::json& object, const FieldPath& path) {
  const nlohmann::json* cur = &object;
  for (const auto& part : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

void collect(const nlohmann::json& v, FieldPath& prefix, FieldSet& out) {
  if (v.is_object() && !v.empty()) {
    for (const auto& [k, child] : v.items()) {
      prefix.push_back(k);
      collect(child, prefix, out);
      prefix.pop_back();
    }
  } else {
    out.insert(prefix);
  }
}

void set_at(nlohmann::json& object, const FieldPath& path, const nlohmann::json& value) {
  nlohmann::json* cur = &object;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    nlohmann::json& next = (*cur)[path[i]];
    if (!next.is_object()) next = nlohmann::json::object();
    cur = &next;
  }
  nlohmann::json& slot = (*cur)[path.back()];
  // An empty map in a configuration claims the map, not an emptying of it.
  if (value.is_object() && value.empty() && slot.is_object()) return;
  slot = value;
}

// Removes a leaf, then parents left empty (but never metadata itself).
void erase_at(nlohmann::json& object, const FieldPath& path) {
  std::vector<nlohmann::json*> chain = {&object};
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    nlohmann::json* cur = chain.back();
    if (!cur->is_object() || !cur->contains(path[i])) return;
    chain.push_back(&(*cur)[path[i]]);
  }
  if (!chain.back()->is_object()) return;
  chain.back()->erase(path.back());
  for (size_t i = chain.size() - 1; i >= 1; --i) {
    if (!chain[i]->is_object() || !chain[i]->empty()) break;
    if (i == 1 && path[0] == "metadata") break;
    chain[i - 1]->erase(path[i - 1]);
  }
}

bool is_map_field(const ResourceInfo& info, const FieldPath& path) {
  static const std::vector<FieldPath> kAlways = {{"metadata", "labels"},
                                                 {"metadata", "annotations"}};
  return std::find(kAlways.begin(), kAlways.end(), path) != kAlways.end() ||
         std::find(info.map_fields.begin(), info.map_fields.end(), path) != info.map_fields.end();
}

std::string manager_key(const ManagerId& id) {
  return id.manager + "\x1f" + id.operation + "\x1f" + id.subresource + "\x1f" +
         (id.operation == "Apply" ? "" : id.api_version);
}

struct Entry {
  ManagerId id;
  std::string time;
  FieldSet fields;
  bool touched = false;
};

std::vector<Entry> read_entries(const nlohmann::json* object) {
  std::vector<Entry> out;
  if (!object) return out;
  const nlohmann::json* mf = value_at(*object, {"metadata", "managedFields"});
  if (!mf || !mf->is_array()) return out;
  for (const auto& e : *mf) {
    if (!e.is_object()) continue;
    Entry entry;
    entry.id = {e.value("manager", ""), e.value("operation", "Update"), e.value("apiVersion", ""),
                e.value("subresource", "")};
    entry.time = e.value("time", "");
    if (e.contains("fieldsV1")) entry.fields = from_fields_v1(e["fieldsV1"]);
    out.push_back(std::move(entry));
  }
  return out;
}

void write_entries(nlohmann::json& object, std::vector<Entry>& entries, const ResourceInfo& info) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : entries) {
    if (e.fields.empty()) continue;
    nlohmann::json j = {
        {"manager", e.id.manager},        {"operation", e.id.operation},
        {"apiVersion", e.id.api_version}, {"time", e.time},
        {"fieldsType", "FieldsV1"},       {"fieldsV1", to_fields_v1(e.fields, info)}};
    if (!e.id.subresource.empty()) j["subresource"] = e.id.subresource;
    arr.push_back(std::move(j));
  }
  if (arr.empty()) {
    object["metadata"].erase("managedFields");
  } else {
    object["metadata"]["managedFields"] = std::move(arr);
  }
}

Entry& entry_for(std::vector<Entry>& entries, const ManagerId& id) {
  std::string key = manager_key(id);
  for (auto& e : entries) {
    if (manager_key(e.id) == key) {
      e.id.api_version = id.api_version;
      return e;
    }
  }
  entries.push_back({id, "", {}, false});
  return entries.back();
}

// As the real server prints a manager in conflicts (printManager).
std::string print_manager(const ManagerId& id) {
  std::string s = nlohmann::json(id.manager).dump();
  if (!id.subresource.empty()) s += " with subresource " + nlohmann::json(id.subresource).dump();
  if (id.operation == "Update") s += " using " + id.api_version;
  return s;
}

}  // namespace

std::string path_string(const FieldPath& path) {
  std::string out;
  for (const auto& p : path) out += "." + p;
  return out;
}

FieldSet tracked_fields(const nlohmann::json& object, const ResourceInfo& info,
                        const std::string& subresource) {
  FieldSet out;
  if (!object.is_object()) return out;
  for (const auto& [k, v] : object.items()) {
    if (k == "apiVersion" || k == "kind") continue;
    if (subresource == "status" && k != "status") continue;
    if (subresource.empty() && k == "status" && info.status_subresource) continue;
    FieldPath prefix = {k};
    if (k == "metadata") {
      if (!v.is_object()) continue;
      for (const char* sub : {"labels", "annotations", "finalizers", "ownerReferences"}) {
        auto it = v.find(sub);
        if (it == v.end()) continue;
        prefix.push_back(sub);
        collect(*it, prefix, out);
        prefix.pop_back();
      }
      continue;
    }
    collect(v, prefix, out);
  }
  return out;
}

nlohmann::json to_fields_v1(const FieldSet& fields, const ResourceInfo& info) {
  nlohmann::json root = nlohmann::json::object();
  for (const auto& path : fields) {
    nlohmann::json* cur = &root;
    FieldPath prefix;
    for (const auto& part : path) {
      if (!prefix.empty() && is_map_field(info, prefix)) (*cur)["."] = nlohmann::json::object();
      prefix.push_back(part);
      nlohmann::json& next = (*cur)["f:" + part];
      if (!next.is_object()) next = nlohmann::json::object();
      cur = &next;
    }
  }
  return root;
}

FieldSet from_fields_v1(const nlohmann::json& fields_v1) {
  FieldSet out;
  FieldPath prefix;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& node) {
    bool has_child = false;
    if (node.is_object()) {
      for (const auto& [k, child] : node.items()) {
        if (k.rfind("f:", 0) != 0) continue;  // ".", and list keys we never write
        has_child = true;
        prefix.push_back(k.substr(2));
        walk(child);
        prefix.pop_back();
      }
    }
    if (!has_child && !prefix.empty()) out.insert(prefix);
  };
  walk(fields_v1);
  return out;
}

void record_update(nlohmann::json& updated, const nlohmann::json* old, const ManagerId& who,
                   const ResourceInfo& info, const std::string& now) {
  std::vector<Entry> entries = read_entries(old);
  FieldSet new_fields = tracked_fields(updated, info, who.subresource);
  FieldSet old_fields = old ? tracked_fields(*old, info, who.subresource) : FieldSet{};
  FieldSet changed;
  for (const auto& p : new_fields) {
    const nlohmann::json* before = old ? value_at(*old, p) : nullptr;
    if (!before || *before != *value_at(updated, p)) changed.insert(p);
  }
  FieldSet removed;
  for (const auto& p : old_fields) {
    if (!new_fields.count(p)) removed.insert(p);
  }
  if (!changed.empty() || !removed.empty()) {
    for (auto& e : entries) {
      for (const auto& p : changed) e.fields.erase(p);
      // A field that turned from a leaf into a map (or back) is gone too.
      for (const auto& p : removed) e.fields.erase(p);
    }
    if (!changed.empty()) {
      Entry& mine = entry_for(entries, who);
      mine.fields.insert(changed.begin(), changed.end());
      mine.time = now;
    }
  }
  if (!updated["metadata"].is_object()) updated["metadata"] = nlohmann::json::object();
  write_entries(updated, entries, info);
}

nlohmann::json server_side_apply(const nlohmann::json* live, const nlohmann::json& applied,
                                 const ManagerId& who, bool force, const ResourceInfo& info,
                                 const std::string& now) {
  std::vector<Entry> entries = read_entries(live);
  nlohmann::json merged = live ? *live : nlohmann::json::object();
  if (!merged["metadata"].is_object()) merged["metadata"] = nlohmann::json::object();
  FieldSet applied_fields = tracked_fields(applied, info, who.subresource);

  // Conflicts: another manager owns a field this configuration changes.
  std::string my_key = manager_key(who);
  std::vector<std::pair<const Entry*, FieldPath>> conflicts;
  for (const auto& e : entries) {
    if (manager_key(e.id) == my_key) continue;
    for (const auto& p : e.fields) {
      if (!applied_fields.count(p)) continue;
      const nlohmann::json* current = live ? value_at(*live, p) : nullptr;
      const nlohmann::json* wanted = value_at(applied, p);
      if (!current || *current != *wanted) conflicts.emplace_back(&e, p);
    }
  }
  if (!conflicts.empty() && !force) {
    nlohmann::json causes = nlohmann::json::array();
    for (const auto& [e, p] : conflicts) {
      causes.push_back({{"reason", "FieldManagerConflict"},
                        {"message", "conflict with " + print_manager(e->id)},
                        {"field", path_string(p)}});
    }
    std::string message;
    if (conflicts.size() == 1) {
      message = "Apply failed with 1 conflict: conflict with " +
                print_manager(conflicts[0].first->id) + ": " + path_string(conflicts[0].second);
    } else {
      // Grouped by manager, managers sorted, as the real server prints them.
      std::map<std::string, std::vector<std::string>> by_manager;
      for (const auto& [e, p] : conflicts)
        by_manager[print_manager(e->id)].push_back(path_string(p));
      message = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
      bool first = true;
      for (const auto& [m, paths] : by_manager) {
        if (!first) message += "\n";
        first = false;
        message += "conflicts with " + m + ":";
        for (const auto& p : paths) message += "\n- " + p;
      }
    }
    throw ApiError(409, "Conflict", message, {{"causes", causes}});
  }
  for (const auto& [e, p] : conflicts) {
    for (auto& mutable_entry : entries) {
      if (&mutable_entry == e) mutable_entry.fields.erase(p);
    }
  }

  // Fields this manager applied before and dropped now go away, unless
  // someone else still owns them.
  Entry& mine = entry_for(entries, who);
  for (const auto& p : mine.fields) {
    if (applied_fields.count(p)) continue;
    bool shared = false;
    for (const auto& e : entries) {
      if (&e != &mine && e.fields.count(p)) shared = true;
    }
    if (!shared) erase_at(merged, p);
  }
  for (const auto& p : applied_fields) set_at(merged, p, *value_at(applied, p));

  bool changed = !live || mine.fields != applied_fields;
  if (live) {
    nlohmann::json a = *live, b = merged;
    a["metadata"].erase("managedFields");
    b["metadata"].erase("managedFields");
    changed = changed || a != b;
  }
  mine.fields = applied_fields;
  if (changed || mine.time.empty()) mine.time = now;
  write_entries(merged, entries, info);
  return merged;
}

}  // namespace fluxkey::sim::kube
