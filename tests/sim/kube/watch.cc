#include "sim/kube/watch.h"

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sim/kube/kube_api.h"
#include "sim/kube/selectors.h"

namespace fluxkey::sim::watch {
namespace {

using kube::ObjectKey;
using kube::StoreEvent;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::string param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

bool truthy(const std::string& v) {
  return v == "true" || v == "1";
}

uint64_t parse_rv(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      text.size() > 19) {
    throw kube::ApiError(
        400, "BadRequest",
        "resourceVersion: Invalid value: \"" + text + "\": must be an unsigned integer");
  }
  return std::stoull(text);
}

json expired_status(uint64_t asked, uint64_t oldest) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Failure"},
          {"message", "too old resource version: " + std::to_string(asked) + " (" +
                          std::to_string(oldest) + ")"},
          {"reason", "Expired"},
          {"code", 410}};
}

// The state one watch stream shares between the store's listener (which runs
// under the store lock and only queues) and the thread writing the reply.
struct Stream {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<StoreEvent> queue;
  uint64_t last_rv = 0;  // the newest change the listener has seen, of any kind
  bool overflow = false;

  // Fixed at setup.
  const kube::ResourceInfo* info = nullptr;
  std::string ns;
  kube::LabelSelector labels;
  kube::FieldSelector fields;
  size_t max_queue = 0;
  SteadyClock::time_point deadline;
  bool bookmarks = false;
  std::chrono::milliseconds bookmark_interval{1000};

  // A cut (POST /_sim/watch-cuts): after this many event lines, -1 never.
  int cut_after = -1;
  bool cut_reset = false;
  const SSL* ssl = nullptr;  // the connection, for a reset

  // Touched by the writing thread only.
  int written = 0;                     // event lines (not bookmarks) written
  std::vector<std::string> pending;    // initial lines
  std::map<ObjectKey, bool> selected;  // what the watcher last saw, per object
  SteadyClock::time_point next_bookmark;
  uint64_t delivered_rv = 0;

