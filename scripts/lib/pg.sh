# shellcheck shell=bash
# A throwaway PostgreSQL 15 server for tests. Source this file, then:
#
#   pg_start            # initdb into a temp dir, start on 127.0.0.1:<free port>, wait until ready;
#                       # exports YIWANG_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   trap pg_stop EXIT   # the caller installs the trap, so the server is always stopped
#   pg_stop             # pg_ctl stop -m immediate, remove the temp dir (safe to call twice)
#
# Also exported: YIWANG_TEST_PG_PORT, YIWANG_TEST_PG_DIR (data in $YIWANG_TEST_PG_DIR/data,
# server log in $YIWANG_TEST_PG_DIR/server.log, unix socket in $YIWANG_TEST_PG_DIR).
# Settings are for speed, not durability: fsync off, no WAL archiving, no autovacuum.
# Trust authentication, listening on 127.0.0.1 only (plus the socket in the private temp dir).

# Debian's server binaries; PG_BINDIR overrides.
pg_bindir() {
  local d
  for d in "${PG_BINDIR:-}" /usr/lib/postgresql/15/bin; do
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
      printf '%s\n' "$d"
      return 0
    fi
  done
  echo "pg.sh: PostgreSQL 15 server binaries not found (apt-get install postgresql-15)" >&2
  return 1
}

# A TCP port on 127.0.0.1 that is free right now.
pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Run a command as the postgres OS user when we are root (initdb and postgres refuse root).
_pg_as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  local bindir dir port attempt
  bindir="$(pg_bindir)" || return 1
  if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
    echo "pg.sh: running as root but there is no 'postgres' OS user (install postgresql-15)" >&2
    return 1
  fi
  # /tmp, not $TMPDIR: the postgres user must be able to reach the directory.
  dir="$(mktemp -d /tmp/yiwang-pg.XXXXXX)" || return 1
  chmod 700 "$dir"
  if ((EUID == 0)); then chown postgres: "$dir"; fi
  export YIWANG_TEST_PG_DIR="$dir"

  if ! _pg_as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    echo "pg.sh: initdb failed" >&2
    return 1
  fi

  # Loopback only, trust. Replace Debian-neutral defaults written by initdb.
  _pg_as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<'HBA'
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
HBA

  for attempt in 1 2 3; do
    port="$(pg_free_port)" || return 1
    _pg_as_owner tee "$dir/data/postgresql.auto.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 1GB
checkpoint_timeout = 30min
autovacuum = off
jit = off
log_min_messages = warning
log_min_error_statement = error
CONF
    if _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
      export YIWANG_TEST_PG_PORT="$port"
      export YIWANG_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
      if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30; then
        return 0
      fi
      echo "pg.sh: server started but is not accepting connections" >&2
      tail -n 30 "$dir/server.log" >&2
      return 1
    fi
    echo "pg.sh: start on port $port failed (attempt $attempt); log tail:" >&2
    tail -n 10 "$dir/server.log" >&2 || true
  done
  return 1
}

pg_stop() {
  local dir="${YIWANG_TEST_PG_DIR:-}" bindir pid
  [[ -n "$dir" && -d "$dir" ]] || return 0
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    bindir="$(pg_bindir 2>/dev/null)" || bindir=""
    if [[ -z "$bindir" ]] || ! _pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1; then
      # Last resort: kill the postmaster by its pid file.
      pid="$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)"
      if [[ "$pid" =~ ^[0-9]+$ ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
  fi
  rm -rf -- "$dir"
  unset YIWANG_TEST_PG_DIR YIWANG_TEST_PG_PORT YIWANG_TEST_PG_URL
  return 0
}
