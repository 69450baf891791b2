#!/usr/bin/env bash
# gRPC interop suite: grpc-go's interop client (google.golang.org/grpc/interop/client, pinned in
# tools/go.mod) against its interop server, first directly (checks the harness), then through
# Portico serving fixture/ (a GRPCRoute on an h2c listener and on an HTTPS listener with ALPN h2).
#
#   bash test/protocols/grpc-interop/run.sh
#
# Transports (client -> Portico -> server):
#   direct-h2c   client -> server :18501, plaintext                 (harness check, no Portico)
#   direct-tls   client -> server :18502, TLS (test CA)             (harness check, no Portico)
#   h2c          client -> :18510 h2c  -> h2c server :18501
#   tls          client -> :18511 TLS  -> h2c server :18501
#   tls-backend  client -> :18511 TLS  -> TLS server :18502         (BackendTLSPolicy, HTTP/2 over TLS)
# Bar: every case in CASES passes on every transport. One summary line `PROTOCOLS grpc-interop: ...`;
# per-case logs, results.tsv and the servers' and Portico's output in test/protocols/.work/grpc-interop/.
#
# Env: PORTICO_TOOLS_CACHE  where the built client/server live (default ~/.cache/portico/tools);
#                           rebuilt only when tools/go.mod or go.sum change (stamp beside them)
#      PORTICO_GO_CACHE     GOMODCACHE/GOCACHE (default ~/.cache/portico/go)
#      GRPC_INTEROP_CASES   space-separated subset of CASES (for debugging; the bar still needs all)
#      GRPC_INTEROP_WORKERS Portico data-plane workers (default 1; the machine is shared)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
. "$ROOT/hack/lib.sh"
. "$ROOT/test/protocols/lib.sh"
export PORTICO_GO_CACHE="${PORTICO_GO_CACHE:-$HOME/.cache/portico/go}"
TOOLS="${PORTICO_TOOLS_CACHE:-$HOME/.cache/portico/tools}/grpc-interop"
WORK="$ROOT/test/protocols/.work/grpc-interop"
CERTS="$ROOT/test/fixtures/certs"

CASES=(empty_unary large_unary client_streaming server_streaming ping_pong empty_stream
  timeout_on_sleeping_server cancel_after_begin cancel_after_first_response status_code_and_message
  special_status_message custom_metadata unimplemented_method unimplemented_service)
TRANSPORTS=(direct-h2c direct-tls h2c tls tls-backend)
read -r -a RUN_CASES <<<"${GRPC_INTEROP_CASES:-${CASES[*]}}"

PIDS=() JOBS=() summarized=0 why="setup failed"
cleanup() {
  local p
  ((summarized)) || echo "PROTOCOLS grpc-interop: ERROR, no cases run to the end ($why; see the log above)"
  # A case still running (interrupted run): its `timeout` passes the signal on to the client.
  for p in "${JOBS[@]}"; do kill $(pgrep -P "$p") "$p" 2>/dev/null || true; done
  stop_pids "${PIDS[@]}"
}
trap cleanup EXIT
trap 'why=interrupted; exit 130' INT TERM

t0=$SECONDS
rm -rf "$WORK"; mkdir -p "$WORK"

# 1. Tools: build once per pin.
ensure_go
stamp() { (cd "$HERE/tools" && cat go.mod go.sum && go env GOVERSION) | sha256sum | cut -c1-16; }
if [[ "$(cat "$TOOLS/.stamp" 2>/dev/null)" != "$(stamp)" || ! -x "$TOOLS/client" || ! -x "$TOOLS/server" ]]; then
  tb=$SECONDS
  log "building the gRPC interop client and server into $TOOLS"
  mkdir -p "$TOOLS"; rm -f "$TOOLS/.stamp"
  (cd "$HERE/tools" && go build -trimpath -ldflags='-s -w' -o "$TOOLS/" \
    google.golang.org/grpc/interop/client google.golang.org/grpc/interop/server)
  stamp > "$TOOLS/.stamp"
  log "built in $((SECONDS - tb))s"
fi

# 2. Servers and Portico.
listening() { # listening <port> <pid> <log>
  wait_port "$1" 20 "$2" || { cat "$3" >&2; die "nothing listens on 127.0.0.1:$1 (process $2 exited, or 20 s passed; log: $3)"; }
}
for p in 18501 18502 18510 18511; do
  if port_open "$p"; then die "127.0.0.1:$p is already in use (another run of this suite?)"; fi
done
# The interop server binds every address of the machine (":port"); nothing here can narrow that.
"$TOOLS/server" --port=18501 >"$WORK/server-h2c.log" 2>&1 &
PIDS+=($!); spid_h2c=$!
"$TOOLS/server" --port=18502 --use_tls --tls_cert_file="$CERTS/backend.crt" --tls_key_file="$CERTS/backend.key" \
  >"$WORK/server-tls.log" 2>&1 &
PIDS+=($!); spid_tls=$!
. "$ROOT/hack/node.sh"
node "$ROOT/bin/portico.js" run "$HERE/fixture" --workers "${GRPC_INTEROP_WORKERS:-1}" --access-log >"$WORK/portico.log" 2>&1 &
PIDS+=($!); ppid=$!
listening 18501 "$spid_h2c" "$WORK/server-h2c.log"
listening 18502 "$spid_tls" "$WORK/server-tls.log"
listening 18510 "$ppid" "$WORK/portico.log"
listening 18511 "$ppid" "$WORK/portico.log"

