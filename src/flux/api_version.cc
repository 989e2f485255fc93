#include "flux/api_version.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace fluxkey::flux {

FallbackDecision decide_fallback(const KindInfo& kind, const std::string& tried, Served served) {
  FallbackDecision out;
  if (served == Served::kYes) {
    out.object_missing = true;
    return out;
  }
  auto it = std::find(kind.versions.begin(), kind.versions.end(), tried);
  if (it != kind.versions.end() && std::next(it) != kind.versions.end()) {
    out.next_version = *std::next(it);
  }
  // Discovery could not tell (refused, or failing): an older version may
  // still hold the object, and when none is left the 404 is taken at its word.
  if (served == Served::kUnknown && out.next_version.empty()) out.object_missing = true;
  return out;
}

std::string collection_path(const KindInfo& kind, const std::string& version,
                            const std::string& namespace_) {
  return "/apis/" + kind.group + "/" + version + "/namespaces/" + namespace_ + "/" + kind.plural;
}

std::string object_path(const KindInfo& kind, const std::string& version, const ObjectRef& ref) {
  return collection_path(kind, version, ref.namespace_) + "/" + ref.name;
}

Served ApiVersions::served(const KindInfo& kind, const std::string& version) {
  auto key = std::make_pair(kind.group, version);
  auto it = discovery_.find(key);
  if (it == discovery_.end()) {
    std::optional<std::vector<std::string>> resources;
    try {
      std::optional<Json> list = client_.get_optional("/apis/" + kind.group + "/" + version);
      if (list) {
        resources.emplace();
        // value() throws unless called on an object (an empty reply is null).
        const Json items = list->is_object() ? list->value("resources", Json::array()) : Json();
        for (const auto& r : items) {
          if (r.is_object() && r.contains("name") && r["name"].is_string()) {
            resources->push_back(r["name"].get<std::string>());
          }
        }
      }
    } catch (const kube::ApiError& e) {
      if (e.status() == 401) throw;
      // Discovery is open to every authenticated user on a real cluster;
      // when it is refused or failing, the caller cannot tell.
      logger().debug("discovery refused",
                     {{"group", kind.group}, {"version", version}, {"error", e.what()}});
      return Served::kUnknown;
    }
    it = discovery_.emplace(key, std::move(resources)).first;
  }
  if (!it->second) return Served::kNo;
  const auto& resources = *it->second;
  return std::find(resources.begin(), resources.end(), kind.plural) != resources.end()
             ? Served::kYes
             : Served::kNo;
}

ApiVersions::Found ApiVersions::get(const ObjectRef& ref) {
  const KindInfo& kind = *ref.kind;
  const std::string key = kind.plural + "." + kind.group;
  std::string version = chosen_.count(key) ? chosen_[key] : kind.versions.front();
  auto not_found = [&](const std::string& at) {
    return ObjectError(ref.str() + " not found (" + kind.group + "/" + at +
                       "); check the name and the namespace (-n)");
  };
  // The first version whose 404 discovery could not explain: the one named
  // when no later version has the object either.
  std::string unexplained;
  // Bounded by the table: each step moves to a later version.
  for (size_t attempt = 0; attempt <= kind.versions.size(); ++attempt) {
    std::optional<Json> object = client_.get_optional(object_path(kind, version, ref));
    if (object) {
      if (version != kind.versions.front()) {
        logger().debug("using an older Flux API", {{"api", kind.group + "/" + version}});
      }
      chosen_[key] = version;
      return {std::move(*object), version};
    }
    Served answer = served(kind, version);
    if (answer == Served::kUnknown && unexplained.empty()) unexplained = version;
    FallbackDecision decision = decide_fallback(kind, version, answer);
    if (decision.object_missing) throw not_found(unexplained.empty() ? version : unexplained);
    if (decision.next_version.empty()) break;
    version = decision.next_version;
  }
  if (!unexplained.empty()) throw not_found(unexplained);
  std::string versions;
  for (const auto& v : kind.versions) versions += (versions.empty() ? "" : ", ") + v;
  throw ObjectError("cannot find " + ref.str() + ": the API server serves no " + kind.plural +
                    " in " + kind.group + " (tried " + versions +
                    "); is Flux installed in this cluster?");
}

}  // namespace fluxkey::flux
