#!/usr/bin/env bash
# Validates deploy/ against the local API server (hack/cluster.sh up first):
#  - `kubectl apply --dry-run=server` of the plain manifests, as a user would run it;
#  - the same for the Helm chart rendered by `helm template` (helm built by hack/build-tools.sh),
#    and the chart must render the same objects (kind/name) as the manifests, the Namespace aside
#    (`helm install --create-namespace` makes it);
#  - server-side dry-run apply of every manifest and rendered object, chart/manifest parity,
#    RBAC sufficiency and least privilege through SubjectAccessReviews (test/k8s/deploy.test.ts).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
eval "$(hack/cluster.sh env)"
export PORTICO_KUBECONFIG="${PORTICO_KUBECONFIG:-$KUBECONFIG}"
MANIFESTS=deploy/manifests/portico.yaml
CHART=deploy/helm/portico

hack/build-tools.sh helm

KUBECTL="$(command -v kubectl || true)"
if [[ -n "$KUBECTL" ]]; then
  k() { "$KUBECTL" --kubeconfig "$PORTICO_KUBECONFIG" "$@"; }
  # the GatewayClass cannot be dry-run before its CRD exists (a cluster fresh from `up` has none)
  for f in "$GATEWAY_API_CRDS"/*.yaml; do
    [[ $(basename "$f") == kustomization.yaml ]] && continue
    k apply --server-side --force-conflicts -f "$f" >/dev/null
  done
  k wait --for=condition=Established crd --all --timeout=60s >/dev/null
  ns=$(awk '/^kind: Namespace/{f=1} f && /name:/{print $2; exit}' "$MANIFESTS")
  # namespaced objects cannot be dry-run into a namespace that does not exist (or is terminating)
  k wait --for=delete "namespace/$ns" --timeout=120s >/dev/null 2>&1 || true
  created=0
  if ! k get namespace "$ns" >/dev/null 2>&1; then
    k create namespace "$ns" --save-config >/dev/null
    created=1
  fi
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  status=0
  k apply --dry-run=server -f "$MANIFESTS" -o name > "$tmp/manifests" || status=$?
  sed 's/$/ (manifests, server dry run)/' "$tmp/manifests"
  helm template portico "$CHART" --namespace "$ns" > "$tmp/chart.yaml" || status=$?
  k apply --dry-run=server -f "$tmp/chart.yaml" -o name > "$tmp/chart" || status=$?
  sed 's/$/ (helm template, server dry run)/' "$tmp/chart"
  if ! diff <(grep -v "^namespace/$ns\$" "$tmp/manifests" | sort) <(sort "$tmp/chart"); then
    echo "the chart and $MANIFESTS render different objects (< manifests, > chart)" >&2
    status=1
  fi
  if ((created)); then
    k delete namespace "$ns" --wait=true --timeout=120s >/dev/null || true
  fi
  ((status == 0)) || { echo "kubectl server-side dry run failed" >&2; exit "$status"; }
else
  echo "kubectl not found: only the JS server-side dry run below runs" >&2
fi
node --import tsx --test test/k8s/deploy.test.ts
