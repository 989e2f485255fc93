#include "sim/kube/kubeconfig.h"

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "sim/kube/yaml_json.h"

namespace fluxkey::sim::kube {

std::string admin_kubeconfig(const std::string& server, const std::string& ca_pem,
                             const std::string& token) {
  nlohmann::json config = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       {{{"name", "kube-sim"},
         {"cluster",
          {{"server", server}, {"certificate-authority-data", base64_encode(ca_pem)}}}}}},
      {"users", {{{"name", "admin"}, {"user", {{"token", token}}}}}},
      {"contexts",
       {{{"name", "kube-sim"},
         {"context", {{"cluster", "kube-sim"}, {"user", "admin"}, {"namespace", "default"}}}}}},
      {"current-context", "kube-sim"},
      {"preferences", nlohmann::json::object()}};
  return to_yaml(config);
}

std::string cluster_info_kubeconfig(const std::string& server, const std::string& ca_pem) {
  nlohmann::json config = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       {{{"name", ""},
         {"cluster",
          {{"certificate-authority-data", base64_encode(ca_pem)}, {"server", server}}}}}},
      {"contexts", nullptr},
      {"current-context", ""},
      {"preferences", nlohmann::json::object()},
      {"users", nullptr}};
  return to_yaml(config);
}

}  // namespace fluxkey::sim::kube
