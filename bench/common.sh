# shellcheck shell=bash disable=SC2034  # ADMIN, FAILED, ... are for the sourcing script
# Sourced by the benchmarks of bench/: the stand-ins (tests/sim/sims.sh, with
# what it leaves in the environment), the GitHub token GH_TOKEN_VALUE (never
# in argv) and small statistics, shared so that every benchmark sets things up
# the same way. Expects BUILD (the build dir) to be set, and to run from the
# top of the source tree.
set -euo pipefail

FLUXKEY=$BUILD/fluxkey
# shellcheck source=tests/sim/sims.sh
. tests/sim/sims.sh

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
  done
}
need /usr/bin/time curl python3 kubectl
[ -x "$FLUXKEY" ] || { echo "no $FLUXKEY: build it first (ninja -C $BUILD fluxkey)" >&2; exit 2; }

# shellcheck disable=SC2120  # the arguments are optional
# start_sims [GITHUB_SIM_ARGS...]: both stand-ins, the reconcile
# ServiceAccount, and a GitHub token with repo and admin:org scopes.
start_sims() {
  start_kube_sim
  start_github_sim "$@"
  reconcile_service_account
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
