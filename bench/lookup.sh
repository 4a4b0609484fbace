#!/usr/bin/env bash
# Handler latency over a bare GetItem (p50/p90/p99), release build, against a
# fresh dynalite on 127.0.0.1. Usage: bench/lookup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
port=${BENCH_PORT:-18020}
scripts/local-dynamodb.sh install dynalite
node tools/dynalite/node_modules/dynalite/cli.js --host 127.0.0.1 --port "$port" \
  --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
DYNALITE_ENDPOINT=http://127.0.0.1:$port cargo bench --locked --bench lookup
