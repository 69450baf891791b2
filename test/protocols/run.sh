#!/usr/bin/env bash
# `npm run test:protocols`: every third-party protocol suite against Portico serving a fixture
# config. Each suite is test/protocols/<suite>/run.sh: it builds or installs its tool (cached
# outside the clone under $PORTICO_TOOLS_CACHE), starts Portico and whatever backend it needs,
# runs the suite, checks its bar, prints one line starting `PROTOCOLS <suite>:` and exits
# non-zero when the bar is not met. Details land in test/protocols/.work/<suite>/.
#
#   test/protocols/run.sh                  every suite
#   test/protocols/run.sh h2spec desync    only those
#
# Every suite runs even when an earlier one fails; the exit code is non-zero if any failed.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
. hack/node.sh
export PORTICO_TOOLS_CACHE="${PORTICO_TOOLS_CACHE:-${HOME:-/root}/.cache/portico/tools}"
ALL=(h2spec grpc-interop autobahn desync slowhttp)
suites=("$@")
((${#suites[@]})) || suites=("${ALL[@]}")

mkdir -p "$HERE/.work"
summary="$HERE/.work/summary.txt"
: > "$summary"
failed=()
for s in "${suites[@]}"; do
  [[ -x "$HERE/$s/run.sh" || -f "$HERE/$s/run.sh" ]] || { echo "no suite $s under test/protocols" >&2; failed+=("$s"); continue; }
  t0=$SECONDS
  echo "=== $s" >&2
  bash "$HERE/$s/run.sh" 2>&1 | tee "$HERE/.work/$s.log"
  rc=${PIPESTATUS[0]}
  line="$(grep -a '^PROTOCOLS ' "$HERE/.work/$s.log" | tail -n 1)"
  [[ -n "$line" ]] || line="PROTOCOLS $s: no summary line (exit $rc)"
  echo "$line ($((SECONDS - t0)) s, exit $rc)" >> "$summary"
  ((rc == 0)) || failed+=("$s")
done
echo
echo "--- protocol suites"
cat "$summary"
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
