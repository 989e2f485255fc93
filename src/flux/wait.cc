#include "flux/wait.h"

#include <algorithm>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "core/time.h"
#include "flux/kinds.h"
#include "flux/source.h"

namespace fluxkey::flux {
namespace {

using std::chrono::milliseconds;

// A watch answered 410 Expired (the resourceVersion fell out of the
// server's window) is restarted from a fresh GET, at most this often.
constexpr int kMaxRewatches = 5;
// A watch cut mid-stream (a proxy or load balancer dropping the connection,
// an API server restarting) is resumed from the last event seen, pausing
// longer after each cut that brought no event: at most this many cuts in a
// row without progress, and this many in all, before polling instead.
constexpr int kMaxCutsWithoutProgress = 3;
constexpr int kMaxResumes = 20;
constexpr milliseconds kResumePause{250};
constexpr milliseconds kMaxResumePause{2'000};

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

bool deadline_reached(SteadyClock::time_point deadline) {
  // Timers fire a little early or late; a timeout this close is the deadline's.
  constexpr milliseconds kSlack{100};
  return SteadyClock::now() + kSlack >= deadline;
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
  int expired = 0;
  int resumes = 0;
  int cuts_in_a_row = 0;
  auto fall_back = [&](const std::string& why, const std::string& error) {
    logger().info("watching " + target.description + " " + why + "; polling instead",
                  {{"error", error}});
    return poll(target, last, deadline);
  };
  for (;;) {
    // Changes after the patch only: nothing older can answer this request.
    std::string query = target.collection_path + "?fieldSelector=metadata.name%3D" + target.name;
    if (!rv.empty()) query += "&resourceVersion=" + rv;
    bool deleted = false;
    bool progressed = false;
    try {
      bool stopped = client_.watch(query, remaining(deadline), [&](const nlohmann::json& event) {
        const nlohmann::json& object = event.value("object", nlohmann::json::object());
        if (event.value("type", "") == "DELETED") {
          deleted = true;
          return false;
        }
        progressed = true;
        // Where a resumed watch picks up, should this one be cut.
        if (std::string at = resource_version(object); !at.empty()) rv = at;
        last = evaluate(object, target.requested_at);
        return last.readiness.state == ReadyState::kPending;
      });
      if (deleted) throw ObjectError(target.description + " was deleted while waiting for it");
      last.timed_out = !stopped;
      return last;
    } catch (const kube::ApiError& e) {
      if (e.status() == 403) {
        watch_allowed_ = false;
        return fall_back("is not allowed for this identity", e.what());
      }
      // The watch itself failing (an API server or proxy that cannot
      // stream, a watch cache overloaded): a GET now and then still works.
      if (e.status() == 429 || e.status() >= 500) {
        watch_allowed_ = false;
        return fall_back("failed", e.what());
      }
      if (e.status() != 410 || expired++ >= kMaxRewatches) throw;
      // Expired: start again from the object as it is now.
      last = evaluate(client_.get(target.collection_path + "/" + target.name), target.requested_at);
      if (last.readiness.state != ReadyState::kPending) return last;
      rv = resource_version(last.object);
    } catch (const http::NetworkError& e) {
      if (deadline_reached(deadline)) {
        last.timed_out = true;
        return last;
      }
      // Unreachable after the client's own retries, or a TLS refusal:
      // resuming cannot help.
      if (!e.request_sent() || e.permanent()) throw;
      cuts_in_a_row = progressed ? 1 : cuts_in_a_row + 1;
      if (++resumes > kMaxResumes || cuts_in_a_row > kMaxCutsWithoutProgress) {
        watch_allowed_ = false;
        return fall_back("kept being cut off", e.what());
      }
      milliseconds pause = kResumePause;
      for (int i = 1; i < cuts_in_a_row && pause < kMaxResumePause; ++i) pause *= 2;
      pause = std::min({pause, kMaxResumePause, remaining(deadline)});
      logger().debug("the watch of " + target.description + " was cut; resuming from " +
                         (rv.empty() ? std::string("the start") : "resourceVersion " + rv) +
                         " in " + format_timeout(pause),
                     {{"error", e.what()}});
      std::this_thread::sleep_for(pause);
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
    std::optional<nlohmann::json> object;
    try {
      object = client_.get_optional(path);
    } catch (const http::NetworkError& e) {
      // A reply the --timeout cut short: not ready in time, as any other.
      if (e.kind() != http::NetworkError::Kind::kTimeout || !deadline_reached(deadline)) {
        throw;
      }
      last.timed_out = true;
      return last;
    }
    if (!object) throw ObjectError(target.description + " was deleted while waiting for it");
    last = evaluate(*object, target.requested_at);
    if (last.readiness.state != ReadyState::kPending) return last;
  }
}

}  // namespace fluxkey::flux
