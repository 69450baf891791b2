#!/usr/bin/env bash
# Builds the local cluster's binaries from the Go module proxy into .cache/cluster/bin, once.
# Each tool has its own module under hack/tools/<name> (pinned go.mod + go.sum); a binary is
# rebuilt only when that module's files change (a stamp beside the binaries records their hash).
#
#   hack/build-tools.sh            build whatever of the cluster's tools is missing or stale
#   hack/build-tools.sh helm       only the named tools (helm is built only when named: nothing in
#                                  the cluster needs it; hack/validate-deploy.sh and test/k8s/deploy.test.ts do)
#   hack/build-tools.sh --force    rebuild (everything, or the named tools)
#
# Env: PORTICO_GO_CACHE     where GOMODCACHE and GOCACHE live (default .cache/go)
#      PORTICO_CLUSTER_BIN  where the binaries go (default .cache/cluster/bin)
# CI points both outside its fresh clone, so that a second run on the same machine builds nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/hack/lib.sh"

force=0 want=()
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    *) [[ -f "$ROOT/hack/tools/$a/go.mod" ]] || die "no tool $a under hack/tools"; want+=("$a") ;;
  esac
done
((${#want[@]})) || want=(etcd kwok echo k8s)
wants() { [[ " ${want[*]} " == *" $1 "* ]]; }

ensure_go
mkdir -p "$BIN" "$BIN/.stamps"

# stamp <tool>: the hash of everything that decides that tool's binaries (for echo, its patch too).
stamp() {
  # (an `if`, not `[[ ]] &&`: a false test as the subshell's last word fails the pipeline, and build's set -e with it)
  (cd "$ROOT/hack/tools/$1" && cat go.mod go.sum; if [[ "$1" == echo ]]; then declare -f prepare_echo_source; fi) | sha256sum | cut -c1-16
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
    if grep -nE 'Sprintf\("(0\.0\.0\.0)?:%[sd]"|"udp", ":"' echo-basic.go grpc/grpc.go tcpserver/tcpserver.go udpechoserver/udpechoserver.go; then
      die "echo-basic still has a wildcard listener after patching (see lines above)"
    fi)
}

t_all=$SECONDS
if wants etcd; then fresh etcd etcd || OUT="$BIN/etcd" build etcd go.etcd.io/etcd/server/v3; fi
if wants kwok; then fresh kwok kwok || build kwok sigs.k8s.io/kwok/cmd/kwok; fi
if wants echo && ! fresh echo echo-basic; then
  prepare_echo_source
  build echo sigs.k8s.io/gateway-api/conformance/echo-basic
fi
if wants k8s; then
  fresh k8s kube-apiserver kube-controller-manager kube-scheduler kubectl kube-proxy ||
    build k8s k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl k8s.io/kubernetes/cmd/kube-proxy
fi
if wants helm; then fresh helm helm || build helm helm.sh/helm/v4/cmd/helm; fi
log "tools ready in $BIN ($((SECONDS - t_all))s)"
