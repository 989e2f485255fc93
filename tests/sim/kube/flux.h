// Flux's custom resources in kube-sim and a simulated set of Flux controllers
// that answer reconcile requests the way kustomize-, helm-, source-, image-
// and notification-controller do: they watch for a new
// reconcile.fluxcd.io/requestedAt (or a new generation), mark the object
// Reconciling, and after a delay write Ready, lastHandledReconcileAt,
// observedGeneration and the kind's revision fields. Tests choose per object
// whether a reconcile succeeds, fails, stalls or is never answered.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace CLI {
class App;
}
namespace fluxkey::sim::kube {
class KubeApi;
}

namespace fluxkey::sim::flux {

// Which API versions kube-sim serves: the current ones or, with
// `--flux-api old`, the previous ones (to exercise clients' fallbacks).
enum class ApiSet { kCurrent, kOld };

// Throws std::invalid_argument for anything but "current" and "old".
ApiSet parse_api_set(const std::string& text);

enum class Family {
  kKustomization,
  kHelmRelease,
  kGitRepository,
  kOciRepository,
  kHelmRepository,
  kHelmChart,
  kBucket,
  kImageRepository,
  kImageUpdateAutomation,
  kReceiver,
};

// One namespaced Flux kind as discovery lists it.
struct FluxKind {
  Family family;
  std::string group;
  std::string version;
  std::string resource;  // plural, e.g. "kustomizations"
  std::string kind;      // e.g. "Kustomization"
  std::string singular;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;

  std::string api_version() const { return group + "/" + version; }
  bool is_source() const;
};

const std::vector<FluxKind>& flux_kinds(ApiSet set);
// By plural, kind or short name, case-insensitively; nullptr when unknown.
const FluxKind* find_kind(ApiSet set, const std::string& name);

enum class Mode { kSucceed, kFail, kFailStalled, kNever };

// How the simulated controller answers one object (POST /_sim/flux).
struct Behaviour {
  Mode mode = Mode::kSucceed;
  int delay_ms = 100;
  std::string revision;  // empty: the source's artifact revision or a made-up one
  std::string reason;    // empty: the controller's usual reason for the mode
  std::string message;   // empty: the controller's usual message
};

// Reads the body of POST /_sim/flux: kind, namespace, name (both optional: a
// missing name makes it the default of the kind in that namespace, or of the
// kind everywhere), mode, delay_ms, revision, reason, message. Throws
// std::invalid_argument naming the bad field.
struct BehaviourRule {
  std::string resource;  // plural of the kind; empty: every kind
  std::string ns;
  std::string name;
  Behaviour behaviour;
};
BehaviourRule parse_behaviour(ApiSet set, const nlohmann::json& body);

// Whether a change to an object asks for a reconcile: a new object, a new
// generation or a new reconcile.fluxcd.io/requestedAt value. What the
// controller remembers of an object between changes:
struct Seen {
  int64_t generation = 0;
  std::string requested_at;
};
bool wants_reconcile(const std::optional<Seen>& before, const nlohmann::json& object);
Seen seen_of(const nlohmann::json& object);

bool is_suspended(const nlohmann::json& object);

// The status written when a reconcile starts: Reconciling=True and
// Ready=Unknown (reason Progressing), the rest of the status kept.
nlohmann::json progressing_status(const FluxKind& kind, const nlohmann::json& object,
                                  const std::string& now);

// The status written when a reconcile ends, per the behaviour's mode.
// `revision` is the revision the reconcile ended on (see revision_for).
nlohmann::json finished_status(const FluxKind& kind, ApiSet set, const nlohmann::json& object,
                               const Behaviour& behaviour, const std::string& revision,
                               const std::string& now);

// The revision a reconcile ends on: the behaviour's, else the artifact
// revision of the object's source (a Kustomization's sourceRef, a
// HelmRelease's chartRef; when `source` is given and has one), else one
// derived from the object as the real controller would name it
// ("main@sha1:<40 hex>", "latest@sha256:<64 hex>", a chart version ...).
std::string revision_for(const FluxKind& kind, const nlohmann::json& object,
                         const Behaviour& behaviour, const nlohmann::json* source);

// The reference to a Kustomization's or HelmRelease's source:
// {resource plural, namespace, name}; nullopt when it names none we serve.
std::optional<std::tuple<std::string, std::string, std::string>> source_ref(
    ApiSet set, const FluxKind& kind, const nlohmann::json& object);

// What the controller needs from kube-sim's object store.
class ObjectAccess {
 public:
  virtual ~ObjectAccess() = default;
  virtual std::optional<nlohmann::json> get(const std::string& resource, const std::string& ns,
                                            const std::string& name) = 0;
  // Replaces .status of the object, keeping everything else (no generation
  // change). Returns false when the object is gone.
  virtual bool write_status(const std::string& resource, const std::string& ns,
                            const std::string& name, const nlohmann::json& status) = 0;
};

// The background controller. Feed it every change of a Flux object with
// observe(); it writes statuses through ObjectAccess on its own thread.
class Controller {
 public:
  using Now = std::function<std::string()>;  // RFC 3339 time for status fields

  Controller(ApiSet set, ObjectAccess& access);
  ~Controller();  // stops the thread
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void start();
  void stop();

  // A Flux object was created or changed (`deleted` for deletions). Cheap and
  // non-blocking: safe to call from a store callback with the store locked.
  void observe(const std::string& resource, const nlohmann::json& object, bool deleted = false);

  void set_behaviour(const BehaviourRule& rule);
  void clear_behaviours();
  Behaviour behaviour_for(const std::string& resource, const std::string& ns,
                          const std::string& name) const;
  nlohmann::json behaviours_json() const;

  ApiSet api_set() const { return set_; }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // resource, ns, name
  enum class Step { kStart, kFinish };
  struct Job {
    std::chrono::steady_clock::time_point due;
    Key key;
    Step step;
    uint64_t epoch;
    int waits = 0;  // times a finish waited for its source's first artifact
  };

  void loop();
  void run(const Job& job);

  ApiSet set_;
  ObjectAccess& access_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::map<Key, Seen> seen_;
  std::map<Key, uint64_t> epochs_;
  std::vector<Job> jobs_;
  std::vector<BehaviourRule> rules_;
};

// "2026-11-28T17:43:22Z", the way status timestamps are written.
std::string now_rfc3339();

// kube-sim's flag: --flux-api current|old.
struct FluxFlags {
  std::string api = "current";
};
void add_flags(CLI::App& app, FluxFlags& flags);

// The Flux kinds in kube-sim: registered in the resource table (so routing,
// discovery and the generic verbs serve them), the controller fed by the
// store's change notifications, and the control endpoints
// POST /_sim/flux (a behaviour), GET /_sim/flux (the behaviours) and
// DELETE /_sim/flux (back to the defaults). Declare it after the KubeApi;
// its destructor stops the controller.
class FluxService {
 public:
  FluxService(kube::KubeApi& api, ApiSet set);
  ~FluxService();
  FluxService(const FluxService&) = delete;
  FluxService& operator=(const FluxService&) = delete;

  // Starts the controller thread; objects seeded earlier are reconciled too.
  void start();
  void stop();
  Controller& controller() { return *controller_; }

 private:
  kube::KubeApi& api_;
  ApiSet set_;
  std::unique_ptr<ObjectAccess> access_;
  std::unique_ptr<Controller> controller_;
  uint64_t listener_ = 0;
};

}  // namespace fluxkey::sim::flux
