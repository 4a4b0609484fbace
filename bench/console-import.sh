#!/usr/bin/env bash
# The console's import apply, one request against a part a request: ROWS
# generated valid rows (default 20,000, about what the 2 MB body limit lets
# in) applied through `blocklist serve` on a fresh dynalite, once in one
# request (`POST /api/import?apply=true`, as the page did before), once in
# parts of PART rows (default 1,000, the page's default: every request
# carries the whole file, `from`/`to` name its rows), each into tables of
# its own; each then again (every row unchanged: what the re-sent file and
# its parsing cost, writes aside). Prints each apply's time, requests and
# bytes sent, and what the summaries add up to.
# Usage: bench/console-import.sh [ROWS] [PART]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rows=${1:-20000}
part=${2:-1000}
build --bin blocklist
start_dynalite "${BENCH_PORT:-18022}"
csv=$(mktemp --suffix=.csv)
out=$(mktemp)
serve_pid=
finish() {
  [ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
  stop_dynalite
  rm -f "$csv" "$out"
}
trap finish EXIT
awk -v n="$rows" 'BEGIN { print "phoneNumber,reason,expiresAt,note"; for (i = 0; i < n; i++) printf "+1415%07d,bulk load %d,,\n", 2000000 + i, i }' >"$csv"
bytes=$(stat -c %s "$csv")
echo "$rows rows, $bytes bytes; blocklist: $bench_profile build"

# serve TABLE: `blocklist serve` over tables named TABLE...; sets $url.
serve() {
  export TABLE_NAME=$1 RULES_TABLE_NAME=$1-rules AUDIT_TABLE_NAME=$1-audit COUNTERS_TABLE_NAME=$1-counters
  "$bin"/blocklist init >/dev/null
  [ -z "$serve_pid" ] || kill "$serve_pid"
  : >"$out" # the last console's address is not this one's
  "$bin"/blocklist serve >"$out" &
  serve_pid=$!
  for _ in $(seq 1 100); do [ -s "$out" ] && break; sleep 0.1; done
  url=$(head -n 1 "$out")
}

# apply QUERY: one apply request; prints its summary's `written unchanged`.
apply() {
  local base=${url%%/#token=*} token=${url##*#token=}
  curl -sS --fail-with-body -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
    --data-binary @"$csv" "$base/api/import?name=bench.csv&reason=bench&apply=true$1" |
    jq -r '"\(.summary.written) \(.summary.unchanged)"'
}

# timed LABEL PART_ROWS: applies the file in parts of PART_ROWS (all of it
# in one request when 0) and prints the time and the sums of the summaries.
timed() {
  local label=$1 size=$2 written=0 unchanged=0 requests=0 start w u
  start=$(date +%s%N)
  if [ "$size" = 0 ]; then
    read -r written unchanged < <(apply "")
    requests=1
  else
    for ((from = 0; from < rows; from += size)); do
      read -r w u < <(apply "&from=$from&to=$(( from + size < rows ? from + size : rows ))")
      [ -n "${u:-}" ] || { echo "$label: the request for rows $from on failed" >&2; exit 1; }
      written=$(( written + w )) unchanged=$(( unchanged + u )) requests=$(( requests + 1 ))
    done
  fi
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  awk -v l="$label" -v ms="$ms" -v q="$requests" -v b="$bytes" -v w="$written" -v u="$unchanged" -v r="$rows" \
    'BEGIN { printf "%s: %.1f s, %d requests, %.1f MB sent, %d written, %d unchanged (%.0f rows/s)\n", l, ms/1000, q, q*b/1e6, w, u, r/(ms/1000) }'
}

# Twice each, interleaved, each into fresh tables: dynalite slows as it
# fills, and the machine may be busy; the order should not decide.
for round in 1 2; do
  serve "bench-one-$round-$$"
  timed "one request" 0
  timed "one request, again" 0
  serve "bench-parts-$round-$$"
  timed "parts of $part" "$part"
  timed "parts of $part, again" "$part"
done
