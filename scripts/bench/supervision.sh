#!/usr/bin/env bash
# 电子监察 at provincial scale (crates/services/examples/supervision_bench.rs), on SQLite and
# PostgreSQL: the deadline sweep over CASES cases (1 % open, their limits spread around today),
# twice; then the latency from a reported process record to its signal while records arrive at
# RATE a second for SECONDS seconds, the rules consumer running as `serve` runs it.
#
#   scripts/bench/supervision.sh                 CASES=10000000 RATE=500 SECONDS_RUN=20
#   SKIP_BUILD=1 BACKENDS=sqlite CASES=1000000 scripts/bench/supervision.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CASES="${CASES:-10000000}"
RATE="${RATE:-500}"
SECS="${SECONDS_RUN:-20}"
BACKENDS="${BACKENDS:-sqlite postgres}"
EXAMPLE="$CARGO_TARGET_DIR/release/examples/supervision_bench"

if [[ -z "${SKIP_BUILD:-}" || ! -x "$EXAMPLE" ]]; then
  (cd "$BENCH_ROOT" && cargo build --release -p yiwang-services --example supervision_bench >&2)
fi
cleanup() {
  if [[ -n "${PG_STARTED:-}" ]]; then pg_stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for backend in $BACKENDS; do
  if [[ "$backend" == postgres && -z "${YIWANG_TEST_PG_URL:-}" ]]; then
    source "$BENCH_ROOT/scripts/lib/pg.sh"
    pg_start >&2
    PG_STARTED=1
  fi
  "$EXAMPLE" --backend "$backend" --cases "$CASES" --rate "$RATE" --seconds "$SECS"
done
