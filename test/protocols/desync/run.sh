#!/usr/bin/env bash
# HTTP desync corpus: the 159 request heads of crates.io http_desync_guardian 0.1.3 (tests/*.yaml)
# against a Portico HTTP listener (fixture/) with a recording backend. See README.md.
#
#   bash test/protocols/desync/run.sh
#
# Prints one line starting "PROTOCOLS desync:"; details in test/protocols/.work/desync/.
# Exits non-zero when the bar is not met. Ports: Portico 127.0.0.1:18860, backend 127.0.0.1:18861.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$ROOT/test/protocols/.work/desync"
CACHE="${PORTICO_TOOLS_CACHE:-${HOME:-/root}/.cache/portico/tools}/http_desync_guardian-0.1.3"
CRATE_SHA256=ad6e2c57ee440735bff81df73424914248782406defb1c301042baae2cf4ae74 # crates.io index "cksum" of 0.1.3
PORTICO_PORT=18860
BACKEND_PORT=18861

cd "$ROOT"
. hack/node.sh
. test/protocols/lib.sh
mkdir -p "$WORK"

# 1. The corpus: the .crate from crates.io, checked against the index checksum, extracted once.
if [[ ! -f "$CACHE/tests/severe.yaml" ]]; then
  tmp="$(mktemp -d)"
  crate="$tmp/http_desync_guardian-0.1.3.crate"
  curl -sfL --retry 3 -o "$crate" https://static.crates.io/crates/http_desync_guardian/http_desync_guardian-0.1.3.crate ||
    curl -sfL --retry 3 -o "$crate" https://crates.io/api/v1/crates/http_desync_guardian/0.1.3/download
  got="$(sha256sum "$crate" | cut -d' ' -f1)"
  if [[ "$got" != "$CRATE_SHA256" ]]; then
    echo "PROTOCOLS desync: ERROR http_desync_guardian-0.1.3.crate sha256 $got, expected $CRATE_SHA256"
    rm -rf "$tmp"
    exit 1
  fi
  tar xzf "$crate" -C "$tmp"
  mkdir -p "$(dirname "$CACHE")"
  rm -rf "$CACHE"
  mv "$tmp/http_desync_guardian-0.1.3" "$CACHE"
  rm -rf "$tmp"
fi

# 2. Portico on the fixture (from src/, so the run tests the working tree).
PORTICO_PID=
cleanup() {
  [[ -z "$PORTICO_PID" ]] || stop_pids "$PORTICO_PID"
}
trap cleanup EXIT INT TERM
PORTICO_FROM_SRC=1 node bin/portico.js run "$HERE/fixture" >"$WORK/portico.log" 2>&1 &
PORTICO_PID=$!

# 3 and 4. The runner starts the recording backend, waits for Portico, sends each request on a
# fresh connection, checks the bar, writes results.{txt,json} and prints the summary line.
status=0
node --import tsx "$HERE/runner.ts" "$CACHE/tests" "$WORK" "$PORTICO_PORT" "$BACKEND_PORT" || status=$?
if ! kill -0 "$PORTICO_PID" 2>/dev/null; then
  echo "portico exited during the run; its log: $WORK/portico.log" >&2
  status=1
fi
exit "$status"
