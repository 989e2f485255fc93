#include "commands/endpoint.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <optional>

#include "core/base64.h"
#include "core/file.h"
#include "core/log.h"

namespace fluxkey::commands {
namespace {

struct ClusterInfo {
  std::string server;
  std::string ca_pem;
};

// kube-public/cluster-info holds a kubeconfig with one cluster and no user,
// published by kubeadm (and most installers) for anonymous discovery.
std::optional<ClusterInfo> read_cluster_info(kube::Client& client) {
  std::optional<kube::Json> cm;
  try {
    cm = client.get_optional("/api/v1/namespaces/kube-public/configmaps/cluster-info");
  } catch (const kube::ApiError& e) {
    // Not being allowed to read it is normal: fall back without a fuss.
    logger().debug("cannot read kube-public/cluster-info", {{"reason", e.reason()}});
    return std::nullopt;
  }
  if (!cm) return std::nullopt;
  auto data = cm->find("data");
  if (data == cm->end() || !data->contains("kubeconfig") || !(*data)["kubeconfig"].is_string()) {
    return std::nullopt;
  }
  try {
    YAML::Node root = YAML::Load((*data)["kubeconfig"].get<std::string>());
    YAML::Node cluster = root["clusters"][0]["cluster"];
    if (!cluster || !cluster["server"]) return std::nullopt;
    ClusterInfo info;
    info.server = cluster["server"].as<std::string>();
    if (cluster["certificate-authority-data"]) {
      auto pem = base64_decode(cluster["certificate-authority-data"].as<std::string>());
      if (pem) info.ca_pem = *pem;
    }
    return info;
  } catch (const YAML::Exception&) {
    logger().warn("kube-public/cluster-info holds no readable kubeconfig; ignoring it");
    return std::nullopt;
  }
}

std::string host_of(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  auto end = url.find('/', start);
  std::string hostport = url.substr(start, end == std::string::npos ? end : end - start);
  if (!hostport.empty() && hostport.front() == '[') {
    return hostport.substr(1, hostport.find(']') - 1);
  }
  return hostport.substr(
      0, hostport.rfind(':') == std::string::npos ? hostport.size() : hostport.rfind(':'));
}

}  // namespace

bool is_cluster_internal(const std::string& server_url) {
  std::string host = host_of(server_url);
  auto ends_with = [&](std::string_view suffix) {
    return host.size() >= suffix.size() &&
           host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".svc") || ends_with(".svc.cluster.local") || ends_with(".cluster.local")) {
    return true;
  }
  if (host == "kubernetes" || host == "kubernetes.default") return true;
  const char* service_host = std::getenv("KUBERNETES_SERVICE_HOST");
  return service_host != nullptr && *service_host != '\0' && host == service_host;
}

Endpoint resolve_endpoint(kube::Client& client, const EndpointOptions& options,
                          const kube::InClusterPaths& in_cluster) {
  Endpoint out;
  const bool need_info_for_server = options.server.empty();
  const bool need_info_for_ca = options.ca_from == "cluster-info";
  std::optional<ClusterInfo> info;
  if (need_info_for_server || need_info_for_ca) info = read_cluster_info(client);

  if (!options.server.empty()) {
    out.server = options.server;
    out.server_source = "--server";
  } else if (info) {
    out.server = info->server;
    out.server_source = "kube-public/cluster-info";
  } else {
    out.server = client.config().server;
    out.server_source = "the URL fluxkey uses (" + client.config().origin + ")";
  }

  if (!options.ca_pem.empty()) {
    out.ca_pem = options.ca_pem;
    out.ca_source = "--server-ca";
  } else if (options.ca_from == "system") {
    out.ca_source = "none (system roots)";
  } else if (options.ca_from == "in-cluster") {
    out.ca_pem = read_file(in_cluster.ca_file, "in-cluster CA");
    out.ca_source = in_cluster.ca_file;
  } else if (options.ca_from == "cluster-info") {
    if (!info || info->ca_pem.empty()) {
      throw Error(
          "--server-ca-from cluster-info: kube-public/cluster-info is missing, unreadable or "
          "holds no certificate-authority-data; pass --server-ca FILE instead");
    }
    out.ca_pem = info->ca_pem;
    out.ca_source = "kube-public/cluster-info";
  } else {
    out.ca_pem = client.config().tls.ca_pem;
    out.ca_source = out.ca_pem.empty() ? "none (fluxkey trusts the system roots)"
                                       : "the CA fluxkey trusts (" + client.config().origin + ")";
  }

  if (is_cluster_internal(out.server)) {
    logger().warn("the server written into the kubeconfig, " + out.server +
                  ", is a cluster-internal address a GitHub runner cannot reach; pass --server "
                  "with the external URL");
  }
  return out;
}

}  // namespace fluxkey::commands
