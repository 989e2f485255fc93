// Waiting for a controller to answer a reconcile request. A watch on the
// single object sees the answer within one event's latency; a watch cut
// mid-stream is resumed from the last event it delivered. An identity that
// may not watch (403), or a watch that keeps failing (5xx, 429, cut again
// and again), is polled instead, quickly at first and backing off to flux's
// own 2-second interval. A reply the deadline cuts short is a timeout.
#pragma once

#include <chrono>
#include <string>

#include "flux/readiness.h"
#include "kube/client.h"

namespace fluxkey::flux {

using SteadyClock = std::chrono::steady_clock;

// A duration as Go's time.ParseDuration reads it and people expect to see
// it: "5m", "1m30s", and "1500ms" rather than a rounded "1s".
std::string format_timeout(std::chrono::milliseconds d);

struct PollSchedule {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{2'000};
};

// The next poll interval after `current`: doubled, at most schedule.max.
std::chrono::milliseconds next_poll_interval(std::chrono::milliseconds current,
                                             const PollSchedule& schedule);

// Whether a request that failed now was cut short by `deadline`: a request
// gets exactly what is left of it as its timeout, so it times out a hair
// before the deadline, not after.
bool deadline_reached(SteadyClock::time_point deadline);

struct WaitTarget {
  std::string collection_path;  // /apis/G/V/namespaces/NS/PLURAL
  std::string name;
  std::string description;  // "Kustomization flux-system/apps", for messages
  std::string requested_at;
};

struct WaitOutcome {
  nlohmann::json object;  // the last state seen
  Readiness readiness;
  bool timed_out = false;
};

class Waiter {
 public:
  explicit Waiter(kube::Client& client, PollSchedule schedule = {})
      : client_(client), schedule_(schedule) {}

  // Waits from `patched` (the object as the annotation left it: its
  // resourceVersion is where the watch starts) until the request is
  // answered (ready or stalled) or `deadline` passes (timed_out).
  WaitOutcome wait(const WaitTarget& target, const nlohmann::json& patched,
                   SteadyClock::time_point deadline);

  // True once a watch was refused or kept failing: this Waiter polls from
  // then on.
  bool polling() const { return !watch_allowed_; }

 private:
  WaitOutcome watch(const WaitTarget& target, const nlohmann::json& patched,
                    SteadyClock::time_point deadline);
  WaitOutcome poll(const WaitTarget& target, WaitOutcome last, SteadyClock::time_point deadline);

  kube::Client& client_;
  PollSchedule schedule_;
  bool watch_allowed_ = true;
};

}  // namespace fluxkey::flux
