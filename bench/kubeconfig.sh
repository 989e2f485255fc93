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
# shellcheck source=bench/common.sh
. bench/common.sh
need bc strip

start_kube_sim
reconcile_service_account

# run_fluxkey / run_kubectl: one kubeconfig each; prints the peak RSS in KiB
# (of the largest process, for kubectl's five).
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
    "config set-cluster fluxkey --server=$KUBE_URL --certificate-authority=$KUBE_CA --embed-certs" \
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
