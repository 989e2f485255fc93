// Finding which version of a Flux API the cluster serves. fluxkey asks for
// the newest version first; a cluster on an older Flux answers 404 for it,
// which must not be mistaken for "the object does not exist": discovery
// (/apis/GROUP/VERSION) tells the two apart.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flux/kinds.h"
#include "flux/source.h"
#include "kube/client.h"

namespace fluxkey::flux {

// What discovery said about a kind at one version.
enum class Served {
  kYes,      // the version lists the kind's resource
  kNo,       // the version is not served, or does not list the resource
  kUnknown,  // discovery could not be read (refused): assume served
};

// After a 404 for an object at `tried`: the object is missing, or the next
// version to try: the version after `tried` in the table, "" when none is
// left (then: not served at all). A version discovery cannot vouch for
// (kUnknown) moves on to the next one too, and is missing when it is last.
struct FallbackDecision {
  bool object_missing = false;
  std::string next_version;  // when !object_missing; "" = no version left
};
FallbackDecision decide_fallback(const KindInfo& kind, const std::string& tried, Served served);

// /apis/GROUP/VERSION/namespaces/NS/PLURAL[/NAME]
std::string collection_path(const KindInfo& kind, const std::string& version,
                            const std::string& namespace_);
std::string object_path(const KindInfo& kind, const std::string& version, const ObjectRef& ref);

// Reads Flux objects through whichever version the cluster serves,
// remembering it per kind.
class ApiVersions {
 public:
  explicit ApiVersions(kube::Client& client) : client_(client) {}

  struct Found {
    Json object;
    std::string version;
  };
  // GETs the object. Throws ObjectError naming kind, namespace and name when
  // it does not exist, or when no known version is served; other refusals
  // are kube::ApiError.
  Found get(const ObjectRef& ref);

  // Whether discovery lists the kind at this version (cached).
  Served served(const KindInfo& kind, const std::string& version);

 private:
  kube::Client& client_;
  std::map<std::string, std::string> chosen_;  // plural.group -> version that answered
  std::map<std::pair<std::string, std::string>, std::optional<std::vector<std::string>>>
      discovery_;  // (group, version) -> resources, nullopt when not served
};

}  // namespace fluxkey::flux
