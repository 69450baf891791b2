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
