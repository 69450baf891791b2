# Shared by the suites' run.sh: process and port helpers. Source it; it defines no main.

# stop_pids <pid>...: TERM each, give each up to 5 s, then KILL what is left.
stop_pids() {
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
}

# port_open <port>: something accepts on 127.0.0.1:<port>.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port <port> <seconds> [pid]: until 127.0.0.1:<port> accepts; fails after <seconds>, or at
# once when <pid> (the process meant to listen there) has exited.
wait_port() {
  local end=$((SECONDS + $2))
  until port_open "$1"; do
    ((SECONDS < end)) || return 1
    [[ -z "${3:-}" ]] || kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
}

# start_with_backend <suite> <backend.mjs> <backend port> <portico port>: the suite's backend
# (log $WORK/backend.log) and `portico run $HERE/fixture` from src/ (log $WORK/portico.log), both
# appended to PIDS, Portico's pid in PORTICO_PID. Prints the suite's ERROR line and exits 1 when
# either is not listening within 30 s.
start_with_backend() {
  local suite=$1 backend=$2 backend_port=$3 portico_port=$4 port
  node "$backend" "$backend_port" >"$WORK/backend.log" 2>&1 &
  PIDS+=($!)
  PORTICO_FROM_SRC=1 node "$ROOT/bin/portico.js" run "$HERE/fixture" --workers "${PORTICO_WORKERS:-1}" --grace 1000 >"$WORK/portico.log" 2>&1 &
  PORTICO_PID=$!
  PIDS+=("$PORTICO_PID")
  for port in "$backend_port" "$portico_port"; do
    wait_port "$port" 30 || { echo "PROTOCOLS $suite: ERROR nothing listening on 127.0.0.1:$port after 30 s (logs in $WORK)"; exit 1; }
  done
}

# portico_survived: fails, naming its log, when the Portico started above has exited.
portico_survived() {
  kill -0 "$PORTICO_PID" 2>/dev/null && return 0
  echo "portico exited during the run; its log: $WORK/portico.log" >&2
  return 1
}
