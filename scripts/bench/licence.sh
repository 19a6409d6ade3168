#!/usr/bin/env bash
# Electronic licences: issuing (signed data, PDF with seal and QR code rendered and stored) and
# verification, below HTTP on SQLite and PostgreSQL (crates/services/examples/licence_bench.rs),
# then the public verification API and page through HTTP with wrk, over licences of the demo
# province issued into a served data folder.
#
#   scripts/bench/licence.sh                 CASES=600 CONC="1 4" DUR=10 WRK_CONC=64
#   SKIP_BUILD=1 BACKENDS=sqlite scripts/bench/licence.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CASES="${CASES:-600}"
CONC="${CONC:-1 4}"
DUR="${DUR:-10}"
WRK_CONC="${WRK_CONC:-64}"
BACKENDS="${BACKENDS:-sqlite postgres}"
EXAMPLE="$CARGO_TARGET_DIR/release/examples/licence_bench"

if [[ -z "${SKIP_BUILD:-}" || ! -x "$EXAMPLE" ]]; then
  (cd "$BENCH_ROOT" && cargo build --release -p yiwang-services --example licence_bench >&2)
fi
bench_build
out=$(mktemp -d /tmp/yiwang-licbench.XXXXXX)
cleanup() {
  stop_server
  if [[ -n "${PG_STARTED:-}" ]]; then pg_stop >/dev/null 2>&1 || true; fi
  rm -rf "$out"
}
trap cleanup EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for backend in $BACKENDS; do
  if [[ "$backend" == postgres && -z "${YIWANG_TEST_PG_URL:-}" ]]; then
    source "$BENCH_ROOT/scripts/lib/pg.sh"
    pg_start >&2
    PG_STARTED=1
  fi
  for c in $CONC; do
    "$EXAMPLE" --backend "$backend" --cases "$CASES" --concurrency "$c" --seconds 5 2>/dev/null
  done
done

# Through HTTP: a served SQLite folder with licences issued into it.
dir="$out/data"
"$BIN" demo --data-dir "$dir" >/dev/null 2>&1
"$EXAMPLE" --data-dir "$dir" --cases "$CASES" --concurrency 4 --seconds 1 --ids "$out/ids" >/dev/null 2>&1
port=$(free_port)
start_server "$dir" "$port"
cat >"$out/ids.lua" <<LUA
local ids = {}
for line in io.lines("$out/ids") do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", PATH .. ids[(n * 7919) % #ids + 1])
end
LUA
for target in "/api/v1/licences/verify?id=" "/licences/verify?id="; do
  sed "1i PATH = \"$target\"" "$out/ids.lua" >"$out/run.lua"
  # Warm: every licence verified once (signature checked, then remembered).
  wrk -t2 -c8 -d2s -s "$out/run.lua" "http://127.0.0.1:$port" >/dev/null
  echo "== wrk -t2 -c$WRK_CONC -d${DUR}s $target<one of $(wc -l <"$out/ids") licences>"
  wrk -t2 -c"$WRK_CONC" -d"${DUR}s" --latency -s "$out/run.lua" "http://127.0.0.1:$port" |
    awk '/Requests\/sec|Latency|99%|50%|Non-2xx/'
done
echo "server RSS after: $(rss_mb "$SERVER_PID") MB"
