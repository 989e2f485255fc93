// Field ownership (metadata.managedFields) and server-side apply, after
// sigs.k8s.io/structured-merge-diff but schema-less: fields are the leaf
// paths through JSON objects; lists and scalars are atomic leaves. Tracked
// are everything outside metadata, plus metadata.labels, .annotations,
// .finalizers and .ownerReferences (and status only through /status when
// the kind has that subresource).
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "sim/kube/resources.h"

namespace fluxkey::sim::kube {

using FieldPath = std::vector<std::string>;
using FieldSet = std::set<FieldPath>;

// ".data.k", ".metadata.labels.app", as conflict messages print paths.
std::string path_string(const FieldPath& path);

// The tracked leaf fields an object sets.
FieldSet tracked_fields(const nlohmann::json& object, const ResourceInfo& info,
                        const std::string& subresource);

// FieldsV1 form ({"f:data": {".": {}, "f:k": {}}}) and back.
nlohmann::json to_fields_v1(const FieldSet& fields, const ResourceInfo& info);
FieldSet from_fields_v1(const nlohmann::json& fields_v1);

struct ManagerId {
  std::string manager;
  std::string operation;  // "Apply" or "Update"
  std::string api_version;
  std::string subresource;
};

// An Update (create, PUT, non-apply PATCH) by `who`: fields whose values
// changed between `old` (null on create) and `updated` now belong to `who`
// alone; removed fields leave every manager. Writes updated.metadata.managedFields.
void record_update(nlohmann::json& updated, const nlohmann::json* old, const ManagerId& who,
                   const ResourceInfo& info, const std::string& now);

// Server-side apply of `applied` by `who` onto `live` (null: create).
// Returns the merged object with managedFields updated. Throws ApiError 409
// (reason Conflict, one cause per field) when another manager owns a field
// the configuration changes and `force` is false; with force, ownership moves.
nlohmann::json server_side_apply(const nlohmann::json* live, const nlohmann::json& applied,
                                 const ManagerId& who, bool force, const ResourceInfo& info,
                                 const std::string& now);

}  // namespace fluxkey::sim::kube
