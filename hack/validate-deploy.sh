#!/usr/bin/env bash
# Validates deploy/ against the local API server (hack/cluster.sh up first):
#  - server-side dry-run apply of every manifest, RBAC sufficiency and least privilege (test/k8s/deploy.test.ts);
#  - `kubectl apply --dry-run=server` of the same file when kubectl is at hand, as a user would run it.
# The Helm chart is not rendered here: helm is not packaged in Debian (deploy/helm/portico renders the same objects).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
eval "$(hack/cluster.sh env)"
export PORTICO_KUBECONFIG="${PORTICO_KUBECONFIG:-$KUBECONFIG}"
node --import tsx --test test/k8s/deploy.test.ts
KUBECTL="$(command -v "$ROOT/.cache/cluster/bin/kubectl" || command -v kubectl || true)"
if [[ -n "$KUBECTL" ]]; then
  ns=$(awk '/^kind: Namespace/{f=1} f && /name:/{print $2; exit}' deploy/manifests/portico.yaml)
  created=0
  if ! "$KUBECTL" --kubeconfig "$PORTICO_KUBECONFIG" get namespace "$ns" >/dev/null 2>&1; then
    "$KUBECTL" --kubeconfig "$PORTICO_KUBECONFIG" create namespace "$ns" >/dev/null
    created=1
  fi
  status=0
  "$KUBECTL" --kubeconfig "$PORTICO_KUBECONFIG" apply --dry-run=server -f deploy/manifests/portico.yaml || status=$?
  ((created)) && "$KUBECTL" --kubeconfig "$PORTICO_KUBECONFIG" delete namespace "$ns" --wait=false >/dev/null
  exit $status
fi
