#!/usr/bin/env bash
# Benchmark: how soon after the controller marks an object Ready does the
# reconcile return? Three ways to wait, against the same kube-sim:
#
#   watch     fluxkey reconcile (watches the one object)
#   poll      fluxkey reconcile as an identity RBAC forbids to watch: it polls,
#             100 ms at first, doubling to 2 s
#   baseline  what the flux CLI does: annotate, then read the object every 2 s
#             (here `kubectl get -o jsonpath` in a loop, the first read at once)
#
# kube-sim's simulated kustomize-controller answers each request after a delay
# D drawn per run from [200, 2500) ms (the same sequence for all three, so a
# fixed poll period meets the answer at every phase). Ready happens at
# PATCH + D, the PATCH time read from kube-sim's request log; the detection
# latency is the moment the waiter returned minus that. With a 2 s period
# the baseline's expected median is 1 s (uniform phase), printed beside the
# measured one. Goal: median watch latency <= 100 ms.
#
#   bench/readiness.sh [BUILD_DIR] [RUNS]      (default build, 15)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${2:-15}
# shellcheck source=bench/common.sh
. bench/common.sh

start_kube_sim
export HOME=$WORK/home
mkdir -p "$HOME"

kube_control POST /_sim/objects - >/dev/null <<'JSON'
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
  "metadata": {"name": "flux-system", "namespace": "flux-system"},
  "spec": {"interval": "1m", "url": "ssh://git@github.com/example/fleet", "ref": {"branch": "main"}}},
 {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
  "metadata": {"name": "apps", "namespace": "flux-system"},
  "spec": {"interval": "10m", "path": "./apps", "prune": true,
           "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}]}
JSON

# An identity that may get and patch Kustomizations but not watch them.
POLL_TOKEN=$(kube_control POST /_sim/tokens '{"user": "bench-poller"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -sS --fail --max-time 10 --cacert "$KUBE_CA" -X POST -H 'Content-Type: application/yaml' \
  --data-binary @- "$KUBE_URL/_sim/rbac" >/dev/null <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reconcile, namespace: flux-system}
rules:
- apiGroups: [kustomize.toolkit.fluxcd.io]
  resources: [kustomizations]
  verbs: [get, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reconcile, namespace: flux-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reconcile}
subjects: [{kind: User, name: bench-poller}]
YAML
# Its kubeconfig goes to fluxkey through the environment, as in a workflow.
POLL_KUBECONFIG=$(python3 - "$KUBE_URL" "$KUBE_CA" "$POLL_TOKEN" <<'PY'
import base64, sys
url, ca, token = sys.argv[1:]
ca_data = base64.b64encode(open(ca, "rb").read()).decode()
print(f"""apiVersion: v1
kind: Config
clusters: [{{name: sim, cluster: {{server: "{url}", certificate-authority-data: {ca_data}}}}}]
users: [{{name: poller, user: {{token: {token}}}}}]
contexts: [{{name: poller, context: {{cluster: sim, user: poller}}}}]
current-context: poller""")
PY
)

log_count() { kube_control GET /_sim/requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# patch_us SINCE: the time (µs since the epoch) of the first PATCH of the
# Kustomization logged from index SINCE on.
patch_us() {
  kube_control GET "/_sim/requests?since=$1" | python3 -c '
import datetime, json, sys
for r in json.load(sys.stdin):
    if r["method"] == "PATCH" and r["path"].endswith("/kustomizations/apps"):
        ts = r["ts"].rstrip("Z")
        whole, _, frac = ts.partition(".")
        t = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
        print(int(t.timestamp()) * 1000000 + int((frac + "000000")[:6]))
        break
else:
    sys.exit("no PATCH logged")'
}
set_delay() {
  kube_control POST /_sim/flux "{\"kind\": \"ks\", \"namespace\": \"flux-system\", \"name\": \"apps\", \"delay_ms\": $1}" >/dev/null
}

wait_fluxkey_watch() {
  "$FLUXKEY" reconcile --kubeconfig "$ADMIN" --name apps --timeout 30s >/dev/null 2>"$WORK/err" ||
    { cat "$WORK/err" >&2; return 1; }
}
wait_fluxkey_poll() {
  FLUXKEY_KUBECONFIG_DATA=$POLL_KUBECONFIG "$FLUXKEY" reconcile --name apps --timeout 30s \
    >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; return 1; }
  grep -q 'polling instead' "$WORK/err" || { echo "poll mode did not poll" >&2; return 1; }
}
# The flux CLI's loop: annotate, then get every 2 s (the first at once) until
# the request is handled and Ready is True.
wait_baseline() {
  local at state
  at=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  kubectl --kubeconfig "$ADMIN" -n flux-system annotate --overwrite kustomization apps \
    "reconcile.fluxcd.io/requestedAt=$at" >/dev/null
  for _ in $(seq 30); do
    state=$(kubectl --kubeconfig "$ADMIN" -n flux-system get kustomization apps -o \
      jsonpath='{.status.lastHandledReconcileAt} {.status.conditions[?(@.type=="Ready")].status}')
    [ "$state" = "$at True" ] && return 0
    sleep 2
  done
  echo "baseline: not ready in 60 s" >&2
  return 1
}

# Warm up: kubectl's discovery cache, the controller's first reconcile.
set_delay 100
kubectl --kubeconfig "$ADMIN" -n flux-system get kustomization apps >/dev/null
wait_fluxkey_watch

DELAYS=$(awk -v n="$RUNS" 'BEGIN {srand(42); for (i = 0; i < n; i++) printf "%d ", 200 + int(rand() * 2300)}')
for mode in watch poll baseline; do : >"$WORK/latency.$mode"; done
for d in $DELAYS; do
  set_delay "$d"
  for mode in watch poll baseline; do
    since=$(log_count)
    case $mode in
      watch) wait_fluxkey_watch ;;
      poll) wait_fluxkey_poll ;;
      baseline) wait_baseline ;;
    esac
    done_us=$(now_us)
    patched=$(patch_us "$since")
    echo $(((done_us - patched - d * 1000) / 1000)) >>"$WORK/latency.$mode"
  done
done

printf 'controller delays (ms): %s\n' "$DELAYS"
printf '%-9s %10s %10s %10s   (detection latency, ms; %d runs)\n' mode median min max "$RUNS"
for mode in watch poll baseline; do
  printf '%-9s %10s %10s %10s\n' "$mode" "$(median <"$WORK/latency.$mode")" \
    "$(sort -n "$WORK/latency.$mode" | head -n1)" "$(sort -n "$WORK/latency.$mode" | tail -n1)"
done
WATCH=$(median <"$WORK/latency.watch")
POLL=$(median <"$WORK/latency.poll")
BASE=$(median <"$WORK/latency.baseline")
printf 'baseline expected median (2 s period, uniform phase): 1000 ms; measured %s ms\n' "$BASE"
# A median under 1 ms counts as 1 ms, so a ratio stays finite.
at_least_1() { awk -v x="$1" 'BEGIN {print (x < 1) ? 1 : x}'; }
printf 'ratios of medians: baseline/watch %sx, baseline/poll %sx, poll/watch %sx\n' \
  "$(ratio "$BASE" "$(at_least_1 "$WATCH")")" "$(ratio "$BASE" "$(at_least_1 "$POLL")")" \
  "$(ratio "$POLL" "$(at_least_1 "$WATCH")")"
verdict "$(awk -v w="$WATCH" 'BEGIN {print (w <= 100) ? 1 : 0}')" \
  "median watch detection latency ${WATCH} ms <= 100 ms"
exit "$FAILED"
