#!/usr/bin/env bash
# Builds the local cluster's binaries from the Go module proxy into .cache/cluster/bin, once.
# Each tool has its own module under hack/tools/<name> (pinned go.mod + go.sum); a binary is
# rebuilt only when that module's files change (a stamp beside the binaries records their hash).
#
#   hack/build-tools.sh            build whatever is missing or stale
#   hack/build-tools.sh --force    rebuild everything
#
# Env: PORTICO_GO_CACHE     where GOMODCACHE and GOCACHE live (default .cache/go)
#      PORTICO_CLUSTER_BIN  where the binaries go (default .cache/cluster/bin)
# CI points both outside its fresh clone, so that a second run on the same machine builds nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/hack/lib.sh"

force=0
[[ "${1:-}" == "--force" ]] && force=1

ensure_go
mkdir -p "$BIN" "$BIN/.stamps"

# stamp <tool>: the hash of everything that decides that tool's binaries.
stamp() {
  (cd "$ROOT/hack/tools/$1" && cat go.mod go.sum; [[ "$1" == echo ]] && cat "$ROOT/hack/build-tools.sh") | sha256sum | cut -c1-16
}

fresh() { # fresh <tool> <binary>...
  local tool=$1; shift
  [[ $force == 1 ]] && return 1
  [[ "$(cat "$BIN/.stamps/$tool" 2>/dev/null)" == "$(stamp "$tool")" ]] || return 1
  local b; for b in "$@"; do [[ -x "$BIN/$b" ]] || return 1; done
}

build() { # build <tool> <package>...  (binaries land in $BIN named after the package, or at $OUT)
  local tool=$1; shift
  local t0=$SECONDS
  log "building $tool: $*"
  (cd "$ROOT/hack/tools/$tool" && go build -mod=mod -trimpath -ldflags='-s -w' -o "${OUT:-$BIN/}" "$@")
  stamp "$tool" > "$BIN/.stamps/$tool"
  log "built $tool in $((SECONDS - t0))s"
}

# echo-basic v1.6.3 (the last release inside the gateway-api module) listens on every address of
# the machine. Pods here share the host's network and differ only by their 127.x address, so a
# patched copy binds each listener to $POD_IP. The build fails if any wildcard listener survives.
prepare_echo_source() {
  local src="$GOMODCACHE/sigs.k8s.io/gateway-api/conformance@v1.6.3"
  local dst="$CLUSTER_DIR/src/echo-conformance"
  if [[ ! -d "$src" ]]; then
    (cd "$ROOT/hack/tools/echo" && GOFLAGS=-mod=mod go mod download sigs.k8s.io/gateway-api/conformance@v1.6.3)
  fi
  rm -rf "$dst"; mkdir -p "$(dirname "$dst")"
  cp -r "$src" "$dst"; chmod -R u+w "$dst"
  (cd "$dst/echo-basic" &&
    sed -i -e 's/fmt.Sprintf(":%s"/fmt.Sprintf(os.Getenv("POD_IP")+":%s"/g' \
           -e 's/fmt.Sprintf("0.0.0.0:%d"/fmt.Sprintf(os.Getenv("POD_IP")+":%d"/g' \
           -e 's/net.ResolveUDPAddr("udp", ":"+port)/net.ResolveUDPAddr("udp", os.Getenv("POD_IP")+":"+port)/' \
           echo-basic.go grpc/grpc.go tcpserver/tcpserver.go udpechoserver/udpechoserver.go
    if grep -nE '"(0\.0\.0\.0)?:%[sd]"|"udp", ":"' echo-basic.go grpc/grpc.go tcpserver/tcpserver.go udpechoserver/udpechoserver.go; then
      die "echo-basic still has a wildcard listener after patching (see lines above)"
    fi)
}

t_all=$SECONDS
fresh etcd etcd || OUT="$BIN/etcd" build etcd go.etcd.io/etcd/server/v3
fresh kwok kwok || build kwok sigs.k8s.io/kwok/cmd/kwok
if ! fresh echo echo-basic; then
  prepare_echo_source
  build echo sigs.k8s.io/gateway-api/conformance/echo-basic
fi
fresh k8s kube-apiserver kube-controller-manager kube-scheduler kubectl ||
  build k8s k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
log "tools ready in $BIN ($((SECONDS - t_all))s)"
