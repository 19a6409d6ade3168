#!/usr/bin/env bash
# Start-up to ready, and resident memory, of `yiwang serve` (release build).
#
#   scripts/bench/startup.sh            demo province: first start (loads it) and warm start, 5 runs each
#   SCALE=100000 scripts/bench/startup.sh   also: warm start and RSS with a 100,000-item catalogue
#
# Ready = the first 200 from /healthz, measured from exec. Loopback only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build
RUNS="${RUNS:-5}"
trap stop_server EXIT

work=$(mktemp -d /tmp/yiwang-bench.XXXXXX)
first=() warm=()
for i in $(seq 1 "$RUNS"); do
  dir="$work/demo-$i"
  port=$(free_port)
  start_server "$dir" "$port" --demo
  first+=("$READY_MS")
  stop_server
  start_server "$dir" "$port" --demo
  warm+=("$READY_MS")
  rss=$(rss_mb "$SERVER_PID")
  stop_server
done
echo "demo province, first start (loads 1,011 items): ${first[*]} ms"
echo "demo province, warm start:                      ${warm[*]} ms"
echo "demo province, RSS after start:                 ${rss} MB"

if [[ -n "${SCALE:-}" ]]; then
  dir="$work/scale"
  t0=$(now_ms)
  "$BIN" demo --scale "$SCALE" --data-dir "$dir" >/dev/null
  echo "scale data set ($SCALE items) generated in $(($(now_ms) - t0)) ms"
  port=$(free_port)
  start_server "$dir" "$port"
  echo "$SCALE items, warm start: ${READY_MS} ms"
  # Exercise search and guides so the RSS includes working caches.
  curl -sf -o /dev/null "http://127.0.0.1:$port/items?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7"
  curl -sf -o /dev/null "http://127.0.0.1:$port/api/v1/items?q=%E5%85%BB%E8%80%81"
  echo "$SCALE items, RSS: $(rss_mb "$SERVER_PID") MB"
  stop_server
fi
rm -rf "$work"
