#!/usr/bin/env bash
# h2spec (HTTP/2 conformance, RFC 7540/7541) against Portico, on an h2c listener and on an HTTPS
# listener with ALPN h2. See README.md here for the bar and every expected failure.
#
#   bash test/protocols/h2spec/run.sh              the suite: build h2spec if its pin changed, run, check the bar
#   bash test/protocols/h2spec/run.sh --baseline   the same h2spec against a plain node:http2 server (plain-node.mjs)
#
# h2spec is built from the Go module proxy at the version pinned in tools/go.mod (a `tool` line) and
# cached outside the clone under ${PORTICO_TOOLS_CACHE:-~/.cache/portico/tools}/h2spec/<pin hash>/.
# Ports: 127.0.0.1:18400 (h2c), 18401 (TLS), 18402 (backend), 18490-18491 (--baseline).
# Details land in test/protocols/.work/h2spec/. Prints one line starting "PROTOCOLS h2spec:".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$ROOT/test/protocols/.work/h2spec"
TOOLS="${PORTICO_TOOLS_CACHE:-${HOME:-/root}/.cache/portico/tools}"
# The bar: what a plain node:http2 server on the same Node passes (measured with --baseline;
# README.md). Portico must pass at least this many on each listener, and fail nothing that
# expected-failures.txt does not list.
BAR=135
BAR_FROM="plain node:http2 on Node 24.22.3"
H2C_PORT=18400 TLS_PORT=18401 BACKEND_PORT=18402

# shellcheck source=../../../hack/lib.sh
. "$ROOT/hack/lib.sh"
. "$ROOT/test/protocols/lib.sh"
export PORTICO_GO_CACHE="${PORTICO_GO_CACHE:-${HOME:-/root}/.cache/portico/go}"
# shellcheck source=../../../hack/node.sh
. "$ROOT/hack/node.sh"

mode=suite
[[ "${1:-}" == --baseline ]] && mode=baseline

pids=()
cleanup() {
  stop_pids "${pids[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK" && mkdir -p "$WORK"

# 1. h2spec, rebuilt only when the pin (go.mod, go.sum) or the Go version changes.
pin="$(cat "$HERE/tools/go.mod" "$HERE/tools/go.sum" <(go version 2>/dev/null || /usr/local/go/bin/go version) | sha256sum | cut -c1-16)"
H2SPEC="$TOOLS/h2spec/$pin/h2spec"
if [[ ! -x "$H2SPEC" ]]; then
  ensure_go
  log "h2spec: building $(grep -m1 'summerwind/h2spec ' "$HERE/tools/go.mod" | awk '{print $2}') from the Go module proxy (pin $pin)"
  tmp="$(mktemp -d)"
  (cd "$HERE/tools" && GOFLAGS=-mod=readonly go build -trimpath -o "$tmp/h2spec" github.com/summerwind/h2spec/cmd/h2spec)
  mkdir -p "$(dirname "$H2SPEC")" && mv "$tmp/h2spec" "$H2SPEC" && rm -rf "$tmp"
fi

port_free() { ! port_open "$1"; }

if [[ $mode == baseline ]]; then
  H2C_PORT=18490 TLS_PORT=18491
  for p in $H2C_PORT $TLS_PORT; do port_free "$p" || die "127.0.0.1:$p is in use"; done
  node "$HERE/plain-node.mjs" "$H2C_PORT" >"$WORK/plain-h2c.log" 2>&1 & pids+=($!)
  node "$HERE/plain-node.mjs" "$TLS_PORT" tls >"$WORK/plain-tls.log" 2>&1 & pids+=($!)
  label="plain node:http2 $(node --version)"
else
  for p in $H2C_PORT $TLS_PORT $BACKEND_PORT; do port_free "$p" || die "127.0.0.1:$p is in use"; done
  # 2. The backend and Portico serving the fixture (one worker: h2spec runs one connection at a time).
  node "$HERE/backend.mjs" "$BACKEND_PORT" >"$WORK/backend.log" 2>&1 & pids+=($!)
  (cd "$ROOT" && exec node bin/portico.js run "$HERE/fixture" --workers 1 --grace 200) >"$WORK/portico.log" 2>&1 & pids+=($!)
  label="$BAR_FROM"
fi
for p in $H2C_PORT $TLS_PORT; do
  wait_port "$p" 60 || { cat "$WORK"/*.log >&2; die "nothing listens on 127.0.0.1:$p"; }
done
[[ $mode == baseline ]] || wait_port "$BACKEND_PORT" 10 || die "the backend did not start"

# 3. Both listeners at once (most of the run is h2spec waiting out its 2 s timeouts). A hung
# run is cut at 150 s; it then leaves no JUnit file and the report fails.
timeout 150 "$H2SPEC" -h 127.0.0.1 -p "$H2C_PORT" -j "$WORK/h2c.junit.xml" >"$WORK/h2c.txt" 2>&1 & h2c=$!
timeout 150 "$H2SPEC" -h 127.0.0.1 -p "$TLS_PORT" -t -k -j "$WORK/tls.junit.xml" >"$WORK/tls.txt" 2>&1 & tlsp=$!
pids+=("$h2c" "$tlsp")
wait "$h2c" || true # h2spec exits non-zero whenever a case fails; the report below judges
wait "$tlsp" || true

# 4. Parse the JUnit reports and check the bar.
if [[ $mode == baseline ]]; then
  node "$HERE/report.mjs" --baseline --out "$WORK" --label "$label; baseline run, no bar" h2c="$WORK/h2c.junit.xml" tls="$WORK/tls.junit.xml"
else
  report() {
    node "$HERE/report.mjs" --bar "$BAR" --expected "$HERE/expected-failures.txt" --out "$WORK" --label "$label" \
      "$@" h2c="$WORK/h2c.junit.xml" tls="$WORK/tls.junit.xml"
  }
  # An unexpected failure is run once more on its own (at most three per listener, as conformance
  # does with a failed test): one that passes then is reported FLAKY, one that fails again fails the run.
  if first="$(report)"; then
    echo "$first"
  else
    again=()
    for listener in h2c tls; do
      flags=(); [[ $listener == tls ]] && flags=(-t -k)
      port=$H2C_PORT; [[ $listener == tls ]] && port=$TLS_PORT
      mapfile -t ids < "$WORK/unexpected-$listener.txt"
      (( ${#ids[@]} >= 1 && ${#ids[@]} <= 3 )) || continue
      for id in "${ids[@]}"; do
        junit="$WORK/again-$listener-${id//\//_}.junit.xml"
        timeout 30 "$H2SPEC" -h 127.0.0.1 -p "$port" "${flags[@]}" -j "$junit" "$id" >>"$WORK/again.txt" 2>&1 || true
        [[ -s $junit ]] && again+=(--again "$listener:$id=$junit")
      done
    done
    report "${again[@]}"
  fi
fi
