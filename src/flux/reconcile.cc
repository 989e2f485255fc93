#include "flux/reconcile.h"

#include <thread>

#include "core/log.h"
#include "core/time.h"
#include "flux/api_version.h"
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
// object as fields in JSON.
void progress(const char* glyph, const std::string& text, const ObjectRef& ref) {
  if (logger().format() == LogFormat::kJson) {
    logger().info(text,
                  {{"kind", ref.kind->kind}, {"namespace", ref.namespace_}, {"name", ref.name}});
  } else {
    logger().info(std::string(glyph) + " " + text);
  }
}

bool suspended(const Json& object) {
  if (!object.is_object() || !object.contains("spec") || !object["spec"].is_object()) return false;
  auto it = object["spec"].find("suspend");
  return it != object["spec"].end() && it->is_boolean() && it->get<bool>();
}

// The same refusal with what fluxkey was doing in front, keeping its status
// (a 401 is left alone: the caller explains expired credentials).
[[noreturn]] void rethrow_with(const kube::ApiError& e, const std::string& doing) {
  if (e.status() == 401) throw e;
  throw kube::ApiError(e.status(), e.reason(), doing + ": " + e.server_message());
}

class Reconciler {
 public:
  Reconciler(const ReconcileOptions& options, kube::Client& client)
      : options_(options),
        client_(client),
        versions_(client),
        waiter_(client),
        start_(SteadyClock::now()),
        deadline_(start_ + options.timeout) {}

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
    } catch (const kube::ApiError& e) {
      rethrow_with(e, "cannot read " + ref.str());
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
    progress("✔", kind.kind + " annotated", ref);
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
    } catch (const kube::ApiError& e) {
      rethrow_with(e, "cannot watch " + ref.str());
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
        if (e.status() == 409 && attempt < kPatchAttempts) {
          std::this_thread::sleep_for(kConflictBackoff * attempt);
          continue;
        }
        rethrow_with(e, "cannot annotate " + ref.str());
      }
    }
  }

  const ReconcileOptions& options_;
  kube::Client& client_;
  ApiVersions versions_;
  Waiter waiter_;
  SteadyClock::time_point start_;
  SteadyClock::time_point deadline_;
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
