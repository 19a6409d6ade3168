#!/usr/bin/env bash
# THE test command of Yiwang. CI runs exactly this (.ci/run).
#
#   scripts/test.sh              everything: deps, fmt, clippy, Rust tests (SQLite + PostgreSQL),
#                                debug build of `yiwang`, browser tests
#   scripts/test.sh --quick      same without fmt and clippy
#   scripts/test.sh --rust-only  deps, fmt, clippy, Rust tests
#   scripts/test.sh --e2e-only   deps, debug build, browser tests (no PostgreSQL needed)
#   scripts/test.sh --oidc-only  deps, debug build, the authlib OpenID Connect client test
#
# Every phase runs even when an earlier one failed (except the browser tests, which need the
# build); the exit status is non-zero if anything failed. See docs/TESTING.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/pg.sh
source scripts/lib/pg.sh
# shellcheck source=scripts/lib/s3.sh
source scripts/lib/s3.sh

usage() { sed -n '2,12s/^# \{0,1\}//p' "$0"; }

want_lint=1 want_rust=1 want_e2e=1 want_oidc=1
for arg in "$@"; do
  case "$arg" in
    --quick) want_lint=0 ;;
    --rust-only) want_e2e=0 want_oidc=0 ;;
    --e2e-only) want_rust=0 want_lint=0 want_oidc=0 ;;
    --oidc-only) want_rust=0 want_lint=0 want_e2e=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $arg" ;;
  esac
done
((want_rust || want_e2e || want_oidc)) || die "--rust-only, --e2e-only and --oidc-only exclude each other"

# One persistent target directory outside the clone: CI clones afresh each run, and a cold
# build of the whole stack costs minutes.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/yiwang-target}"
mkdir -p "$CARGO_TARGET_DIR"
# Test binaries in a shared target dir may have been compiled from another checkout of the same
# sources (cargo reuses them): snapshot tests must find their files in this one.
export INSTA_WORKSPACE_ROOT="$PWD"
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"
if [[ -t 1 ]]; then export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-always}"; fi

LOGDIR="$(mktemp -d /tmp/yiwang-test.XXXXXX)"
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  pg_stop
  s3_stop
  rm -rf -- "$LOGDIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- bookkeeping ---------------------------------------------------------------------------------
SUMMARY=()      # "name<TAB>status<TAB>seconds"
TOTAL_PASSED=0  # test cases, Rust + browser
TOTAL_FAILED=0  # failed test cases + failed phases that do not count test cases
ANY_FAILED=0

record() { # name rc seconds [status-word]
  local status="${4:-}"
  if [[ -z "$status" ]]; then
    if (($2 == 0)); then status=ok; else status=FAILED; fi
  fi
  [[ "$status" == FAILED ]] && ANY_FAILED=1
  SUMMARY+=("$1"$'\t'"$status"$'\t'"$3")
}

strip_ansi() { sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1"; }

# Reads a runner's output and adds its test counts. Knows nextest's "Summary [...] N tests run:
# N passed, N failed", libtest's "test result: ... N passed; N failed;" and the e2e runner's
# "N passed, N failed". Prints "passed failed" or nothing when no count was found.
count_tests() {
  local line p=0 f=0 found=0
  local re_nextest='Summary \[.*\] +[0-9]+ tests? run: '
  local re_libtest='^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed;'
  local re_plain='^([0-9]+) passed, ([0-9]+) failed'
  while IFS= read -r line; do
    if [[ "$line" =~ $re_nextest ]]; then
      found=1
      [[ "$line" =~ ([0-9]+)\ passed ]] && p=$((p + BASH_REMATCH[1]))
      [[ "$line" =~ ([0-9]+)\ failed ]] && f=$((f + BASH_REMATCH[1]))
      [[ "$line" =~ ([0-9]+)\ timed\ out ]] && f=$((f + BASH_REMATCH[1]))
    elif [[ "$line" =~ $re_libtest || "$line" =~ $re_plain ]]; then
      found=1
      p=$((p + BASH_REMATCH[1])) f=$((f + BASH_REMATCH[2]))
    fi
  done < <(strip_ansi "$1")
  if ((found)); then echo "$p $f"; fi
}

# phase NAME CMD...: runs CMD under a header, times it, records the result. Never exits.
phase() {
  local name="$1" start=$SECONDS rc=0
  shift
  section "$name: $*"
  "$@" || rc=$?
  record "$name" "$rc" $((SECONDS - start))
  if ((rc != 0)); then TOTAL_FAILED=$((TOTAL_FAILED + 1)); fi
  return "$rc"
}

# test_phase NAME CMD...: like phase, and adds the runner's test counts to the totals.
test_phase() {
  local name="$1" start=$SECONDS rc=0 log counts p f
  shift
  log="$LOGDIR/$name.log"
  section "$name: $*"
  "$@" 2>&1 | tee "$log" || rc=$?
  record "$name" "$rc" $((SECONDS - start))
  counts="$(count_tests "$log")"
  if [[ -n "$counts" ]]; then
    read -r p f <<<"$counts"
    TOTAL_PASSED=$((TOTAL_PASSED + p)) TOTAL_FAILED=$((TOTAL_FAILED + f))
    # A failing runner that reported no failed test (crash, setup error) still counts once.
    if ((rc != 0 && f == 0)); then TOTAL_FAILED=$((TOTAL_FAILED + 1)); fi
  elif ((rc != 0)); then
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
  return "$rc"
}

finish() {
  section "Summary"
  local row name status secs
  for row in "${SUMMARY[@]}"; do
    IFS=$'\t' read -r name status secs <<<"$row"
    case "$status" in
      ok) status="$(ok ok)" ;;
      FAILED) status="$(bad FAILED)" ;;
    esac
    printf '    %-12s %-20s %5ss\n' "$name" "$status" "$secs"
  done
  # The closing line: test cases of all runners (a failed phase without test cases counts as one
  # failure, so this never says "0 failed" for a failed run).
  printf 'total: %d passed, %d failed\n' "$TOTAL_PASSED" "$TOTAL_FAILED"
  exit "$ANY_FAILED"
}