  bool cut_due() const { return cut_after >= 0 && written >= cut_after; }
  // Drops the connection; the writer then returns false, so httplib sends
  // no final chunk. A reset lingers 0 s (an RST) on the socket it replaces.
  void cut() const {
    if (!cut_reset || ssl == nullptr) return;
    int fd = SSL_get_fd(ssl);
    if (fd < 0) return;
    linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    int dummy = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (dummy < 0) {
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    ::dup2(dummy, fd);
    ::close(dummy);
  }

  bool in_scope(const ObjectKey& key) const {
    return key.group == info->group && key.resource == info->plural && (ns.empty() || key.ns == ns);
  }
  bool matches(const json& object) const {
    return labels.matches(object) && fields.matches(object);
  }

  // The line a change becomes for this watcher, or empty.
  std::string line_for(const StoreEvent& e) {
    bool now = e.type != "DELETED" && matches(e.object);
    bool was;
    auto it = selected.find(e.key);
    if (it != selected.end()) {
      was = it->second;
    } else {
      // A watcher resumed from a resourceVersion has seen what matched then;
      // without that knowledge, judge by the object itself.
      was = e.type == "ADDED" ? false : matches(e.object);
    }
    std::string type = visible_type(e.type, was, now);
    if (e.type == "DELETED") {
      selected.erase(e.key);
    } else {
      selected[e.key] = now;
    }
    if (type.empty()) return {};
    return event_line(type, kube::KubeApi::for_version(e.object, *info));
  }

  std::string bookmark(uint64_t rv, bool initial_end) const {
    json meta = {{"resourceVersion", std::to_string(rv)}};
    if (initial_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    return event_line(
        "BOOKMARK",
        {{"kind", info->kind}, {"apiVersion", info->api_version()}, {"metadata", meta}});
  }
};

}  // namespace

std::string event_line(const std::string& type, const json& object) {
  // Written by hand to keep the API server's field order: type, then object.
  return "{\"type\":" + json(type).dump() + ",\"object\":" + object.dump() + "}\n";
}

std::string visible_type(const std::string& store_type, bool was, bool now) {
  if (store_type == "DELETED") return was ? "DELETED" : "";
  if (store_type == "ADDED") return now ? "ADDED" : "";
  if (was && now) return "MODIFIED";
  if (!was && now) return "ADDED";
  if (was && !now) return "DELETED";
  return "";
}

WatchCut parse_watch_cut(const json& spec) {
  if (!spec.is_object()) throw std::invalid_argument("a watch cut must be a JSON object");
  WatchCut cut;
  auto int_field = [&](const char* key, int fallback) {
    if (!spec.contains(key)) return fallback;
    if (!spec[key].is_number_integer()) {
      throw std::invalid_argument(std::string("watch cut field ") + key + " must be an integer");
    }
    return spec[key].get<int>();
  };
  if (spec.contains("path")) {
    if (!spec["path"].is_string()) throw std::invalid_argument("watch cut path must be a string");
    cut.path_source = spec["path"].get<std::string>();
    try {
      cut.path = std::regex(cut.path_source, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("watch cut path is not a valid regex: " + std::string(e.what()));
    }
  }
  cut.after_events = int_field("after_events", 1);
  if (cut.after_events < 0) throw std::invalid_argument("watch cut after_events must be >= 0");
  cut.times = int_field("times", 1);
  if (cut.times == 0 || cut.times < -1) {
    throw std::invalid_argument("watch cut times must be >= 1 or -1");
  }
  std::string how = spec.value("how", std::string("close"));
  if (how != "close" && how != "reset") {
    throw std::invalid_argument("watch cut how must be close or reset");
  }
  cut.reset = how == "reset";
  return cut;
}

std::optional<WatchCut> WatchService::take_cut(const std::string& path) {
  std::lock_guard lock(cuts_mu_);
  for (auto it = cuts_.begin(); it != cuts_.end(); ++it) {
    if (!std::regex_search(path, it->path)) continue;
    WatchCut hit = *it;
    if (it->times > 0 && --it->times == 0) cuts_.erase(it);
    return hit;
  }
  return std::nullopt;
}

WatchService::WatchService(kube::KubeApi& api, WatchOptions options)
    : api_(api), options_(options) {
  api_.server().add_control("POST", "/_sim/watch-cuts",
                            [this](const httplib::Request& req, httplib::Response& res) {
                              try {
                                WatchCut cut = parse_watch_cut(parse_json_body(req));
                                std::lock_guard lock(cuts_mu_);
                                cuts_.push_back(std::move(cut));
                                reply_json(res, 201, {{"cuts", cuts_.size()}});
                              } catch (const std::exception& e) {
                                reply_json(res, 400, {{"message", e.what()}});
                              }
                            });
  api_.server().add_control("DELETE", "/_sim/watch-cuts",
                            [this](const httplib::Request&, httplib::Response& res) {
                              std::lock_guard lock(cuts_mu_);
                              cuts_.clear();
                              reply_json(res, 200, {{"cuts", 0}});
                            });
  history_.base_rv = api_.store().resource_version();
  listener_ = api_.store().subscribe([this](const StoreEvent& e) {
    std::lock_guard lock(history_.mu);
    history_.events.push_back(e);
    while (history_.events.size() > options_.history_events) {
      history_.base_rv = history_.events.front().resource_version;
      history_.events.pop_front();
    }
  });

  api_.set_watch_handler([this](const kube::RequestContext& ctx, httplib::Response& res) {
    const auto& req = *ctx.http;
    const kube::ResourceInfo& info = *ctx.resource;
    auto s = std::make_shared<Stream>();
    s->info = &info;
    s->ns = ctx.info.ns;
    s->labels = kube::parse_label_selector(param(req, "labelSelector"));
    std::string field_selector = param(req, "fieldSelector");
    // The deprecated /watch/.../NAME form watches one object.
    if (!ctx.info.name.empty()) {
      field_selector =
          "metadata.name=" + ctx.info.name + (field_selector.empty() ? "" : "," + field_selector);
    }
    s->fields = kube::parse_field_selector(field_selector, info.field_selectors);
    s->max_queue = options_.max_queued_events;
    s->bookmarks = truthy(param(req, "allowWatchBookmarks"));
    s->bookmark_interval = options_.bookmark_interval;
    if (std::optional<WatchCut> cut = take_cut(req.path)) {
      s->cut_after = cut->after_events;
      s->cut_reset = cut->reset;
      s->ssl = req.ssl;
    }

    int timeout = options_.default_timeout_seconds;
    std::string timeout_text = param(req, "timeoutSeconds");
    if (!timeout_text.empty()) {
      if (timeout_text.find_first_not_of("0123456789") != std::string::npos ||
          timeout_text.size() > 9) {
        throw kube::ApiError(400, "BadRequest",
                             "timeoutSeconds: Invalid value: \"" + timeout_text +
                                 "\": must be a non-negative integer");
      }
      int asked = std::stoi(timeout_text);
      if (asked > 0) timeout = std::min(asked, options_.max_timeout_seconds);
    }
    std::string rv_text = param(req, "resourceVersion");
    bool send_initial = truthy(param(req, "sendInitialEvents"));
    bool from_rv = !rv_text.empty() && rv_text != "0" && !send_initial;
    uint64_t since = from_rv ? parse_rv(rv_text) : 0;

    std::vector<json> snapshot;
    uint64_t snapshot_rv = 0;
    std::weak_ptr<Stream> weak = s;
    uint64_t id = api_.store().subscribe_after_list(
        info.group, info.plural, s->ns, &snapshot, &snapshot_rv, [weak](const StoreEvent& e) {
          auto stream = weak.lock();
          if (!stream) return;
          std::lock_guard lock(stream->mu);
          stream->last_rv = e.resource_version;
          if (!stream->in_scope(e.key)) return;
          if (stream->queue.size() >= stream->max_queue) {
            stream->overflow = true;
          } else {
            stream->queue.push_back(e);
          }
          stream->cv.notify_all();
        });
    {
      std::lock_guard lock(s->mu);
      if (s->last_rv < snapshot_rv) s->last_rv = snapshot_rv;
    }
    s->delivered_rv = snapshot_rv;
    if (!from_rv) {
      for (const auto& object : snapshot) {
        const auto& meta = object["metadata"];
        ObjectKey key{info.group, info.plural, meta.value("namespace", ""), meta.value("name", "")};
        bool selected = s->matches(object);
        s->selected[key] = selected;
        if (selected) {
          s->pending.push_back(event_line("ADDED", kube::KubeApi::for_version(object, info)));
        }
      }
      if (send_initial && s->bookmarks) s->pending.push_back(s->bookmark(snapshot_rv, true));
    } else {
      std::lock_guard lock(history_.mu);
      if (since < history_.base_rv) {
        // As the real server: 200, then one ERROR event, then the end.
        s->pending.push_back(event_line("ERROR", expired_status(since, history_.base_rv)));
        s->deadline = SteadyClock::now();
      } else {
        for (const auto& e : history_.events) {
          if (e.resource_version <= since || e.resource_version > snapshot_rv) continue;
          if (!s->in_scope(e.key)) continue;
          std::string line = s->line_for(e);
          if (!line.empty()) s->pending.push_back(std::move(line));
        }
      }
    }
    auto now = SteadyClock::now();
    if (s->deadline == SteadyClock::time_point()) s->deadline = now + std::chrono::seconds(timeout);
    s->next_bookmark = now + s->bookmark_interval;

    kube::Store* store = &api_.store();
    res.status = 200;
    res.set_header("Cache-Control", "no-cache, private");
    // The real server says application/json; a parameter keeps httplib from
    // gzip-buffering the stream, and clients read the media type alone.
    res.set_chunked_content_provider(
        "application/json;stream=watch",
        [s](size_t, httplib::DataSink& sink) {
          if (s->cut_due()) {
            s->cut();
            return false;
          }
          if (!s->pending.empty()) {
            for (const auto& line : s->pending) {
              if (!sink.write(line.data(), line.size())) return false;
              if (line.find("{\"type\":\"BOOKMARK\"") != 0) ++s->written;
              if (s->cut_due()) {
                s->cut();
                return false;
              }
            }
            s->pending.clear();
          }
          std::deque<StoreEvent> batch;
          uint64_t progress = 0;
          bool overflow = false;
          {
            std::unique_lock lock(s->mu);
            auto now = SteadyClock::now();
            if (s->queue.empty() && !s->overflow && now < s->deadline) {
              // Bounded so the server's shutdown check runs often.
              auto until = std::min({now + std::chrono::milliseconds(250), s->deadline,
                                     s->bookmarks ? s->next_bookmark : s->deadline});
              s->cv.wait_until(lock, until, [&] { return !s->queue.empty() || s->overflow; });
            }
            batch.swap(s->queue);
            progress = s->last_rv;
            overflow = s->overflow;
          }
          for (const auto& e : batch) {
            std::string line = s->line_for(e);
            if (line.empty()) continue;
            if (!sink.write(line.data(), line.size())) return false;
            ++s->written;
            if (s->cut_due()) {
              s->cut();
              return false;
            }
          }
          if (progress > s->delivered_rv) s->delivered_rv = progress;
          auto now = SteadyClock::now();
          if (s->bookmarks && now >= s->next_bookmark) {
            std::string line = s->bookmark(s->delivered_rv, false);
            if (!sink.write(line.data(), line.size())) return false;
            s->next_bookmark = now + s->bookmark_interval;
          }
          // A watcher that fell too far behind is cut off; it lists again.
          if (overflow || now >= s->deadline) sink.done();
          return true;
        },
        [store, id](bool) { store->unsubscribe(id); });
  });
}

WatchService::~WatchService() {
  api_.store().unsubscribe(listener_);
}

}  // namespace fluxkey::sim::watch
