#!/usr/bin/env bash
# Identity under load (release build, demo province, wrk on loopback): a page that needs a
# citizen's session (`/account`: session cookie checked against the database, page rendered)
# beside the trivial endpoint.
#
#   scripts/bench/identity.sh                 100 connections, 15 s per endpoint
#   CONN=400 DUR=30 scripts/bench/identity.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_build
CONN="${CONN:-100}" DUR="${DUR:-15}" THREADS="${THREADS:-2}"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
trap stop_server EXIT

dir=$(mktemp -d /tmp/yiwang-bench.XXXXXX)
port=$(free_port)
start_server "$dir/data" "$port" --demo
base="http://127.0.0.1:$port"
jar="$dir/cookies"

# Sign in as 王小明 through the form (double-submit CSRF cookie + field).
csrf=$(curl -sf -c "$jar" "$base/account/login" | grep -o 'name="csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//')
curl -sf -b "$jar" -c "$jar" -o /dev/null -X POST "$base/account/login" \
  --data-urlencode "csrf=$csrf" --data-urlencode "next=/account" \
  --data-urlencode "account=13800000002" --data-urlencode "password=Yiwang@2026"
token=$(awk '$6 == "yw_user" { print $7 }' "$jar")
[[ -n "$token" ]] || { echo "sign-in failed" >&2; exit 1; }
curl -sf -o /dev/null -H "Cookie: yw_user=$token" "$base/account" || { echo "/account refused the session" >&2; exit 1; }

run() { # name path [header]
  local name="$1" path="$2" out
  wrk -t1 -c8 -d2s ${3:+-H "$3"} "$base$path" >/dev/null 2>&1 || true
  out=$(wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency ${3:+-H "$3"} "$base$path")
  printf '%-34s %10s req/s   p50 %-9s p99 %-9s %s\n' "$name" \
    "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")" \
    "$(awk '$1 == "50%" { print $2 }' <<<"$out")" \
    "$(awk '$1 == "99%" { print $2 }' <<<"$out")" \
    "$(awk '/Socket errors|Non-2xx/ { print }' <<<"$out" | tr '\n' ' ')"
}

echo "wrk: $THREADS threads, $CONN connections, ${DUR}s each, on $(nproc) cores (server and wrk share them)"
run "trivial (/healthz)" "/healthz"
run "citizen page with session (/account)" "/account" "Cookie: yw_user=$token"

# Sign-ins per second are measured below the web layer (the form allows 10 a minute per
# address): cargo run --release -p yiwang-services --example identity_bench
rm -rf "$dir"
