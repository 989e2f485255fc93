#!/usr/bin/env bash
# ./dev demo: fluxkey against the local stand-ins, end to end.
#   1. start kube-sim and github-sim (HTTPS on 127.0.0.1, their own CA)
#   2. fluxkey kubeconfig mints a 1h token for fluxkey/flux-reconcile
#   3. the real kubectl uses that kubeconfig
#   4. the real gh stores it as a GitHub secret, sealed with the repository key
set -euo pipefail
BUILD=${1:?usage: demo.sh BUILD_DIR}
FLUXKEY=$BUILD/fluxkey
WORK=$(mktemp -d /tmp/fluxkey-demo-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; }

# start NAME BINARY [ARGS...]: runs a stand-in, waits (10 s at most) for its URL
# and leaves it in $URL. Not called in a subshell, so cleanup sees every pid.
start() {
  local name=$1 bin=$2
  shift 2
  "$bin" --state-dir "$WORK/$name" "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
  PIDS+=($!)
  for _ in $(seq 100); do
    [ -s "$WORK/$name.out" ] && break
    sleep 0.1
  done
  [ -s "$WORK/$name.out" ] || { echo "$name did not start:"; cat "$WORK/$name.log"; exit 1; }
  URL=$(head -n1 "$WORK/$name.out")
}

step "Start the stand-ins"
start kube "$BUILD/tests/sim/kube/kube-sim"
KUBE_URL=$URL
start github "$BUILD/tests/sim/github/github-sim"
GITHUB_URL=$URL
echo "kube-sim   $KUBE_URL"
echo "github-sim $GITHUB_URL"
ADMIN=$WORK/kube/admin.kubeconfig

# The reconcile ServiceAccount, as k8s/ would create it.
curl -sS --fail --cacert "$WORK/kube/ca.crt" -X POST "$KUBE_URL/_sim/objects" \
  -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"flux-reconcile","namespace":"fluxkey"}}' >/dev/null

step "Mint a kubeconfig for fluxkey/flux-reconcile"
show "fluxkey kubeconfig --kubeconfig admin.kubeconfig --token-ttl 1h --output ci.kubeconfig"
"$FLUXKEY" kubeconfig --kubeconfig "$ADMIN" --token-ttl 1h --output "$WORK/ci.kubeconfig"
ls -l "$WORK/ci.kubeconfig" | awk '{print $1, $NF}'
sed -E 's/(token: ).*/\1<redacted>/; s/(certificate-authority-data: ).{24}.*/\1<CA, base64>/' "$WORK/ci.kubeconfig"

step "kubectl uses it"
show "kubectl --kubeconfig ci.kubeconfig get --raw /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile"
kubectl --kubeconfig "$WORK/ci.kubeconfig" get --raw /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile
echo

step "gh stores it as the repository secret FLUX_KUBECONFIG (sealed with the repository's key)"
# A repository and a token for it, set up through the control API (kept out of argv).
GH_TOKEN_VALUE=demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
curl -sS --fail --cacert "$WORK/github/ca.crt" -X POST "$GITHUB_URL/_sim/setup" \
  -H 'Content-Type: application/json' --data-binary @- >/dev/null <<JSON
{"repos": ["acme/web"], "tokens": ["$GH_TOKEN_VALUE=repo"]}
JSON
show "base64 -w0 ci.kubeconfig | gh secret set FLUX_KUBECONFIG -R acme/web"
base64 -w0 "$WORK/ci.kubeconfig" | env -i PATH="$PATH" HOME="$WORK" GH_HOST="${GITHUB_URL#https://}" \
  GH_ENTERPRISE_TOKEN="$GH_TOKEN_VALUE" SSL_CERT_FILE="$WORK/github/ca.crt" GH_PROMPT_DISABLED=1 \
  gh secret set FLUX_KUBECONFIG -R acme/web
curl -sS --fail --cacert "$WORK/github/ca.crt" "$GITHUB_URL/_sim/secrets" |
  python3 -c 'import json,sys; s=json.load(sys.stdin)["secrets"][0]; print("github-sim opened", s["name"], "in", s["owner"] + "/" + s["repository"] + ":", len(s["value"]), "bytes of base64 kubeconfig")'

step "Done"
echo "fluxkey sync will do the last two steps on a schedule; see README.md for what exists today."
