#!/usr/bin/env bash
# The guide page under load, beside a trivial endpoint of the same server in the same run
# (release build, demo province, wrk on loopback).
#
#   scripts/bench/load.sh                 1,300 connections, 20 s per endpoint
#   CONN=400 DUR=30 scripts/bench/load.sh
#
# Endpoints: /healthz (trivial), one guide page, every demo guide in rotation, a portal search.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build
CONN="${CONN:-1300}" DUR="${DUR:-20}" THREADS="${THREADS:-2}"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
trap stop_server EXIT

dir=$(mktemp -d /tmp/yiwang-bench.XXXXXX)
port=$(free_port)
start_server "$dir/data" "$port" --demo
base="http://127.0.0.1:$port"
codes=$(curl -sf "$base/api/v1/items?per_page=100&page=1" | python3 -c 'import json,sys; print("\n".join(i["code"] for i in json.load(sys.stdin)["items"]))')
one=$(head -n 1 <<<"$codes")
lua="$dir/rotate.lua"
{
  echo "paths = {"
  for p in $(seq 1 11); do
    curl -sf "$base/api/v1/items?per_page=100&page=$p" | python3 -c 'import json,sys; [print("  \"/items/%s\"," % i["code"]) for i in json.load(sys.stdin)["items"]]'
  done
  echo "}"
  echo 'i = 0'
  echo 'request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
} >"$lua"

run() { # name path [script]
  local name="$1" path="$2" out
  # warm-up (for the rotation: long enough to render every guide once)
  if [[ -n "${3:-}" ]]; then
    wrk -t1 -c16 -d3s -s "$3" "$base$path" >/dev/null 2>&1 || true
  else
    wrk -t1 -c16 -d2s "$base$path" >/dev/null 2>&1 || true
  fi
  if [[ -n "${3:-}" ]]; then
    out=$(wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency -s "$3" "$base$path")
  else
    out=$(wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency "$base$path")
  fi
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  errs=$(awk '/Socket errors|Non-2xx/ { print }' <<<"$out" | tr '\n' ' ')
  printf '%-28s %10s req/s   p50 %-9s p99 %-9s %s\n' "$name" "$rps" "$p50" "$p99" "$errs"
}

echo "wrk: $THREADS threads, $CONN connections, ${DUR}s each, on $(nproc) cores (server and wrk share them)"
run "trivial (/healthz)" "/healthz"
run "guide page (one item)" "/items/$one"
run "guide pages (1,011 rotating)" "/" "$lua"
run "portal search 营业执照" "/items?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7"
run "API search 养老" "/api/v1/items?q=%E5%85%BB%E8%80%81"
echo "server RSS after the run: $(rss_mb "$SERVER_PID") MB"
rm -rf "$dir"
