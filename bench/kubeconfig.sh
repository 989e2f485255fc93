#!/usr/bin/env bash
# Benchmark: handing out a kubeconfig for the reconcile ServiceAccount.
#
#   fluxkey  fluxkey kubeconfig --output FILE           (one process, one TokenRequest)
#   kubectl  what people script by hand today: kubectl create token, then
#            kubectl config set-cluster / set-credentials / set-context /
#            use-context into a fresh file (five processes)
#
# Both run side by side against the same kube-sim, RUNS times each, alternating.
# Prints median wall time and peak RSS of each, and the ratios.
#
#   bench/kubeconfig.sh [BUILD_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${2:-20}
FLUXKEY=$BUILD/fluxkey
WORK=$(mktemp -d /tmp/fluxkey-bench-XXXXXX)
SIM_PID=
cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

"$BUILD/tests/sim/kube/kube-sim" --state-dir "$WORK/kube" >"$WORK/url" 2>"$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 100); do [ -s "$WORK/url" ] && break; sleep 0.1; done
URL=$(head -n1 "$WORK/url")
curl -sS --fail --cacert "$WORK/kube/ca.crt" -X POST "$URL/_sim/objects" -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"flux-reconcile","namespace":"fluxkey"}}' >/dev/null
ADMIN=$WORK/kube/admin.kubeconfig

# now_ns; run_timed OUTFILE CMD...: appends "wall_ns peak_kb" for CMD.
run_fluxkey() {
  /usr/bin/time -f '%M' -o "$WORK/rss" "$FLUXKEY" kubeconfig --kubeconfig "$ADMIN" \
    --token-ttl 1h --output "$WORK/f.kubeconfig" 2>/dev/null
  cat "$WORK/rss"
}
run_kubectl() {
  local out=$WORK/k.kubeconfig peak=0 rss token
  rm -f "$out"
  token=$(/usr/bin/time -f '%M' -o "$WORK/rss" kubectl --kubeconfig "$ADMIN" create token \
    flux-reconcile -n fluxkey --duration 1h)
  peak=$(cat "$WORK/rss")
  for args in \
    "config set-cluster fluxkey --server=$URL --certificate-authority=$WORK/kube/ca.crt --embed-certs" \
    "config set-credentials fluxkey --token=$token" \
    "config set-context fluxkey --cluster=fluxkey --user=fluxkey" \
    "config use-context fluxkey"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f '%M' -o "$WORK/rss" kubectl --kubeconfig "$out" $args >/dev/null
    rss=$(cat "$WORK/rss")
    ((rss > peak)) && peak=$rss
  done
  echo "$peak"
}

: >"$WORK/fluxkey.txt"
: >"$WORK/kubectl.txt"
for _ in $(seq "$RUNS"); do
  for who in fluxkey kubectl; do
    start=$(date +%s%N)
    rss=$("run_$who")
    end=$(date +%s%N)
    echo "$(((end - start) / 1000)) $rss" >>"$WORK/$who.txt"
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
f_us=$(cut -d' ' -f1 "$WORK/fluxkey.txt" | median)
k_us=$(cut -d' ' -f1 "$WORK/kubectl.txt" | median)
f_kb=$(cut -d' ' -f2 "$WORK/fluxkey.txt" | median)
k_kb=$(cut -d' ' -f2 "$WORK/kubectl.txt" | median)
# Sizes as shipped: fluxkey stripped of debug info (kubectl ships stripped).
strip -o "$WORK/fluxkey.stripped" "$FLUXKEY"
f_size=$(stat -c %s "$WORK/fluxkey.stripped")
k_size=$(stat -c %s "$(readlink -f "$(command -v kubectl)")")

printf 'kubeconfig for a ServiceAccount, %d runs each against kube-sim (median)\n' "$RUNS"
printf '%-8s %12s %14s %14s\n' "" "wall" "peak RSS" "stripped size"
printf '%-8s %10.1fms %11.1fMiB %11.1fMiB\n' fluxkey "$(echo "$f_us/1000" | bc -l)" \
  "$(echo "$f_kb/1024" | bc -l)" "$(echo "$f_size/1048576" | bc -l)"
printf '%-8s %10.1fms %11.1fMiB %11.1fMiB\n' kubectl "$(echo "$k_us/1000" | bc -l)" \
  "$(echo "$k_kb/1024" | bc -l)" "$(echo "$k_size/1048576" | bc -l)"
printf 'ratio kubectl/fluxkey: wall %.1fx, peak RSS %.1fx, size %.1fx\n' \
  "$(echo "$k_us/$f_us" | bc -l)" "$(echo "$k_kb/$f_kb" | bc -l)" "$(echo "$k_size/$f_size" | bc -l)"
