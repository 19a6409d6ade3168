# shellcheck shell=bash
# Shared by the benchmark scripts: build the release binary, start and stop a server.

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/yiwang-target}"
BIN="$CARGO_TARGET_DIR/release/yiwang"

bench_build() {
  [[ -n "${SKIP_BUILD:-}" && -x "$BIN" ]] && return 0
  (cd "$BENCH_ROOT" && cargo build --release -p yiwang >&2)
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

# start_server DATA_DIR PORT [extra args…]: starts `yiwang serve` in the background, sets
# SERVER_PID and READY_MS (milliseconds from exec to the first 200 of /healthz).
start_server() {
  local dir="$1" port="$2"
  shift 2
  local t0
  t0=$(now_ms)
  "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$dir" "$@" >"$dir.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 6000); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; then
      READY_MS=$(($(now_ms) - t0))
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "server died; log:" >&2
      tail -n 20 "$dir.log" >&2
      return 1
    fi
    sleep 0.01
  done
  echo "server not ready in 60 s" >&2
  return 1
}

stop_server() {
  if [[ -n "${SERVER_PID:-}" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}

rss_mb() { # PID → resident set size in MB
  awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}
