# shellcheck shell=bash
# Small helpers shared by the scripts: section headers, notes, timing.

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  _C_BOLD=$'\e[1m' _C_RED=$'\e[31m' _C_GREEN=$'\e[32m' _C_RESET=$'\e[0m'
else
  _C_BOLD='' _C_RED='' _C_GREEN='' _C_RESET=''
fi

# section "Title": a header that stands out in a long CI log.
section() {
  printf '\n%s==> %s%s\n' "$_C_BOLD" "$*" "$_C_RESET"
}

note() { printf '    %s\n' "$*"; }
ok() { printf '%s%s%s' "$_C_GREEN" "$*" "$_C_RESET"; }
bad() { printf '%s%s%s' "$_C_RED" "$*" "$_C_RESET"; }
die() { printf '%serror:%s %s\n' "$_C_RED" "$_C_RESET" "$*" >&2; exit 2; }
