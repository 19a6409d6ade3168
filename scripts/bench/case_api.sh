#!/usr/bin/env bash
# Full case lifecycles per second through the HTTP case API, with the latency of each call, on
# SQLite and on PostgreSQL (release build, demo province, server and load client on this
# machine's cores). One lifecycle: submit with the files → accept (window) → three approval
# steps → deliver (window); FLOWS picks how: `once` (7 calls: the application at once, the
# case's task, each completion naming the next) and/or `stepwise` (20 calls, as the pages do
# it: draft, form, each upload, submit; inbox, claim, complete per step; read; deliver).
# See crates/web/examples/case_api_load.rs.
#
#   scripts/bench/case_api.sh                 10 s per run, 16 and 64 workers, both backends, once
#   DUR=20 CONC="32" FLOWS="once stepwise" scripts/bench/case_api.sh
#   BACKENDS=sqlite SKIP_BUILD=1 scripts/bench/case_api.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR="${DUR:-10}" CONC="${CONC:-16 64}" BACKENDS="${BACKENDS:-sqlite postgres}" FLOWS="${FLOWS:-once}"
LOAD="$CARGO_TARGET_DIR/release/examples/case_api_load"
bench_build
if [[ -z "${SKIP_BUILD:-}" || ! -x "$LOAD" ]]; then
  (cd "$BENCH_ROOT" && cargo build --release -p yiwang-web --example case_api_load >&2)
fi
ulimit -n 65536 2>/dev/null || true
work=$(mktemp -d /tmp/yiwang-bench.XXXXXX)
cleanup() {
  stop_server
  if [[ -n "${PG_STARTED:-}" ]]; then pg_stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "case lifecycles through the HTTP API, ${DUR} s per run, on $(nproc) cores (server and client share them); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for flow in $FLOWS; do
for backend in $BACKENDS; do
  for c in $CONC; do
    dir="$work/$flow-$backend-$c"
    mkdir -p "$dir"
    db_args=()
    if [[ "$backend" == postgres ]]; then
      if [[ -z "${YIWANG_TEST_PG_URL:-}" ]]; then
        source "$BENCH_ROOT/scripts/lib/pg.sh"
        pg_start >&2
        PG_STARTED=1
      fi
      name="yiwang_bench_$$_${flow}_$c"
      psql -q "$YIWANG_TEST_PG_URL" -c "CREATE DATABASE $name" >/dev/null
      db_args=(--database-url "${YIWANG_TEST_PG_URL%/*}/$name")
    fi
    "$BIN" demo --data-dir "$dir/data" "${db_args[@]}" >/dev/null 2>"$dir/demo.log"
    creds=$("$BIN" oidc add-client --data-dir "$dir/data" "${db_args[@]}" --name "load client" \
      --redirect-uri http://127.0.0.1:9/cb --scope "openid cases" 2>/dev/null)
    id=$(awk '/^client_id:/ { print $2 }' <<<"$creds")
    secret=$(awk '/^client_secret:/ { print $2 }' <<<"$creds")
    port=$(free_port)
    start_server "$dir/data" "$port" "${db_args[@]}"
    printf '%-8s %-9s %3s workers: ' "$flow" "$backend" "$c"
    "$LOAD" --base "http://127.0.0.1:$port" --client-id "$id" --client-secret "$secret" \
      --seconds "$DUR" --concurrency "$c" --flow "$flow"
    echo "  server RSS after the run: $(rss_mb "$SERVER_PID") MB"
    stop_server
  done
done
done