# 3. The cases.
client_args() { # client_args <transport>
  case $1 in
    direct-h2c) echo --server_port=18501 ;;
    direct-tls) echo --server_port=18502 --use_tls --use_test_ca --ca_file="$CERTS/ca.crt" --server_host_override=backend.internal ;;
    h2c) echo --server_port=18510 ;;
    tls) echo --server_port=18511 --use_tls --use_test_ca --ca_file="$CERTS/ca.crt" --server_host_override=grpc.gw.example.com ;;
    tls-backend) echo --server_port=18511 --use_tls --use_test_ca --ca_file="$CERTS/ca.crt" --server_host_override=tls-backend.gw.example.com ;;
  esac
}
run_case() { # run_case <transport> <case> <log>: the client's exit status
  # shellcheck disable=SC2046
  timeout 30 "$TOOLS/client" --server_host=127.0.0.1 $(client_args "$1") --test_case="$2" >"$3" 2>&1
}
run_transport() { # run_transport <transport>: one line per case in $WORK/<transport>.tsv
  local t=$1 c s rc
  mkdir -p "$WORK/$t"; : >"$WORK/$t.tsv"
  for c in "${RUN_CASES[@]}"; do
    s=$(date +%s%N)
    run_case "$t" "$c" "$WORK/$t/$c.log" && rc=0 || rc=$?
    printf '%s\t%s\t%s\t%d\n' "$t" "$c" "$([[ $rc == 0 ]] && echo pass || echo "fail(rc=$rc)")" $((($(date +%s%N) - s) / 1000000)) >>"$WORK/$t.tsv"
  done
}
tr0=$SECONDS
for t in "${TRANSPORTS[@]}"; do run_transport "$t" & JOBS+=($!); done
wait_cases=0
for j in "${JOBS[@]}"; do wait "$j" || wait_cases=1; done
JOBS=()
# A case that failed on a direct transport (client and server alone, no Portico) is run once more,
# on its own: that is the harness racing itself on two busy cores (seen once: cancel_after_begin
# answered OK where the client had cancelled, 2026-12-03), not anything Portico did. It counts as
# passed only if the second run passes, and the summary says so. Portico transports get no retry.
retried=()
for t in direct-h2c direct-tls; do
  [[ -f "$WORK/$t.tsv" ]] || continue
  while IFS=$'\t' read -r _ c r ms; do
    [[ $r == pass ]] && continue
    if run_case "$t" "$c" "$WORK/$t/$c.retry.log"; then
      log "harness: $t $c failed ($(grep -v '^\s*$' "$WORK/$t/$c.log" | tail -1)), passed when run again alone"
      sed -i "s/^$t\t$c\t[^\t]*\t/$t\t$c\tpass\t/" "$WORK/$t.tsv"
      retried+=("$t $c")
    fi
  done < <(cat "$WORK/$t.tsv")
done
for t in "${TRANSPORTS[@]}"; do cat "$WORK/$t.tsv"; done >"$WORK/results.tsv"
log "cases ran in $((SECONDS - tr0))s"

# 4. The bar.
summary=() ok=1
for t in "${TRANSPORTS[@]}"; do
  n=$(grep -c $'\tpass\t' "$WORK/$t.tsv" || true)
  summary+=("$t $n/${#CASES[@]}")
  ((n == ${#CASES[@]})) || ok=0
  while IFS=$'\t' read -r _ c r _; do
    [[ $r == pass ]] || log "FAIL $t $c: $(grep -v '^\s*$' "$WORK/$t/$c.log" | tail -1)"
  done <"$WORK/$t.tsv"
done
((wait_cases == 0)) || ok=0
# Proof the Portico transports went through Portico: an access-log line per RPC on each route.
via_interop=$(grep -c '"route":"GRPCRoute/default/interop",' "$WORK/portico.log" || true)
via_tls_backend=$(grep -c '"route":"GRPCRoute/default/interop-tls-backend",' "$WORK/portico.log" || true)
if ((via_interop < 2 * ${#RUN_CASES[@]} || via_tls_backend < ${#RUN_CASES[@]})); then
  log "too few access-log lines: $via_interop on GRPCRoute interop (h2c + tls), $via_tls_backend on interop-tls-backend"
  ok=0
fi
grep -qiE 'panic|uncaught|unhandled' "$WORK/portico.log" && { log "Portico logged an error (see $WORK/portico.log)"; ok=0; }
again=""
((${#retried[@]} == 0)) || again="; passed on a second run without Portico: $(IFS=,; echo "${retried[*]}" | sed 's/,/, /g')"
line="PROTOCOLS grpc-interop: $(IFS=,; echo "${summary[*]}" | sed 's/,/, /g') — $([[ $ok == 1 ]] && echo "bar met" || echo "BAR NOT MET")$again ($((SECONDS - t0))s; details in test/protocols/.work/grpc-interop/)"
echo "$line" | tee "$WORK/summary.txt"
summarized=1
[[ $ok == 1 ]]
