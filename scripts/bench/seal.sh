#!/usr/bin/env bash
# SM2 seal signatures beside OpenSSL 3, in one run, on one core each: `openssl speed sm2`
# (sign/s, verify/s), then the criterion benchmark of yiwang-crypto's seal module (sign, the
# reference verifier of the `sm2` crate, the fast verifier with per-key tables, the table build).
#
#   scripts/bench/seal.sh            3 s per measurement
#   DUR=5 scripts/bench/seal.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DUR="${DUR:-3}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== openssl speed -seconds $DUR sm2 ($(openssl version))"
ossl=$(openssl speed -seconds "$DUR" sm2 2>/dev/null | awk '/sign\/s|SM2/')
echo "$ossl"
ossl_verify=$(awk '/SM2/ { print $NF }' <<<"$ossl")
echo "== yiwang-crypto (criterion, release)"
(cd "$BENCH_ROOT" && cargo bench -q -p yiwang-crypto --bench crypto -- \
  --warm-up-time 1 --measurement-time "$DUR" sm2 2>/dev/null) | tee /dev/stderr |
  awk -v ossl="$ossl_verify" '
    /^sm2 verify, fast/ { fast = 1; next }
    fast && /time:/ { gsub(/\[|\]/, ""); us = $4; unit = $5
      if (unit == "ns") us /= 1000; if (unit == "ms") us *= 1000
      printf "fast verify: %.0f/s against OpenSSL %s/s: %.2f×\n", 1e6 / us, ossl, 1e6 / us / ossl; fast = 0 }'
