#!/usr/bin/env bash
# Import rate: ROWS generated valid rows (default 100,000) imported by the
# release `blocklist` into a fresh dynalite on 127.0.0.1 (audit records
# included: two writes per row), then the idempotent re-run.
# Usage: bench/import-rate.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
port=${BENCH_PORT:-18022}
cargo build --locked --release --quiet --bin blocklist
scripts/local-dynamodb.sh install dynalite
node tools/dynalite/node_modules/dynalite/cli.js --host 127.0.0.1 --port "$port" \
  --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >/dev/null 2>&1 &
server=$!
csv=$(mktemp --suffix=.csv)
trap 'kill $server 2>/dev/null || true; rm -f "$csv"' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
awk -v n="$rows" 'BEGIN { print "phoneNumber,reason,expiresAt,note"; for (i = 0; i < n; i++) printf "+1415%07d,bulk load %d,,\n", 2000000 + i, i }' >"$csv"
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$port
target/release/blocklist init >/dev/null
for run in first re-run; do
  start=$(date +%s%N)
  summary=$(target/release/blocklist import "$csv")
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$run: $summary"
  awk -v r="$rows" -v ms="$ms" -v run="$run" 'BEGIN { printf "%s: %d rows in %.1f s = %.0f rows/s\n", run, r, ms/1000, r/(ms/1000) }'
done
