// Which object `flux reconcile --with-source` reconciles first: a
// Kustomization's spec.sourceRef, a HelmRelease's chartRef or the HelmChart
// helm-controller made for it, a HelmChart's spec.sourceRef.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"
#include "flux/kinds.h"

namespace fluxkey::flux {

// A failure whose message names the object already (not found, not served,
// deleted while waiting): reported as it is, without what fluxkey was doing
// in front.
class ObjectError : public Error {
 public:
  using Error::Error;
};

struct ObjectRef {
  const KindInfo* kind = nullptr;
  std::string namespace_;
  std::string name;
  // "Kustomization flux-system/apps", for messages.
  std::string str() const { return kind->kind + " " + namespace_ + "/" + name; }
};

// The source of `object` (of kind `kind`), or nullopt when the kind has
// none. Throws Error when the object names a source fluxkey cannot
// reconcile (an unknown kind, or no name).
std::optional<ObjectRef> source_of(const KindInfo& kind, const Json& object);

}  // namespace fluxkey::flux
