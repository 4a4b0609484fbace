#!/usr/bin/env bash
# The supervisor console at scale (issue 14): N synthetic entries (default
# 100,000) bulk-loaded into dynalite (bench/console-load.py: BatchWriteItem
# straight to the tables, no audit records), one real block added with
# `blocklist add` (+14155550123, the number searched), then `blocklist serve`
# timed by bench/console-client.py: p50/p95 of the first list page, filtered
# pages, a page deep in, a number search and the normalize call; the list
# in last-block order (1 in 10 entries have blocked: the first page, page 41,
# where the hit index ends and past it, kind=prefix, status=expired), each
# page checked against what the loader wrote; and the page weight.
# Usage: bench/console.sh [N]
#
# dynalite runs with state of its own (BENCH_CONSOLE_STATE, default
# $CARGO_TARGET_DIR/ldb-bench-N) on BENCH_PORT (default 18200). It keeps its
# items in memory: with BENCH_CONSOLE_KEEP=1 it is left running, loaded, and
# a next run with the same N and state reuses it instead of loading again
# (stop it with `LOCAL_DYNAMODB_STATE=... scripts/local-dynamodb.sh stop`).
# BENCH_PROFILE=debug times a debug `blocklist` (say so with the numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-100000}
build --bin blocklist
export LOCAL_DYNAMODB_STATE=${BENCH_CONSOLE_STATE:-${CARGO_TARGET_DIR:-target}/ldb-bench-$n}
export LOCAL_DYNAMODB_QUIET=1 DYNALITE_PORT=${BENCH_PORT:-18200}
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
mkdir -p "$LOCAL_DYNAMODB_STATE"
serve_pid=
finish() {
  [ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
  if [ "${BENCH_CONSOLE_KEEP:-}" != 1 ]; then
    scripts/local-dynamodb.sh stop
    rm -f "$LOCAL_DYNAMODB_STATE/loaded" "$LOCAL_DYNAMODB_STATE/hits.json"
  fi
}
trap finish EXIT
scripts/local-dynamodb.sh install dynalite
scripts/local-dynamodb.sh start dynalite
eval "$(scripts/local-dynamodb.sh env)"
export AWS_ENDPOINT_URL_DYNAMODB=$DYNALITE_ENDPOINT
echo "dynalite $DYNALITE_ENDPOINT (state $LOCAL_DYNAMODB_STATE), blocklist: $bench_profile build"
# Tables that exist are left as they are (an index missing is added, or,
# on dynalite, an error); the loader checks the hit index is there.
"$bin"/blocklist init >/dev/null
expect=$LOCAL_DYNAMODB_STATE/hits.json # what blocked, for the client's checks
if [ "$(cat "$LOCAL_DYNAMODB_STATE/loaded" 2>/dev/null)" = "$n" ] && [ -s "$expect" ]; then
  echo "reusing the $n entries loaded before (BENCH_CONSOLE_KEEP)"
else
  python3 bench/console-load.py "$n" --expect "$expect"
  echo "$n" >"$LOCAL_DYNAMODB_STATE/loaded"
fi
"$bin"/blocklist add +14155550123 --reason "bench search" --replace >/dev/null 2>&1 ||
  "$bin"/blocklist add +14155550123 --reason "bench search" >/dev/null
start=$(date +%s%N)
"$bin"/blocklist list --output json >/dev/null
echo "for comparison, \`blocklist list\` (a whole Scan of both tables, what every list request did before): $(( ($(date +%s%N) - start) / 1000000 )) ms"
out=$(mktemp)
"$bin"/blocklist serve >"$out" &
serve_pid=$!
for _ in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.1; done
url=$(head -n 1 "$out")
python3 bench/console-client.py "$url" "$n" "$expect"
rm -f "$out"
