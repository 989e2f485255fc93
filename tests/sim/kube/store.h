// The object store: JSON objects keyed by (group, resource, namespace, name),
// one copy per object whatever version it is read through. It owns the
// server-set metadata (uid, resourceVersion from one global counter,
// creationTimestamp, generation) and tells listeners (watches) about every
// change, in commit order.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "sim/kube/resources.h"

namespace fluxkey::sim::kube {

struct ObjectKey {
  std::string group;
  std::string resource;  // plural
  std::string ns;        // empty for cluster-scoped kinds
  std::string name;
  auto tie() const { return std::tie(group, resource, ns, name); }
  bool operator<(const ObjectKey& o) const { return tie() < o.tie(); }
  bool operator==(const ObjectKey& o) const { return tie() == o.tie(); }
};

struct StoreEvent {
  std::string type;  // ADDED, MODIFIED, DELETED
  ObjectKey key;
  nlohmann::json
      object;  // after the change; for DELETED the last state (with a fresh resourceVersion)
  uint64_t resource_version = 0;
};

// What a transaction decides to do with the object it was shown.
struct Write {
  enum class Op { kNone, kPut, kDelete } op = Op::kNone;
  nlohmann::json object;  // for kPut: the new object (server metadata is filled in by the store)
  static Write none() { return {}; }
  static Write put(nlohmann::json o) { return {Op::kPut, std::move(o)}; }
  static Write remove() { return {Op::kDelete, nullptr}; }
};

class Store {
 public:
  using Now = std::function<std::chrono::system_clock::time_point()>;
  // The clock for creationTimestamp (kube-sim passes its shiftable clock).
  void set_clock(Now now) { now_ = std::move(now); }

  using Listener = std::function<void(const StoreEvent&)>;
  // Decides, under the store lock, from the current object (null when
  // absent). May throw (ApiError); nothing is written then.
  using Transaction = std::function<Write(const nlohmann::json* current)>;

  std::optional<nlohmann::json> get(const ObjectKey& key) const;

  // Objects of a resource, in one namespace or (ns empty) all, sorted by
  // namespace and name; with the resourceVersion the list is consistent with.
  std::vector<nlohmann::json> list(const std::string& group, const std::string& resource,
                                   const std::string& ns, uint64_t* resource_version) const;

  // Runs `tx` atomically for `key` and commits what it returns. Returns the
  // object as stored (kPut), the last state (kDelete) or the current object
  // (kNone; null when absent). With dry_run nothing is committed, but the
  // returned object looks as if it were.
  nlohmann::json transact(const ResourceInfo& info, const ObjectKey& key, const Transaction& tx,
                          bool dry_run = false);

  uint64_t resource_version() const;

  // Listeners run with the store lock held, in commit order: they must be
  // quick (queue the event) and must not call back into the store.
  // Returns an id for unsubscribe.
  uint64_t subscribe(Listener listener);
  void unsubscribe(uint64_t id);

  // A consistent snapshot plus subscription (for watch: list, then events
  // after that resourceVersion, nothing lost in between).
  uint64_t subscribe_after_list(const std::string& group, const std::string& resource,
                                const std::string& ns, std::vector<nlohmann::json>* snapshot,
                                uint64_t* resource_version, Listener listener);

 private:
  nlohmann::json fill_metadata(const ResourceInfo& info, const ObjectKey& key,
                               nlohmann::json object, const nlohmann::json* current,
                               uint64_t rv) const;
  void notify(const StoreEvent& event);

  mutable std::mutex mu_;
  std::map<ObjectKey, nlohmann::json> objects_;
  uint64_t rv_ = 1000;
  uint64_t next_listener_ = 1;
  std::map<uint64_t, Listener> listeners_;
  Now now_ = [] { return std::chrono::system_clock::now(); };
};

// A random RFC 4122 version-4 UUID, as metadata.uid holds.
std::string new_uid();

}  // namespace fluxkey::sim::kube
