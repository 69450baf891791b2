#!/usr/bin/env bash
# Runs the upstream Gateway API conformance suite against Portico on the local cluster.
#
#   conformance/run.sh --full        GATEWAY-HTTP, -GRPC, -TLS, -TCP and -UDP with every extended
#                                    feature in conformance/portico.yaml; the report goes to
#                                    conformance/reports/ (what `npm run conformance` and CI run)
#   conformance/run.sh --core        core tests of the same five profiles; report in conformance/.work/
#   conformance/run.sh --core-http   GATEWAY-HTTP core tests only; report in conformance/.work/
#   --dataplane loopback|provisioned where Gateways are served (default: DEFAULT_DATAPLANE below)
#   --profiles GATEWAY-TCP,...       only these profiles (a partial run)
#   conformance/run.sh ... -- -run-test=HTTPRouteSimpleSameNamespace   extra flags for the suite
#
# It brings the cluster up (hack/cluster.sh), replaces Gateway API CRDs of another bundle version,
# installs the Gateway API CRDs (experimental channel, from the module cache), starts
# `portico controller`, runs the suite, and stops everything it started. With
# PORTICO_CLUSTER_REUSE=1 an already running cluster is used and left up.
#
# Data planes (--dataplane):
#   loopback     `portico controller --dataplane in-process --gateway-address-mode loopback`: one in-process data plane,
#                each Gateway on its own 127.64.x.y address.
#   provisioned  `portico controller --dataplane provisioned`: each Gateway gets its own Deployment
#                and LoadBalancer Service; hack/podrunner.mjs runs the data-plane pods, kube-proxy
#                and hack/lb-allocator.mjs route the Service addresses the suite connects to. The
#                claims file's provisioned-only features (GatewayInfrastructure) are claimed too.
#
# PORTICO_CONFORMANCE_CONFIG=<file> uses another claims file than conformance/portico.yaml (for
# trying a feature before claiming it); like suite flags, it makes the run partial.
#
# Exit status:
#   0  the suite ran, wrote its report, and every selected test passed
#   3  the suite ran and wrote its report, and a test failed (the summary lists which; a test
#      the report counts in no profile, such as HTTPRouteDisallowedKind, shows only in go test's
#      exit status and the suite log, and counts too)
#   2  usage error
#   1 or anything else: the run itself broke (build, cluster, CRDs, controller, or no report);
#      130 when interrupted
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/hack/lib.sh"
cd "$ROOT"

TESTS_FAILED=3
tests_failed=0
mode=full
# The data plane --full (and so CI and `npm run conformance`) uses unless --dataplane says otherwise;
# the committed report and reports/SUMMARY.md are this mode's, the other mode's carry its name.
# Provisioned, as in production (issue 11); loopback is quicker (about 1 min against 4-5) and
# cannot claim GatewayInfrastructure.
DEFAULT_DATAPLANE=provisioned
DATAPLANE=$DEFAULT_DATAPLANE
ALL_PROFILES="GATEWAY-HTTP,GATEWAY-GRPC,GATEWAY-TLS,GATEWAY-TCP,GATEWAY-UDP"
profiles=""
extra=()
usage() { echo "usage: $0 [--full|--core|--core-http] [--dataplane loopback|provisioned] [--profiles P1,P2] [-- suite flags]" >&2; exit 2; }
while (($#)); do
  case "$1" in
    --full) mode=full ;;
    --core) mode=core ;;
    --core-http) mode=core-http ;;
    --dataplane) (($# > 1)) || usage; DATAPLANE=$2; shift ;;
    --dataplane=*) DATAPLANE=${1#*=} ;;
    --profiles) (($# > 1)) || usage; profiles=$2; shift ;;
    --profiles=*) profiles=${1#*=} ;;
    --) shift; extra=("$@"); break ;;
    *) usage ;;
  esac
  shift
done
[[ $DATAPLANE == loopback || $DATAPLANE == provisioned ]] || usage

# Another suite version (conformance/v1.7/run.sh) sets these: the Go module to compile, where its
# build, logs and core reports go, the full report's directory, and its Go toolchain and CRDs.
SUITE_DIR="${PORTICO_CONFORMANCE_SUITE_DIR:-$ROOT/conformance}"
WORK="${PORTICO_CONFORMANCE_WORK:-$ROOT/conformance/.work}"
REPORTS_DIR="${PORTICO_CONFORMANCE_REPORTS_DIR:-$ROOT/conformance/reports}"
mkdir -p "$WORK"
ADMIN=127.0.0.1:${PORTICO_CONFORMANCE_ADMIN_PORT:-19090}
case $mode in
  full) REPORT="$REPORTS_DIR/experimental-v0.1.0-default-report.yaml"; core=0; suite_timeout=80m ;;
  core) REPORT="$WORK/core-report.yaml"; core=1; suite_timeout=40m ;;
  core-http) REPORT="$WORK/core-http-report.yaml"; core=1; suite_timeout=40m; ALL_PROFILES=GATEWAY-HTTP ;;
