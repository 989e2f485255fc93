#include "flux/wait.h"

#include <algorithm>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "flux/kinds.h"

namespace fluxkey::flux {
namespace {

using std::chrono::milliseconds;

// A watch answered 410 Expired (the resourceVersion fell out of the
// server's window) is restarted from a fresh GET, at most this often.
constexpr int kMaxRewatches = 5;

milliseconds remaining(SteadyClock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()));
}

std::string resource_version(const nlohmann::json& object) {
  return string_at(object, {"metadata", "resourceVersion"});
}

WaitOutcome evaluate(const nlohmann::json& object, const std::string& requested_at) {
  WaitOutcome out;
  out.object = object;
  out.readiness = readiness(object, requested_at);
  return out;
}

}  // namespace

std::string format_timeout(milliseconds d) {
  if (d.count() % 1000 != 0) return std::to_string(d.count()) + "ms";
  return format_duration(d);
}

milliseconds next_poll_interval(milliseconds current, const PollSchedule& schedule) {
  return std::min(current * 2, schedule.max);
}

WaitOutcome Waiter::wait(const WaitTarget& target, const nlohmann::json& patched,
                         SteadyClock::time_point deadline) {
  WaitOutcome now = evaluate(patched, target.requested_at);
  if (now.readiness.state != ReadyState::kPending) return now;
  if (!watch_allowed_) return poll(target, std::move(now), deadline);
  return watch(target, patched, deadline);
}

WaitOutcome Waiter::watch(const WaitTarget& target, const nlohmann::json& patched,
                          SteadyClock::time_point deadline) {
  WaitOutcome last = evaluate(patched, target.requested_at);
  std::string rv = resource_version(patched);
  for (int rewatch = 0;; ++rewatch) {
    // Changes after the patch only: nothing older can answer this request.
    std::string query = target.collection_path + "?fieldSelector=metadata.name%3D" + target.name;
    if (!rv.empty()) query += "&resourceVersion=" + rv;
    bool deleted = false;
    try {
      bool stopped = client_.watch(query, remaining(deadline), [&](const nlohmann::json& event) {
        const nlohmann::json& object = event.value("object", nlohmann::json::object());
        if (event.value("type", "") == "DELETED") {
          deleted = true;
          return false;
        }
        last = evaluate(object, target.requested_at);
        return last.readiness.state == ReadyState::kPending;
      });
      if (deleted) throw Error(target.description + " was deleted while waiting for it");
      last.timed_out = !stopped;
      return last;
    } catch (const kube::ApiError& e) {
      if (e.status() == 403) {
        watch_allowed_ = false;
        logger().info(
            "watching " + target.description + " is not allowed for this identity; polling instead",
            {{"error", e.what()}});
        return poll(target, std::move(last), deadline);
      }
      if (e.status() != 410 || rewatch >= kMaxRewatches) throw;
      // Expired: start again from the object as it is now.
      last = evaluate(client_.get(target.collection_path + "/" + target.name), target.requested_at);
      if (last.readiness.state != ReadyState::kPending) return last;
      rv = resource_version(last.object);
    }
  }
}

WaitOutcome Waiter::poll(const WaitTarget& target, WaitOutcome last,
                         SteadyClock::time_point deadline) {
  milliseconds interval = schedule_.initial;
  const std::string path = target.collection_path + "/" + target.name;
  for (;;) {
    milliseconds left = remaining(deadline);
    if (left <= milliseconds(0)) {
      last.timed_out = true;
      return last;
    }
    std::this_thread::sleep_for(std::min(interval, left));
    interval = next_poll_interval(interval, schedule_);
    std::optional<nlohmann::json> object = client_.get_optional(path);
    if (!object) throw Error(target.description + " was deleted while waiting for it");
    last = evaluate(*object, target.requested_at);
    if (last.readiness.state != ReadyState::kPending) return last;
  }
}

}  // namespace fluxkey::flux
