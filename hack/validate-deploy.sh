#!/usr/bin/env bash
# Validates deploy/ against the local API server (hack/cluster.sh up first):
#  - `kubectl apply --dry-run=server` of the plain manifests, as a user would run it;
#  - server-side dry-run apply of every manifest, RBAC sufficiency and least privilege
#    through SubjectAccessReviews (test/k8s/deploy.test.ts).
# The Helm chart is not rendered here: helm is not packaged in Debian.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
eval "$(hack/cluster.sh env)"
export PORTICO_KUBECONFIG="${PORTICO_KUBECONFIG:-$KUBECONFIG}"
MANIFESTS=deploy/manifests/portico.yaml

KUBECTL="$(command -v kubectl || true)"
if [[ -n "$KUBECTL" ]]; then
  k() { "$KUBECTL" --kubeconfig "$PORTICO_KUBECONFIG" "$@"; }
  ns=$(awk '/^kind: Namespace/{f=1} f && /name:/{print $2; exit}' "$MANIFESTS")
  # namespaced objects cannot be dry-run into a namespace that does not exist (or is terminating)
  k wait --for=delete "namespace/$ns" --timeout=120s >/dev/null 2>&1 || true
  created=0
  if ! k get namespace "$ns" >/dev/null 2>&1; then
    k create namespace "$ns" >/dev/null
    created=1
  fi
  status=0
  k apply --dry-run=server -f "$MANIFESTS" || status=$?
  if ((created)); then
    k delete namespace "$ns" --wait=true --timeout=120s >/dev/null || true
  fi
  ((status == 0)) || { echo "kubectl server-side dry run failed" >&2; exit "$status"; }
else
  echo "kubectl not found: only the JS server-side dry run below runs" >&2
fi
node --import tsx --test test/k8s/deploy.test.ts