esac
[[ $DATAPLANE == "$DEFAULT_DATAPLANE" ]] || REPORT="${REPORT%-report.yaml}-$DATAPLANE-report.yaml"
export PORTICO_CONFORMANCE_PROFILES="${profiles:-$ALL_PROFILES}" PORTICO_CONFORMANCE_CORE=$core
export PORTICO_CONFORMANCE_DATAPLANE=$DATAPLANE
CLAIMS="${PORTICO_CONFORMANCE_CONFIG:-$SUITE_DIR/portico.yaml}"
partial=0
((${#extra[@]})) && partial=1
[[ -n $profiles && $profiles != "$ALL_PROFILES" ]] && partial=1
[[ $(realpath -m "$CLAIMS") != "$(realpath -m "$SUITE_DIR/portico.yaml")" ]] && partial=1
# A partial run (suite flags such as -run-test, some profiles, or another claims file) never
# replaces the committed full report.
((partial)) && REPORT="$WORK/partial-$mode-$DATAPLANE-report.yaml"
export PORTICO_CONFORMANCE_REPORT="$REPORT" PORTICO_CONFORMANCE_CONFIG="$CLAIMS"
rm -f "$REPORT"

controller_pid=""
suite_pid=""
podrunner_pids=()
started_cluster=0
cleanup() {
  local rc=$?
  [[ -n $suite_pid ]] && kill -TERM "$suite_pid" 2>/dev/null || true
  if [[ -n $controller_pid ]] && kill -0 "$controller_pid" 2>/dev/null; then
    kill -TERM "$controller_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$controller_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$controller_pid" 2>/dev/null || true
  fi
  local p
  for p in "${podrunner_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  ((started_cluster)) && "$ROOT/hack/cluster.sh" down || true
  # TESTS_FAILED means only "tests failed": a command that broke with that status becomes 1.
  ((rc == TESTS_FAILED && !tests_failed)) && rc=1
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$SECONDS
if [[ "${PORTICO_CLUSTER_REUSE:-0}" == 1 ]] && "$ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
  log "reusing the running cluster"
else
  started_cluster=1
  "$ROOT/hack/cluster.sh" up
fi
ensure_go
[[ -n ${PORTICO_CONFORMANCE_GOTOOLCHAIN:-} ]] && export GOTOOLCHAIN=$PORTICO_CONFORMANCE_GOTOOLCHAIN
eval "$("$ROOT/hack/cluster.sh" env)"
GATEWAY_API_CRDS="${PORTICO_CONFORMANCE_CRDS:-$GATEWAY_API_CRDS}"
t_cluster=$((SECONDS - t0))

# The cluster is shared with runs of other suite versions (v1.7.0 installs its own CRDs). A CRD of
# another bundle version is deleted (with every object of its kind) before these are installed:
# applying over it would mix two versions' schemas, and a CRD only the other version defines
# would linger. A CRD of these groups with no bundle-version (none comes from a bundle) is left alone.
want_bundle=$(sed -n 's/^ *gateway.networking.k8s.io\/bundle-version: *//p' "$GATEWAY_API_CRDS"/*.yaml | sort -u)
[[ -n $want_bundle && $(wc -l <<<"$want_bundle") == 1 ]] ||
  die "cannot read one gateway.networking.k8s.io/bundle-version from $GATEWAY_API_CRDS (got: ${want_bundle:-nothing})"
stale=$(kubectl get crd -o json | node -e '
  const want = process.argv[1];
  const crds = JSON.parse(require("fs").readFileSync(0, "utf8")).items;
  for (const c of crds) {
    const version = c.metadata.annotations?.["gateway.networking.k8s.io/bundle-version"];
    if (/\.gateway\.networking\.(x-)?k8s\.io$/.test(c.metadata.name) && version && version !== want) console.log(c.metadata.name);
  }' "$want_bundle")
if [[ -n $stale ]]; then
  log "deleting Gateway API CRDs of another bundle version than $want_bundle: $(echo $stale)"
  kubectl delete crd $stale --wait=true --timeout=120s >/dev/null
fi
log "installing Gateway API CRDs ($want_bundle) from $GATEWAY_API_CRDS"
for f in "$GATEWAY_API_CRDS"/*.yaml; do
  [[ $(basename "$f") == kustomization.yaml ]] && continue
  kubectl apply --server-side --force-conflicts -f "$f" >/dev/null
done
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null

# hack/podrunner.mjs runs the pods; a cluster started before it learned to run what this run
# needs (<state>/podrunner.json lists its features) gets a second podrunner from this checkout,
# limited by a label selector to the pods concerned (the older one also runs an echo server for
# them, on ports these do not use).
ensure_podrunner() { # ensure_podrunner <feature> <label selector>
  local info="$CLUSTER_DIR/pods/podrunner.json"
  if [[ -f $info ]] && node -e '
      const i = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      process.kill(i.pid, 0);
      process.exit(i.features?.includes(process.argv[2]) && !i.labelSelector ? 0 : 1);' "$info" "$1" 2>/dev/null; then
    return
  fi
  local state="$WORK/podrunner-$1"
  rm -rf "$state"
  node "$ROOT/hack/podrunner.mjs" --kubeconfig "$KUBECONFIG" --echo "$BIN/echo-basic" --state "$state" \
    --netns portico-pods --label-selector "$2" --keep-logs "$WORK/pod-logs-$1" > "$WORK/podrunner-$1.log" 2>&1 &
  podrunner_pids+=($!)
  log "the cluster's podrunner cannot run $1 pods: started one for $2 (pid $!, log $WORK/podrunner-$1.log)"
}
# CoreDNS is the UDPRoute tests' backend (conformance/base/manifests.yaml, label app=udp).
ensure_podrunner coredns app=udp

kubectl apply -f - >/dev/null <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: portico
spec:
  controllerName: portico.dev/gateway-controller
EOF

# Compile the suite while nothing else is running yet (a cold compile takes minutes).
log "compiling the conformance suite"
(cd "$SUITE_DIR" && go test -c -o "$WORK/conformance.test" .)

controller_args=(--dataplane in-process --gateway-address-mode loopback)
if [[ $DATAPLANE == provisioned ]]; then
  # Data-plane pods live in the pods' network namespace and reach the controller's config stream
  # on the host end of its veth (hack/cluster.sh); they run from this checkout (hack/podrunner.mjs).
  ns=portico-conformance
  sync=10.244.255.1:${PORTICO_CONFORMANCE_SYNC_PORT:-18090}
  kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl apply --server-side -f "$ROOT/deploy/manifests/crd-gatewayparameters.yaml" >/dev/null
  kubectl wait --for=condition=Established crd/gatewayparameters.gateway.portico.dev --timeout=60s >/dev/null
  ensure_podrunner portico-dataplane gateway.networking.k8s.io/gateway-class-name=portico
  controller_args=(--dataplane provisioned --namespace "$ns" --sync-listen "$sync" --sync-address "$sync"
    --dataplane-image ghcr.io/portico-dev/portico:conformance)
fi
log "starting portico controller, $DATAPLANE data plane (log: $WORK/controller.log)"
# Each controller line gets the time it was written, so a failed test's excerpt (excerpt.mjs) can
# show what the controller did in the same seconds.
stamp() { node -e 'require("readline").createInterface({ input: process.stdin }).on("line", (l) => process.stdout.write(`${new Date().toISOString()} ${l}\n`))'; }
PORTICO_FROM_SRC=1 node "$ROOT/bin/portico.js" controller --kubeconfig "$KUBECONFIG" \
  "${controller_args[@]}" --admin "$ADMIN" > >(stamp > "$WORK/controller.log") 2>&1 &
controller_pid=$!
end=$((SECONDS + 90))
until curl -sf "http://$ADMIN/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$controller_pid" 2>/dev/null || ((SECONDS > end)); then
    log "portico controller did not become ready; last lines of its log:"
    tail -n 40 "$WORK/controller.log" >&2
    exit 1
  fi
  sleep 0.5
done
kubectl wait --for=condition=Accepted gatewayclass/portico --timeout=60s >/dev/null ||
  { log "GatewayClass portico was not Accepted"; tail -n 40 "$WORK/controller.log" >&2; exit 1; }

# The suite's namespaces of a previous run may still be terminating (provisioned data planes
# take their grace period to go): the suite cannot create its base objects in them until gone.
wait_terminating() {
  local terminating n
  terminating=$(kubectl get namespaces -o jsonpath='{range .items[?(@.status.phase=="Terminating")]}{.metadata.name}{"\n"}{end}' |
    grep '^gateway-conformance-' || true)
  [[ -n $terminating ]] || return 0
  log "waiting for the previous run's namespaces to go: $(echo $terminating)"
  for n in $terminating; do kubectl wait --for=delete "namespace/$n" --timeout=300s >/dev/null 2>&1 || true; done
}
wait_terminating

log "running the suite ($mode, $DATAPLANE, $PORTICO_CONFORMANCE_PROFILES; log: $WORK/suite-$mode.log)"
t1=$SECONDS
# In the background with `wait`, so that an interrupt reaches the traps (and stops the suite) at once.
(cd "$SUITE_DIR" && exec "$WORK/conformance.test" -test.v -test.timeout "$suite_timeout" \
  -test.run '^TestPortico$' "${extra[@]}") > "$WORK/suite-$mode.log" 2>&1 &
suite_pid=$!
suite_rc=0
wait "$suite_pid" || suite_rc=$?
suite_pid=""
t_suite=$((SECONDS - t1))

if [[ ! -s "$REPORT" ]]; then
  log "the suite wrote no report (exit $suite_rc); last lines of its log:"
  tail -n 60 "$WORK/suite-$mode.log" >&2
  exit 1
fi
summary="$WORK/summary-$mode-$DATAPLANE.md"
if [[ $mode == full ]] && ((!partial)); then
  summary="$REPORTS_DIR/SUMMARY.md"
  [[ $DATAPLANE == "$DEFAULT_DATAPLANE" ]] || summary="$REPORTS_DIR/SUMMARY-$DATAPLANE.md"
fi
node "$ROOT/conformance/summarize.mjs" "$REPORT" "$WORK/suite-$mode.log" "$CLAIMS" > "$summary"
cat "$summary"
# The summary's last line: "conformance: <n> passed, <n> failed, <n> skipped".
failed=$(tail -n 1 "$summary" | sed -n 's/^conformance: [0-9]* passed, \([0-9]*\) failed,.*/\1/p')
[[ -n $failed ]] || { log "cannot read the failure count from $summary"; exit 1; }
failed_tests=$(sed -n 's/^Failed subtests in the suite log (top level): //p' "$summary" | tr -d ',')
for t in $failed_tests; do
  node "$ROOT/conformance/excerpt.mjs" "$WORK/suite-$mode.log" "$WORK/controller.log" "$t" 60
done

# A test that failed in the whole run is run once more on its own, and the run passes only if every
# one of them then passes. The report above (and any committed one) stays the whole run's, failures
# included; the log says FLAKY for each test that passed only on its own. At most 3: more failures
# than that is not flakiness.
flaky=()
if ((failed > 0 && failed <= 3 && suite_rc == 1)) && [[ -n $failed_tests ]] && ((${PORTICO_CONFORMANCE_RERUN:-1})); then
  rerun_ok=1
  for t in $failed_tests; do
    wait_terminating
    log "running $t again on its own (log: $WORK/rerun-$t.log)"
    rr_report="$WORK/rerun-$t-report.yaml"
    rm -f "$rr_report"
    rr_rc=0
    (cd "$SUITE_DIR" && PORTICO_CONFORMANCE_REPORT="$rr_report" exec "$WORK/conformance.test" -test.v -test.timeout 15m \
      -test.run '^TestPortico$' "${extra[@]}" -run-test="$t") > "$WORK/rerun-$t.log" 2>&1 || rr_rc=$?
    rr_failed=1
    if [[ -s $rr_report ]]; then
      rr_failed=$(node "$ROOT/conformance/summarize.mjs" "$rr_report" "$WORK/rerun-$t.log" "$CLAIMS" |
        tail -n 1 | sed -n 's/^conformance: [1-9][0-9]* passed, \([0-9]*\) failed,.*/\1/p')
    fi
    if ((rr_rc == 0)) && [[ $rr_failed == 0 ]]; then
      flaky+=("$t")
      log "FLAKY: $t failed in the whole run and passed on its own"
    else
      rerun_ok=0
      log "$t failed again on its own (go test exit $rr_rc)"
      node "$ROOT/conformance/excerpt.mjs" "$WORK/rerun-$t.log" "$WORK/controller.log" "$t" 60
    fi
  done
  if ((rerun_ok)); then
    # before the summary's last line, which stays the count
    { head -n -1 "$summary"; printf 'FLAKY (failed in the whole run, passed when run again on its own): %s\n\n' "${flaky[*]}"
      tail -n 1 "$summary"; } > "$summary.new" && mv "$summary.new" "$summary"
    log "cluster ${t_cluster}s, suite ${t_suite}s: $failed failed in the whole run, each passed on its own: FLAKY ${flaky[*]}"
    exit 0
  fi
fi

if ((failed > 0 || suite_rc != 0)); then
  log "cluster ${t_cluster}s, suite ${t_suite}s, go test exit $suite_rc: $failed failed in the report" \
    "(see above and $WORK/suite-$mode.log); exit $TESTS_FAILED"
  tests_failed=1
  exit "$TESTS_FAILED"
fi
log "cluster ${t_cluster}s, suite ${t_suite}s, go test exit 0: every selected test passed"
