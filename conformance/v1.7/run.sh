#!/usr/bin/env bash
# Runs the Gateway API v1.7.0 conformance suite (this directory's Go module) against Portico,
# through conformance/run.sh with its suite hooks. Same modes, flags and exit status as run.sh:
#
#   conformance/v1.7/run.sh --full     every profile, the extended features in conformance/v1.7/portico.yaml;
#                                      report and SUMMARY.md in conformance/reports/v1.7.0/
#   conformance/v1.7/run.sh --core     core tests only; report in conformance/.work/v1.7/
#   conformance/v1.7/run.sh --full -- -run-test=HTTPRouteRetryCodes
#
# On the shared cluster run it, like run.sh, inside the cluster lock with PORTICO_CLUSTER_REUSE=1.
# v1.7.0 needs Go 1.27: the toolchain is fetched from the module proxy into the Go module cache
# (PORTICO_GO_CACHE, as hack/ uses) on first use:
export GOTOOLCHAIN=go1.27.3
# Before the run, images.sh lays out the echo-server module the suite imports (see there). The
# v1.7.0 CRDs replace the installed ones for the run; afterwards the cluster's own (v1.6.3, from
# `hack/cluster.sh env`) are put back, since other runs on the shared cluster expect them.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
. "$ROOT/hack/lib.sh"
HERE="$ROOT/conformance/v1.7"
VERSION=v1.7.0

ensure_go # GOMODCACHE/GOCACHE under PORTICO_GO_CACHE; it also sets GOTOOLCHAIN=local, so again:
export GOTOOLCHAIN=go1.27.3
"$HERE/images.sh"
# Where go.mod's pin puts the v1.7.0 module, CRDs included.
crds=$(cd "$HERE" && go mod download -json "sigs.k8s.io/gateway-api@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')/config/crd/experimental
[[ -f $crds/gateway.networking.k8s.io_gateways.yaml ]] || die "no v1.7.0 CRDs in $crds"

# Every Gateway API CRD, with every object of its kind: applying one bundle version over another
# would mix their schemas, and a kind only one of them defines would linger.
delete_gateway_crds() {
  local gw
  gw=$(kubectl get crd -o name | grep -E '\.gateway\.networking\.(x-)?k8s\.io$' || true)
  [[ -z $gw ]] || kubectl delete $gw --wait=true --timeout=120s >/dev/null
}
# Puts the cluster's own Gateway API CRDs back when the cluster is still up.
restore_crds() {
  local rc=$?
  if "$ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
    (
      eval "$("$ROOT/hack/cluster.sh" env)"
      log "restoring the cluster's Gateway API CRDs from $GATEWAY_API_CRDS"
      delete_gateway_crds
      for f in "$GATEWAY_API_CRDS"/*.yaml; do
        [[ $(basename "$f") == kustomization.yaml ]] && continue
        kubectl apply --server-side --force-conflicts -f "$f" >/dev/null
      done
      kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
    ) || { log "restoring the Gateway API CRDs failed"; ((rc)) || rc=1; }
  fi
  exit $rc
}
trap restore_crds EXIT
if "$ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
  (eval "$("$ROOT/hack/cluster.sh" env)" && log "deleting the installed Gateway API CRDs" && delete_gateway_crds)
fi

mkdir -p "$ROOT/conformance/.work/v1.7" "$ROOT/conformance/reports/$VERSION"
PORTICO_CONFORMANCE_SUITE_DIR="$HERE" \
PORTICO_CONFORMANCE_WORK="$ROOT/conformance/.work/v1.7" \
PORTICO_CONFORMANCE_REPORTS_DIR="$ROOT/conformance/reports/$VERSION" \
PORTICO_CONFORMANCE_GOTOOLCHAIN="$GOTOOLCHAIN" \
PORTICO_CONFORMANCE_CRDS="$crds" \
  "$ROOT/conformance/run.sh" "$@"
