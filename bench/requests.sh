#!/usr/bin/env bash
# Benchmark (c): API requests per rotation against the minimum the work needs.
#
# Three targets: repository acme/app, environment acme/app:prod, organization
# acme (visibility selected: acme/app, acme/web). Two rotations first, so the
# measured one is the steady state (it has a generation to prune). Counted from
# both stand-ins' request logs:
#   1. fluxkey rotate                      (mint, push to 3 targets, prune)
#   2. fluxkey sync right after            (nothing to do: skips)
#   3. fluxkey rotate --revoke-previous    (every earlier generation deleted)
# Prints, per request kind, what fluxkey sent and the minimum, and the excess.
#
#   bench/requests.sh [BUILD_DIR]   (LATENCY_MS=N, default 20, only changes the timings)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
LATENCY_MS=${LATENCY_MS:-20}
# shellcheck source=bench/common.sh
. bench/common.sh

start_sims
github_repos acme/app:prod acme/web
set_latency "$LATENCY_MS"
TARGET_FLAGS=(--github-repo acme/app --github-repo acme/app:prod --github-org acme
  --github-org-visibility selected --github-org-repos "app,web")

# measure LABEL COMMAND [FLAGS...]: runs fluxkey and classifies the requests
# both stand-ins logged meanwhile.
measure() {
  local label=$1 kube_since github_since start end status=0
  shift
  kube_since=$(wc -l <"$WORK/kube/requests.jsonl")
  github_since=$(wc -l <"$WORK/github/requests.jsonl")
  start=$(now_us)
  fluxkey_env "$FLUXKEY" "$@" --kubeconfig "$ADMIN" --github-api-url "$GITHUB_URL" \
    "${TARGET_FLAGS[@]}" 2>"$WORK/fluxkey.err" || status=$?
  end=$(now_us)
  if ((status != 0)); then
    echo "fluxkey $* exited $status:" >&2
    cat "$WORK/fluxkey.err" >&2
    exit 1
  fi
  tail -n +"$((kube_since + 1))" "$WORK/kube/requests.jsonl" >"$WORK/kube.$label"
  tail -n +"$((github_since + 1))" "$WORK/github/requests.jsonl" >"$WORK/github.$label"
  echo "$(((end - start) / 1000))" >"$WORK/wall.$label"
}

measure warm1 sync
measure warm2 rotate
measure rotate rotate
measure skip sync
measure revoke rotate --revoke-previous

# One table per run: kind, sent, minimum, why the minimum is what it is.
python3 - "$WORK" <<'PY'
import datetime, json, re, sys

work = sys.argv[1]
TARGETS, SELECTED = 3, 2

def rows(name):
    with open(f"{work}/{name}") as f:
        return [json.loads(l) for l in f if l.strip()]

def kube_kind(r):
    m, p, q = r["method"], r["path"], r.get("query", "")
    if m == "POST" and p.endswith("/serviceaccounts/flux-reconcile/token"):
        return "TokenRequest"
    if m == "POST" and p.endswith("/secrets"):
        return "create generation Secret"
    if m == "PATCH" and p.endswith("/secrets/flux-kubeconfig"):
        return "apply cluster Secret"
    if m == "DELETE" and "/secrets/flux-kubeconfig-gen-" in p:
        return "delete generation Secret"
    if m == "GET" and p.endswith("/secrets/flux-kubeconfig"):
        return "read cluster Secret"
    if m == "GET" and p.endswith("/secrets") and "labelSelector" in q:
        return "list generation Secrets"
    if m == "GET" and p.endswith("/configmaps/cluster-info"):
        return "read kube-public/cluster-info"
    if m == "GET" and p.endswith("/leases/flux-kubeconfig"):
        return "read Lease"
    if m in ("POST", "PUT") and "/leases" in p:
        return "write Lease"
    return f"other: {m} {p}"

def github_kind(r):
    m, p = r["method"], re.sub(r"^/api/v3", "", r["path"])
    if m == "GET" and p.endswith("/secrets/public-key"):
        return "public key GET"
    if m == "PUT" and "/secrets/" in p:
        return "secret PUT"
    if m == "GET" and re.fullmatch(r"/repos/[^/]+/[^/]+", p):
        return "repository id lookup"
    if m == "POST" and p.endswith("graphql"):
        return "repository id lookup"
    return f"other: {m} {p}"

