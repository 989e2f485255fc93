#!/usr/bin/env bash
# ./dev demo: fluxkey against the local stand-ins, end to end.
#   1. start kube-sim and github-sim (HTTPS on 127.0.0.1, their own CA)
#   2. fluxkey sync mints a token for fluxkey/flux-reconcile, stores the
#      kubeconfig in Secret fluxkey/flux-kubeconfig and pushes it sealed to a
#      repository, an environment and an organization secret
#   3. what GitHub holds (opened by github-sim) works with the real kubectl
#   4. fluxkey status; a second sync has nothing to do
#   5. fluxkey rotate --revoke-previous: the old kubeconfig is refused at once,
#      the new one works
# Tokens are never printed.
set -euo pipefail
BUILD=${1:?usage: demo.sh BUILD_DIR}
FLUXKEY=$BUILD/fluxkey
# shellcheck source=tests/sim/sims.sh
. "$(dirname "$0")/sim/sims.sh"

step() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; }

# kubeconfig_from_github REPO FILE: github-sim opens the FLUX_KUBECONFIG it
# holds for REPO (a test-only readback); the base64 value becomes FILE.
kubeconfig_from_github() {
  github_control GET /_sim/secrets | python3 -c '
import base64, json, sys
for s in json.load(sys.stdin)["secrets"]:
    if s["scope"] == "repo" and s["owner"] + "/" + s["repository"] == sys.argv[1]:
        sys.stdout.buffer.write(base64.b64decode(s["value"]))
' "$1" >"$2"
  [ -s "$2" ] || { echo "no FLUX_KUBECONFIG in $1"; exit 1; }
}

redacted() {
  sed -E 's/(token: ).*/\1<redacted>/; s/(certificate-authority-data: ).{24}.*/\1<CA, base64>/' "$1"
}

# fluxkey with the stand-ins' GitHub: the token comes from the environment (as
# the CronJob passes it), the stand-in's CA through SSL_CERT_FILE.
fluxkey() {
  GITHUB_TOKEN=$GH_TOKEN_VALUE SSL_CERT_FILE=$GITHUB_CA "$FLUXKEY" "$@"
}

step "Start the stand-ins"
start_kube_sim
start_github_sim
echo "kube-sim   $KUBE_URL"
echo "github-sim $GITHUB_URL"
reconcile_service_account
# Repositories acme/app (environment prod) and acme/web, organization acme, and
# a token for them, through the control API (kept out of argv).
GH_TOKEN_VALUE=demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
github_control POST /_sim/setup - >/dev/null <<JSON
{"repos": ["acme/app:prod", "acme/web"], "orgs": ["acme"],
 "tokens": ["$GH_TOKEN_VALUE=repo,admin:org"]}
JSON
echo "ServiceAccount fluxkey/flux-reconcile; GitHub acme/app (environment prod), acme/web, org acme"

TARGETS=(--github-repo acme/app --github-repo acme/app:prod --github-org acme
  --github-org-visibility selected --github-org-repos "app,web")
SYNC=(--kubeconfig "$ADMIN" --github-api-url "$GITHUB_URL" "${TARGETS[@]}")
SYNC_SHOWN="--kubeconfig admin.kubeconfig --github-api-url \$GITHUB_URL \\
    --github-repo acme/app --github-repo acme/app:prod \\
    --github-org acme --github-org-visibility selected --github-org-repos app,web"

step "fluxkey sync: mint, store in the cluster, push to three GitHub targets"
show "GITHUB_TOKEN=... fluxkey sync $SYNC_SHOWN"
fluxkey sync "${SYNC[@]}"

step "What GitHub holds (github-sim opens the sealed values)"
github_control GET /_sim/state >"$WORK/state.json"
github_control GET /_sim/secrets | python3 -c '
import json, sys
names = {r["id"]: r["full_name"] for r in json.load(open(sys.argv[1]))["repos"]}
for s in json.load(sys.stdin)["secrets"]:
    if s["scope"] == "repo":
        where = "repository " + s["owner"] + "/" + s["repository"]
    elif s["scope"] == "env":
        where = "environment " + s["environment"] + " of " + s["owner"] + "/" + s["repository"]
    else:
        where = "organization " + s["owner"] + " (" + s["visibility"] + ": " + ", ".join(
            names.get(i, str(i)) for i in s.get("selected_repository_ids") or []) + ")"
    print("%s in %s: %d bytes of base64 kubeconfig" % (s["name"], where, len(s["value"])))
