// What fluxkey keeps in the cluster, read and written in one place.
//
//   the kubeconfig Secret (--k8s-secret)   key `kubeconfig`, label
//       app.kubernetes.io/managed-by=fluxkey, annotations below: the newest
//       generation, its expiry, and per GitHub target what it last received.
//   generation Secrets, one per minted token, in the ServiceAccount's
//       namespace. Each token is bound to its Secret (TokenRequest
//       boundObjectRef), so deleting the Secret revokes the token at once.
//
// The annotations are the truth users and `fluxkey status` read, so they are
// written only with what actually happened.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/names.h"
#include "core/time.h"
#include "kube/client.h"

namespace fluxkey::rotation {

inline constexpr const char* kFieldManager = "fluxkey";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kGenerationAnnotation = "fluxkey.io/generation";
inline constexpr const char* kMintedAtAnnotation = "fluxkey.io/minted-at";
inline constexpr const char* kExpiresAtAnnotation = "fluxkey.io/expires-at";
inline constexpr const char* kServiceAccountAnnotation = "fluxkey.io/service-account";
inline constexpr const char* kServerAnnotation = "fluxkey.io/server";
inline constexpr const char* kTargetsAnnotation = "fluxkey.io/targets";
inline constexpr const char* kRevokedAtAnnotation = "fluxkey.io/revoked-at";
// On generation Secrets: which kubeconfig Secret they belong to.
inline constexpr const char* kOwnerLabel = "fluxkey.io/kubeconfig-secret";
inline constexpr const char* kOwnerAnnotation = "fluxkey.io/kubeconfig-secret";
inline constexpr const char* kGenerationSecretType = "fluxkey.io/token-generation";

// What one GitHub target last received, keyed by github::Target::id().
struct TargetRecord {
  long generation = 0;  // generation of the last successful push; 0: never
  std::optional<Clock::time_point> pushed_at;
  std::string error;  // the last attempt's failure; empty when it succeeded
  std::optional<Clock::time_point> failed_at;
};

// The kubeconfig Secret as fluxkey reads it.
struct StoredKubeconfig {
  bool exists = false;
  std::string resource_version;  // optimistic lock for the next write
  std::string kubeconfig;        // secret: the YAML
  long generation = 0;
  std::optional<Clock::time_point> minted_at;
  std::optional<Clock::time_point> expires_at;
  std::optional<Clock::time_point> revoked_at;
  std::string service_account;
  std::string server;
  std::map<std::string, TargetRecord> targets;
};

struct GenerationSecret {
  std::string name;
  long generation = 0;
  Clock::time_point created_at;
};

// Reads and writes fluxkey's Secrets through the kube client.
class Store {
 public:
  Store(kube::Client& client, NamespacedName kubeconfig_secret, NamespacedName service_account);

  const NamespacedName& kubeconfig_secret() const { return secret_; }
  const NamespacedName& service_account() const { return sa_; }

  // GET of the kubeconfig Secret; exists=false when absent. Throws Error when
  // it exists but is not fluxkey's (no managed-by label), so that fluxkey
  // never overwrites a Secret someone else made.
  StoredKubeconfig read();
  // The generation Secrets of this kubeconfig Secret, oldest first.
  std::vector<GenerationSecret> generations();

  // POST of a new generation Secret; returns its uid for boundObjectRef.
  std::string create_generation(long generation);
  void delete_generation(const std::string& name);  // absent is fine
  std::string generation_name(long generation) const;
  // generation_secret_ref of a generation Secret of this kubeconfig Secret.
  std::string generation_ref(const std::string& name) const;
  std::string generation_ref(long generation) const {
    return generation_ref(generation_name(generation));
  }

  // Server-side apply of the whole Secret (kubeconfig and annotations),
  // with the resourceVersion read earlier as a precondition: a concurrent
  // writer makes this fail with a Conflict instead of being overwritten.
  // Updates stored.resource_version.
  void write(StoredKubeconfig& stored);

 private:
  kube::Client& client_;
  NamespacedName secret_;
  NamespacedName sa_;
};

// "generation Secret NS/NAME", as every message names one: they live in
// the ServiceAccount's namespace, which may not be the kubeconfig Secret's.
std::string generation_secret_ref(const std::string& namespace_, const std::string& name);

// The annotation holding per-target records, as JSON, both ways.
std::string encode_targets(const std::map<std::string, TargetRecord>& targets);
std::map<std::string, TargetRecord> decode_targets(const std::string& json);

}  // namespace fluxkey::rotation
