#!/usr/bin/env bash
# Runs the upstream Gateway API conformance suite against Portico on the local cluster.
#
#   conformance/run.sh --full        GATEWAY-HTTP, GATEWAY-GRPC, GATEWAY-TLS with every extended feature
#                                    in conformance/portico.yaml; the report goes to conformance/reports/
#   conformance/run.sh --core        core tests of GATEWAY-HTTP, GATEWAY-GRPC, GATEWAY-TLS (what CI runs);
#                                    report in conformance/.work/
#   conformance/run.sh --core-http   GATEWAY-HTTP core tests only; report in conformance/.work/
#   conformance/run.sh ... -- -run-test=HTTPRouteSimpleSameNamespace   extra flags for the suite
#
# It brings the cluster up (hack/cluster.sh), installs the Gateway API CRDs (experimental channel,
# from the module cache), starts `portico controller` in loopback mode, runs the suite, and stops
# everything it started. With PORTICO_CLUSTER_REUSE=1 an already running cluster is used and left up.
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
extra=()
while (($#)); do
  case "$1" in
    --full) mode=full ;;
    --core) mode=core ;;
    --core-http) mode=core-http ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: $0 [--full|--core|--core-http] [-- suite flags]" >&2; exit 2 ;;
  esac
  shift
done

WORK="$ROOT/conformance/.work"
mkdir -p "$WORK"
ADMIN=127.0.0.1:${PORTICO_CONFORMANCE_ADMIN_PORT:-19090}
if [[ $mode == full ]]; then
  REPORT="$ROOT/conformance/reports/experimental-v0.1.0-default-report.yaml"
  export PORTICO_CONFORMANCE_PROFILES="GATEWAY-HTTP,GATEWAY-GRPC,GATEWAY-TLS"
  export PORTICO_CONFORMANCE_CORE=0
  suite_timeout=80m
elif [[ $mode == core ]]; then
  REPORT="$WORK/core-report.yaml"
  export PORTICO_CONFORMANCE_PROFILES="GATEWAY-HTTP,GATEWAY-GRPC,GATEWAY-TLS"
  export PORTICO_CONFORMANCE_CORE=1
  suite_timeout=40m
else
  REPORT="$WORK/core-http-report.yaml"
  export PORTICO_CONFORMANCE_PROFILES="GATEWAY-HTTP"
  export PORTICO_CONFORMANCE_CORE=1
  suite_timeout=40m
fi
CLAIMS="${PORTICO_CONFORMANCE_CONFIG:-$ROOT/conformance/portico.yaml}"
partial=0
((${#extra[@]})) && partial=1
[[ $(realpath -m "$CLAIMS") != "$(realpath -m "$ROOT/conformance/portico.yaml")" ]] && partial=1
# A partial run (suite flags such as -run-test, or another claims file) never replaces the
# committed full report.
((partial)) && REPORT="$WORK/partial-$mode-report.yaml"
export PORTICO_CONFORMANCE_REPORT="$REPORT" PORTICO_CONFORMANCE_CONFIG="$CLAIMS"
rm -f "$REPORT"

controller_pid=""
suite_pid=""
started_cluster=0
cleanup() {
  local rc=$?
  [[ -n $suite_pid ]] && kill -TERM "$suite_pid" 2>/dev/null || true
  if [[ -n $controller_pid ]] && kill -0 "$controller_pid" 2>/dev/null; then
    kill -TERM "$controller_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$controller_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$controller_pid" 2>/dev/null || true
  fi
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
eval "$("$ROOT/hack/cluster.sh" env)"
t_cluster=$((SECONDS - t0))

log "installing Gateway API CRDs from $GATEWAY_API_CRDS"
for f in "$GATEWAY_API_CRDS"/*.yaml; do
  [[ $(basename "$f") == kustomization.yaml ]] && continue
  kubectl apply --server-side --force-conflicts -f "$f" >/dev/null
done
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null

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
(cd "$ROOT/conformance" && go test -c -o "$WORK/conformance.test" .)

log "starting portico controller (log: $WORK/controller.log)"
PORTICO_FROM_SRC=1 node "$ROOT/bin/portico.js" controller --kubeconfig "$KUBECONFIG" \
  --gateway-address-mode loopback --admin "$ADMIN" > "$WORK/controller.log" 2>&1 &
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

log "running the suite ($mode; log: $WORK/suite-$mode.log)"
t1=$SECONDS
# In the background with `wait`, so that an interrupt reaches the traps (and stops the suite) at once.
(cd "$ROOT/conformance" && exec "$WORK/conformance.test" -test.v -test.timeout "$suite_timeout" \
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
summary="$WORK/summary-$mode.md"
[[ $mode == full ]] && ((!partial)) && summary="$ROOT/conformance/reports/SUMMARY.md"
node "$ROOT/conformance/summarize.mjs" "$REPORT" "$WORK/suite-$mode.log" "$CLAIMS" > "$summary"
cat "$summary"
# The summary's last line: "conformance: <n> passed, <n> failed, <n> skipped".
failed=$(tail -n 1 "$summary" | sed -n 's/^conformance: [0-9]* passed, \([0-9]*\) failed,.*/\1/p')
[[ -n $failed ]] || { log "cannot read the failure count from $summary"; exit 1; }
if ((failed > 0 || suite_rc != 0)); then
  log "cluster ${t_cluster}s, suite ${t_suite}s, go test exit $suite_rc: $failed failed in the report" \
    "(see above and $WORK/suite-$mode.log); exit $TESTS_FAILED"
  tests_failed=1
  exit "$TESTS_FAILED"
fi
log "cluster ${t_cluster}s, suite ${t_suite}s, go test exit 0: every selected test passed"
