#!/usr/bin/env bash
# Benchmark (b): one rotation fanned out to TARGETS repositories (default 100)
# while github-sim enforces GitHub's secondary limit on a compressed clock.
#
#   github-sim --time-scale 0.1        a minute lasts 6 s; 80 writes a (scaled) minute
#   fluxkey rotate with FLUXKEY_PACING_TIME_SCALE=0.1, so its write budget runs
#                                      on the same clock
#
# Both stand-ins answer every API request after LATENCY_MS (default 20 ms).
# The floor: GitHub asks for writes one at a time, so write k > 80 can start
# no earlier than write k-80 plus a scaled minute M, and writes go at best one
# round trip apart. For W PUTs (q = floor((W-1)/80) full windows before the
# last, c = W - 80q writes in it) the last reply comes q*M + c*RTT after the
# first write at the earliest. The round trip is measured (median PUT duration in github-sim's log, which
# includes the injected latency). Goals: no limit hit (no 403/429 in
# github-sim's log) and a wall time within 1.1x of the floor.
# RUNS rotations (default 3), a scaled minute apart; medians reported.
#
#   bench/fanout.sh [BUILD_DIR] [RUNS] [TARGETS]   (LATENCY_MS=N to change the latency)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${2:-3}
TARGETS=${3:-100}
LATENCY_MS=${LATENCY_MS:-20}
SCALE=${SCALE:-0.1}
PER_MINUTE=80
# shellcheck source=bench/common.sh
. bench/common.sh

start_sims --time-scale "$SCALE" --writes-per-minute "$PER_MINUTE"
repos=()
flags=()
for i in $(seq -f '%03g' "$TARGETS"); do
  repos+=("acme/r$i")
  flags+=(--github-repo "acme/r$i")
done
github_repos "${repos[@]}"
set_latency "$LATENCY_MS"
MINUTE_MS=$(awk -v s="$SCALE" 'BEGIN {printf "%d", 60000 * s}')

: >"$WORK/runs.txt"
for run in $(seq "$RUNS"); do
  # Writes of the previous run leave github-sim's sliding window first.
  ((run > 1)) && sleep "$(awk -v m="$MINUTE_MS" 'BEGIN {print m / 1000 + 0.5}')"
  since=$(wc -l <"$WORK/github/requests.jsonl")
  start=$(now_us)
  status=0
  FLUXKEY_PACING_TIME_SCALE=$SCALE fluxkey_env /usr/bin/time -f %M -o "$WORK/rss" \
    "$FLUXKEY" rotate --kubeconfig "$ADMIN" --github-api-url "$GITHUB_URL" "${flags[@]}" \
    2>"$WORK/fluxkey.err" || status=$?
  end=$(now_us)
  if ((status != 0)); then
    echo "fluxkey rotate exited $status:" >&2
    tail -n 20 "$WORK/fluxkey.err" >&2
    exit 1
  fi
  # From github-sim's log: writes, limit refusals, the round trip, and when
  # the PUTs started and ended (ts is logged when a reply is sent).
  tail -n +"$((since + 1))" "$WORK/github/requests.jsonl" | python3 -c '
import datetime, json, statistics, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
def t(r): return datetime.datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp()
puts = [r for r in rows if r["method"] == "PUT"]
hits = sum(1 for r in rows if r["status"] in (403, 429))
rtt = statistics.median(r["duration_ms"] for r in puts) if puts else 0
first = min(t(r) - r["duration_ms"] / 1000 for r in puts) if puts else 0
last = max(t(r) for r in puts) if puts else 0
started = int(sys.argv[1]) / 1e6
print(len(puts), hits, len(rows), "%.1f" % rtt, "%.0f" % ((last - first) * 1000),
      "%.0f" % ((first - started) * 1000))
' "$start" >"$WORK/run.txt"
  read -r writes hits requests rtt put_ms before_ms <"$WORK/run.txt"
  waited=$(grep -c 'write budget: waiting' "$WORK/fluxkey.err" || true)
  echo "$(((end - start) / 1000)) $writes $hits $requests $rtt $put_ms $before_ms $waited" \
    "$(cat "$WORK/rss")" >>"$WORK/runs.txt"
done

# Every repository holds the same (last) kubeconfig, written once a run.
same=$(github_control GET /_sim/secrets | python3 -c '
import json, sys
s = json.load(sys.stdin)["secrets"]
ok = len(s) == int(sys.argv[1]) and len({x["value"] for x in s}) == 1 and \
    all(x["writes"] == int(sys.argv[2]) for x in s)
print(1 if ok else 0)
' "$TARGETS" "$RUNS")

col() { cut -d' ' -f"$1" "$WORK/runs.txt" | median; }
wall_ms=$(col 1)
writes=$(col 2)
hits=$(cut -d' ' -f3 "$WORK/runs.txt" | paste -sd+ | bc)
requests=$(col 4)
rtt=$(col 5)
put_ms=$(col 6)
rss_kb=$(col 9)
all_written=$(cut -d' ' -f2 "$WORK/runs.txt" | grep -cvx "$TARGETS" || true)
floor_ms=$(awk -v w="$writes" -v p="$PER_MINUTE" -v m="$MINUTE_MS" -v r="$rtt" \
  'BEGIN {q = int((w - 1) / p); printf "%.0f", q * m + (w - p * q) * r}')

printf '%d targets, github-sim --time-scale %s (a minute is %d ms, %d writes a minute), ' \
  "$TARGETS" "$SCALE" "$MINUTE_MS" "$PER_MINUTE"
printf '%d ms injected latency, %d runs (median)\n' "$LATENCY_MS" "$RUNS"
printf '  run     wall  writes  limit hits  requests  PUT round trip  start to first PUT  first PUT to last reply  waits logged\n'
run=0
while read -r w n h q r p b waited _; do
  run=$((run + 1))
  printf '  %3d %6dms  %6d  %10d  %8d  %12sms  %16dms  %21dms  %12d\n' \
    "$run" "$w" "$n" "$h" "$q" "$r" "$b" "$p" "$waited"
done <"$WORK/runs.txt"
printf 'fluxkey rotate: wall %d ms (PUTs: %d ms of it), peak RSS %.1f MiB, %d requests\n' \
  "$wall_ms" "$put_ms" "$(ratio "$rss_kb" 1024)" "$requests"
printf 'floor: %d full windows x %d ms + the last window'"'"'s writes x %s ms round trip = %d ms; wall/floor %sx, PUT span/floor %sx\n' \
  "$(((writes - 1) / PER_MINUTE))" "$MINUTE_MS" "$rtt" "$floor_ms" "$(ratio "$wall_ms" "$floor_ms" 2)" \
  "$(ratio "$put_ms" "$floor_ms" 2)"
verdict "$([ "$all_written" = 0 ] && [ "$same" = 1 ] && echo 1 || echo 0)" \
  "every run wrote all $TARGETS targets; they hold the same kubeconfig"
verdict "$([ "$hits" = 0 ] && echo 1 || echo 0)" "no secondary-limit hits ($hits 403/429 in $RUNS runs)"
verdict "$(awk -v a="$wall_ms" -v f="$floor_ms" 'BEGIN {print (a <= 1.1 * f) ? 1 : 0}')" \
  "wall time within 1.1x of the floor ($(ratio "$wall_ms" "$floor_ms" 2)x)"
exit "$FAILED"
