#include "rotation/lease.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "core/log.h"
#include "rotation/state.h"

namespace fluxkey::rotation {
namespace {

using Steady = std::chrono::steady_clock;

// MicroTime, as the API server reads acquireTime and renewTime: exactly six
// fractional digits (Go parses them with the layout RFC3339Micro).
std::string micro_time(Clock::time_point t) {
  auto since = t.time_since_epoch();
  auto secs = std::chrono::floor<std::chrono::seconds>(since);
  std::string whole = format_rfc3339(Clock::time_point(secs));  // "...:SSZ"
  char frac[32];
  std::snprintf(frac, sizeof frac, ".%06lld",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::microseconds>(since - secs).count()));
  return whole.substr(0, whole.size() - 1) + frac + "Z";
}

// Who holds the Lease, for people reading it: the host (a CronJob's pod
// name) and a random part, since two runs may share a host.
std::string make_identity() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "fluxkey");
  }
  std::random_device random;
  char suffix[20];
  std::snprintf(suffix, sizeof suffix, "_%08x%08x", random(), random());
  return std::string(host) + suffix;
}

}  // namespace

LeaseRecord parse_lease(const kube::Json& lease) {
  LeaseRecord record;
  static const kube::Json kNone = kube::Json::object();
  const kube::Json& spec =
      lease.contains("spec") && lease["spec"].is_object() ? lease["spec"] : kNone;
  auto text = [&](const char* key) {
    auto it = spec.find(key);
    return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto number = [&](const char* key) -> long {
    auto it = spec.find(key);
    return it != spec.end() && it->is_number_integer() ? it->get<long>() : 0;
  };
  record.holder = text("holderIdentity");
  record.renew_time = text("renewTime");
  record.duration = std::chrono::seconds(number("leaseDurationSeconds"));
  record.transitions = number("leaseTransitions");
  if (lease.contains("metadata") && lease["metadata"].is_object()) {
    // Not value(): it throws when the member is not a string.
    auto it = lease["metadata"].find("resourceVersion");
    if (it != lease["metadata"].end() && it->is_string()) {
      record.resource_version = it->get<std::string>();
    }
  }
  return record;
}

bool ExpiryWatch::expired(const LeaseRecord& seen, Steady::time_point now) {
  if (seen.holder != holder_ || seen.renew_time != renew_time_ || since_ == Steady::time_point{}) {
    holder_ = seen.holder;
    renew_time_ = seen.renew_time;
    since_ = now;
    return false;
  }
  // A holder that wrote no duration gets none: it is gone once it stops renewing.
  return now - since_ >= std::max(seen.duration, std::chrono::seconds(1));
}

RunLease::RunLease(kube::Client& client, NamespacedName name, ClientFactory make_renewer,
                   LeaseTiming timing)
    : client_(client), name_(std::move(name)), timing_(timing), identity_(make_identity()) {
  const auto start = Steady::now();
  ExpiryWatch watch;
  auto poll = timing_.poll_first;
  Steady::time_point take_sent{};
  for (;;) {
    std::optional<kube::Json> current;
    try {
      current = client_.get_optional(path());
    } catch (const Error& e) {  // a refusal, or the API server out of reach
      throw Error("cannot read Lease " + name_.str() +
                  ", which keeps fluxkey runs apart: " + e.what());
    }
    const LeaseRecord seen = current ? parse_lease(*current) : LeaseRecord{};
    const auto now = Steady::now();
    if (current && seen.holder == identity_) {
      // A retried write whose first attempt landed: the Lease is already ours.
      std::lock_guard lock(mu_);
      held_ = *current;
      written_at_ = take_sent;
      break;
    }
    if (!current || seen.holder.empty() || watch.expired(seen, now)) {
      take_sent = Steady::now();
      if (try_take(current)) {
        std::lock_guard lock(mu_);
        written_at_ = take_sent;
        break;
      }
    } else if (!waited_) {
      waited_ = true;
      logger().info("waiting for another fluxkey run to finish: Lease " + name_.str() +
                    " is held by " + seen.holder);
    }
    if (now - start >= timing_.wait_at_most) {
      throw Error("another fluxkey run (" + seen.holder + ") still holds Lease " + name_.str() +
                  " after " +
                  format_duration(
                      std::chrono::duration_cast<std::chrono::milliseconds>(timing_.wait_at_most)) +
                  "; nothing was changed, run again once it has finished");
    }
    std::this_thread::sleep_for(poll);
    poll = std::min(poll * 2, timing_.poll_max);
  }
  if (make_renewer) renewer_ = std::thread(&RunLease::renew_loop, this, make_renewer());
}

RunLease::~RunLease() {
  try {
    release();
  } catch (const Error& e) {
    logger().warn(e.what());
  }
}

std::string RunLease::path() const {
  return "/apis/coordination.k8s.io/v1/namespaces/" + name_.namespace_ + "/leases/" + name_.name;
}

kube::Json RunLease::desired(const LeaseRecord& current, bool exists) const {
  const std::string now = micro_time(Clock::now());
  kube::Json metadata = {{"name", name_.name},
                         {"namespace", name_.namespace_},
                         {"labels", {{kManagedByLabel, "fluxkey"}}}};
  if (exists) metadata["resourceVersion"] = current.resource_version;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", metadata},
          {"spec",
           {{"holderIdentity", identity_},
            {"leaseDurationSeconds", timing_.duration.count()},
            {"acquireTime", now},
            {"renewTime", now},
            {"leaseTransitions", exists ? current.transitions + 1 : 0}}}};
}

