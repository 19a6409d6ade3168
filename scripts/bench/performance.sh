#!/usr/bin/env bash
# 绩效评估 at provincial scale (crates/services/examples/performance_bench.rs), on SQLite and
# PostgreSQL: CASES finished cases of ORGS organisations over the last year (with acceptance
# records, ratings, rectifications and signals) written straight into the database; the first
# rollup of every day and the next one; then the province-year report by department (three
# runs), by region and by window, as a supervisor asks for it.
#
#   scripts/bench/performance.sh                 CASES=10000000 ORGS=1500
#   SKIP_BUILD=1 BACKENDS=sqlite CASES=1000000 scripts/bench/performance.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CASES="${CASES:-10000000}"
ORGS="${ORGS:-1500}"
BACKENDS="${BACKENDS:-sqlite postgres}"
EXAMPLE="$CARGO_TARGET_DIR/release/examples/performance_bench"

if [[ -z "${SKIP_BUILD:-}" || ! -x "$EXAMPLE" ]]; then
  (cd "$BENCH_ROOT" && cargo build --release -p yiwang-services --example performance_bench >&2)
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
  "$EXAMPLE" --backend "$backend" --cases "$CASES" --orgs "$ORGS"
done
