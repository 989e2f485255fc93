// Kubeconfigs kube-sim writes: the admin one in the state dir, and the one
// kubeadm publishes in kube-public/cluster-info.
#pragma once

#include <string>

namespace fluxkey::sim::kube {

// A kubeconfig with one cluster, one token user and one current context.
std::string admin_kubeconfig(const std::string& server, const std::string& ca_pem,
                             const std::string& token);

// kubeadm's cluster-info kubeconfig: one unnamed cluster, no users.
std::string cluster_info_kubeconfig(const std::string& server, const std::string& ca_pem);

}  // namespace fluxkey::sim::kube