def count(items, kind):
    out = {}
    for r in items:
        k = kind(r)
        out[k] = out.get(k, 0) + 1
    return out

# (kind, minimum, why). Minimums for a rotation to 3 targets with --server not given.
# Generations alive before each run: rotate finds 1 and 2 (keeps 2 and the new
# 3, deletes 1); --revoke-previous finds 2 and 3 and deletes both.
PRUNED = {"rotate": 1, "skip": 0, "revoke": 2}

def minimums(run):
    mint = run != "skip"
    kube = [
        ("TokenRequest", int(mint), "one token"),
        ("create generation Secret", int(mint), "the Secret the token is bound to"),
        ("apply cluster Secret", 2 * int(mint),
         "the kubeconfig stored before any push, the push records after"),
        ("delete generation Secret", PRUNED[run],
         {"rotate": "generations beyond the two kept", "skip": "nothing to prune",
          "revoke": "every earlier generation"}[run]),
        ("read cluster Secret", 1, "state and resourceVersion"),
        ("list generation Secrets", 1, "what to prune; a skip checks the newest is alive"),
        ("read kube-public/cluster-info", 1,
         "the external server URL, compared with the stored one (none with --server)"),
        ("read Lease", 1, "one run at a time: is another run holding it?"),
        ("write Lease", 2, "taken, then released (renewals only in runs over 10 s)"),
    ]
    github = [
        ("public key GET", TARGETS * int(mint), "one per target"),
        ("secret PUT", TARGETS * int(mint), "one per target"),
        ("repository id lookup", int(mint),
         f"ids of the {SELECTED} selected repositories: one GraphQL query resolves both"),
    ]
    return kube, github

titles = {
    "rotate": "fluxkey rotate (steady state: generation 3, prunes generation 1)",
    "skip": "fluxkey sync right after (nothing to do)",
    "revoke": "fluxkey rotate --revoke-previous",
}
over_all = []
for run in ("rotate", "skip", "revoke"):
    kube_min, github_min = minimums(run)
    wall = open(f"{work}/wall.{run}").read().strip()
    print(f"\n{titles[run]}: {wall} ms wall")
    print(f"  {'API':7}{'request':32}{'sent':>5}{'min':>5}  minimum because")
    for api, table, actual in (("kube", kube_min, count(rows(f"kube.{run}"), kube_kind)),
                               ("github", github_min, count(rows(f"github.{run}"), github_kind))):
        for kind, minimum, why in table:
            n = actual.pop(kind, 0)
            mark = "  <-- over" if n > minimum else "  <-- UNDER" if n < minimum else ""
            if n != minimum:
                over_all.append(f"{run}: {api} {kind} {n}, minimum {minimum}")
            print(f"  {api:7}{kind:32}{n:5}{minimum:5}  {why}{mark}")
        for kind, n in sorted(actual.items()):
            over_all.append(f"{run}: {api} {kind} x{n}")
            print(f"  {api:7}{kind:32}{n:5}{0:5}  not needed  <-- over")
    if run == "skip":
        continue
    # Order: the kubeconfig is stored before any push, and earlier tokens are
    # revoked only after every push (ts is logged when the reply is sent).
    def span(r):
        end = datetime.datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp()
        return end - r["duration_ms"] / 1000, end
    kube_rows, github_rows = rows(f"kube.{run}"), rows(f"github.{run}")
    applies = [span(r) for r in kube_rows if kube_kind(r) == "apply cluster Secret"]
    deletes = [span(r) for r in kube_rows if kube_kind(r) == "delete generation Secret"]
    puts = [span(r) for r in github_rows if github_kind(r) == "secret PUT"]
    if applies and puts and applies[0][1] > min(p[0] for p in puts):
        over_all.append(f"{run}: a PUT started before the kubeconfig was stored in the cluster")
    if deletes and puts and min(d[0] for d in deletes) < max(p[1] for p in puts):
        over_all.append(f"{run}: a generation was deleted before every PUT was done")
    if run != "rotate":
        continue
    statuses = [r["status"] for r in rows(f"kube.{run}") + rows(f"github.{run}")]
    bad = [s for s in statuses if s >= 400]
    if bad:
        over_all.append(f"{run}: {len(bad)} refused requests ({sorted(set(bad))})")

print()
if over_all:
    print("FAIL  fluxkey differs from the minimum:")
    for line in over_all:
        print("  " + line)
    sys.exit(1)
print("PASS  every request kind at its minimum")
PY