' "$WORK/state.json"
kubeconfig_from_github acme/app "$WORK/old.kubeconfig"
show "base64 -d < FLUX_KUBECONFIG of acme/app > old.kubeconfig"
redacted "$WORK/old.kubeconfig"

step "kubectl uses it"
show "kubectl --kubeconfig old.kubeconfig get --raw /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile"
kubectl --kubeconfig "$WORK/old.kubeconfig" get --raw \
  /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile
echo

step "fluxkey status"
show "fluxkey status --kubeconfig admin.kubeconfig"
fluxkey status --kubeconfig "$ADMIN"

step "A second sync has nothing to do"
show "fluxkey sync ...same flags..."
fluxkey sync "${SYNC[@]}"

step "fluxkey rotate --revoke-previous: a new token everywhere, every earlier one dead"
show "fluxkey rotate --revoke-previous ...same flags..."
fluxkey rotate --revoke-previous "${SYNC[@]}"

step "The old kubeconfig is refused"
show "kubectl --kubeconfig old.kubeconfig get --raw /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile"
if kubectl --kubeconfig "$WORK/old.kubeconfig" get --raw \
  /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile >/dev/null 2>"$WORK/refused.txt"; then
  echo "the revoked kubeconfig still works"
  exit 1
fi
cat "$WORK/refused.txt"
grep -q Unauthorized "$WORK/refused.txt" || { echo "expected Unauthorized"; exit 1; }

step "The new one works"
kubeconfig_from_github acme/app "$WORK/new.kubeconfig"
show "kubectl --kubeconfig new.kubeconfig get --raw /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile"
kubectl --kubeconfig "$WORK/new.kubeconfig" get --raw \
  /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile
echo
show "fluxkey status --kubeconfig admin.kubeconfig"
fluxkey status --kubeconfig "$ADMIN"

step "The workflow step: fluxkey action reconciles Flux with what GitHub holds"
# Flux's objects (kube-sim's simulated controllers answer them), and the RBAC
# of k8s/ enforced from here on: flux-reconcile may get, patch and watch the
# Flux kinds in flux-system, nothing more.
kube_control POST /_sim/objects - >/dev/null <<'YAML'
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: "ssh://git@github.com/acme/fleet", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: flux-system}}
YAML
kubectl kustomize "$(dirname "$0")/../k8s" | kube_control POST /_sim/rbac - >/dev/null
echo "Kustomization flux-system/apps from GitRepository flux-system/flux-system; RBAC of k8s/ enforced"
# What the runner does for `uses: OWNER/fluxkey@v1` with kubeconfig: the secret.
: >"$WORK/github_output"
: >"$WORK/step_summary"
show "INPUT_KUBECONFIG=\${{ secrets.FLUX_KUBECONFIG }} INPUT_KIND=kustomization INPUT_NAME=apps INPUT_WITH-SOURCE=true fluxkey action"
SECRET_VALUE=$(base64 -w0 "$WORK/new.kubeconfig")
env -i PATH="$PATH" HOME="$WORK" "INPUT_KUBECONFIG=$SECRET_VALUE" INPUT_KIND=kustomization \
  INPUT_NAME=apps INPUT_NAMESPACE=flux-system "INPUT_WITH-SOURCE=true" INPUT_TIMEOUT=1m \
  INPUT_FORCE= GITHUB_OUTPUT="$WORK/github_output" GITHUB_STEP_SUMMARY="$WORK/step_summary" \
  "$FLUXKEY" action | sed -E 's/^(::add-mask::).*/\1<the token, masked by the runner>/'
unset SECRET_VALUE
show "cat \$GITHUB_OUTPUT"
cat "$WORK/github_output"
show "cat \$GITHUB_STEP_SUMMARY"
cat "$WORK/step_summary"

step "Done"
echo "The CronJob in k8s/ runs fluxkey sync on a schedule (cronjob/README.md); the action runs in"
echo "workflows (action.yml). bench/ measures both against the same stand-ins."
