# Shared by the hack/ scripts: paths, logging, and the Go environment. Source it; it defines no main.
CACHE="$ROOT/.cache"
CLUSTER_DIR="$CACHE/cluster"
# PORTICO_CLUSTER_BIN lets CI keep the binaries outside its fresh clone.
BIN="${PORTICO_CLUSTER_BIN:-$CLUSTER_DIR/bin}"
KUBECONFIG_PATH="$CLUSTER_DIR/kubeconfig"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

ensure_go() {
  command -v go >/dev/null || [[ -x /usr/local/go/bin/go ]] || die "Go is not installed (the machine image ships it at /usr/local/go)"
  command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
  local gocache="${PORTICO_GO_CACHE:-$CACHE/go}"
  mkdir -p "$gocache/mod" "$gocache/build"
  export GOMODCACHE="$gocache/mod" GOCACHE="$gocache/build"
  # Every module here is pinned to what Go 1.26 builds; never fetch another toolchain.
  export GOTOOLCHAIN=local GOFLAGS=-mod=mod
}
