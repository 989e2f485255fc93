#include "flux/reconcile.h"

#include <thread>

#include "core/log.h"
#include "core/time.h"
#include "flux/api_version.h"
#include "flux/credentials.h"
#include "flux/kinds.h"
#include "flux/source.h"
#include "flux/wait.h"

namespace fluxkey::flux {
namespace {

using std::chrono::milliseconds;

constexpr const char* kRequestedAt = "reconcile.fluxcd.io/requestedAt";
constexpr const char* kForceAt = "reconcile.fluxcd.io/forceAt";
constexpr const char* kResetAt = "reconcile.fluxcd.io/resetAt";
// A merge patch conflicts only when the server loses a race with another
// writer; flux retries with client-go's default backoff (5 tries).
constexpr int kPatchAttempts = 5;
constexpr milliseconds kConflictBackoff{50};

// flux's progress lines ("► annotating ..."): the glyph only in text, the
// object (and `extra`) as fields in JSON.
void progress(const char* glyph, const std::string& text, const ObjectRef& ref,
              const LogFields& extra = {}) {
  if (logger().format() == LogFormat::kJson) {
    LogFields fields = {
        {"kind", ref.kind->kind}, {"namespace", ref.namespace_}, {"name", ref.name}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    logger().info(text, fields);
  } else {
    logger().info(std::string(glyph) + " " + text);
  }
}

bool suspended(const Json& object) {
  if (!object.is_object() || !object.contains("spec") || !object["spec"].is_object()) return false;
  auto it = object["spec"].find("suspend");
  return it != object["spec"].end() && it->is_boolean() && it->get<bool>();
}

// What a refusal calls for, beyond the server's words (empty: nothing).
std::string refusal_hint(const kube::ApiError& e, const ObjectRef& ref) {
  if (e.status() == 403) {
    return "this identity needs get, patch and watch on " + ref.kind->plural + " (" +
           ref.kind->group + ") in namespace " + ref.namespace_ +
           ", as fluxkey's Role flux-reconcile grants (k8s/reconcile/rbac.yaml)";
  }
  if (e.status() == 429) {
    return "the API server is shedding load (API Priority and Fairness) and kept refusing after "
           "fluxkey backed off; try again later";
  }
  if (e.status() >= 500) {
    return "the API server kept failing after fluxkey retried; check its health "
           "(kubectl get --raw='/readyz?verbose') and try again";
  }
  return "";
}

// The --timeout over every request of a reconcile, lifted afterwards: the
// client may be the caller's, used again after this.
class DeadlineScope {
 public:
  DeadlineScope(kube::Client& client, SteadyClock::time_point deadline)
      : client_(client), previous_(client.deadline()) {
    client_.set_deadline(deadline);
  }
  ~DeadlineScope() { client_.set_deadline(previous_); }
  DeadlineScope(const DeadlineScope&) = delete;
  DeadlineScope& operator=(const DeadlineScope&) = delete;

 private:
  kube::Client& client_;
  std::optional<SteadyClock::time_point> previous_;
};

class Reconciler {
 public:
  Reconciler(const ReconcileOptions& options, kube::Client& client)
      : options_(options),
        client_(client),
        versions_(client),
        waiter_(client),
        start_(SteadyClock::now()),
        deadline_(start_ + options.timeout),
        deadline_scope_(client, deadline_) {}

  ReconcileResult run(const ObjectRef& ref) {
    reconcile(ref, /*top=*/true);
    finish();
    return result_;
  }

 private:
  void finish() {
    result_.duration = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start_);
    if (!result_.objects.empty()) {
      const ObjectResult& top = result_.objects.back();
      result_.ready = top.ready;
      result_.revision = top.revision;
      result_.message = top.message;
    }
  }

  [[noreturn]] void fail(const std::string& message, ExitCode code, ObjectResult object) {
    result_.objects.push_back(std::move(object));
    finish();
    result_.ready = false;
    throw ReconcileError(message, code, result_);
  }

  void reconcile(const ObjectRef& ref, bool top) {
    ApiVersions::Found found;
    try {
      found = versions_.get(ref);
    } catch (const Error&) {
      rethrow_step("cannot read " + ref.str(), ref);
    }
    const KindInfo& kind = *ref.kind;
    ObjectResult object{kind.kind, ref.namespace_, ref.name, false, "", ""};

    if (is_static(kind, found.object)) {
      // As flux: nothing reconciles it, so there is nothing to wait for.
      progress("✔", "reconciliation not supported by the object", ref);
      object.ready = true;
      object.message = "reconciliation not supported by the object";
      result_.objects.push_back(object);
      return;
    }
    if (suspended(found.object)) {
      throw Error(ref.str() +
                  " is suspended (spec.suspend: true), so no controller acts on it; "
                  "resume it first (flux resume " +
                  kind.singular + " " + ref.name + " -n " + ref.namespace_ + ")");
    }
    if (options_.with_source) {
      if (std::optional<ObjectRef> source = source_of(kind, found.object)) {
        reconcile(*source, false);
      }
    }

    progress("►",
             "annotating " + kind.kind + " " + ref.name + " in " + ref.namespace_ + " namespace",
             ref);
    auto [patched, requested_at] = annotate(ref, found.version, top);
    // The value, in JSON logs, ties the request to what the controller
    // reports handling (status.lastHandledReconcileAt).
    progress("✔", kind.kind + " annotated", ref, {{"requestedAt", requested_at}});
    if (!options_.wait) {
      object.message = "reconcile requested at " + requested_at;
      result_.objects.push_back(object);
      return;
    }

    progress("◎", "waiting for " + kind.kind + " reconciliation", ref);
    WaitTarget target{collection_path(kind, found.version, ref.namespace_), ref.name, ref.str(),
                      requested_at};
    WaitOutcome outcome;
    try {
      outcome = waiter_.wait(target, patched, deadline_);
    } catch (const Error&) {
      rethrow_step(std::string(waiter_.polling() ? "cannot poll " : "cannot watch ") + ref.str() +
                       " (annotated at " + requested_at + ")",
                   ref);
    }
    object.message = outcome.readiness.message;
    object.revision = revision_of(kind, outcome.object);

    switch (outcome.readiness.state) {
      case ReadyState::kReady:
        object.ready = true;
        progress("✔", success_message(kind, outcome.object), ref);
        result_.objects.push_back(object);
        return;
      case ReadyState::kStalled:
        fail(ref.str() + " reconciliation failed: " + describe(outcome.readiness),
             ExitCode::kFailed, object);
      case ReadyState::kPending:
        break;
    }
    std::string within = format_timeout(options_.timeout);
    if (!outcome.readiness.handled) {
      fail(ref.str() + ": " + kind.controller + " did not handle the reconcile request within " +
               within + " (is " + kind.controller + " running?)",
           ExitCode::kTimeout, object);
    }
    fail(ref.str() + " not ready within " + within +
             (outcome.readiness.message.empty() ? std::string(" (Ready is not reported)")
                                                : ": " + describe(outcome.readiness)),
         ExitCode::kTimeout, object);
  }

  // Rethrows the exception being handled with what fluxkey was doing in
  // front, as one line: a refusal keeps its status (and gains the fix when
  // there is one), a 401 says which credentials expired and how to renew
  // them, a network failure says whether the --timeout cut it short and,
  // for a write that may have reached the server (`writing`), that it may
  // have taken effect all the same.
  [[noreturn]] void rethrow_step(const std::string& doing, const ObjectRef& ref,
                                 bool writing = false) const {
    try {
      throw;
    } catch (const UsageError&) {
      throw;
    } catch (const ObjectError&) {
      throw;  // names the object already
    } catch (const kube::ApiError& e) {
      if (e.status() == 401) {
        throw Error(doing + ": " + unauthorized_message(client_.config(), Clock::now()));
      }
      throw kube::ApiError(e.status(), e.reason(), doing + ": " + e.server_message(),
                           refusal_hint(e, ref));
    } catch (const http::NetworkError& e) {
      std::string message = doing;
      if (e.kind() == http::NetworkError::Kind::kTimeout && deadline_reached(deadline_)) {
        message += " within the --timeout of " + format_timeout(options_.timeout);
      }
      message += std::string(": ") + e.what();
      if (writing && e.request_sent()) {
        message +=
            "; the request may have reached the API server, so the annotation may be set "
            "all the same";
      }
      throw http::NetworkError(message, e.kind(), e.request_sent(), e.permanent());
    } catch (const Error& e) {
      throw Error(doing + ": " + e.what(), e.code());
    }
  }

  static std::string describe(const Readiness& r) {
    std::string out = r.message.empty() ? "no message" : r.message;
    if (!r.reason.empty()) out += " (" + r.reason + ")";
    return out;
  }

  // Sets the request annotations (force and reset too, for the HelmRelease
  // the user named) and returns the patched object and the value sent.
  std::pair<Json, std::string> annotate(const ObjectRef& ref, const std::string& version,
                                        bool top) {
    const std::string path = object_path(*ref.kind, version, ref);
    for (int attempt = 1;; ++attempt) {
      // A fresh value per attempt, as flux: each one is a new request.
      std::string now = format_rfc3339(Clock::now(), /*fractional=*/true);
      Json annotations = {{kRequestedAt, now}};
      if (top && options_.force) annotations[kForceAt] = now;
      if (top && options_.reset) annotations[kResetAt] = now;
      try {
        Json patched = client_.patch(path, {{"metadata", {{"annotations", annotations}}}},
                                     kube::PatchType::kMerge);
        return {std::move(patched), now};
      } catch (const kube::ApiError& e) {
        if (e.status() == 409 && attempt < kPatchAttempts &&
            SteadyClock::now() + kConflictBackoff * attempt < deadline_) {
          std::this_thread::sleep_for(kConflictBackoff * attempt);
          continue;
        }
        if (e.status() == 409) {
          throw kube::ApiError(
              e.status(), e.reason(), "cannot annotate " + ref.str() + ": " + e.server_message(),
              "it kept changing under fluxkey (" + std::to_string(attempt) + " tries); try again");
        }
        rethrow_step("cannot annotate " + ref.str(), ref, /*writing=*/true);
      } catch (const Error&) {
        rethrow_step("cannot annotate " + ref.str(), ref, /*writing=*/true);
      }
    }
  }

  const ReconcileOptions& options_;
  kube::Client& client_;
  ApiVersions versions_;
  Waiter waiter_;
  SteadyClock::time_point start_;
  SteadyClock::time_point deadline_;
  DeadlineScope deadline_scope_;
  ReconcileResult result_;
};

}  // namespace

ReconcileResult reconcile(const ReconcileOptions& options, kube::Client& client) {
  const KindInfo* kind = find_kind(options.kind);
  if (kind == nullptr) {
    throw UsageError("unknown kind \"" + options.kind + "\"; known kinds: " + known_kinds());
  }
  if ((options.force || options.reset) && kind->kind != "HelmRelease") {
    throw UsageError(std::string(options.force ? "--force" : "--reset") +
                     " applies to helmrelease only, not " + kind->singular);
  }
  if (options.timeout <= milliseconds(0)) throw UsageError("--timeout must be positive");
  return Reconciler(options, client).run(ObjectRef{kind, options.namespace_, options.name});
}

}  // namespace fluxkey::flux
