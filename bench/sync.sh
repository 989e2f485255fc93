#!/usr/bin/env bash
# Benchmark (a): one rotation to one GitHub repository, fluxkey against the
# pipeline people script by hand today with the real tools.
#
#   fluxkey   fluxkey rotate --github-repo acme/app          (one process)
#   by hand   kubectl create token flux-reconcile -n fluxkey --duration 24h
#             kubectl config set-cluster / set-credentials / set-context /
#               use-context into a fresh file
#             kubectl create secret generic --dry-run=client -o yaml | kubectl apply -f -
#             base64 -w0 | gh secret set FLUX_KUBECONFIG -R acme/seed
#             (ten processes; the token passes through argv, as it does when
#             people do this)
#
# Both run where the CronJob runs, inside the cluster: kube-sim answers every
# request after KUBE_LATENCY_MS (default 2 ms, an in-cluster round trip) and
# github-sim after GITHUB_LATENCY_MS (default 30 ms, a cluster to
# api.github.com). RUNS times each (default 10), alternating which goes first, after one warm-up of
# each (so kubectl's discovery cache is warm, which favours kubectl).
# Prints the median wall time and peak RSS of each, the ratios and the goals:
# at least 5x faster, at most 1/3 the peak RSS, fluxkey's peak RSS <= 15 MB.
#
#   bench/sync.sh [BUILD_DIR] [RUNS]   (KUBE_LATENCY_MS, GITHUB_LATENCY_MS change the latencies)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${2:-10}
KUBE_LATENCY_MS=${KUBE_LATENCY_MS:-2}
GITHUB_LATENCY_MS=${GITHUB_LATENCY_MS:-30}
# shellcheck source=bench/common.sh
. bench/common.sh
need gh base64

start_sims
github_repos acme/app acme/seed
set_latency "$KUBE_LATENCY_MS" "$GITHUB_LATENCY_MS"
mkdir -p "$WORK/home"

# Each prints "wall_us peak_kb" on success; any failure stops the benchmark.
run_fluxkey() {
  local start end
  start=$(now_us)
  if ! fluxkey_env /usr/bin/time -f %M -o "$WORK/rss" "$FLUXKEY" rotate --kubeconfig "$ADMIN" \
    --server "$KUBE_URL" --github-api-url "$GITHUB_URL" --github-repo acme/app \
    2>"$WORK/fluxkey.err"; then
    echo "fluxkey rotate failed:" >&2
    cat "$WORK/fluxkey.err" >&2
    return 1
  fi
  end=$(now_us)
  echo "$((end - start)) $(cat "$WORK/rss")"
}

# timed NAME CMD...: CMD with its peak RSS noted in $WORK/rss.NAME.
timed() {
  local name=$1
  shift
  /usr/bin/time -f %M -o "$WORK/rss.$name" "$@"
}

run_by_hand() {
  local out=$WORK/seed.kubeconfig token start end peak=0 rss
  rm -f "$out" "$WORK"/rss.*
  export HOME=$WORK/home
  start=$(now_us)
  token=$(timed token kubectl --kubeconfig "$ADMIN" create token flux-reconcile -n fluxkey \
    --duration 24h)
  timed cluster kubectl --kubeconfig "$out" config set-cluster fluxkey --server="$KUBE_URL" \
    --certificate-authority="$KUBE_CA" --embed-certs >/dev/null
  timed user kubectl --kubeconfig "$out" config set-credentials fluxkey --token="$token" >/dev/null
  timed context kubectl --kubeconfig "$out" config set-context fluxkey --cluster=fluxkey \
    --user=fluxkey >/dev/null
  timed use kubectl --kubeconfig "$out" config use-context fluxkey >/dev/null
  timed render kubectl --kubeconfig "$ADMIN" create secret generic seed-kubeconfig -n fluxkey \
    --from-file=kubeconfig="$out" --dry-run=client -o yaml |
    timed apply kubectl --kubeconfig "$ADMIN" apply -f - >/dev/null
  timed base64 base64 -w0 "$out" |
    env -i PATH="$PATH" HOME="$HOME" GH_HOST="${GITHUB_URL#https://}" \
      GH_ENTERPRISE_TOKEN="$GH_TOKEN_VALUE" SSL_CERT_FILE="$GITHUB_CA" GH_PROMPT_DISABLED=1 \
      /usr/bin/time -f %M -o "$WORK/rss.gh" gh secret set FLUX_KUBECONFIG -R acme/seed
  end=$(now_us)
  for f in "$WORK"/rss.*; do
    rss=$(tail -n1 "$f")
    if ((rss > peak)); then
      peak=$rss
      echo "${f##*.}" >"$WORK/largest"
    fi
  done
  # The two kubectl processes of the pipe are alive at the same time.
  echo "$(($(tail -n1 "$WORK/rss.render") + $(tail -n1 "$WORK/rss.apply")))" >>"$WORK/pipe_kb.txt"
  echo "$((end - start)) $peak"
}

