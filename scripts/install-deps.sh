#!/usr/bin/env bash
# Installs what scripts/test.sh needs, when it is missing.
#
# Idempotent: on a machine that already has everything it only checks (well under a second
# for the Debian part, plus a checksum for the npm part) and changes nothing.
# Needs root (or sudo) only when a Debian package is missing.
#
#   scripts/install-deps.sh            # Debian packages + npm packages of tests/e2e
#   YIWANG_SKIP_APT=1 scripts/install-deps.sh   # skip the Debian part (e.g. not root)
#   scripts/install-deps.sh python     # only the named parts (debian, npm, python, s3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# --- Debian packages ---------------------------------------------------------------------------
# postgresql-15      throwaway test database (scripts/lib/pg.sh runs initdb/pg_ctl itself)
# chromium(-driver)  browser tests (tests/e2e drives /usr/bin/chromium with playwright-core)
# fonts-noto-cjk     CJK glyphs for screenshots and the licence PDF. Chosen over the much lighter
#                    fonts-wqy-microhei (1.6 MB vs 57 MB download) because it covers far more
#                    rare hanzi (people's and place names), is the font the krilla PDF probe was
#                    checked with, and has Serif as well as Sans. One-time cost, ~10 s.
# poppler-utils      pdftotext / pdftoppm for PDF checks (+ poppler-data: CJK CMaps for pdftotext)
# zbar-tools         zbarimg to decode QR codes in generated licences
# wrk, hyperfine     load and timing benchmarks (loopback only)
# openssl            reference SM2/SM3/SM4 and certificates in tests
# python3-venv       the venv of the Python test clients (authlib); Debian's python3 lacks ensurepip
DEB_PACKAGES=(
  postgresql-15 postgresql-client-15
  chromium chromium-driver
  fonts-noto-cjk
  poppler-utils poppler-data
  zbar-tools
  wrk hyperfine
  openssl ca-certificates
  python3 python3-venv
)

say() { printf 'install-deps: %s\n' "$*"; }

deb_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}

install_debian() {
  local missing=() p
  for p in "${DEB_PACKAGES[@]}"; do
    deb_installed "$p" || missing+=("$p")
  done
  # Node.js is on the machine image (NodeSource 20). Only when it is absent fall back to Debian's.
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=(nodejs npm)
  fi
  if ((${#missing[@]} == 0)); then
    say "Debian packages present"
    return 0
  fi

  local sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      say "missing Debian packages: ${missing[*]}; run as root or install them" >&2
      return 1
    fi
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  # --no-install-recommends: chromium's recommends (upower, notification-daemon, ...) and
  # the fonts' extras are not needed headless. -o Dpkg::Use-Pty=0 keeps CI logs short.
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" \
    >/tmp/yiwang-apt-install.log 2>&1 || {
      tail -n 40 /tmp/yiwang-apt-install.log >&2
      say "apt-get install failed (full log: /tmp/yiwang-apt-install.log)" >&2
      return 1
    }
  say "installed: ${missing[*]}"
}

# --- npm packages of tests/e2e -----------------------------------------------------------------
# playwright-core only: it never downloads a browser; the tests use Debian's /usr/bin/chromium.
install_npm() {
  local dir="$ROOT/tests/e2e"
  [[ -f "$dir/package-lock.json" ]] || { say "no $dir/package-lock.json" >&2; return 1; }
  local sum stamp="$dir/node_modules/.yiwang-lock.sha256"
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" && -d "$dir/node_modules/playwright-core" ]]; then
    say "npm packages of tests/e2e present"
    return 0
  fi
  say "npm ci in tests/e2e"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  printf '%s\n' "$sum" >"$stamp"
}

# --- Python test clients and benchmark tools ---------------------------------------------------
# tests/oidc/authlib_client.py: an independent OpenID Connect relying party (authlib, requests),
# pinned in tests/oidc/requirements.txt; scripts/bench/spiff_bench.py: SpiffWorkflow, the Python
# BPMN engine the workflow benchmark compares with, pinned in scripts/bench/requirements.txt.
# Both installed into the venv /var/tmp/yiwang-py (outside the clone, like the Cargo target dir),
# with the same checksum-stamp trick as install_npm (one stamp over both files).
PY_VENV="${YIWANG_PY_VENV:-/var/tmp/yiwang-py}"
PY_REQUIREMENTS=(tests/oidc/requirements.txt scripts/bench/requirements.txt)
install_python() {
  local r args=()
  for r in "${PY_REQUIREMENTS[@]}"; do
    [[ -f "$ROOT/$r" ]] || { say "no $ROOT/$r" >&2; return 1; }
    args+=(-r "$ROOT/$r")
  done
  local sum stamp="$PY_VENV/.yiwang-requirements.sha256"
  sum="$(cd "$ROOT" && cat "${PY_REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" && -x "$PY_VENV/bin/python" ]]; then
    say "Python packages present"
    return 0
  fi
  say "pip install ${PY_REQUIREMENTS[*]} into $PY_VENV"
  python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install --quiet --disable-pip-version-check "${args[@]}"
  printf '%s\n' "$sum" >"$stamp"
}

# --- the S3-compatible test server -----------------------------------------------------------
# s3s-fs (crates.io): an S3 server over a local directory that verifies Signature Version 4, so
# the object store's own signer is tested against a real server (scripts/lib/s3.sh starts it).
# Chosen over moto (PyPI), which does not check signatures unless IAM emulation is set up.
# 0.14.1 is the newest release that builds with Rust 1.95 (0.17 needs 1.96); a release build
# takes about 2.5 minutes on 2 cores, once: the binary lives in /var/tmp/yiwang-tools (outside
# the clone, like the Cargo target dir), and its build directory is removed afterwards.
S3S_FS_VERSION=0.14.1
TOOLS="${YIWANG_TOOLS:-/var/tmp/yiwang-tools}"
install_s3() {
  local stamp="$TOOLS/.s3s-fs-version"
  if [[ -x "$TOOLS/bin/s3s-fs" && -f "$stamp" && "$(cat "$stamp")" == "$S3S_FS_VERSION" ]]; then
    say "s3s-fs $S3S_FS_VERSION present"
    return 0
  fi
  say "cargo install s3s-fs $S3S_FS_VERSION into $TOOLS (about 2.5 minutes, once)"
  local build
  build="$(mktemp -d /var/tmp/yiwang-s3s-build.XXXXXX)"
  CARGO_TARGET_DIR="$build" cargo install --quiet --locked --force "s3s-fs@$S3S_FS_VERSION" \
    --features binary --root "$TOOLS" || { rm -rf -- "$build"; return 1; }
  rm -rf -- "$build"
  printf '%s\n' "$S3S_FS_VERSION" >"$stamp"
}

parts=("$@")
((${#parts[@]})) || parts=(debian npm python s3)
for part in "${parts[@]}"; do
  case "$part" in
    debian) if [[ "${YIWANG_SKIP_APT:-}" != 1 ]]; then install_debian; fi ;;
    npm) install_npm ;;
    python) install_python ;;
    s3) install_s3 ;;
    *) say "unknown part $part (debian, npm, python, s3)" >&2; exit 2 ;;
  esac
done
