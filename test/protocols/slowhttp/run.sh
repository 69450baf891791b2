#!/usr/bin/env bash
# slowhttptest (Debian package) against a Portico HTTP listener (fixture/) in front of an
# ordinary backend (backend.mjs): slowloris (-H), slow body (-B) and slow read (-X), 1,000
# connections each, 30 s each at most. See README.md.
#
#   bash test/protocols/slowhttp/run.sh
#
# Bar: the service stays available throughout each attack: slowhttptest's CSV never shows
# "Service Available" 0 (its exit code is always 0), and our own probe (probe.mjs: a normal GET
# through Portico on a new connection every 0.5 s, 3 s deadline) always gets its 200.
# Prints one line starting "PROTOCOLS slowhttp:"; CSVs, HTML reports, probe and process logs go
# to test/protocols/.work/slowhttp/. Ports: backend 127.0.0.1:18701, Portico 127.0.0.1:18710.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$ROOT/test/protocols/.work/slowhttp"
BACKEND_PORT=18701
PORTICO_PORT=18710
CONNECTIONS=1000
DURATION="${SLOWHTTP_SECONDS:-30}"   # per attack
PROBE_TIMEOUT=3                      # seconds, slowhttptest -p and our probe alike

cd "$ROOT"
. hack/node.sh
. test/protocols/lib.sh
rm -rf "$WORK"
mkdir -p "$WORK"

# 1. The tool: Debian's slowhttptest.
if ! command -v slowhttptest >/dev/null; then
  SUDO=; ((EUID == 0)) || SUDO=sudo
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq slowhttptest; } >"$WORK/apt.log" 2>&1 || {
    cat "$WORK/apt.log" >&2
    echo "PROTOCOLS slowhttp: ERROR could not install the Debian package slowhttptest"
    exit 1
  }
fi

# 1,000 attack sockets, each an upstream socket in Portico too: raise the open-file limit for
# everything started below (to the hard limit where 65536 is not allowed).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "slowhttp: open files limit $(ulimit -n)" >&2

# 2. The backend and Portico (from src/, so the run tests the working tree).
PIDS=()
PROBE_PID=
cleanup() {
  [[ -n "$PROBE_PID" ]] && kill "$PROBE_PID" 2>/dev/null || true
  stop_pids "${PIDS[@]}"
}
trap cleanup EXIT INT TERM

start_with_backend slowhttp "$HERE/backend.mjs" "$BACKEND_PORT" "$PORTICO_PORT"

# 3. The attacks, one after another, each with our probe running alongside.
URL="http://127.0.0.1:$PORTICO_PORT"
attack() { # <name> <slowhttptest args...>
  local name=$1 t0=$SECONDS
  shift
  node "$HERE/probe.mjs" "$URL/" 500 "$((PROBE_TIMEOUT * 1000))" "$WORK/probe-$name.log" &
  PROBE_PID=$!
  slowhttptest "$@" -c "$CONNECTIONS" -r 200 -l "$DURATION" -p "$PROBE_TIMEOUT" -g -o "$WORK/$name" >"$WORK/$name.out" 2>&1 || true
  kill "$PROBE_PID" 2>/dev/null || true
  wait "$PROBE_PID" 2>/dev/null || true
  PROBE_PID=
  echo "slowhttp: $name took $((SECONDS - t0)) s ($(grep -a 'Exit status' "$WORK/$name.out" | sed 's/\x1b\[[0-9;]*m//g' | tr -s ' '))" >&2
}
# Slowloris: header lines trickle in every 5 s (Portico's request-head timeout cuts them).
attack slowloris -H -i 5 -u "$URL/"
# Slow body (R-U-Dead-Yet): a POST announcing 8 KiB sends a few bytes of it every 5 s.
attack slowbody -B -i 5 -s 8192 -u "$URL/"
# Slow read: a 256 KiB response read through a 10-20 byte receive window, 32 bytes every 5 s.
# Sized so 1,000 of them stay below the host's TCP memory pressure mark (README: bigger or
# pipelined responses fill net.ipv4.tcp_mem whether aimed at Portico or at the backend itself).
attack slowread -X -w 10 -y 20 -n 5 -z 32 -k 1 -u "$URL/big"

# 4. The bar.
status=0
python3 "$HERE/check.py" "$WORK" "$CONNECTIONS" slowloris:-H slowbody:-B slowread:-X || status=$?
portico_survived || status=1
exit "$status"
