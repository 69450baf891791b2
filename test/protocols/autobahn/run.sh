#!/usr/bin/env bash
# Autobahn WebSocket cases (PyPI kosoku, which runs Autobahn's own case files on Python 3) against
# a WebSocket echo backend (echo.mjs), once directly and once through Portico (fixture/: an
# HTTPRoute to a Service port with appProtocol kubernetes.io/ws). See README.md.
#
#   bash test/protocols/autobahn/run.sh          every case but 12.* and 13.* (compression, slow)
#   bash test/protocols/autobahn/run.sh --full   every case
#
# Bar: the same per-case results (behavior, close behavior, close code) through Portico as direct,
# and every case passing direct. Prints one line starting "PROTOCOLS autobahn:"; both reports and
# the diff go to test/protocols/.work/autobahn/. Ports: echo 127.0.0.1:18601, Portico 127.0.0.1:18610.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$ROOT/test/protocols/.work/autobahn"
KOSOKU_VERSION=0.1.0
ECHO_PORT=18601
PORTICO_PORT=18610
CASES_CI=301   # kosoku 0.1.0 without 12.* and 13.*
CASES_FULL=517

full=0
for a in "$@"; do
  case "$a" in
    --full) full=1 ;;
    *) echo "usage: $0 [--full]" >&2; exit 2 ;;
  esac
done

cd "$ROOT"
. hack/node.sh
. test/protocols/lib.sh
rm -rf "$WORK"
mkdir -p "$WORK"

# 1. kosoku in a venv outside the clone, keyed by its version and the Python minor version.
PY="${PYTHON:-python3}"
pyver="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
VENV="${PORTICO_TOOLS_CACHE:-${HOME:-/root}/.cache/portico/tools}/kosoku-$KOSOKU_VERSION-py$pyver"
if [[ ! -f "$VENV/.installed" ]]; then
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "kosoku==$KOSOKU_VERSION" >"$WORK/pip.log" 2>&1 || {
    cat "$WORK/pip.log" >&2
    echo "PROTOCOLS autobahn: ERROR could not install kosoku==$KOSOKU_VERSION"
    exit 1
  }
  touch "$VENV/.installed"
fi

# 2. The echo and Portico (from src/, so the run tests the working tree).
PIDS=()
cleanup() {
  stop_pids "${PIDS[@]}"
}
trap cleanup EXIT INT TERM

start_with_backend autobahn "$HERE/echo.mjs" "$ECHO_PORT" "$PORTICO_PORT"

# 3. The cases, direct then through Portico (one at a time: some cases time their frames).
args=()
expected=$CASES_FULL
if ((!full)); then
  args+=(-x '12.*' -x '13.*')
  expected=$CASES_CI
fi
run_cases() { # <name> <url>
  local t0=$SECONDS
  # kosoku exits 1 when any case failed; the comparison below is the bar.
  (cd "$WORK" && "$VENV/bin/kosoku" "$2" "${args[@]}" -o "$WORK/report-$1" >"$WORK/kosoku-$1.log" 2>&1) || true
  echo "autobahn: $1 run took $((SECONDS - t0)) s ($(tail -n 1 "$WORK/kosoku-$1.log"))" >&2
}
run_cases direct "ws://127.0.0.1:$ECHO_PORT/"
run_cases portico "ws://127.0.0.1:$PORTICO_PORT/"

# 4. The bar.
status=0
"$VENV/bin/python" "$HERE/compare.py" "$WORK/report-direct" "$WORK/report-portico" "$WORK" "$expected" || status=$?
portico_survived || status=1
exit "$status"
