#!/usr/bin/env bash
# Benchmark: how soon the action is at work once its step starts.
#
# A Docker action's step on a runner costs a pull of the image (its
# compressed size and layer count decide that; no registry can be reached
# here, so they are printed from the OCI layout ./dev image wrote), then the
# container's start up to fluxkey's first request, which is timed:
#
#   image    the image ./dev image built, started as the runner starts a Docker
#            action (bubblewrap stands in for Docker's runtime: the image's
#            files as the root, a clean environment), `action` with its inputs
#   binary   the same fluxkey started directly: what the container adds
#   kubectl  `kubectl get --raw /version`: the client a workflow step would
#            otherwise start to talk to the cluster
#
# Each run ends at its first connection to the API server: a listener on
# 127.0.0.1 notes the time it accepts, and the client is stopped there.
# RUNS of each, alternating. Prints medians, ratios, and the goal (first
# request within 100 ms of the start) as PASS or FAIL.
#
#   bench/startup.sh [RUNS]     (after ./dev image; the machine's own platform; 21 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-21}
for tool in bwrap python3 kubectl bc; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2 && exit 2; }
done
case "$(uname -m)" in
  x86_64) ARCH=amd64 ;;
  aarch64) ARCH=arm64 ;;
  *) echo "no image for $(uname -m)" >&2 && exit 2 ;;
esac
IMAGE=build-image/$ARCH
[ -d "$IMAGE/rootfs" ] || { echo "no $IMAGE/rootfs: run ./dev image first" >&2 && exit 2; }
WORK=$(mktemp -d)
LISTENER=""
cleanup() {
  [ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# The listener: prints its port, then the time (ns since the epoch) of each
# connection it accepts, which it closes at once.
coproc ACCEPTS {
  exec python3 -u -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1])
while True:
    c, _ = s.accept()
    print(time.time_ns())
    c.close()
'
}
LISTENER=$ACCEPTS_PID
read -r -u "${ACCEPTS[0]}" PORT

# A kubeconfig toward the listener. Nothing gets past the TCP handshake, so
# its token and CA are placeholders.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench \
  -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
cat >"$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority-data: $(base64 -w0 "$WORK/ca.crt")
users:
- name: bench
  user:
    token: bench-placeholder-token-0000000000
contexts:
- name: bench
  context: {cluster: bench, user: bench}
current-context: bench
EOF
mkdir -p "$WORK/file_commands" "$WORK/workspace" "$WORK/home"
INPUT=$(base64 -w0 "$WORK/kubeconfig")

# The image's entry point and the top-level folders of its root.
ENTRYPOINT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["Entrypoint"][0])' \
  "$IMAGE/config.json")
ROOT_ARGS=()
for entry in "$IMAGE"/rootfs/*; do
  name=/$(basename "$entry")
  if [ -L "$entry" ]; then
    ROOT_ARGS+=(--symlink "$(readlink "$entry")" "$name")
  elif [ "$name" = /tmp ]; then
    ROOT_ARGS+=(--tmpfs /tmp)
  else
    ROOT_ARGS+=(--ro-bind "$entry" "$name")
  fi
done

# The runner's inputs and file commands, as action.yml's defaults give them.
# Each start_ function ends in exec, so that stopping the job stops the client.
action_env() {
  exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/github/home \
    GITHUB_ACTIONS=true GITHUB_OUTPUT=/github/file_commands/set_output \
    GITHUB_STEP_SUMMARY=/github/file_commands/step_summary INPUT_KUBECONFIG="$INPUT" \
    INPUT_KIND=kustomization INPUT_NAME=flux-system INPUT_NAMESPACE=flux-system \
    INPUT_WITH-SOURCE=true INPUT_TIMEOUT=5m INPUT_FORCE=false "$@"
}
start_image() {
  action_env bwrap --die-with-parent --unshare-pid --unshare-ipc --unshare-uts "${ROOT_ARGS[@]}" \
    --proc /proc --dev /dev --bind "$WORK/file_commands" /github/file_commands \
    --bind "$WORK/workspace" /github/workspace --bind "$WORK/home" /github/home \
    --chdir /github/workspace -- "$ENTRYPOINT" action
}
start_binary() {
  action_env GITHUB_OUTPUT="$WORK/file_commands/set_output" \
    GITHUB_STEP_SUMMARY="$WORK/file_commands/step_summary" \
    "$IMAGE/rootfs/usr/local/bin/fluxkey" action
}
start_kubectl() { exec env -i PATH="$PATH" HOME="$WORK/home" kubectl --kubeconfig "$WORK/kubeconfig" get --raw /version; }

# one WHO: microseconds from the start of WHO to its first connection. A
# client may connect again before it is stopped (the listener closes at
# once, and clients retry): connections from before this start are skipped.
one() {
  local start accepted pid deadline
  start=$(date +%s%N)
  deadline=$((SECONDS + 10))
  # Without the EXIT trap: a client stopped before its exec must not clean up.
  (
    trap - EXIT
    "start_$1" >/dev/null 2>&1
  ) &
  pid=$!
  while :; do
    if ((SECONDS > deadline)) || ! read -r -t 10 -u "${ACCEPTS[0]}" accepted; then
      echo "$1 did not connect within 10 s" >&2
      exit 1
    fi
    ((accepted > start)) && break
  done
  kill "$pid" 2>/dev/null || true
  echo $(((accepted - start) / 1000))
}

median() {
  sort -n | awk '{a[NR]=$1} END {printf "%d\n", (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}

for who in image binary kubectl; do one "$who" >/dev/null; done # warm the page cache
for _ in $(seq "$RUNS"); do
  for who in image binary kubectl; do one "$who" >>"$WORK/$who.txt"; done
done
image_us=$(median <"$WORK/image.txt")
binary_us=$(median <"$WORK/binary.txt")
kubectl_us=$(median <"$WORK/kubectl.txt")

# What a pull fetches: the layers of this platform's manifest in the OCI
# layout, as a registry stores them (compressed).
read -r layers compressed < <(python3 - build-image/oci "$ARCH" <<'EOF'
import json, sys
layout, arch = sys.argv[1], sys.argv[2]
blob = lambda d: json.load(open(f"{layout}/blobs/sha256/{d[7:]}"))
index = blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"])
m = next(blob(m["digest"]) for m in index["manifests"] if m["platform"]["architecture"] == arch)
print(len(m["layers"]), m["config"]["size"] + sum(l["size"] for l in m["layers"]))
EOF
)

ms() { echo "scale=1; $1/1000" | bc -l; }
printf 'start to first request, %d runs each, alternating (median)\n' "$RUNS"
printf '  image    %6s ms  (linux/%s, %d layer(s), %.2f MiB compressed)\n' "$(ms "$image_us")" "$ARCH" \
  "$layers" "$(echo "$compressed/1048576" | bc -l)"
printf '  binary   %6s ms  (the container adds %s ms)\n' "$(ms "$binary_us")" \
  "$(ms $((image_us - binary_us)))"
printf '  kubectl  %6s ms\n' "$(ms "$kubectl_us")"
printf 'ratio kubectl/image: %.1fx\n' "$(echo "$kubectl_us/$image_us" | bc -l)"
goal=PASS
((image_us <= 100000)) || goal=FAIL
printf 'goal: first request within 100 ms of the start: %s\n' "$goal"
