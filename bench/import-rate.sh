#!/usr/bin/env bash
# Import rate: ROWS generated valid rows (default 100,000) imported by the
# release `blocklist` into a fresh dynalite on 127.0.0.1 (audit records
# included: two writes per row), then the idempotent re-run.
# Usage: bench/import-rate.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rows=${1:-100000}
build --bin blocklist
start_dynalite "${BENCH_PORT:-18022}"
csv=$(mktemp --suffix=.csv)
trap 'stop_dynalite; rm -f "$csv"' EXIT
awk -v n="$rows" 'BEGIN { print "phoneNumber,reason,expiresAt,note"; for (i = 0; i < n; i++) printf "+1415%07d,bulk load %d,,\n", 2000000 + i, i }' >"$csv"
"$bin"/blocklist init >/dev/null
for run in first re-run; do
  start=$(date +%s%N)
  summary=$("$bin"/blocklist import "$csv")
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$run: $summary"
  awk -v r="$rows" -v ms="$ms" -v run="$run" 'BEGIN { printf "%s: %d rows in %.1f s = %.0f rows/s\n", run, r, ms/1000, r/(ms/1000) }'
  if [ "$run" = first ]; then
    awk -v r="$rows" -v ms="$ms" 'BEGIN { printf "result import_rows_per_s=%.0f\n", r/(ms/1000) }'
  fi
done
