# shellcheck shell=bash
# A throwaway S3-compatible server for tests: s3s-fs (crates.io), which keeps objects as files
# under a directory and verifies every request's AWS Signature Version 4. Source this file, then:
#
#   s3_start            # start on 127.0.0.1:<free port> with a fresh directory and bucket;
#                       # exports YIWANG_TEST_S3_URL=http://ACCESS:SECRET@127.0.0.1:PORT/BUCKET
#   trap s3_stop EXIT   # the caller installs the trap, so the server is always stopped
#   s3_stop             # stop the server, remove the directory (safe to call twice)
#
# Also exported: YIWANG_TEST_S3_DIR (objects in $YIWANG_TEST_S3_DIR/data/BUCKET/KEY, server log
# in $YIWANG_TEST_S3_DIR/server.log). The binary comes from scripts/install-deps.sh (part `s3`)
# in ${YIWANG_TOOLS:-/var/tmp/yiwang-tools}/bin.

s3_bin() {
  local b="${YIWANG_TOOLS:-/var/tmp/yiwang-tools}/bin/s3s-fs"
  if [[ -x "$b" ]]; then
    printf '%s\n' "$b"
    return 0
  fi
  echo "s3.sh: $b not found (scripts/install-deps.sh s3)" >&2
  return 1
}

s3_start() {
  local bin dir port attempt pid access secret bucket=yiwang-test
  bin="$(s3_bin)" || return 1
  dir="$(mktemp -d /tmp/yiwang-s3.XXXXXX)" || return 1
  chmod 700 "$dir"
  mkdir -p "$dir/data/$bucket"
  export YIWANG_TEST_S3_DIR="$dir"
  access="yiwang-test"
  secret="$(python3 -c 'import secrets; print(secrets.token_hex(20))')"
  for attempt in 1 2 3; do
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    "$bin" --host 127.0.0.1 --port "$port" --access-key "$access" --secret-key "$secret" \
      "$dir/data" >"$dir/server.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"
    # Ready when the port answers (any HTTP status).
    for _ in $(seq 1 50); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $port)))"; then
        export YIWANG_TEST_S3_URL="http://$access:$secret@127.0.0.1:$port/$bucket"
        return 0
      fi
      sleep 0.1
    done
    echo "s3.sh: s3s-fs did not start on port $port (attempt $attempt); log tail:" >&2
    tail -n 10 "$dir/server.log" >&2 || true
    kill "$pid" 2>/dev/null || true
  done
  return 1
}

s3_stop() {
  local dir="${YIWANG_TEST_S3_DIR:-}" pid
  [[ -n "$dir" && -d "$dir" ]] || return 0
  pid="$(cat "$dir/pid" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf -- "$dir"
  unset YIWANG_TEST_S3_DIR YIWANG_TEST_S3_URL
  return 0
}
