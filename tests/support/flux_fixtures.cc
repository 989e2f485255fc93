#include "support/flux_fixtures.h"

#include "support/fluxkey_run.h"

namespace fluxkey::testing {

FluxVersions FluxVersions::of(bool old_api) {
  if (!old_api) return {};
  return {"v1beta2", "v1beta2", "v2beta2", "v1beta2", "v1beta2"};
}

std::string flux_source_and_kustomization(const FluxVersions& v) {
  return "apiVersion: source.toolkit.fluxcd.io/" + v.source + R"(
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: "ssh://git@github.com/example/fleet", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/)" +
         v.kustomize + R"(
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
)";
}

std::string flux_fleet(const FluxVersions& v) {
  return flux_source_and_kustomization(v) + "---\napiVersion: source.toolkit.fluxcd.io/" +
         v.source + R"(
kind: OCIRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {interval: 5m, url: "oci://ghcr.io/stefanprodan/charts/podinfo", ref: {tag: 6.5.4}}
---
apiVersion: source.toolkit.fluxcd.io/)" +
         v.source + R"(
kind: Bucket
metadata: {name: assets, namespace: flux-system}
spec: {interval: 5m, bucketName: assets, endpoint: minio.example.com}
---
apiVersion: source.toolkit.fluxcd.io/)" +
         v.source + R"(
kind: HelmRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {interval: 5m, url: "https://stefanprodan.github.io/podinfo"}
---
apiVersion: source.toolkit.fluxcd.io/)" +
         v.source + R"(
kind: HelmChart
metadata: {name: flux-system-podinfo, namespace: flux-system}
spec: {interval: 5m, chart: podinfo, version: 6.5.4, sourceRef: {kind: HelmRepository, name: podinfo}}
---
apiVersion: helm.toolkit.fluxcd.io/)" +
         v.helm + R"(
kind: HelmRelease
metadata: {name: podinfo, namespace: flux-system}
spec:
  interval: 10m
  chart: {spec: {chart: podinfo, version: 6.5.4, sourceRef: {kind: HelmRepository, name: podinfo}}}
---
apiVersion: helm.toolkit.fluxcd.io/)" +
         v.helm + R"(
kind: HelmRelease
metadata: {name: podinfo-oci, namespace: flux-system}
spec: {interval: 10m, chartRef: {kind: OCIRepository, name: podinfo}}
---
apiVersion: image.toolkit.fluxcd.io/)" +
         v.image + R"(
kind: ImageRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {interval: 5m, image: ghcr.io/stefanprodan/podinfo}
---
apiVersion: image.toolkit.fluxcd.io/)" +
         v.image + R"(
kind: ImageUpdateAutomation
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 30m, sourceRef: {kind: GitRepository, name: flux-system}}
---
apiVersion: notification.toolkit.fluxcd.io/)" +
         v.notification + R"(
kind: Receiver
metadata: {name: github, namespace: flux-system}
spec: {type: github, resources: [{kind: GitRepository, name: flux-system}], secretRef: {name: webhook-token}}
)";
}

std::string flux_reconcile_service_account() {
  return R"(apiVersion: v1
kind: ServiceAccount
metadata: {name: flux-reconcile, namespace: fluxkey}
)";
}

std::string kube_admin_token(const SimProcess& kube) {
  std::string token = read_text(kube.state_dir() + "/admin.token");
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

}  // namespace fluxkey::testing
