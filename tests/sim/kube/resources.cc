#include "sim/kube/resources.h"

#include <memory>

namespace fluxkey::sim::kube {

void ResourceRegistry::add(ResourceInfo info) {
  if (info.singular.empty()) {
    info.singular = info.kind;
    for (char& c : info.singular)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::lock_guard<std::mutex> lock(mu_);
  resources_.push_back(std::make_unique<ResourceInfo>(std::move(info)));
}

const ResourceInfo* ResourceRegistry::find(const std::string& group, const std::string& version,
                                           const std::string& plural) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : resources_) {
    if (r->group == group && r->version == version && r->plural == plural) return r.get();
  }
  return nullptr;
}

const ResourceInfo* ResourceRegistry::find_kind(const std::string& api_version,
                                                const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : resources_) {
    if (r->api_version() == api_version && r->kind == kind) return r.get();
  }
  return nullptr;
}

std::vector<std::string> ResourceRegistry::versions_of(const std::string& group) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& r : resources_) {
    if (r->group != group) continue;
    bool seen = false;
    for (const auto& v : out) seen = seen || v == r->version;
    if (!seen) out.push_back(r->version);
  }
  return out;
}

std::vector<std::string> ResourceRegistry::groups() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& r : resources_) {
    if (r->group.empty()) continue;
    bool seen = false;
    for (const auto& g : out) seen = seen || g == r->group;
    if (!seen) out.push_back(r->group);
  }
  return out;
}

std::vector<const ResourceInfo*> ResourceRegistry::in_version(const std::string& group,
                                                              const std::string& version) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const ResourceInfo*> out;
  for (const auto& r : resources_) {
    if (r->group == group && r->version == version) out.push_back(r.get());
  }
  return out;
}

}  // namespace fluxkey::sim::kube
