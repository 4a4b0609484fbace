#!/usr/bin/env bash
# Release binary size, and process start to first answer: the release
# `bootstrap` runs its whole init (config, SDK client, phone metadata) and
# answers one blocked-call event from a local dynalite, RUNS times; prints the
# median and p90 wall time. Usage: bench/startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
port=${BENCH_PORT:-18021}
cargo build --locked --release --quiet --bin bootstrap --bin blocklist
ls -l target/release/bootstrap | awk '{printf "release bootstrap (%s): %d bytes (%.1f MiB)\n", "'"$(uname -m)"'", $5, $5/1048576}'
scripts/local-dynamodb.sh install dynalite
node tools/dynalite/node_modules/dynalite/cli.js --host 127.0.0.1 --port "$port" \
  --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$port RUST_LOG=off
target/release/blocklist init >/dev/null
target/release/blocklist add +14155550123 --reason bench >/dev/null
for _ in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  target/release/bootstrap --event events/blocked-call.json | grep -q '"isBlocked":"true"'
  echo $(( ($(date +%s%N) - start) / 1000 ))
done | sort -n | awk '{ t[NR] = $1 } END { printf "start to first answer over %d runs: median %.1f ms, p90 %.1f ms, min %.1f ms\n", NR, t[int((NR+1)/2)]/1000, t[int(NR*0.9)]/1000, t[1]/1000 }'
