# shellcheck shell=bash disable=SC2034  # KUBE_CA, ADMIN, ... are for the sourcing script
# Sourced by tests/demo.sh and bench/common.sh: the stand-ins started in a
# private folder and stopped on exit, and their control APIs.
#
# Expects BUILD (the build dir) to be set. Leaves in the environment:
#   WORK  a private temp dir, removed on exit (with the stand-ins stopped)
# and, once started, KUBE_URL, KUBE_CA, ADMIN (kube-sim's admin kubeconfig),
# GITHUB_URL and GITHUB_CA.

WORK=$(mktemp -d "/tmp/fluxkey-$(basename "$0" .sh)-XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME BINARY [ARGS...]: runs a stand-in (127.0.0.1 only, as they all
# do), waits 10 s at most for its URL and leaves it in $URL. Not called in a
# subshell, so cleanup sees every pid.
start() {
  local name=$1 bin=$2
  shift 2
  "$bin" --state-dir "$WORK/$name" "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
  PIDS+=($!)
  for _ in $(seq 100); do
    [ -s "$WORK/$name.out" ] && break
    sleep 0.1
  done
  [ -s "$WORK/$name.out" ] || { echo "$name did not start:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
  URL=$(head -n1 "$WORK/$name.out")
}

# start_kube_sim / start_github_sim [ARGS...]: one stand-in each.
start_kube_sim() {
  start kube "$BUILD/tests/sim/kube/kube-sim"
  KUBE_URL=$URL
  KUBE_CA=$WORK/kube/ca.crt
  ADMIN=$WORK/kube/admin.kubeconfig
}
# shellcheck disable=SC2120  # the arguments are optional
start_github_sim() {
  start github "$BUILD/tests/sim/github/github-sim" "$@"
  GITHUB_URL=$URL
  GITHUB_CA=$WORK/github/ca.crt
}

# reconcile_service_account: fluxkey/flux-reconcile, as k8s/ creates it.
reconcile_service_account() {
  kube_control POST /_sim/objects \
    '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"flux-reconcile","namespace":"fluxkey"}}' \
    >/dev/null
}

# kube_control / github_control METHOD PATH [BODY]: the stand-ins' control API
# (10 s at most). A body of "-" is read from stdin, so tokens stay out of argv.
# kube-sim reads YAML or JSON alike.
control() {
  local ca=$1 url=$2 method=$3 path=$4 body=${5:-}
  local args=(-sS --fail --max-time 10 --cacert "$ca" -X "$method" "$url$path")
  if [ "$body" = - ]; then
    args+=(-H 'Content-Type: application/json' --data-binary @-)
  elif [ -n "$body" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  curl "${args[@]}"
}
kube_control() { control "$KUBE_CA" "$KUBE_URL" "$@"; }
github_control() { control "$GITHUB_CA" "$GITHUB_URL" "$@"; }
