#include "sim/kube/store.h"

#include <openssl/rand.h>

#include <cstdio>

#include "core/time.h"

namespace fluxkey::sim::kube {
namespace {

// Everything but metadata and status: what metadata.generation counts.
nlohmann::json generation_view(const nlohmann::json& o) {
  nlohmann::json v = o;
  if (v.is_object()) {
    v.erase("metadata");
    v.erase("status");
    v.erase("apiVersion");
    v.erase("kind");
  }
  return v;
}

}  // namespace

std::string new_uid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::optional<nlohmann::json> Store::get(const ObjectKey& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<nlohmann::json> Store::list(const std::string& group, const std::string& resource,
                                        const std::string& ns, uint64_t* resource_version) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<nlohmann::json> out;
  for (const auto& [key, object] : objects_) {
    if (key.group != group || key.resource != resource) continue;
    if (!ns.empty() && key.ns != ns) continue;
    out.push_back(object);
  }
  if (resource_version) *resource_version = rv_;
  return out;
}

uint64_t Store::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

nlohmann::json Store::fill_metadata(const ResourceInfo& info, const ObjectKey& key,
                                    nlohmann::json object, const nlohmann::json* current,
                                    uint64_t rv) const {
  if (!object.is_object()) object = nlohmann::json::object();
  nlohmann::json& meta = object["metadata"];
  if (!meta.is_object()) meta = nlohmann::json::object();
  meta["name"] = key.name;
  if (info.namespaced) {
    meta["namespace"] = key.ns;
  } else {
    meta.erase("namespace");
  }
  meta.erase("generateName");
  if (current) {
    const auto& cur_meta = (*current)["metadata"];
    meta["uid"] = cur_meta["uid"];
    meta["creationTimestamp"] = cur_meta["creationTimestamp"];
    if (cur_meta.contains("generateName")) meta["generateName"] = cur_meta["generateName"];
  } else {
    meta["uid"] = new_uid();
    meta["creationTimestamp"] = format_rfc3339(now_());
  }
  meta["resourceVersion"] = std::to_string(rv);
  if (info.custom) {
    int64_t generation = 1;
    if (current) {
      generation = (*current)["metadata"].value("generation", int64_t{1});
      if (generation_view(*current) != generation_view(object)) ++generation;
    }
    meta["generation"] = generation;
  } else {
    meta.erase("generation");
  }
  object["apiVersion"] = info.api_version();
  object["kind"] = info.kind;
  return object;
}

nlohmann::json Store::transact(const ResourceInfo& info, const ObjectKey& key,
                               const Transaction& tx, bool dry_run) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  const nlohmann::json* current = it == objects_.end() ? nullptr : &it->second;
  Write w = tx(current);
  switch (w.op) {
    case Write::Op::kNone:
      return current ? *current : nlohmann::json(nullptr);
    case Write::Op::kPut: {
      uint64_t rv = dry_run ? rv_ : rv_ + 1;
      nlohmann::json stored = fill_metadata(info, key, std::move(w.object), current, rv);
      if (dry_run) return stored;
      // An update that changes nothing is a no-op on the real server: same
      // resourceVersion, no event.
      if (current) {
        nlohmann::json a = *current, b = stored;
        a["metadata"].erase("resourceVersion");
        b["metadata"].erase("resourceVersion");
        if (a == b) return *current;
      }
      rv_ = rv;
      bool added = current == nullptr;
      objects_[key] = stored;
      notify({added ? "ADDED" : "MODIFIED", key, stored, rv});
      return stored;
    }
    case Write::Op::kDelete: {
      if (!current) return nullptr;
      nlohmann::json last = *current;
      if (dry_run) return last;
      rv_ += 1;
      objects_.erase(it);
      last["metadata"]["resourceVersion"] = std::to_string(rv_);
      notify({"DELETED", key, last, rv_});
      return last;
    }
  }
  return nullptr;
}

uint64_t Store::subscribe(Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_listener_++;
  listeners_[id] = std::move(listener);
  return id;
}

uint64_t Store::subscribe_after_list(const std::string& group, const std::string& resource,
                                     const std::string& ns, std::vector<nlohmann::json>* snapshot,
                                     uint64_t* resource_version, Listener listener) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, object] : objects_) {
    if (key.group != group || key.resource != resource) continue;
    if (!ns.empty() && key.ns != ns) continue;
    snapshot->push_back(object);
  }
  *resource_version = rv_;
  uint64_t id = next_listener_++;
  listeners_[id] = std::move(listener);
  return id;
}

void Store::unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.erase(id);
}

void Store::notify(const StoreEvent& event) {
  for (const auto& [id, listener] : listeners_) listener(event);
}

}  // namespace fluxkey::sim::kube