run_fluxkey >/dev/null
(run_by_hand) >/dev/null
: >"$WORK/fluxkey.txt"
: >"$WORK/by_hand.txt"
: >"$WORK/pipe_kb.txt"
: >"$WORK/largest.txt"
: >"$WORK/fluxkey.requests"
: >"$WORK/by_hand.requests"
for i in $(seq "$RUNS"); do
  order="fluxkey by_hand"
  ((i % 2 == 0)) && order="by_hand fluxkey"
  for who in $order; do
    before=$(($(wc -l <"$WORK/kube/requests.jsonl") + $(wc -l <"$WORK/github/requests.jsonl")))
    if [ "$who" = fluxkey ]; then
      run_fluxkey >>"$WORK/fluxkey.txt"
    else
      # A subshell, so that its HOME stays its own.
      (run_by_hand) >>"$WORK/by_hand.txt"
      cat "$WORK/largest" >>"$WORK/largest.txt"
    fi
    after=$(($(wc -l <"$WORK/kube/requests.jsonl") + $(wc -l <"$WORK/github/requests.jsonl")))
    echo "$((after - before))" >>"$WORK/$who.requests"
  done
done

# Both really delivered: the last values in GitHub open into working kubeconfigs.
github_control GET /_sim/secrets | python3 -c '
import base64, json, sys
for s in json.load(sys.stdin)["secrets"]:
    open(sys.argv[1] + "/got." + s["repository"], "wb").write(base64.b64decode(s["value"]))
' "$WORK"
for repo in app seed; do
  kubectl --kubeconfig "$WORK/got.$repo" get --raw \
    /api/v1/namespaces/fluxkey/serviceaccounts/flux-reconcile >/dev/null ||
    { echo "the kubeconfig in acme/$repo does not work" >&2; exit 1; }
done

f_us=$(cut -d' ' -f1 "$WORK/fluxkey.txt" | median)
h_us=$(cut -d' ' -f1 "$WORK/by_hand.txt" | median)
f_kb=$(cut -d' ' -f2 "$WORK/fluxkey.txt" | median)
h_kb=$(cut -d' ' -f2 "$WORK/by_hand.txt" | median)
pipe_kb=$(median <"$WORK/pipe_kb.txt")
largest=$(sort "$WORK/largest.txt" | uniq -c | sort -rn | head -n1 | awk '{print $2}')
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

printf 'one rotation to one repository, %d runs each, injected latency %d ms to kube-sim and %d ms to github-sim (median)\n' \
  "$RUNS" "$KUBE_LATENCY_MS" "$GITHUB_LATENCY_MS"
printf '%-9s %10s %14s %9s\n' "" "wall" "peak RSS" "requests"
printf '%-9s %8.0fms %10sMiB %9s   one process\n' fluxkey "$(ratio "$f_us" 1000 3)" \
  "$(mib "$f_kb")" "$(median <"$WORK/fluxkey.requests")"
printf '%-9s %8.0fms %10sMiB %9s   largest single process of ten (%s); the pipe'"'"'s two kubectl run at once: %s MiB together\n' \
  "by hand" "$(ratio "$h_us" 1000 3)" "$(mib "$h_kb")" "$(median <"$WORK/by_hand.requests")" \
  "$largest" "$(mib "$pipe_kb")"
speed=$(ratio "$h_us" "$f_us")
rss=$(ratio "$h_kb" "$f_kb")
printf 'ratio by hand/fluxkey: wall %sx, peak RSS %sx\n' "$speed" "$rss"
verdict "$(awk -v a="$h_us" -v b="$f_us" 'BEGIN {print (a >= 5 * b) ? 1 : 0}')" \
  "fluxkey at least 5x faster (${speed}x)"
verdict "$(awk -v a="$h_kb" -v b="$f_kb" 'BEGIN {print (3 * b <= a) ? 1 : 0}')" \
  "fluxkey peak RSS at most 1/3 of the largest by-hand process (1/${rss})"
verdict "$(awk -v b="$f_kb" 'BEGIN {print (b * 1024 <= 15e6) ? 1 : 0}')" \
  "fluxkey peak RSS at most 15 MB ($(awk -v k="$f_kb" 'BEGIN {printf "%.1f", k * 1024 / 1e6}') MB)"
exit "$FAILED"