# --- phases --------------------------------------------------------------------------------------
section "Environment"
note "target dir: $CARGO_TARGET_DIR"
note "$(cargo --version 2>&1)  |  $(rustc --version 2>&1)"
note "node $(node --version 2>&1 || echo missing)  |  $(cargo nextest --version 2>/dev/null | head -n 1 || echo 'cargo-nextest: not found')"

if ! phase deps scripts/install-deps.sh; then
  finish
fi

if ((want_lint)); then
  phase fmt cargo fmt --all -- --check || note "fix with: cargo fmt --all"
  phase clippy cargo clippy --workspace --all-targets -- -D warnings || true
fi

if ((want_rust)); then
  export YIWANG_TEST_REQUIRE_PG=1
  if [[ -n "${YIWANG_TEST_PG_URL:-}" ]]; then
    section "postgres: using YIWANG_TEST_PG_URL from the environment"
    note "$YIWANG_TEST_PG_URL"
  else
    phase postgres pg_start || true
    [[ -n "${YIWANG_TEST_PG_URL:-}" ]] && note "YIWANG_TEST_PG_URL=$YIWANG_TEST_PG_URL"
  fi
  # The S3-compatible server for the object store's tests (crates/connectors/tests/s3.rs).
  export YIWANG_TEST_REQUIRE_S3=1
  if [[ -n "${YIWANG_TEST_S3_URL:-}" ]]; then
    section "s3: using YIWANG_TEST_S3_URL from the environment"
  else
    phase s3 s3_start || true
    [[ -n "${YIWANG_TEST_S3_URL:-}" ]] && note "s3s-fs on ${YIWANG_TEST_S3_URL##*@}"
  fi
  if [[ -n "${YIWANG_TEST_PG_URL:-}" ]]; then
    if cargo nextest --version >/dev/null 2>&1; then
      test_phase rust-tests cargo nextest run --workspace --no-fail-fast --no-tests=warn || true
      test_phase doc-tests cargo test --workspace --doc --no-fail-fast || true
    else
      test_phase rust-tests cargo test --workspace --no-fail-fast || true
    fi
  else
    record rust-tests 1 0 skipped
    note "Rust tests skipped: no PostgreSQL"
  fi
  pg_stop
  s3_stop
fi

if ((want_e2e || want_oidc)); then
  if phase build cargo build -p yiwang; then
    # An independent OpenID Connect client (Python authlib) against the built server.
    if ((want_oidc)); then
      test_phase oidc "${YIWANG_PY_VENV:-/var/tmp/yiwang-py}/bin/python" \
        tests/oidc/authlib_client.py --bin "$CARGO_TARGET_DIR/debug/yiwang" || true
    fi
    if ((want_e2e)); then
      test_phase e2e node tests/e2e/run.mjs --bin "$CARGO_TARGET_DIR/debug/yiwang" || true
    fi
  else
    if ((want_oidc)); then record oidc 1 0 skipped; fi
    if ((want_e2e)); then record e2e 1 0 skipped; fi
    note "OIDC client and browser tests skipped: the build failed"
  fi
fi

finish
