#!/usr/bin/env bash
# The workflow engine beside SpiffWorkflow (the Python BPMN engine), in one run, on the same BPMN
# files (crates/workflow/tests/data: seq5, parallel3, countersign5), in memory: instances
# completed per second, each instance started and every user task completed until it ends,
# parsing excluded on both sides. Then persisted: 5-step instances per second through the
# platform's store on SQLite and PostgreSQL (crates/services/examples/workflow_persisted.rs).
#
#   scripts/bench/workflow.sh              3 s per case and engine
#   DUR=10 scripts/bench/workflow.sh
#   SKIP_BUILD=1 scripts/bench/workflow.sh  reuse the built example
#   CONC="4 16" scripts/bench/workflow.sh  persisted part at these worker counts (default 1 4 16 64)
#
# Rust side: crates/workflow/examples/workflow_bench.rs; Python side: scripts/bench/spiff_bench.py
# in the venv of scripts/install-deps.sh (spiffworkflow pinned in scripts/bench/requirements.txt).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR="${DUR:-3}"
PY_VENV="${YIWANG_PY_VENV:-/var/tmp/yiwang-py}"
EXAMPLE="$CARGO_TARGET_DIR/release/examples/workflow_bench"

if [[ -z "${SKIP_BUILD:-}" || ! -x "$EXAMPLE" ]]; then
  (cd "$BENCH_ROOT" && cargo build --release -p yiwang-workflow --example workflow_bench >&2)
fi
if ! "$PY_VENV/bin/python" -c 'import SpiffWorkflow' 2>/dev/null; then
  "$BENCH_ROOT/scripts/install-deps.sh" python >&2
fi

out=$(mktemp -d /tmp/yiwang-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# --- in memory -----------------------------------------------------------------------------------
echo "in memory, ${DUR} s per case and engine, on $(nproc) cores; load average before: $load_before" >&2
# Case by case, one engine right after the other, so that both see about the same load.
for case in seq5 parallel3 countersign5; do
  "$EXAMPLE" --seconds "$DUR" --json --case "$case" >>"$out/yiwang.jsonl"
  "$PY_VENV/bin/python" "$BENCH_ROOT/scripts/bench/spiff_bench.py" --seconds "$DUR" --json --case "$case" >>"$out/spiff.jsonl"
done

# --- persisted ---------------------------------------------------------------------------------
# Complete 5-step instances per second through the platform's store (six transactions each, with
# history, task, offer and instance rows) on SQLite and on a throwaway PostgreSQL on loopback.
PERSISTED="$CARGO_TARGET_DIR/release/examples/workflow_persisted"
if [[ -z "${SKIP_BUILD:-}" || ! -x "$PERSISTED" ]]; then
  (cd "$BENCH_ROOT" && cargo build --release -p yiwang-services --example workflow_persisted >&2)
fi
CONC="${CONC:-1 4 16 64}"
echo "persisted, ${DUR} s per backend and concurrency, workers: ${CONC}" >&2
for c in $CONC; do
  "$PERSISTED" --backend sqlite --seconds "$DUR" --concurrency "$c" --json >>"$out/persisted.jsonl"
done
if [[ -z "${YIWANG_TEST_PG_URL:-}" ]]; then
  source "$BENCH_ROOT/scripts/lib/pg.sh"
  pg_start >&2
  trap 'pg_stop >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
fi
for c in $CONC; do
  "$PERSISTED" --backend postgres --seconds "$DUR" --concurrency "$c" --json >>"$out/persisted.jsonl"
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
"$PY_VENV/bin/python" - "$out/yiwang.jsonl" "$out/spiff.jsonl" <<'EOF'
import json, sys

def read(path):
    return {r["case"]: r for r in map(json.loads, open(path)) if r}

y, s = read(sys.argv[1]), read(sys.argv[2])
version = next(iter(s.values()))["version"] if s else "?"
print(f"{'case':<14} {'Yiwang inst/s':>14} {'µs/inst':>9} {'Spiff ' + version + ' inst/s':>20} {'µs/inst':>9} {'ratio':>8}")
for case, r in y.items():
    p = s.get(case)
    if p is None:
        print(f"{case:<14} {r['per_second']:>14,.0f} {r['us_per_instance']:>9.2f} {'—':>20}")
        continue
    ratio = r["per_second"] / p["per_second"]
    print(f"{case:<14} {r['per_second']:>14,.0f} {r['us_per_instance']:>9.2f} "
          f"{p['per_second']:>20,.0f} {p['us_per_instance']:>9.1f} {ratio:>7.0f}×")
EOF
echo
echo "persisted (5-step instances, each 6 transactions):"
"$PY_VENV/bin/python" - "$out/persisted.jsonl" <<'EOF'
import json, sys
print(f"{'backend':<10} {'workers':>7} {'instances/s':>12} {'tx/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
for r in map(json.loads, open(sys.argv[1])):
    print(f"{r['backend']:<10} {r['concurrency']:>7} {r['per_second']:>12,.0f} {r['transactions_per_second']:>8,.0f} "
          f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}")
EOF
echo "load average before: $load_before; after: $load_after (1, 5, 15 min)"