// A Conflict (another run created or took the Lease first) is a lost race,
// not a failure: the caller reads again.
bool RunLease::try_take(const std::optional<kube::Json>& current) {
  const bool exists = current.has_value();
  kube::Json body = desired(exists ? parse_lease(*current) : LeaseRecord{}, exists);
  try {
    kube::Json written =
        exists
            ? client_.replace(path(), body)
            : client_.create(
                  "/apis/coordination.k8s.io/v1/namespaces/" + name_.namespace_ + "/leases", body);
    std::lock_guard lock(mu_);
    held_ = std::move(written);
    return true;
  } catch (const Error& e) {  // a refusal, or the API server out of reach
    auto* api = dynamic_cast<const kube::ApiError*>(&e);
    if (api != nullptr && api->status() == 409) return false;
    throw Error("cannot take Lease " + name_.str() +
                ", which keeps fluxkey runs apart: " + e.what());
  }
}

void RunLease::renew_loop(std::unique_ptr<kube::Client> renewer) {
  std::unique_lock lock(mu_);
  auto wait = timing_.renew_every;
  while (!wake_.wait_for(lock, wait, [this] { return stopping_; })) {
    lock.unlock();
    const bool ours = renew(*renewer);
    lock.lock();
    if (!ours) return;
    // After a failure, sooner: the renew deadline is only two renewals away.
    wait = renew_error_.empty() ? timing_.renew_every : timing_.renew_every / 4;
  }
}

bool RunLease::renew(kube::Client& renewer) {
  kube::Json body;
  {
    std::lock_guard lock(mu_);
    body = held_;
  }
  body["spec"]["renewTime"] = micro_time(Clock::now());
  const auto sent = Steady::now();
  std::optional<kube::Json> written;
  std::optional<std::string> taken_by;
  std::string error;
  try {
    written = renewer.replace(path(), body);
  } catch (const Error& e) {  // a refusal, or the API server out of reach
    error = e.what();
    auto* api = dynamic_cast<const kube::ApiError*>(&e);
    if (api != nullptr && api->status() == 409) {
      // The Lease changed since this run wrote it. Still ours: a retried
      // renewal whose first attempt landed. Anyone else's: taken over.
      try {
        std::optional<kube::Json> current = renewer.get_optional(path());
        const std::string holder = current ? parse_lease(*current).holder : "";
        if (holder == identity_) {
          written = std::move(current);
        } else {
          taken_by = holder;
        }
      } catch (const Error& read) {
        error = read.what();
      }
    }
  }
  std::lock_guard lock(mu_);
  if (taken_by) {
    lost_ = true;
    lost_to_ = *taken_by;
    return false;
  }
  if (written) {
    held_ = std::move(*written);
    written_at_ = sent;
    renew_error_.clear();
  } else {
    renew_error_ = error;
    logger().warn("could not renew Lease " + name_.str() + ": " + error);
  }
  return true;
}

std::string RunLease::taken_over(const std::string& holder) const {
  return "Lease " + name_.str() + " was taken over by " +
         (holder.empty() ? std::string("someone else") : "another fluxkey run (" + holder + ")");
}

void RunLease::check_held(const std::string& next) const {
  std::lock_guard lock(mu_);
  if (lost_) {
    loss_reported_ = true;
    throw Error(taken_over(lost_to_) + "; stopped before " + next);
  }
  const auto since =
      std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - written_at_);
  if (since >= std::chrono::milliseconds(timing_.duration) * 2 / 3) {
    throw Error("Lease " + name_.str() + " not renewed for " + format_duration(since) +
                (renew_error_.empty() ? "" : " (" + renew_error_ + ")") +
                ", so another fluxkey run may take it over; stopped before " + next);
  }
}

void RunLease::release() {
  {
    std::unique_lock lock(mu_);
    if (released_) return;
    released_ = true;
    stopping_ = true;
  }
  wake_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  if (lost_) return report_late_loss(lost_to_);

  // As client-go releases: the holder cleared, the shortest duration.
  kube::Json body = held_;
  body["spec"]["holderIdentity"] = "";
  body["spec"]["leaseDurationSeconds"] = 1;
  body["spec"]["renewTime"] = micro_time(Clock::now());
  const std::string after =
      "; the next fluxkey run waits up to " +
      format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(timing_.duration)) +
      " for it to expire";
  for (int attempt = 1;; ++attempt) {
    try {
      client_.replace(path(), body);
      return;
    } catch (const kube::ApiError& e) {
      if (e.status() != 409 || attempt == 2) {
        throw Error("cannot release Lease " + name_.str() + ": " + e.what() + after);
      }
    } catch (const Error& e) {
      throw Error("cannot release Lease " + name_.str() + ": " + e.what() + after);
    }
    // A Conflict: someone wrote since. Still ours (a retried write whose
    // reply was lost) means try again; anyone else's means nothing to do.
    std::optional<kube::Json> current;
    try {
      current = client_.get_optional(path());
    } catch (const Error& e) {
      throw Error("cannot release Lease " + name_.str() + ": " + e.what() + after);
    }
    // Deleted: nobody holds it, nothing to release.
    if (!current) return;
    const LeaseRecord seen = parse_lease(*current);
    if (seen.holder != identity_) return report_late_loss(seen.holder);
    body["metadata"]["resourceVersion"] = seen.resource_version;
  }
}

void RunLease::report_late_loss(const std::string& holder) const {
  // A loss check_held found has had its error line already.
  if (loss_reported_) return;
  logger().warn(taken_over(holder) +
                " before this run released it: its last change may have overlapped that run; "
                "`fluxkey status` shows what is stored");
}

}  // namespace fluxkey::rotation
