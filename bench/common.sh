# shellcheck shell=bash disable=SC2034  # ADMIN, FAILED, ... are for the sourcing script
# Sourced by bench/sync.sh, bench/fanout.sh and bench/requests.sh: the
# stand-ins, their control APIs and small statistics, shared so that the three
# benchmarks set things up the same way.
#
# Expects BUILD (the build dir) to be set. Leaves in the environment:
#   WORK          a private temp dir, removed on exit (with the stand-ins stopped)
#   KUBE_URL, KUBE_CA, ADMIN (kube-sim's admin kubeconfig)
#   GITHUB_URL, GITHUB_CA, GH_TOKEN_VALUE (the GitHub token, never in argv)
set -euo pipefail

FLUXKEY=$BUILD/fluxkey
WORK=$(mktemp -d /tmp/fluxkey-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
  done
}
need /usr/bin/time curl python3 kubectl
[ -x "$FLUXKEY" ] || { echo "no $FLUXKEY: build it first (ninja -C $BUILD fluxkey)" >&2; exit 2; }

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

# kube_control / github_control METHOD PATH [BODY]: the stand-ins' control API
# (10 s at most). A body of "-" is read from stdin, so tokens stay out of argv.
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

# shellcheck disable=SC2120  # the arguments are optional
# start_sims [GITHUB_SIM_ARGS...]: both stand-ins, the reconcile
# ServiceAccount, and a GitHub token with repo and admin:org scopes.
start_sims() {
  start kube "$BUILD/tests/sim/kube/kube-sim"
  KUBE_URL=$URL
  KUBE_CA=$WORK/kube/ca.crt
  ADMIN=$WORK/kube/admin.kubeconfig
  start github "$BUILD/tests/sim/github/github-sim" "$@"
  GITHUB_URL=$URL
  GITHUB_CA=$WORK/github/ca.crt
  kube_control POST /_sim/objects \
    '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"flux-reconcile","namespace":"fluxkey"}}' \
    >/dev/null
  GH_TOKEN_VALUE=bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  github_control POST /_sim/setup - >/dev/null <<JSON
{"orgs": ["acme"], "tokens": ["$GH_TOKEN_VALUE=repo,admin:org"]}
JSON
}

# github_repos NAME...: adds repositories (acme/app:prod gives an environment).
github_repos() {
  python3 -c 'import json,sys; print(json.dumps({"repos": sys.argv[1:]}))' "$@" |
    github_control POST /_sim/setup - >/dev/null
}

# set_latency MS [GITHUB_MS]: the stand-ins sleep before every API request,
# kube-sim MS, github-sim GITHUB_MS (default: MS too).
set_latency() {
  kube_control POST /_sim/latency "{\"ms\": $1}" >/dev/null
  github_control POST /_sim/latency "{\"ms\": ${2:-$1}}" >/dev/null
}

# fluxkey_env CMD...: runs CMD with the environment fluxkey needs toward the
# stand-ins (the GitHub token in its env, as a CronJob passes it).
fluxkey_env() {
  GITHUB_TOKEN=$GH_TOKEN_VALUE SSL_CERT_FILE=$GITHUB_CA "$@"
}

# Wall clock in microseconds.
now_us() { echo $(($(date +%s%N) / 1000)); }

# median < numbers: the median (mean of the middle two for an even count).
median() {
  sort -n | awk '{a[NR]=$1} END {if (NR == 0) print 0; else print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}

# ratio A B [DIGITS]: A/B.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN {printf "%.*f", d, (b == 0) ? 0 : a / b}'; }

# verdict OK TEXT: prints "PASS TEXT" or "FAIL TEXT" and remembers a failure.
FAILED=0
verdict() {
  if [ "$1" = 1 ]; then
    printf 'PASS  %s\n' "$2"
  else
    printf 'FAIL  %s\n' "$2"
    FAILED=1
  fi
}
