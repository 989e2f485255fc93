// A namespaced Kubernetes object reference as users write it: "NS/NAME".
#pragma once

#include <string>

namespace fluxkey {

struct NamespacedName {
  std::string namespace_;
  std::string name;
  std::string str() const { return namespace_ + "/" + name; }
};

}  // namespace fluxkey
