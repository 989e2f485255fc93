// Watch (GET ...?watch=true) for every kind kube-sim serves, as the API
// server streams it: newline-delimited JSON events {"type", "object"} over a
// chunked reply. Without a resourceVersion (or with "0") the stream starts
// with an ADDED event per existing object; with resourceVersion=N it replays
// the changes after N from a bounded history (410 Expired as an ERROR event
// when N is older than that history). Label and field selectors apply, with
// MODIFIED turned into ADDED/DELETED when an object enters or leaves the
// selection; allowWatchBookmarks adds BOOKMARK events, sendInitialEvents the
// initial-events-end bookmark; timeoutSeconds ends the stream.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "sim/kube/store.h"

namespace fluxkey::sim::kube {
class KubeApi;
}

namespace fluxkey::sim::watch {

struct WatchOptions {
  // The API server's --min-request-timeout is 1800 s; kube-sim also caps
  // longer requests there, so no stream outlives half an hour.
  int default_timeout_seconds = 1800;
  int max_timeout_seconds = 1800;
  std::chrono::milliseconds bookmark_interval{1000};
  size_t history_events = 4096;     // replayable changes for resourceVersion=N
  size_t max_queued_events = 4096;  // a stream that falls further behind is closed
};

// One line of a watch stream.
std::string event_line(const std::string& type, const nlohmann::json& object);

// How a change looks to a watcher with a selector: an object entering the
// selection is ADDED, one leaving it DELETED, others MODIFIED or not shown
// (empty). `was` is whether the watcher last saw it selected; `now` whether
// it is selected after the change.
std::string visible_type(const std::string& store_type, bool was, bool now);

// A watch stream to cut off mid-way (POST /_sim/watch-cuts): after
// `after_events` event lines, the connection is closed ("close": no final
// chunk) or reset ("reset": an RST, which may also discard what the client
// had not read yet), as a proxy or load balancer dropping a long request does.
struct WatchCut {
  std::string path_source = ".*";  // ECMAScript regex searched in the request path
  std::regex path{".*"};
  int after_events = 1;
  bool reset = false;
  int times = 1;  // -1: every matching stream
};

// Parses a POST /_sim/watch-cuts body; throws std::invalid_argument naming the field.
WatchCut parse_watch_cut(const nlohmann::json& spec);

// Installs the watch handler into kube-sim and keeps the change history.
// Must outlive the server's request threads (declare it after the KubeApi).
class WatchService {
 public:
  explicit WatchService(kube::KubeApi& api, WatchOptions options = {});
  ~WatchService();
  WatchService(const WatchService&) = delete;
  WatchService& operator=(const WatchService&) = delete;

 private:
  struct History {
    std::mutex mu;
    std::deque<kube::StoreEvent> events;
    uint64_t base_rv = 0;  // replay is possible from resourceVersion >= base_rv
  };

  // The first cut matching `path`, with one use consumed.
  std::optional<WatchCut> take_cut(const std::string& path);

  kube::KubeApi& api_;
  WatchOptions options_;
  History history_;
  uint64_t listener_ = 0;
  std::mutex cuts_mu_;
  std::vector<WatchCut> cuts_;
};

}  // namespace fluxkey::sim::watch
