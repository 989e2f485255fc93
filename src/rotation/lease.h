// One fluxkey run at a time per kubeconfig Secret.
//
// Two runs that change the same Secret (the CronJob's sync and a person's
// rotate, say) would each mint, store and push; their GitHub pushes could
// interleave so that GitHub keeps the older of two tokens while the Secret
// names the newer, and a later prune revokes what GitHub holds. A Lease
// (coordination.k8s.io/v1) named after the Secret, in its namespace, held for
// the whole run, keeps them apart: the second run waits for the first to
// finish and then sees what it did.
//
// The protocol is client-go's leader election: the holder renews
// spec.renewTime every third of spec.leaseDurationSeconds; another run takes
// the Lease over when the holder clears it, or when it has watched the same
// renewTime for a whole lease duration (the holder died). Expiry is judged by
// the waiter's own monotonic clock, never by comparing clocks across nodes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/names.h"
#include "core/time.h"
#include "kube/client.h"

namespace fluxkey::rotation {

struct LeaseTiming {
  std::chrono::seconds duration{30};
  std::chrono::milliseconds renew_every{10'000};
  // How long a run waits for another run to finish before giving up.
  std::chrono::milliseconds wait_at_most{120'000};
  std::chrono::milliseconds poll_first{50};
  std::chrono::milliseconds poll_max{500};
};

// What a Lease says, as fluxkey reads it.
struct LeaseRecord {
  std::string holder;  // empty: free
  std::chrono::seconds duration{0};
  std::string renew_time;  // as written (MicroTime); compared, never parsed
  long transitions = 0;
  std::string resource_version;
};

LeaseRecord parse_lease(const kube::Json& lease);

// Decides, from successive reads of a Lease held by someone else, when its
// holder is gone: the same holder and renewTime seen for a whole duration.
class ExpiryWatch {
 public:
  using Steady = std::chrono::steady_clock;
  // Returns true when `seen` may be taken over at `now`.
  bool expired(const LeaseRecord& seen, Steady::time_point now);

 private:
  std::string holder_;
  std::string renew_time_;
  Steady::time_point since_{};
};

class RunLease {
 public:
  using ClientFactory = std::function<std::unique_ptr<kube::Client>()>;

  // Blocks until the Lease is held by this run; throws Error naming the
  // holder after timing.wait_at_most. `make_renewer` gives the client the
  // renewing thread uses (a client is not shared across threads); null: no
  // renewal (a run shorter than the duration, or a unit test).
  RunLease(kube::Client& client, NamespacedName name, ClientFactory make_renewer,
           LeaseTiming timing = {});
  // Stops renewing; a release that did not happen is only logged here.
  ~RunLease();
  RunLease(const RunLease&) = delete;
  RunLease& operator=(const RunLease&) = delete;

  // Clears the holder so that a waiting run goes on at once. Throws Error
  // when the Lease cannot be written (the next run would wait a whole
  // duration for it to expire). A Lease another run holds by then is left
  // alone, with a warning unless check_held has reported it.
  void release();

  // Throws Error when this run can no longer be sure it holds the Lease:
  // another run took it over (a renewal found it changed), or no write of it
  // has landed for two thirds of its duration, past which a waiting run may
  // take it over. The message ends "stopped before " + `next`. A run calls
  // this before each change it makes, as client-go's leader election stops
  // leading once its renew deadline has passed.
  void check_held(const std::string& next) const;

  const std::string& identity() const { return identity_; }
  // Whether this run found the Lease held by another run and waited for it.
  bool waited() const { return waited_; }

 private:
  kube::Json desired(const LeaseRecord& current, bool exists) const;
  bool try_take(const std::optional<kube::Json>& current);
  void renew_loop(std::unique_ptr<kube::Client> renewer);
  // One renewal by the renewing thread; false once another run holds the Lease.
  bool renew(kube::Client& renewer);
  std::string path() const;
  // "Lease NS/NAME was taken over by ..." naming `holder` (empty: unknown).
  std::string taken_over(const std::string& holder) const;
  // Warns, at release, of a takeover no check_held has reported.
  void report_late_loss(const std::string& holder) const;

  kube::Client& client_;
  NamespacedName name_;
  LeaseTiming timing_;
  std::string identity_;
  bool waited_ = false;

  mutable std::mutex mu_;  // guards the fields below, shared with the renewing thread
  std::condition_variable wake_;
  bool stopping_ = false;
  bool released_ = false;
  kube::Json held_;  // the Lease as last written by this run
  // When the last write of it that landed was sent: a waiting run's count
  // of a whole duration cannot have started before.
  std::chrono::steady_clock::time_point written_at_;
  std::string renew_error_;             // why the last renewal failed; empty after one that landed
  bool lost_ = false;                   // another run took the Lease over...
  std::string lost_to_;                 // ...and holds it now (empty: nobody)
  mutable bool loss_reported_ = false;  // check_held has thrown for it
  std::thread renewer_;
};

}  // namespace fluxkey::rotation
